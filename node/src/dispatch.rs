//! What each RPC does: a read of the leader's state, a write through the log, the
//! long-poll assign, or an answer from the node itself. This is the one place that maps a
//! message to the state machine.

use crate::action::{Action, read, required, to_json, write};
use crate::clock::draw_from;
use colonies_client::messages::{Message, PAUSE_STATUS_REPLY_TYPE, PauseStatusReply};
use colonies_statemachine::channels::Append;
use colonies_statemachine::model::{Cron, Generator};
use colonies_statemachine::queries::{LogQuery, ProcessQuery};
use colonies_statemachine::{ApiError, Op, Time, texts};

/// An id change with an empty id is refused before anything else, as the reference does.
fn id_change(id_is_empty: bool, empty: &'static str, op: Op) -> Result<Action, ApiError> {
    if id_is_empty { Err(ApiError::bad_request(empty)) } else { Ok(Action::Write { op, echo: true }) }
}

/// The period of the leader's loop, shown as `checkerperiod` (ms) of crons and generators.
fn checker_period() -> i64 {
    crate::leader::TIMER_PERIOD.as_millis() as i64
}

/// Maps a decoded message to its action. `new_id` makes the fresh ids a write needs, so
/// that the proposer, not the state machine, draws them; `now` bounds the time windows of
/// history and log searches.
pub fn dispatch(message: Message, now: Time, new_id: &mut dyn FnMut() -> String) -> Action {
    let payloadtype = message.payload_type();
    let action = match message {
        Message::AddColony(m) => {
            required(m.colony, texts::ADD_COLONY_NIL).map(|colony| write(Op::AddColony { colony }))
        }
        Message::RemoveColony(m) => Ok(write(Op::RemoveColony { colonyname: m.colonyname })),
        Message::GetColonies(_) => Ok(read(|s, c| s.get_colonies(c))),
        Message::GetColony(m) => Ok(read(move |s, c| s.get_colony(c, &m.colonyname))),
        Message::GetColonyStats(m) => Ok(read(move |s, c| s.colony_statistics(c, &m.colonyname))),
        Message::AddExecutor(m) => required(m.executor, texts::ADD_EXECUTOR_NIL)
            .map(|executor| write(Op::AddExecutor { executor: Box::new(executor) })),
        Message::ApproveExecutor(m) => {
            Ok(write(Op::ApproveExecutor { colonyname: m.colonyname, executorname: m.executorname }))
        }
        Message::RejectExecutor(m) => {
            Ok(write(Op::RejectExecutor { colonyname: m.colonyname, executorname: m.executorname }))
        }
        Message::RemoveExecutor(m) => {
            Ok(write(Op::RemoveExecutor { colonyname: m.colonyname, executorname: m.executorname }))
        }
        Message::GetExecutors(m) => Ok(read(move |s, c| s.get_executors(c, &m.colonyname))),
        Message::GetExecutor(m) => Ok(read(move |s, c| s.get_executor(c, &m.colonyname, &m.executorname))),
        Message::GetExecutorById(m) => Ok(read(move |s, c| s.get_executor_by_id(c, &m.executorid))),
        Message::AddFunction(m) => required(m.fun, texts::ADD_FUNCTION_NIL).map(|mut function| {
            if function.functionid.is_empty() {
                function.functionid = new_id();
            }
            write(Op::AddFunction { function })
        }),
        Message::GetFunctions(m) => Ok(read(move |s, c| s.get_functions(c, &m.colonyname, &m.executorname))),
        Message::RemoveFunction(m) => Ok(write(Op::RemoveFunction { functionid: m.functionid })),
        Message::SubmitFunctionSpec(m) => required(m.spec, texts::SUBMIT_SPEC_NIL)
            .map(|spec| write(Op::Submit { spec: Box::new(spec), processid: new_id() })),
        Message::AssignProcess(m) if m.timeout == 0 => Err(ApiError::bad_request(texts::ASSIGN_ZERO_TIMEOUT)),
        Message::AssignProcess(m) => Ok(Action::Assign {
            colonyname: m.colonyname,
            timeout: crate::limits::clamp_long_poll(m.timeout),
            availablecpu: m.availablecpu,
            availablemem: m.availablemem,
        }),
        Message::GetProcesses(m) => Ok(read(move |s, c| {
            let query = ProcessQuery {
                colonyname: m.colonyname,
                count: m.count,
                state: m.state,
                executortype: m.executortype,
                label: m.label,
                initiator: m.initiator,
            };
            s.get_processes(c, &query)
        })),
        Message::GetProcess(m) => Ok(read(move |s, c| s.get_process(c, &m.processid))),
        Message::RemoveProcess(m) => Ok(write(Op::RemoveProcess { processid: m.processid })),
        Message::RemoveAllProcesses(m) => {
            Ok(write(Op::RemoveAllProcesses { colonyname: m.colonyname, state: m.state }))
        }
        Message::CloseSuccessful(m) => Ok(write(Op::CloseSuccessful { processid: m.processid, out: m.out })),
        Message::CloseFailed(m) => Ok(write(Op::CloseFailed { processid: m.processid, errors: m.errors })),
        Message::SetOutput(m) => Ok(write(Op::SetOutput { processid: m.processid, out: m.out })),
        Message::CancelProcess(m) => Ok(write(Op::CancelProcess { processid: m.processid })),
        Message::PauseAssignments(m) => Ok(write(Op::PauseAssignments { colonyname: m.colonyname })),
        Message::ResumeAssignments(m) => Ok(write(Op::ResumeAssignments { colonyname: m.colonyname })),
        Message::GetPauseStatus(m) => Ok(Action::Read {
            query: Box::new(move |s, c| {
                let ispaused = s.is_paused(c, &m.colonyname)?;
                let reply =
                    PauseStatusReply { msgtype: PAUSE_STATUS_REPLY_TYPE.into(), colonyname: m.colonyname, ispaused };
                Ok(to_json(&reply))
            }),
            reply_type: Some(PAUSE_STATUS_REPLY_TYPE),
        }),
        Message::AddAttribute(m) => {
            required(m.attribute, texts::ADD_ATTRIBUTE_NIL).map(|attribute| write(Op::AddAttribute { attribute }))
        }
        Message::GetAttribute(m) => Ok(read(move |s, c| s.get_attribute(c, &m.attributeid))),
        Message::SubmitWorkflowSpec(m) => required(m.spec, texts::SUBMIT_WORKFLOW_NIL).map(|spec| {
            let processids = spec.functionspecs.iter().map(|_| new_id()).collect();
            write(Op::SubmitWorkflow { spec: Box::new(spec), processgraphid: new_id(), processids })
        }),
        Message::GetProcessGraph(m) => Ok(read(move |s, c| s.get_process_graph(c, &m.processgraphid))),
        Message::GetProcessGraphs(m) => Ok(read(move |s, c| s.get_process_graphs(c, &m.colonyname, m.count, m.state))),
        Message::RemoveProcessGraph(m) => Ok(write(Op::RemoveProcessGraph { processgraphid: m.processgraphid })),
        Message::RemoveAllProcessGraphs(m) => {
            Ok(write(Op::RemoveAllProcessGraphs { colonyname: m.colonyname, state: m.state }))
        }
        Message::CancelProcessGraph(m) => Ok(write(Op::CancelProcessGraph { processgraphid: m.processgraphid })),
        Message::AddChild(m) => required(m.spec, texts::ADD_CHILD_NIL).map(|spec| {
            write(Op::AddChild {
                processgraphid: m.processgraphid,
                parentprocessid: m.parentprocessid,
                childprocessid: m.childprocessid,
                spec: Box::new(spec),
                insert: m.insert,
                processid: new_id(),
            })
        }),
        Message::AddLog(m) => Ok(write(Op::AddLog { processid: m.processid, message: m.message })),
        Message::GetLogs(m) => Ok(read(move |s, c| {
            let query = LogQuery {
                colonyname: m.colonyname,
                processid: m.processid,
                executorname: m.executorname,
                count: m.count,
                since: m.since,
                latest: m.latest,
            };
            s.get_logs(c, &query)
        })),
        Message::AddCron(m) => required(m.cron, texts::ADD_CRON_NIL).map(|mut cron| {
            cron.cronid = new_id();
            write(Op::AddCron { cron: Box::new(cron), draw: draw_from(&new_id()) })
        }),
        Message::GetCron(m) => {
            Ok(read(move |s, c| s.get_cron(c, &m.cronid).map(|cron| Cron { checkerperiod: checker_period(), ..cron })))
        }
        Message::GetCrons(m) => Ok(read(move |s, c| s.get_crons(c, &m.colonyname, m.count))),
        Message::RunCron(m) => Ok(write(Op::RunCron {
            cronid: m.cronid,
            tick: None,
            processgraphid: new_id(),
            draw: draw_from(&new_id()),
        })),
        Message::RemoveCron(m) => Ok(write(Op::RemoveCron { cronid: m.cronid })),
        Message::AddGenerator(m) => required(m.generator, texts::ADD_GENERATOR_NIL).map(|mut generator| {
            generator.generatorid = new_id();
            write(Op::AddGenerator { generator: Box::new(generator) })
        }),
        Message::GetGenerator(m) => Ok(read(move |s, c| {
            s.get_generator(c, &m.generatorid).map(|g| Generator { checkerperiod: checker_period(), ..g })
        })),
        // The reference answers null, not [], when there is none (§6.9).
        Message::GetGenerators(m) => Ok(read(move |s, c| {
            s.get_generators(c, &m.colonyname, m.count).map(|list| (!list.is_empty()).then_some(list))
        })),
        Message::ResolveGenerator(m) => Ok(read(move |s, c| s.resolve_generator(c, &m.colonyname, &m.generatorname))),
        Message::PackGenerator(m) => Ok(write(Op::PackGenerator { generatorid: m.generatorid, arg: m.arg })),
        Message::RemoveGenerator(m) => Ok(write(Op::RemoveGenerator { generatorid: m.generatorid })),
        Message::AddUser(m) => required(m.user, texts::ADD_USER_NIL).map(|user| write(Op::AddUser { user })),
        Message::GetUsers(m) => Ok(read(move |s, c| s.get_users(c, &m.colonyname))),
        Message::GetUser(m) => Ok(read(move |s, c| s.get_user(c, &m.colonyname, &m.name))),
        Message::RemoveUser(m) => Ok(write(Op::RemoveUser { colonyname: m.colonyname, name: m.name })),
        Message::GetStatistics(_) => Ok(read(|s, c| s.statistics(c))),
        Message::GetCluster(_) => Ok(Action::Cluster),
        Message::ChangeServerId(m) => {
            id_change(m.serverid.is_empty(), texts::CHANGE_SERVER_ID_EMPTY, Op::SetServerId { serverid: m.serverid })
        }
        Message::ChannelAppend(m) => Ok(write(Op::ChannelAppend {
            append: Box::new(Append {
                processid: m.processid,
                name: m.name,
                sequence: m.sequence,
                inreplyto: m.inreplyto,
                payload: m.payload.0,
                kind: m.payloadtype,
            }),
        })),
        Message::ChannelRead(m) => Ok(read(move |s, c| s.channel_read(c, &m.processid, &m.name, m.afterseq, m.limit))),
        Message::SubscribeProcess(_) | Message::SubscribeProcesses(_) | Message::SubscribeChannel(_) => {
            Err(ApiError::bad_request(texts::websocket_only(payloadtype)))
        }
        // The server answers these before any signature check (§1.3).
        Message::Version(_) | Message::GetServerInfo(_) => Err(ApiError::internal("answered before dispatch")),
        Message::GetProcessHist(m) => {
            Ok(read(move |s, c| s.process_history(c, &m.colonyname, &m.executorid, m.seconds, m.state, now)))
        }
        Message::AddExecutorLog(m) => {
            Ok(write(Op::AddExecutorLog { colonyname: m.colonyname, executorname: m.executorname, message: m.message }))
        }
        Message::SearchLogs(m) => Ok(read(move |s, c| s.search_logs(c, &m.colonyname, &m.text, m.days, m.count, now))),
        Message::GetUserById(m) => Ok(read(move |s, c| s.get_user_by_id(c, &m.colonyname, &m.userid))),
        Message::ChangeColonyId(m) => id_change(
            m.colonyid.is_empty(),
            texts::CHANGE_COLONY_ID_EMPTY,
            Op::ChangeColonyId { colonyname: m.colonyname, colonyid: m.colonyid },
        ),
        Message::ChangeExecutorId(m) => id_change(
            m.executorid.is_empty(),
            texts::CHANGE_EXECUTOR_ID_EMPTY,
            Op::ChangeExecutorId { colonyname: m.colonyname, executorid: m.executorid },
        ),
        Message::ChangeUserId(m) => id_change(
            m.userid.is_empty(),
            texts::CHANGE_USER_ID_EMPTY,
            Op::ChangeUserId { colonyname: m.colonyname, userid: m.userid },
        ),
        m @ (Message::AddFile(_)
        | Message::GetFile(_)
        | Message::GetFiles(_)
        | Message::GetFileLabels(_)
        | Message::RemoveFile(_)
        | Message::CreateSnapshot(_)
        | Message::GetSnapshot(_)
        | Message::GetSnapshots(_)
        | Message::RemoveSnapshot(_)
        | Message::RemoveAllSnapshots(_)
        | Message::AddLocation(_)
        | Message::GetLocations(_)
        | Message::GetLocation(_)
        | Message::RemoveLocation(_)
        | Message::ReportAllocation(_)
        | Message::UpdateExecutor(_)) => crate::files::dispatch(m, new_id),
        m @ (Message::AddBlueprintDefinition(_)
        | Message::GetBlueprintDefinition(_)
        | Message::GetBlueprintDefinitions(_)
        | Message::RemoveBlueprintDefinition(_)
        | Message::AddBlueprint(_)
        | Message::GetBlueprint(_)
        | Message::GetBlueprints(_)
        | Message::UpdateBlueprint(_)
        | Message::RemoveBlueprint(_)
        | Message::GetBlueprintHistory(_)
        | Message::UpdateBlueprintStatus(_)
        | Message::ReconcileBlueprint(_)) => crate::blueprints::dispatch(m, new_id),
    };
    action.unwrap_or_else(Action::Refuse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use colonies_client::messages::{AssignProcessMsg, SubmitFunctionSpecMsg, SubmitWorkflowSpecMsg};
    use colonies_statemachine::State;
    use colonies_statemachine::model::{FunctionSpec, WorkflowSpec};

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("{n:064x}")
        }
    }

    #[test]
    fn writes_get_fresh_ids_from_the_node() {
        let submit = SubmitFunctionSpecMsg { spec: Some(FunctionSpec::default()) };
        let Action::Write { op: Op::Submit { processid, .. }, echo: false } =
            dispatch(submit.into(), Time::ZERO, &mut ids())
        else {
            panic!("a submit is a write")
        };
        assert_eq!(processid, format!("{:064x}", 1));
        let workflow = WorkflowSpec { functionspecs: vec![FunctionSpec::default(); 3], ..Default::default() };
        let message = SubmitWorkflowSpecMsg { spec: Some(workflow) };
        let Action::Write { op: Op::SubmitWorkflow { processids, processgraphid, .. }, .. } =
            dispatch(message.into(), Time::ZERO, &mut ids())
        else {
            panic!("a workflow is a write")
        };
        assert_eq!(processids.len(), 3);
        assert!(!processids.contains(&processgraphid));
    }

    #[test]
    fn missing_objects_and_zero_timeouts_are_refused_before_the_log() {
        let Action::Refuse(e) = dispatch(SubmitFunctionSpecMsg { spec: None }.into(), Time::ZERO, &mut ids()) else {
            panic!()
        };
        assert_eq!((e.status, e.message.as_str()), (400, "Failed to submit process spec, msg.FunctionSpec is nil"));
        let assign = AssignProcessMsg { timeout: 0, ..Default::default() };
        let Action::Refuse(e) = dispatch(assign.into(), Time::ZERO, &mut ids()) else { panic!() };
        assert_eq!(e.message, "Invalid timeout value, timeout cannot be zero");
    }

    #[test]
    fn reads_answer_from_the_state_for_the_caller() {
        let message = Message::decode("getcoloniesmsg", br#"{"msgtype":"getcoloniesmsg"}"#).unwrap();
        let Action::Read { query, reply_type: None } = dispatch(message, Time::ZERO, &mut ids()) else { panic!() };
        let e = query(&State::default(), "someone").unwrap_err();
        assert_eq!(e.status, 403, "only the server owner lists colonies");
    }

    #[test]
    fn crons_and_generators_get_their_ids_from_the_node_and_a_client_names_no_tick() {
        use colonies_client::messages::{AddCronMsg, AddGeneratorMsg, RunCronMsg};
        let cron = Cron { cronid: "chosen-by-the-client".into(), ..Cron::default() };
        let Action::Write { op: Op::AddCron { cron, .. }, .. } =
            dispatch(AddCronMsg { cron: Some(cron) }.into(), Time::ZERO, &mut ids())
        else {
            panic!("adding a cron is a write")
        };
        assert_eq!(cron.cronid, format!("{:064x}", 1));
        let Action::Write { op: Op::RunCron { tick: None, processgraphid, .. }, .. } =
            dispatch(RunCronMsg { cronid: "c".into() }.into(), Time::ZERO, &mut ids())
        else {
            panic!("runcronmsg is a write for now, not for a tick")
        };
        assert!(!processgraphid.is_empty());
        let Action::Refuse(e) = dispatch(AddGeneratorMsg { generator: None }.into(), Time::ZERO, &mut ids()) else {
            panic!()
        };
        assert_eq!(e.message, "Failed to add generator, msg.Generator is nil");
        assert_eq!(draw_from(&"ff".repeat(32)), u64::MAX);
        assert_eq!(draw_from("short"), 0);
    }
}
