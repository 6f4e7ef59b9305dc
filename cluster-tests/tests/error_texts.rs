//! Every error text a node can answer with (`colonies_statemachine::texts`), as the
//! reference server spells it (issue 15): for each, the request that triggers it against a
//! real cluster, and the exact status and message expected. The expected texts are written
//! out here, from the reference's source, not computed with `texts`.
//!
//! `every_text_is_in_the_table_or_said_to_be_unreachable` fails when `texts.rs` gains a
//! text that neither the table, the dedicated checks, nor `NOT_TRIGGERED` names.

mod common;
mod texts_world;

use colonies_client::envelope::{RpcReply, RpcRequest};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::*;
use colonies_client::rpc::{Client, ClientError};
use colonies_statemachine::model::{Colony, Conditions, Executor, Function, FunctionSpec, User, WorkflowSpec};
use colonies_statemachine::texts::DECODE_FAILURES;
use common::*;
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::time::Duration;
use texts_world::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Texts no request from outside can produce, and why.
const NOT_TRIGGERED: &[(&str, &str)] = &[
    ("verify_failed", "the blocking pool lost a verification task (a panic or a runtime shutting down)"),
    ("LEADER_ONLY", "no message maps to a timer, scheduled run or liveness command"),
    ("SERVER_ID_ALREADY_SET", "only the leader's own first proposal carries no caller"),
    ("ADD_FUNCTION_EMPTY_ID", "the node draws an id for a function sent without one"),
    ("NO_INITIATOR", "membership, checked first, means an executor or user name exists"),
    ("PROCESS_ID_NOT_NEW", "process ids are drawn by the node"),
    ("ASSIGNED_PROCESS_VANISHED", "an assignment and its read are one apply"),
    ("SUCCESSFUL_FROM_WAITING", "a waiting process has no assigned executor, so the assigned check answers first"),
    ("CHANGE_COLONY_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("CHANGE_EXECUTOR_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("CHANGE_USER_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("CHANGE_SERVER_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("WORKFLOW_IDS_MISSING", "the node draws one process id per function spec"),
    ("GRAPH_ID_NOT_NEW", "graph ids are drawn by the node"),
    ("CRON_ID_NOT_NEW", "cron ids are drawn by the node"),
    ("cron_run_done", "only the leader names a scheduled run"),
    ("CRON_RUN_NOT_DUE", "only the leader names a scheduled run"),
    ("GENERATOR_ID_NOT_NEW", "generator ids are drawn by the node"),
    ("RUN_GENERATOR_MISSING", "only the leader runs generators"),
    ("generator_run_done", "only the leader runs generators"),
    ("GENERATOR_RUN_NOT_DUE", "only the leader runs generators"),
    ("body_unreadable", "the connection must fail in the middle of a body"),
    ("SHUTTING_DOWN", "a node must stop while it reads or verifies the request"),
    ("TOO_MANY_CONNECTIONS", "needs --max-connections reached; security.rs exercises the cap"),
    ("not_ready", "a node answers it only while it loads its state at start"),
    ("NO_MAJORITY", "needs a leader cut off from its followers (the chaos suite)"),
    ("NO_LEADER", "needs a cluster without a leader (bad_day.rs)"),
    ("leader_answer_cut", "needs a leader that dies while it answers a forwarded call"),
    ("leader_unreachable", "needs a leader that dies after a follower found it alive"),
];

/// Texts checked by the dedicated steps of the test rather than by table rows.
const DEDICATED: &[&str] = &[
    "DECODE_FAILURES",
    "decode_failures",
    "unknown_payload_type",
    "UNKNOWN_EMPTY_PAYLOAD_TYPE",
    "ASSIGN_PAUSED",
    "ASSIGN_PAUSED_TIMEOUT",
    "too_many_attributes",
    "too_many_logs",
    "subscribe_unknown_process",
    "SUBSCRIBE_NO_EXECUTOR",
    "body_too_large",
    "body_too_slow",
    "not_the_leader",
];

enum Expect {
    Is(String),
    /// The rest is a library's reason (Rust's, where the reference has Go's).
    StartsWith(String),
}

struct Case {
    text: &'static str,
    key: PrivateKey,
    message: Message,
    status: u16,
    expected: Expect,
}

fn is(text: &'static str, key: &PrivateKey, message: impl Into<Message>, status: u16, expected: &str) -> Case {
    Case { text, key: key.clone(), message: message.into(), status, expected: Expect::Is(expected.into()) }
}

fn dev() -> String {
    "dev".into()
}

fn random_id() -> String {
    PrivateKey::generate().id()
}

fn with_spec(spec: FunctionSpec) -> SubmitFunctionSpecMsg {
    SubmitFunctionSpecMsg { spec: Some(spec) }
}

fn with_conditions(conditions: Conditions) -> SubmitFunctionSpecMsg {
    with_spec(FunctionSpec { conditions: Conditions { colonyname: dev(), ..conditions }, ..dev_spec("f") })
}

fn workflow_of(specs: Vec<FunctionSpec>) -> SubmitWorkflowSpecMsg {
    SubmitWorkflowSpecMsg { spec: Some(WorkflowSpec { colonyname: dev(), functionspecs: specs }) }
}

fn depending(name: &str, on: &str) -> FunctionSpec {
    let base = spec(name, "none");
    FunctionSpec { conditions: Conditions { dependencies: vec![on.into()], ..base.conditions.clone() }, ..base }
}

fn cron_with(name: &str, change: impl FnOnce(&mut colonies_statemachine::model::Cron)) -> AddCronMsg {
    let mut cron = nightly(name);
    change(&mut cron);
    AddCronMsg { cron: Some(cron) }
}

fn child(processgraphid: &str, parent: &str, colonyname: &str, childprocessid: &str) -> AddChildMsg {
    AddChildMsg {
        processgraphid: processgraphid.into(),
        parentprocessid: parent.into(),
        childprocessid: childprocessid.into(),
        spec: Some(FunctionSpec {
            conditions: Conditions { colonyname: colonyname.into(), ..spec("child", "two").conditions },
            ..spec("child", "two")
        }),
        insert: false,
    }
}

fn cases(w: &World) -> Vec<Case> {
    let (server, owner, cli, two, ada, stranger) = (&w.server, &w.owner, &w.cli, &w.two, &w.ada, &w.stranger);
    let ghost = random_id();
    let running = w.running.processid.clone();
    let new_colony =
        |name: &str, colonyid: String| AddColonyMsg { colony: Some(Colony { colonyid, name: name.into() }) };
    let new_executor = |name: &str, executorid: String| AddExecutorMsg {
        executor: Some(Executor {
            executorid,
            executorname: name.into(),
            executortype: "cli".into(),
            colonyname: dev(),
            ..Executor::default()
        }),
    };
    let new_user = |name: &str| AddUserMsg {
        user: Some(User { colonyname: dev(), userid: random_id(), name: name.into(), ..User::default() }),
    };
    let function = |executorname: &str, functionid: &str| AddFunctionMsg {
        fun: Some(Function {
            functionid: functionid.into(),
            executorname: executorname.into(),
            colonyname: dev(),
            funcname: "f".into(),
            ..Function::default()
        }),
    };
    let add_attribute = |target: &str, key: &str| AddAttributeMsg { attribute: Some(attribute(target, key)) };
    let close = |processid: &str| CloseSuccessfulMsg { processid: processid.into(), out: vec![] };
    let fail = |processid: &str| CloseFailedMsg { processid: processid.into(), errors: vec![] };
    let log = |processid: &str| AddLogMsg { processid: processid.into(), message: "m".into() };
    let processes = |count: i64, state: i64, initiator: &str| GetProcessesMsg {
        colonyname: dev(),
        count,
        state,
        initiator: initiator.into(),
        ..Default::default()
    };
    let (g1, g2) = (w.running_graph.processgraphid.as_str(), w.waiting_graph.processgraphid.as_str());
    let root = w.running_root.as_str();
    let bad_cron = |name: &str, expression: &str| {
        cron_with(name, |c| {
            c.interval = -1;
            c.cronexpression = expression.into();
        })
    };
    vec![
        // A null object in the message.
        is("ADD_COLONY_NIL", server, AddColonyMsg { colony: None }, 400, "Failed to add colony, colony is <nil>"),
        is(
            "ADD_EXECUTOR_NIL",
            owner,
            AddExecutorMsg { executor: None },
            400,
            "Failed to add executor, executor is nil",
        ),
        is("ADD_FUNCTION_NIL", cli, AddFunctionMsg { fun: None }, 400, "Failed to add function, msg.Function is nil"),
        is(
            "SUBMIT_SPEC_NIL",
            cli,
            SubmitFunctionSpecMsg { spec: None },
            400,
            "Failed to submit process spec, msg.FunctionSpec is nil",
        ),
        is(
            "ADD_ATTRIBUTE_NIL",
            cli,
            AddAttributeMsg { attribute: None },
            400,
            "Failed to add attribute, msg.Attribute is nil",
        ),
        is(
            "SUBMIT_WORKFLOW_NIL",
            cli,
            SubmitWorkflowSpecMsg { spec: None },
            400,
            "Failed to submit workflow, msg.WorkflowSpec is nil",
        ),
        is(
            "ADD_CHILD_NIL",
            two,
            AddChildMsg { processgraphid: g1.into(), parentprocessid: root.into(), ..Default::default() },
            400,
            "Failed to add child to processgraph, msg.FunctionSpec is nil",
        ),
        is("ADD_CRON_NIL", cli, AddCronMsg { cron: None }, 400, "Failed to add cron, msg.Cron is nil"),
        is(
            "ADD_GENERATOR_NIL",
            cli,
            AddGeneratorMsg { generator: None },
            400,
            "Failed to add generator, msg.Generator is nil",
        ),
        is("ADD_USER_NIL", owner, AddUserMsg { user: None }, 400, "Failed to add user, executor is nil"),
        // Roles (§3.2).
        is("NOT_SERVER_OWNER", stranger, GetColoniesMsg {}, 403, "Access denied, not server owner"),
        is("NOT_COLONY_OWNER", cli, PauseAssignmentsMsg { colonyname: dev() }, 403, "Access denied, not colony owner"),
        is("EMPTY_COLONY_NAME", owner, PauseAssignmentsMsg { colonyname: String::new() }, 403, "Empty Colony name"),
        is(
            "colony_does_not_exist",
            cli,
            GetColonyMsg { colonyname: "nosuch".into() },
            403,
            "Colony with name <nosuch> does not exists",
        ),
        is(
            "not_a_member",
            stranger,
            GetColonyMsg { colonyname: dev() },
            403,
            "Access denied, not a member of Colony with name <dev>",
        ),
        is(
            "NOT_CREATOR_OR_OWNER",
            two,
            RemoveCronMsg { cronid: w.cron.cronid.clone(), all: false },
            403,
            "Access denied, only its creator or the colony owner may remove it",
        ),
        // Colonies.
        is(
            "INVALID_COLONY_ID_LENGTH",
            server,
            new_colony("c2", String::new()),
            400,
            "Failed to add colony, invalid colony Id length",
        ),
        is("EMPTY_COLONY_NAME_ADD", server, new_colony("", random_id()), 400, "Failed to add colony, name is empty"),
        is(
            "colony_already_exists",
            server,
            new_colony("dev", random_id()),
            400,
            "A Colony with name <dev> already exists",
        ),
        is(
            "colony_not_found",
            server,
            RemoveColonyMsg { colonyname: "nosuch".into() },
            400,
            "Colony with name <nosuch> not found",
        ),
        // Executors.
        is(
            "EMPTY_EXECUTOR_NAME",
            owner,
            new_executor("", random_id()),
            400,
            "Failed to add executor, executor name is empty",
        ),
        is(
            "INVALID_EXECUTOR_ID_LENGTH",
            owner,
            new_executor("e2", String::new()),
            400,
            "Failed to add executor, invalid executor Id length",
        ),
        is(
            "executor_already_exists",
            owner,
            new_executor("dev-cli", random_id()),
            400,
            "Executor with name <dev-cli> in Colony <dev> already exists",
        ),
        is(
            "APPROVE_EXECUTOR_NIL",
            owner,
            ApproveExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to approve executor, executor is nil",
        ),
        is(
            "REJECT_EXECUTOR_NIL",
            owner,
            RejectExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to reject executor, executor is nil",
        ),
        is(
            "REMOVE_EXECUTOR_NIL",
            owner,
            RemoveExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to remove executor, executor is nil",
        ),
        is(
            "GET_EXECUTOR_NIL",
            cli,
            GetExecutorMsg { colonyname: dev(), executorname: "ghost".into() },
            500,
            "Failed to get executor, executor is nil",
        ),
        is(
            "GET_EXECUTOR_BY_ID_NIL",
            cli,
            GetExecutorByIdMsg { colonyname: dev(), executorid: ghost.clone() },
            404,
            "Failed to get executor by ID, executor is nil",
        ),
        // Functions.
        is(
            "add_function_no_executor",
            cli,
            function("ghost", ""),
            400,
            "Failed to add function, Executor with name <ghost> does not exist",
        ),
        is(
            "ADD_FUNCTION_OTHER_EXECUTOR",
            cli,
            function("dev-two", ""),
            403,
            "Not allowed to add a function to another executor",
        ),
        is(
            "ADD_FUNCTION_ID_TAKEN",
            cli,
            function("dev-cli", &w.function.functionid),
            400,
            "Failed to add function, a function with that id exists",
        ),
        is(
            "REMOVE_FUNCTION_EMPTY_ID",
            cli,
            RemoveFunctionMsg { functionid: String::new() },
            400,
            "Failed to remove function, msg.FunctionID is empty",
        ),
        is(
            "REMOVE_FUNCTION_MISSING",
            cli,
            RemoveFunctionMsg { functionid: ghost.clone() },
            404,
            "Failed to remove function, function does not exist",
        ),
        is(
            "REMOVE_FUNCTION_OTHER_EXECUTOR",
            two,
            RemoveFunctionMsg { functionid: w.function.functionid.clone() },
            403,
            "Not allowed to remove a function from another executor",
        ),
        // Submitting and assigning.
        is(
            "priority_out_of_range",
            cli,
            with_spec(FunctionSpec { priority: 50_001, ..dev_spec("f") }),
            400,
            "Failed to submit function spec, priority outside range [-50000, 50000]",
        ),
        is(
            "cpu_not_a_number",
            cli,
            with_conditions(Conditions { cpu: "xm".into(), ..dev_spec("f").conditions }),
            400,
            "error converting cpu to int: invalid digit found in string",
        ),
        is(
            "memory_not_a_number",
            cli,
            with_conditions(Conditions { mem: "1024".into(), ..dev_spec("f").conditions }),
            400,
            "error converting memory to int: \"1024\" has no unit",
        ),
        is(
            "ASSIGN_ZERO_TIMEOUT",
            cli,
            AssignProcessMsg { colonyname: dev(), timeout: 0, ..Default::default() },
            400,
            "Invalid timeout value, timeout cannot be zero",
        ),
        is(
            "ASSIGN_NO_EXECUTOR",
            ada,
            AssignProcessMsg { colonyname: dev(), timeout: -1, ..Default::default() },
            500,
            "Failed to assign process, executor not found",
        ),
        is(
            "NO_PROCESS_AVAILABLE",
            two,
            AssignProcessMsg { colonyname: dev(), timeout: -1, ..Default::default() },
            404,
            "No process available for assignment",
        ),
        // Closing, failing, output.
        is("CLOSE_SUCCESSFUL_NIL", cli, close(&ghost), 500, "Failed to close process as successful, process is nil"),
        is(
            "CLOSE_SUCCESSFUL_NOT_ASSIGNED",
            cli,
            close(&w.waiting.processid),
            403,
            "Failed to close process as successful, process is not assigned",
        ),
        is(
            "CLOSE_SUCCESSFUL_NOT_ALLOWED",
            two,
            close(&running),
            403,
            "Failed to close process as successful, not allowed to close process as successful",
        ),
        is("CLOSE_FAILED_NIL", cli, fail(&ghost), 500, "Failed to close process as failed, process is nil"),
        is(
            "CLOSE_FAILED_NOT_ASSIGNED",
            cli,
            fail(&w.waiting.processid),
            403,
            "Failed to close process as failed, process is not assigned",
        ),
        is(
            "CLOSE_FAILED_NOT_ALLOWED",
            two,
            fail(&running),
            403,
            "Failed to close process as failed, not allowed to close process as failed",
        ),
        is("SUCCESSFUL_FROM_FAILED", cli, close(&w.failed.processid), 400, "Tried to set failed process as successful"),
        is(
            "SUCCESSFUL_FROM_CANCELLED",
            cli,
            close(&w.cancelled.processid),
            400,
            "Tried to set cancelled process as successful",
        ),
        is(
            "FAILED_FROM_SUCCESSFUL",
            cli,
            fail(&w.successful.processid),
            400,
            "Tried to set successful process as failed",
        ),
        is("FAILED_FROM_FAILED", cli, fail(&w.failed.processid), 400, "Tried to set failed process as failed"),
        is("FAILED_FROM_CANCELLED", cli, fail(&w.cancelled.processid), 400, "Tried to set cancelled process as failed"),
        is(
            "SET_OUTPUT_NIL",
            cli,
            SetOutputMsg { processid: ghost.clone(), out: vec![] },
            500,
            "Failed to set output, process is nil",
        ),
        is(
            "SET_OUTPUT_NOT_RUNNING",
            cli,
            SetOutputMsg { processid: w.successful.processid.clone(), out: vec![] },
            403,
            "Failed to set output, process is not running",
        ),
        // Attributes and logs.
        is(
            "ADD_ATTRIBUTE_NO_PROCESS",
            cli,
            add_attribute(&ghost, "k"),
            404,
            "Failed to add attribute, process not found",
        ),
        is(
            "ADD_ATTRIBUTE_NOT_RUNNING",
            cli,
            add_attribute(&w.successful.processid, "k"),
            403,
            "Failed to add attribute, process is not running",
        ),
        is(
            "add_attribute_not_assigned",
            two,
            add_attribute(&running, "k2"),
            403,
            &format!("Failed to add attribute, only executor with id <{}> is allowed to set attributes", cli.id()),
        ),
        is(
            "attribute_exists",
            cli,
            add_attribute(&running, "k"),
            400,
            "Failed to add attribute, an attribute with key k and type 1 already exists",
        ),
        is("ATTRIBUTE_MISSING", cli, GetAttributeMsg { attributeid: ghost.clone() }, 400, "Attribute does not exists"),
        is("ADD_LOG_NIL", cli, log(&ghost), 500, "Failed to add log, process is nil"),
        is(
            "ADD_LOG_NOT_ASSIGNED",
            two,
            log(&running),
            403,
            "Failed to add log, not allowed to add log, only the assigned Executor may att logs",
        ),
        is(
            "EXECUTOR_LOG_NO_EXECUTOR",
            ada,
            AddExecutorLogMsg { colonyname: dev(), executorname: "dev-cli".into(), message: "m".into() },
            403,
            "Failed to add executor log, executor not found",
        ),
        is(
            "EXECUTOR_LOG_NAME_MISMATCH",
            cli,
            AddExecutorLogMsg { colonyname: dev(), executorname: "dev-two".into(), message: "m".into() },
            403,
            "Failed to add executor log, executor name mismatch",
        ),
        // Cancelling and removing.
        is(
            "CANCEL_NIL",
            cli,
            CancelProcessMsg { processid: ghost.clone() },
            500,
            "Failed to cancel process, process is nil",
        ),
        is(
            "CANCEL_IN_WORKFLOW",
            cli,
            CancelProcessMsg { processid: w.waiting_root.clone() },
            400,
            "Failed to cancel, cannot cancel a process part of a workflow, cancel the entire workflow instead",
        ),
        is(
            "CANCEL_SUCCESSFUL",
            cli,
            CancelProcessMsg { processid: w.successful.processid.clone() },
            400,
            "Tried to cancel successful process",
        ),
        is(
            "CANCEL_FAILED",
            cli,
            CancelProcessMsg { processid: w.failed.processid.clone() },
            400,
            "Tried to cancel failed process",
        ),
        is(
            "CANCEL_CANCELLED",
            cli,
            CancelProcessMsg { processid: w.cancelled.processid.clone() },
            400,
            "Tried to cancel already cancelled process",
        ),
        is(
            "REMOVE_NIL",
            cli,
            RemoveProcessMsg { processid: ghost.clone(), all: false },
            500,
            "Failed to remove process, process is nil",
        ),
        is(
            "REMOVE_IN_WORKFLOW",
            cli,
            RemoveProcessMsg { processid: w.waiting_root.clone(), all: false },
            400,
            "Failed to remove, cannot remove a process part of a workflow, delete the entire workflow instead",
        ),
        is(
            "REMOVE_RUNNING",
            cli,
            RemoveProcessMsg { processid: running.clone(), all: false },
            400,
            "Failed to remove process, cannot remove a running process",
        ),
        is(
            "REMOVE_ALL_RUNNING",
            owner,
            RemoveAllProcessesMsg { colonyname: dev(), state: 1 },
            400,
            "Not possible to remove running processes",
        ),
        is(
            "REMOVE_ALL_BAD_STATE",
            owner,
            RemoveAllProcessesMsg { colonyname: dev(), state: 9 },
            400,
            "Invalid state when deleting all processes",
        ),
        // Reading.
        is(
            "GET_PROCESS_MISSING",
            cli,
            GetProcessMsg { processid: ghost.clone() },
            404,
            "Failed to get process, process not found",
        ),
        is("count_over_max", cli, processes(101, 0, ""), 400, "Count is larger than MaxCount limit <100>"),
        is("GET_PROCESSES_BAD_STATE", cli, processes(10, 9, ""), 400, "Failed to get processes, invalid msg.State"),
        is("initiator_not_a_user", cli, processes(10, 0, "dev-cli"), 400, "User <dev-cli> does not exist"),
        is(
            "GET_HISTORY_BAD_STATE",
            cli,
            GetProcessHistMsg { colonyname: dev(), executorid: String::new(), seconds: 60, state: 9 },
            400,
            "Failed to get process history, invalid msg.State",
        ),
        is(
            "log_count_over_max",
            cli,
            GetLogsMsg { colonyname: dev(), processid: running.clone(), count: 501, ..Default::default() },
            403,
            "Count exceeds max log count (500)",
        ),
        is(
            "log_count_over_max",
            cli,
            SearchLogsMsg { colonyname: dev(), text: "m".into(), days: 1, count: 101 },
            400,
            "Count exceeds max log count (100)",
        ),
        is(
            "search_days_over_max",
            cli,
            SearchLogsMsg { colonyname: dev(), text: "m".into(), days: 31, count: 10 },
            400,
            "Count exceeds max day count (30)",
        ),
        is(
            "GET_LOGS_NO_PROCESS",
            cli,
            GetLogsMsg { colonyname: dev(), processid: ghost.clone(), count: 10, ..Default::default() },
            500,
            "Failed to get logs, process does not exist",
        ),
        is(
            "GET_LOGS_NO_EXECUTOR",
            cli,
            GetLogsMsg { colonyname: dev(), executorname: "ghost".into(), count: 10, ..Default::default() },
            500,
            "Failed to get logs, executor does not exist",
        ),
        // Users.
        is("EMPTY_USER_NAME", owner, new_user(""), 400, "Failed to add user, name is empty"),
        is(
            "user_already_exists",
            owner,
            new_user("ada"),
            400,
            "A user with name <ada> already exists in Colony with name <dev>",
        ),
        is(
            "user_not_found",
            owner,
            RemoveUserMsg { colonyname: dev(), name: "ghost".into() },
            400,
            "User with name <ghost> not found",
        ),
        is(
            "colony_does_not_exist",
            cli,
            GetUsersMsg { colonyname: "nosuch".into() },
            400,
            "Colony with name <nosuch> does not exists",
        ),
        is(
            "GET_USER_NIL",
            cli,
            GetUserMsg { colonyname: dev(), name: "ghost".into() },
            500,
            "Failed to get user, user is nil",
        ),
        is(
            "GET_USER_BY_ID_MISSING",
            cli,
            GetUserByIdMsg { colonyname: dev(), userid: ghost.clone() },
            404,
            "Failed to get user, user not found",
        ),
        // Changing ids.
        is(
            "CHANGE_COLONY_ID_EMPTY",
            owner,
            ChangeColonyIdMsg { colonyname: dev(), colonyid: String::new() },
            400,
            "Failed to change colony Id, colony Id is empty",
        ),
        is(
            "CHANGE_EXECUTOR_ID_EMPTY",
            cli,
            ChangeExecutorIdMsg { colonyname: dev(), executorid: String::new() },
            400,
            "Failed to change executor Id, executor Id is empty",
        ),
        is(
            "CHANGE_EXECUTOR_ID_NO_EXECUTOR",
            ada,
            ChangeExecutorIdMsg { colonyname: dev(), executorid: random_id() },
            400,
            "Failed to change executor Id, executor not found",
        ),
        is(
            "CHANGE_USER_ID_EMPTY",
            ada,
            ChangeUserIdMsg { colonyname: dev(), userid: String::new() },
            400,
            "Failed to change user Id, user Id is empty",
        ),
        is(
            "CHANGE_USER_ID_NO_USER",
            cli,
            ChangeUserIdMsg { colonyname: dev(), userid: random_id() },
            400,
            "Failed to change user Id, user not found",
        ),
        is(
            "CHANGE_SERVER_ID_EMPTY",
            server,
            ChangeServerIdMsg { serverid: String::new() },
            400,
            "Failed to change colony Id, colony Id is empty",
        ),
        // Workflows.
        is(
            "NODENAME_MISSING",
            cli,
            workflow_of(vec![FunctionSpec { nodename: String::new(), ..spec("a", "none") }]),
            500,
            "Nodename is missing, check function spec for errors",
        ),
        is(
            "duplicate_nodename",
            cli,
            workflow_of(vec![spec("a", "none"), spec("a", "none")]),
            500,
            "Duplicate nodename: a",
        ),
        is(
            "UNKNOWN_DEPENDENCY",
            cli,
            workflow_of(vec![depending("a", "nosuch")]),
            500,
            "Failed to submit workflow, invalid dependencies, are you depending on a nodename that does not exits?",
        ),
        is(
            "DEPENDENCY_CYCLE",
            cli,
            workflow_of(vec![depending("a", "b"), depending("b", "a")]),
            500,
            "Failed to submit workflow, the dependencies form a cycle",
        ),
        is(
            "parent_missing",
            two,
            child(g1, &ghost, "dev", ""),
            400,
            &format!("Process with Id {ghost} does not exist"),
        ),
        is(
            "parent_not_running",
            two,
            child(g2, &w.waiting_root, "dev", ""),
            400,
            &format!("Process with Id {} is not running", w.waiting_root),
        ),
        is(
            "parent_not_assigned",
            cli,
            child(g1, root, "dev", ""),
            400,
            &format!("Process with Id {root} is not assigned to executor with Id {}", cli.id()),
        ),
        is(
            "parent_not_in_graph",
            cli,
            child(g1, &running, "dev", ""),
            400,
            &format!("Process with Id {running} does not belong to a processgraph"),
        ),
        is(
            "parent_in_other_graph",
            two,
            child(g2, root, "dev", ""),
            400,
            &format!("Process with Id {root} is not part of process graph {g2}"),
        ),
        is(
            "CHILD_OTHER_COLONY",
            two,
            child(g1, root, "other", ""),
            400,
            "Failed to add child, the child must be in the colony of its graph",
        ),
        is(
            "child_not_in_graph",
            two,
            child(g1, root, "dev", &w.waiting.processid),
            400,
            &format!("Process with Id {} is not part of the graph", w.waiting.processid),
        ),
        is(
            "CANCEL_GRAPH_NIL",
            cli,
            CancelProcessGraphMsg { processgraphid: ghost.clone() },
            500,
            "Failed to cancel processgraph, graph is nil",
        ),
        is(
            "REMOVE_GRAPH_NIL",
            cli,
            RemoveProcessGraphMsg { processgraphid: ghost.clone(), all: false },
            500,
            "Failed to remove processgraph, graph is nil",
        ),
        is(
            "REMOVE_GRAPH_RUNNING",
            cli,
            RemoveProcessGraphMsg { processgraphid: g1.into(), all: false },
            400,
            "Failed to remove processgraph, cannot remove a running processgraph",
        ),
        is(
            "REMOVE_ALL_GRAPHS_RUNNING",
            owner,
            RemoveAllProcessGraphsMsg { colonyname: dev(), state: 1 },
            400,
            "not possible to remove running processgraphs",
        ),
        is(
            "REMOVE_ALL_GRAPHS_BAD_STATE",
            owner,
            RemoveAllProcessGraphsMsg { colonyname: dev(), state: 9 },
            400,
            "invalid state when deleting all processgraphs",
        ),
        is(
            "GET_GRAPH_NIL",
            cli,
            GetProcessGraphMsg { processgraphid: ghost.clone() },
            500,
            "Failed to get processgraph, graph is nil",
        ),
        is(
            "GET_GRAPHS_BAD_STATE",
            cli,
            GetProcessGraphsMsg { colonyname: dev(), count: 10, state: 9 },
            400,
            "invalid msg.State",
        ),
        // Crons.
        is("ADD_CRON_EMPTY_NAME", cli, cron_with("", |_| {}), 400, "Failed to add cron, name is empty"),
        is(
            "WORKFLOW_EMPTY",
            cli,
            cron_with("c", |c| c.workflowspec = r#"{"colonyname":"dev","functionspecs":[]}"#.into()),
            400,
            "The workflow spec has no function specs",
        ),
        is(
            "workflow_no_funcname",
            cli,
            cron_with("c", |c| c.workflowspec = r#"{"colonyname":"dev","functionspecs":[{"nodename":"a"}]}"#.into()),
            400,
            "The function spec a has no funcname",
        ),
        is(
            "workflow_other_colony",
            cli,
            cron_with("c", |c| c.workflowspec = r#"{"colonyname":"other","functionspecs":[]}"#.into()),
            400,
            "The workflow spec is for colony other, not dev",
        ),
        is(
            "CRON_BAD_INTERVAL",
            cli,
            cron_with("c", |c| c.interval = 0),
            400,
            "Cron interval must be -1 (disabled) or larger than 0",
        ),
        is(
            "CRON_RANDOM_WITHOUT_INTERVAL",
            cli,
            cron_with("c", |c| {
                c.interval = -1;
                c.cronexpression = "0 0 2 * * *".into();
                c.random = true;
            }),
            400,
            "Random cron is only supported when specifying intervals",
        ),
        is("cron_bad_duration", cli, bad_cron("c", "@every x"), 400, "failed to parse duration @every x"),
        is("cron_bad_descriptor", cli, bad_cron("c", "@nosuch"), 400, "unrecognized descriptor: @nosuch"),
        is("cron_field_count", cli, bad_cron("c", "* * *"), 400, "expected exactly 6 fields, found 3: [* * *]"),
        Case {
            expected: Expect::StartsWith("invalid cron expression \"a b c d e f\": ".into()),
            ..is("cron_bad_expression", cli, bad_cron("c", "a b c d e f"), 400, "")
        },
        is(
            "CRON_NEVER_FIRES",
            cli,
            bad_cron("c", "0 0 0 30 2 *"),
            400,
            "Failed to add cron, the cron expression never fires",
        ),
        is("cron_already_exists", cli, cron_with("nightly", |_| {}), 400, "Cron with name <nightly> already exists"),
        is("RUN_CRON_MISSING", cli, RunCronMsg { cronid: ghost.clone() }, 400, "cron not found"),
        is(
            "cron_previous_running",
            cli,
            RunCronMsg { cronid: w.cron.cronid.clone() },
            409,
            &format!("Failed to run cron, its previous process graph {} has not ended", w.cron.prevprocessgraphid),
        ),
        is(
            "REMOVE_CRON_NIL",
            cli,
            RemoveCronMsg { cronid: ghost.clone(), all: false },
            500,
            "Failed to remove cron, cron is nil",
        ),
        is("GET_CRON_NIL", cli, GetCronMsg { cronid: ghost.clone() }, 500, "Failed to get cron, cron is nil"),
        // Generators.
        is(
            "ADD_GENERATOR_EMPTY_NAME",
            cli,
            AddGeneratorMsg { generator: Some(batches("")) },
            400,
            "Failed to add generator, name is empty",
        ),
        is(
            "GENERATOR_BAD_TRIGGER",
            cli,
            AddGeneratorMsg { generator: Some(colonies_statemachine::model::Generator { trigger: 0, ..batches("g") }) },
            400,
            "Failed to add generator, trigger must be larger than 0",
        ),
        is(
            "generator_already_exists",
            cli,
            AddGeneratorMsg { generator: Some(batches(&w.generator.name)) },
            400,
            "Generator with name <batches> in Colony <dev> already exists",
        ),
        is(
            "PACK_GENERATOR_NIL",
            cli,
            PackGeneratorMsg { generatorid: ghost.clone(), arg: "a".into() },
            500,
            "Failed to increment generator, generator is nil",
        ),
        is(
            "REMOVE_GENERATOR_NIL",
            cli,
            RemoveGeneratorMsg { generatorid: ghost.clone(), all: false },
            500,
            "Failed to remove generator, generator is nil",
        ),
        is(
            "GET_GENERATOR_NIL",
            cli,
            GetGeneratorMsg { generatorid: ghost.clone() },
            500,
            "Failed to get generator, generator is nil",
        ),
        is(
            "RESOLVE_GENERATOR_NIL",
            cli,
            ResolveGeneratorMsg { colonyname: dev(), generatorname: "ghost".into() },
            500,
            "Failed to resolve generator, generator is nil",
        ),
        // The node.
        is(
            "invalid_field",
            cli,
            GetColonyMsg { colonyname: "a/b".into() },
            400,
            "Invalid colonyname: names may not contain '/', '\\' or '..'",
        ),
        is(
            "websocket_only",
            cli,
            SubscribeProcessMsg {
                colonyname: dev(),
                processid: running.clone(),
                state: 2,
                timeout: 1,
                ..Default::default()
            },
            400,
            "subscribeprocessmsg is only served on the /pubsub websocket",
        ),
        is(
            "not_served",
            cli,
            ReportAllocationMsg { colonyname: dev(), executorname: "dev-cli".into(), ..Default::default() },
            501,
            "reportallocationmsg is not served by this server yet",
        ),
    ]
}

/// The names of the texts in `texts.rs`: every `pub const` and `pub fn`.
fn text_names() -> BTreeSet<String> {
    include_str!("../../statemachine/src/texts.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("pub const ").or_else(|| line.strip_prefix("pub fn ")))
        .map(|rest| rest.split([':', '(']).next().unwrap_or_default().trim().to_string())
        .collect()
}

#[test]
fn every_text_is_in_the_table_or_said_to_be_unreachable() {
    let names = text_names();
    assert!(names.len() > 100, "texts.rs was not read: {names:?}");
    let rows: BTreeSet<String> = cases(&World::placeholder()).iter().map(|c| c.text.to_string()).collect();
    let dedicated: BTreeSet<String> = DEDICATED.iter().map(|s| s.to_string()).collect();
    let unreachable: BTreeSet<String> = NOT_TRIGGERED.iter().map(|(name, _)| name.to_string()).collect();
    for name in &names {
        let places = [&rows, &dedicated, &unreachable].iter().filter(|set| set.contains(name)).count();
        assert_eq!(places, 1, "{name} must be in exactly one of the table, DEDICATED and NOT_TRIGGERED");
    }
    for name in rows.iter().chain(&dedicated).chain(&unreachable) {
        assert!(names.contains(name), "{name} is not a text of texts.rs");
    }
}

/// Sends `message` signed by `key` and checks the answer: (HTTP status, reply status, text).
async fn check(addr: &str, case: &Case) {
    let request = RpcRequest::signed(case.message.payload_type(), &case.message.to_payload_json(), &case.key);
    let (status, reply) = send_raw(addr, &request).await;
    let failure = reply.expect_err(&format!("{}: succeeded", case.text));
    assert_eq!((status, failure.status), (case.status, i64::from(case.status)), "{}: {}", case.text, failure.message);
    match &case.expected {
        Expect::Is(text) => assert_eq!(&failure.message, text, "{}", case.text),
        Expect::StartsWith(text) => {
            assert!(failure.message.starts_with(text.as_str()), "{}: {}", case.text, failure.message)
        }
    }
}

async fn raw(addr: &str, key: &PrivateKey, payloadtype: &str, payload: &[u8]) -> (u16, i64, String) {
    let (status, reply) = send_raw(addr, &RpcRequest::signed(payloadtype, payload, key)).await;
    let failure = reply.expect_err(&format!("{payloadtype} with {:?} succeeded", String::from_utf8_lossy(payload)));
    (status, failure.status, failure.message)
}

/// Every payload type's two decoding failures, and unknown payload types (§1.3).
async fn check_decoding(addr: &str, key: &PrivateKey) {
    for (payloadtype, invalid, mismatch) in DECODE_FAILURES {
        // getserverinfomsg's payload is never decoded (§6.11): it has no decoding failure.
        if *payloadtype == "getserverinfomsg" {
            continue;
        }
        assert_eq!(raw(addr, key, payloadtype, b"not json").await, (400, 400, invalid.to_string()));
        assert_eq!(raw(addr, key, payloadtype, br#"{"msgtype":"other"}"#).await, (400, 400, mismatch.to_string()));
    }
    // A few of them written out, from the reference's handlers.
    let written = [
        ("submitfuncspecmsg", b"[".as_slice(), "Failed to submit process, invalid JSON"),
        ("submitworkflowspecmsg", b"[".as_slice(), "Failed to submit workkflow, invalid JSON"),
        ("changeuseridmsg", b"[".as_slice(), "Failed to add log, invalid JSON"),
        (
            "assignprocessmsg",
            br#"{"msgtype":"x"}"#.as_slice(),
            "Failed to assign process, msg.msgType does not match payloadType",
        ),
        (
            "getstatisticsmsg",
            br#"{"msgtype":"x"}"#.as_slice(),
            "Failed to get server version, msg.MsgType does not match payloadType",
        ),
    ];
    for (payloadtype, payload, text) in written {
        assert_eq!(raw(addr, key, payloadtype, payload).await, (400, 400, text.to_string()));
    }
    assert_eq!(raw(addr, key, "nosuchmsg", b"{}").await, (403, 403, "invalid rpcMsg.PayloadType: nosuchmsg".into()));
    let empty = "invalid rpcMsg.PayloadType: empty (this usually means the client is misconfigured - check that \
                 COLONIES_PRVKEY and other environment variables are set correctly)";
    assert_eq!(raw(addr, key, "", b"{}").await, (403, 403, empty.to_string()));
}

/// Paused assignments: at once (503) and after a timeout (408).
async fn check_paused(addr: &str, w: &World) {
    let pause = Message::from(PauseAssignmentsMsg { colonyname: dev() });
    let request = RpcRequest::signed(pause.payload_type(), &pause.to_payload_json(), &w.owner);
    assert_eq!(send_raw(addr, &request).await.0, 200);
    let assign = |timeout| Message::from(AssignProcessMsg { colonyname: dev(), timeout, ..Default::default() });
    let now = assign(-1);
    let at_once = raw(addr, &w.cli, now.payload_type(), &now.to_payload_json()).await;
    assert_eq!(at_once, (503, 503, "No processes available: colony assignments are paused".into()));
    let later = assign(1);
    let timed_out = raw(addr, &w.cli, later.payload_type(), &later.to_payload_json()).await;
    assert_eq!(timed_out, (408, 408, "Assignment timeout: colony assignments are paused".into()));
    let resume = Message::from(ResumeAssignmentsMsg { colonyname: dev() });
    let request = RpcRequest::signed(resume.payload_type(), &resume.to_payload_json(), &w.owner);
    assert_eq!(send_raw(addr, &request).await.0, 200);
}

/// Writers that fill a per-process limit at once, so that the leader batches them.
const FILL_LANES: usize = 16;

/// The per-process limits, filled on the process `bulk`.
async fn check_process_limits(addr: &str, w: &World) {
    let client = std::sync::Arc::new(Client::new(vec![addr.to_string()]));
    let bulk = w.bulk.processid.clone();
    let fill = |count: usize, make: std::sync::Arc<dyn Fn(usize) -> Message + Send + Sync>| -> Vec<_> {
        (0..FILL_LANES)
            .map(|lane| {
                let (client, make, key) = (client.clone(), make.clone(), w.cli.clone());
                tokio::spawn(async move {
                    for i in (lane..count).step_by(FILL_LANES) {
                        client.send(&key, &make(i)).await.unwrap();
                    }
                })
            })
            .collect()
    };
    let target = bulk.clone();
    let attributes = std::sync::Arc::new(move |i: usize| {
        Message::from(AddAttributeMsg { attribute: Some(attribute(&target, &format!("key{i}"))) })
    });
    for lane in fill(colonies_statemachine::MAX_ATTRIBUTES_PER_PROCESS, attributes) {
        lane.await.unwrap();
    }
    let one_more = Message::from(AddAttributeMsg { attribute: Some(attribute(&bulk, "last")) });
    let refused = raw(addr, &w.cli, one_more.payload_type(), &one_more.to_payload_json()).await;
    let text = "Failed to add attribute, the process has 1024 attributes, the most allowed";
    assert_eq!(refused, (400, 400, text.to_string()));
    let target = bulk.clone();
    let logs = std::sync::Arc::new(move |i: usize| {
        Message::from(AddLogMsg { processid: target.clone(), message: format!("line {i}") })
    });
    for lane in fill(colonies_statemachine::MAX_LOGS_PER_PROCESS, logs) {
        lane.await.unwrap();
    }
    let one_more = Message::from(AddLogMsg { processid: bulk, message: "last".into() });
    let refused = raw(addr, &w.cli, one_more.payload_type(), &one_more.to_payload_json()).await;
    let text = "Failed to add log, the process has 10000 log lines, the most allowed";
    assert_eq!(refused, (400, 400, text.to_string()));
}

/// The error frame a `/pubsub` subscription gets for `message` signed by `key`.
async fn subscription_refusal(addr: &str, key: &PrivateKey, message: Message) -> (i64, String) {
    use tokio_tungstenite::tungstenite::Message as Frame;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/pubsub")).await.unwrap();
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
    socket.send(Frame::text(serde_json::to_string(&request).unwrap())).await.unwrap();
    let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an answer within 10 s");
    let Some(Ok(Frame::Text(text))) = frame else { panic!("no error frame: {frame:?}") };
    let reply: RpcReply = serde_json::from_str(text.as_str()).unwrap();
    let failure = reply.into_result().expect_err("a refusal");
    (failure.status, failure.message)
}

async fn check_subscriptions(addr: &str, w: &World) {
    let ghost = random_id();
    let unknown =
        SubscribeProcessMsg { colonyname: dev(), processid: ghost.clone(), state: 2, timeout: 5, ..Default::default() };
    let via_client = Client::new(vec![addr.to_string()]).subscribe_process(&w.cli, unknown).await;
    match via_client {
        Err(ClientError::Server(failure)) => {
            assert_eq!((failure.status, failure.message), (403, format!("Invalid process with Id {ghost}")))
        }
        other => panic!("a subscription to an unknown process: {other:?}"),
    }
    let processes = SubscribeProcessesMsg { colonyname: dev(), executortype: "cli".into(), state: 2, timeout: 5 };
    assert_eq!(subscription_refusal(addr, &w.ada, processes.into()).await, (403, "executor not found".into()));
    let wrong = GetProcessMsg { processid: ghost };
    let mismatch = "Failed to subscribe to process, msg.msgType does not match rpcMsg.PayloadType";
    assert_eq!(subscription_refusal(addr, &w.cli, wrong.into()).await, (403, mismatch.into()));
}

/// A body over `--max-body` (413), and one that stops arriving (408, after 30 s).
async fn check_bodies(addr: &str) -> tokio::task::JoinHandle<String> {
    let big = vec![b' '; 3 << 20];
    let answer = reqwest::Client::new().post(format!("http://{addr}/api")).body(big).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 413);
    let reply: RpcReply = answer.json().await.unwrap();
    let failure = reply.into_result().expect_err("refused");
    assert_eq!(failure.message, "Request body too large: at most 2097152 bytes are accepted (--max-body)");
    let addr = addr.to_string();
    tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!("POST /api HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n{{\"payload");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "no answer to a stalled body within 60 s");
        String::from_utf8_lossy(&answer).into_owned()
    })
}

/// A follower's redirect to the leader (307), read without following it.
async fn check_redirect(cluster: &colonies_cluster_tests::Cluster, leader: usize, key: &PrivateKey) {
    let follower = (0..cluster.nodes.len()).find(|i| *i != leader).unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let message = Message::from(GetColoniesMsg {});
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
    let answer =
        http.post(format!("http://{}/api", cluster.nodes[follower].addr())).json(&request).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 307);
    let reply: RpcReply = answer.json().await.unwrap();
    let failure = reply.into_result().expect_err("a redirect");
    let expected = format!("Not the leader; the leader is at http://{}/api", cluster.nodes[leader].addr());
    assert_eq!((failure.status, failure.message), (307, expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_text_is_answered_as_the_reference_spells_it() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let leader = cluster.wait_leader(STARTUP);
    let addr = cluster.nodes[leader].addr();
    let world = build(&Client::new(vec![addr.clone()])).await;
    let stalled = check_bodies(&addr).await;
    let table = cases(&world);
    for case in &table {
        check(&addr, case).await;
    }
    check_decoding(&addr, &world.cli).await;
    check_paused(&addr, &world).await;
    check_subscriptions(&addr, &world).await;
    check_redirect(&cluster, leader, &world.server).await;
    check_process_limits(&addr, &world).await;
    let answer = stalled.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    let reply: RpcReply = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    let failure = reply.into_result().expect_err("a refusal");
    assert_eq!((failure.status, failure.message.as_str()), (408, "The request body did not arrive within 30 s"));
    eprintln!("{} table rows and the dedicated checks passed", table.len());
}
