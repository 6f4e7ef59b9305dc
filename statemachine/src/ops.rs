//! The state changes of the process operations (submit, assign, close, logs, attributes,
//! cancel, removal, deadlines), after `State::authorize` has passed.
//! Each returns an error before changing anything, so a refused command is a no-op.

use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::model::{Attribute, AttributeType, Executor, ExecutorState, FunctionSpec, Log, Process, ProcessState};
use crate::resources::{format_cpu, format_memory, parse_available, parse_cpu, parse_memory};
use crate::state::{Event, Reply, State};
use crate::texts;
use crate::time::{NANOS_PER_SECOND, Time};
use crate::wire::sha3_hex;

pub const MIN_PRIORITY: i64 = -50_000;
pub const MAX_PRIORITY: i64 = 50_000;
/// Each priority point moves a process one day earlier in the queue (§4.4).
const PRIORITY_STEP_NANOS: i64 = 86_400 * NANOS_PER_SECOND;
/// Scheduling compares these conditions with a fixed ceiling (§5.2).
const MAX_NODES_OR_PROCESSES: i64 = 127;
/// Log lines kept per process: an executor that logs in a loop fills its own process, not
/// the leader's memory (issue 13). Further lines are refused, oldest kept.
pub const MAX_LOGS_PER_PROCESS: usize = 10_000;
/// Attributes per process, for the same reason.
pub const MAX_ATTRIBUTES_PER_PROCESS: usize = 1_024;
const EXEC_TIMEOUT_ERROR: &str = "Maximum execution time limit exceeded";
const WAIT_TIMEOUT_ERROR: &str = "Maximum waiting time limit exceeded";

fn attribute_id(targetid: &str, key: &str, kind: AttributeType) -> String {
    sha3_hex(&format!("{targetid}{key}{}", kind.code()))
}

/// The spec as the reference stores it: resources rewritten in canonical units, `["*"]`
/// executor names as `[]` (§4.3). Fails on resource strings that do not parse.
fn normalise_spec(spec: &FunctionSpec) -> ApiResult<FunctionSpec> {
    let mut spec = spec.clone();
    let conditions = &mut spec.conditions;
    conditions.cpu = format_cpu(parse_cpu(&conditions.cpu)?);
    conditions.mem = format_memory(parse_memory(&conditions.mem)?);
    conditions.storage = format_memory(parse_memory(&conditions.storage)?);
    conditions.gpu.mem = format_memory(parse_memory(&conditions.gpu.mem)?);
    if conditions.executornames.as_deref() == Some(&["*".to_string()][..]) {
        conditions.executornames = Some(Vec::new());
    }
    Ok(spec)
}

impl State {
    pub(crate) fn submit(&mut self, caller: &str, spec: &FunctionSpec, processid: &str, now: Time) -> ApiResult<Reply> {
        let initiatorname = self
            .initiator_name(caller, &spec.conditions.colonyname)
            .ok_or_else(|| ApiError::bad_request(texts::NO_INITIATOR))?;
        let process = self.new_process(spec, processid, now)?;
        let process = Process { initiatorid: caller.to_string(), initiatorname, ..process };
        self.insert_new_process(process.clone());
        self.announce(&process);
        Ok(Reply::Process(Box::new(process)))
    }

    /// A WAITING process for `spec` (§5.1 steps 3-5), not yet stored and with no initiator.
    /// Fails on a priority out of range, a resource string that does not parse, or an id
    /// that is not new.
    pub(crate) fn new_process(&self, spec: &FunctionSpec, processid: &str, now: Time) -> ApiResult<Process> {
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&spec.priority) {
            return Err(ApiError::bad_request(texts::priority_out_of_range(MIN_PRIORITY, MAX_PRIORITY)));
        }
        if processid.is_empty() || self.process(processid).is_some() {
            return Err(ApiError::internal(texts::PROCESS_ID_NOT_NEW));
        }
        crate::channels::check_spec(spec)?;
        let spec = normalise_spec(spec)?;
        let attributes = spec
            .env
            .iter()
            .map(|(key, value)| Attribute {
                attributeid: attribute_id(processid, key, AttributeType::Env),
                targetid: processid.to_string(),
                targetcolonyname: spec.conditions.colonyname.clone(),
                targetprocessgraphid: String::new(),
                state: ProcessState::Waiting,
                attributetype: AttributeType::Env,
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        let now_nanos = now.unix_nanos().unwrap_or_default();
        Ok(Process {
            processid: processid.to_string(),
            state: ProcessState::Waiting,
            prioritytime: spec.priority.saturating_mul(-PRIORITY_STEP_NANOS).saturating_add(now_nanos),
            submissiontime: now,
            waitdeadline: if spec.maxwaittime > 0 { now.plus_seconds(spec.maxwaittime) } else { Time::ZERO },
            attributes,
            spec,
            ..Process::default()
        })
    }

    /// Tells the node about a process that entered its current state.
    pub(crate) fn announce(&mut self, process: &Process) {
        if Self::is_assignable(process) {
            self.emit(Event::Ready {
                processid: process.processid.clone(),
                colonyname: process.spec.conditions.colonyname.clone(),
                executortype: process.spec.conditions.executortype.clone(),
            });
        }
        self.emit(Event::Changed { processid: process.processid.clone(), state: process.state });
    }

    pub(crate) fn announce_by_id(&mut self, processid: &str) {
        if let Some(process) = self.process(processid).cloned() {
            self.announce(&process);
        }
    }

    /// Whether `executor` may run `process` with the offered resources (§5.2).
    fn can_run(process: &Process, executor: &Executor, cpu: i64, mem: i64) -> bool {
        let conditions = &process.spec.conditions;
        let named = match conditions.executornames.as_deref() {
            None | Some([]) => true,
            Some(names) => names.iter().any(|n| n == "*" || *n == executor.executorname),
        };
        let location =
            conditions.locationname.is_empty() || conditions.locationname.eq_ignore_ascii_case(&executor.locationname);
        // Stored specs are normalised, so these parse; an unparsable one is never assigned.
        let fits = parse_cpu(&conditions.cpu).is_ok_and(|c| c <= cpu)
            && parse_memory(&conditions.mem).is_ok_and(|m| m <= mem)
            && [conditions.nodes, conditions.processes, conditions.processespernode]
                .iter()
                .all(|n| *n <= MAX_NODES_OR_PROCESSES);
        named && location && fits
    }

    /// The best waiting process `executor` may run: lowest prioritytime first, then the
    /// earliest arrival.
    fn pick_process(&self, colonyname: &str, executor: &Executor, cpu: i64, mem: i64) -> Option<String> {
        self.idx
            .queue
            .get(&(colonyname.to_string(), executor.executortype.clone()))?
            .iter()
            .find(|(_, _, id)| self.process(id).is_some_and(|p| Self::can_run(p, executor, cpu, mem)))
            .map(|(_, _, id)| id.clone())
    }

    /// Whether an `Assign` by `caller` would find a process now. The leader asks before
    /// proposing, so an executor with nothing to do does not cost a log entry.
    pub fn has_work_for(&self, caller: &str, colonyname: &str, availablecpu: &str, availablemem: &str) -> bool {
        let Ok((cpu, mem)) = parse_available(availablecpu, availablemem) else { return true };
        if self.data.paused.contains(colonyname) {
            return false;
        }
        self.executors_with_id(colonyname, caller)
            .filter(|e| e.state == ExecutorState::Approved)
            .any(|executor| self.pick_process(colonyname, executor, cpu, mem).is_some())
    }

    pub(crate) fn assign(
        &mut self,
        caller: &str,
        colonyname: &str,
        availablecpu: &str,
        availablemem: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let (cpu, mem) = parse_available(availablecpu, availablemem)?;
        let executor = self
            .executors_with_id(colonyname, caller)
            .find(|e| e.state == ExecutorState::Approved)
            .cloned()
            .ok_or_else(|| ApiError::internal(texts::ASSIGN_NO_EXECUTOR))?;
        if self.data.paused.contains(colonyname) {
            return Err(ApiError::new(503, texts::ASSIGN_PAUSED));
        }
        let processid = self
            .pick_process(colonyname, &executor, cpu, mem)
            .ok_or_else(|| ApiError::not_found(texts::NO_PROCESS_AVAILABLE))?;
        let parents_output: Vec<Json> = self
            .process(&processid)
            .map(|p| p.parents.clone())
            .unwrap_or_default()
            .iter()
            .filter_map(|parent| self.process(parent))
            .flat_map(|parent| parent.out.clone())
            .collect();
        self.update_process(&processid, |p| {
            p.state = ProcessState::Running;
            p.isassigned = true;
            p.assignedexecutorid = executor.executorid.clone();
            p.starttime = now;
            if p.spec.maxexectime > 0 {
                p.execdeadline = now.plus_seconds(p.spec.maxexectime);
            }
            if !p.parents.is_empty() {
                p.input = parents_output;
            }
            set_attribute_states(p);
        });
        if let Some(process) = self.data.processes.get(&processid) {
            self.data.extended.scheduler.assigned(process, now);
        }
        if let Some(stored) = self.data.executors.get_mut(&(colonyname.to_string(), executor.executorname.clone())) {
            stored.lastheardfromtime = now;
        }
        self.announce_by_id(&processid);
        self.resolve_graph_of(&processid, now);
        let process =
            self.process(&processid).cloned().ok_or_else(|| ApiError::internal(texts::ASSIGNED_PROCESS_VANISHED))?;
        Ok(Reply::Process(Box::new(process)))
    }

    pub(crate) fn close_successful(&mut self, processid: &str, out: &[Json], now: Time) -> ApiResult<Reply> {
        let state = self.process(processid).map(|p| p.state).unwrap_or_default();
        match state {
            ProcessState::Failed => {
                return Err(ApiError::bad_request(texts::SUCCESSFUL_FROM_FAILED));
            }
            ProcessState::Cancelled => {
                return Err(ApiError::bad_request(texts::SUCCESSFUL_FROM_CANCELLED));
            }
            ProcessState::Waiting => {
                return Err(ApiError::bad_request(texts::SUCCESSFUL_FROM_WAITING));
            }
            // Closing a SUCCESS process again is allowed: executors retry closes (§12.14).
            ProcessState::Running | ProcessState::Success => {}
        }
        self.count_close(processid, now, true);
        self.update_process(processid, |p| {
            if !out.is_empty() {
                p.out = out.to_vec();
            }
            p.state = ProcessState::Success;
            p.endtime = now;
            set_attribute_states(p);
        });
        self.record_function_run(processid);
        self.announce_by_id(processid);
        self.resolve_graph_of(processid, now);
        Ok(Reply::Empty)
    }

    /// Updates the run statistics of the function the closing executor registered (§5.3).
    fn record_function_run(&mut self, processid: &str) {
        let Some(process) = self.process(processid) else {
            return;
        };
        let colonyname = process.spec.conditions.colonyname.clone();
        let funcname = process.spec.funcname.clone();
        let wait = process.starttime.seconds_since(process.submissiontime);
        let exec = process.endtime.seconds_since(process.starttime);
        let names: Vec<String> = self
            .executors_with_id(&colonyname, &process.assignedexecutorid.clone())
            .map(|e| e.executorname.clone())
            .collect();
        for function in self.data.functions.values_mut() {
            if function.colonyname == colonyname
                && function.funcname == funcname
                && names.contains(&function.executorname)
            {
                function.counter += 1;
                update_stat(&mut function.minwaittime, wait, f64::min);
                update_stat(&mut function.maxwaittime, wait, f64::max);
                update_stat(&mut function.minexectime, exec, f64::min);
                update_stat(&mut function.maxexectime, exec, f64::max);
                update_stat(&mut function.avgwaittime, wait, |old, new| (old + new) / 2.0);
                update_stat(&mut function.avgexectime, exec, |old, new| (old + new) / 2.0);
            }
        }
    }

    pub(crate) fn close_failed(&mut self, processid: &str, errors: &[String], now: Time) -> ApiResult<Reply> {
        let state = self.process(processid).map(|p| p.state).unwrap_or_default();
        match state {
            ProcessState::Success => {
                return Err(ApiError::bad_request(texts::FAILED_FROM_SUCCESSFUL));
            }
            ProcessState::Failed => {
                return Err(ApiError::bad_request(texts::FAILED_FROM_FAILED));
            }
            ProcessState::Cancelled => {
                return Err(ApiError::bad_request(texts::FAILED_FROM_CANCELLED));
            }
            ProcessState::Waiting | ProcessState::Running => {}
        }
        self.count_close(processid, now, false);
        self.fail(processid, errors.to_vec(), now);
        Ok(Reply::Empty)
    }

    /// Counts a close that changes the state: not a SUCCESS process closed again.
    fn count_close(&mut self, processid: &str, now: Time, successful: bool) {
        if let Some(process) = self.data.processes.get(processid)
            && process.state != ProcessState::Success
        {
            self.data.extended.scheduler.closed(process, now, successful);
        }
    }

    fn fail(&mut self, processid: &str, errors: Vec<String>, now: Time) {
        self.update_process(processid, |p| {
            p.state = ProcessState::Failed;
            p.endtime = now;
            p.errors = errors;
            set_attribute_states(p);
        });
        self.announce_by_id(processid);
        self.resolve_graph_of(processid, now);
    }

    pub(crate) fn set_output(&mut self, processid: &str, out: &[Json]) -> ApiResult<Reply> {
        if !out.is_empty() {
            self.update_process(processid, |p| p.out = out.to_vec());
        }
        Ok(Reply::Empty)
    }

    pub(crate) fn add_attribute(&mut self, attribute: &Attribute) -> ApiResult<Reply> {
        let Some(process) = self.process(&attribute.targetid) else {
            return Err(ApiError::not_found(texts::ADD_ATTRIBUTE_NO_PROCESS));
        };
        let mut stored = attribute.clone();
        stored.attributeid = attribute_id(&attribute.targetid, &attribute.key, attribute.attributetype);
        stored.targetprocessgraphid = process.processgraphid.clone();
        if process.attributes.len() >= MAX_ATTRIBUTES_PER_PROCESS {
            return Err(ApiError::bad_request(texts::too_many_attributes(MAX_ATTRIBUTES_PER_PROCESS)));
        }
        if self.idx.attribute_owner.contains_key(&stored.attributeid) {
            return Err(ApiError::bad_request(texts::attribute_exists(&stored.key, stored.attributetype.code())));
        }
        let copy = stored.clone();
        self.update_process(&attribute.targetid, |p| p.attributes.push(copy));
        Ok(Reply::Attribute(stored))
    }

    pub(crate) fn add_log(&mut self, caller: &str, processid: &str, message: &str, now: Time) -> ApiResult<Reply> {
        let Some(process) = self.process(processid) else {
            return Err(ApiError::internal(texts::ADD_LOG_NIL));
        };
        if self.idx.process_logs.get(processid).is_some_and(|seqs| seqs.len() >= MAX_LOGS_PER_PROCESS) {
            return Err(ApiError::bad_request(texts::too_many_logs(MAX_LOGS_PER_PROCESS)));
        }
        let colonyname = process.spec.conditions.colonyname.clone();
        let executorname =
            self.executors_with_id(&colonyname, caller).next().map(|e| e.executorname.clone()).unwrap_or_default();
        self.store_log(processid.to_string(), &colonyname, &executorname, message, now);
        Ok(Reply::Empty)
    }

    pub(crate) fn store_log(
        &mut self,
        processid: String,
        colonyname: &str,
        executorname: &str,
        message: &str,
        now: Time,
    ) {
        let seq = self.data.next_log_seq;
        self.data.next_log_seq += 1;
        let log = Log {
            processid: processid.clone(),
            colonyname: colonyname.to_string(),
            executorname: executorname.to_string(),
            message: message.to_string(),
            timestamp: now.unix_nanos().unwrap_or_default(),
        };
        self.data.logs.insert(seq, std::sync::Arc::new(log));
        self.index_log(seq, (colonyname.to_string(), executorname.to_string()), processid);
    }

    pub(crate) fn cancel_process(&mut self, processid: &str, now: Time) -> ApiResult<Reply> {
        let process = self.process(processid).ok_or_else(|| ApiError::internal(texts::CANCEL_NIL))?;
        if !process.processgraphid.is_empty() {
            return Err(ApiError::bad_request(texts::CANCEL_IN_WORKFLOW));
        }
        match process.state {
            ProcessState::Success => {
                return Err(ApiError::bad_request(texts::CANCEL_SUCCESSFUL));
            }
            ProcessState::Failed => {
                return Err(ApiError::bad_request(texts::CANCEL_FAILED));
            }
            ProcessState::Cancelled => {
                return Err(ApiError::bad_request(texts::CANCEL_CANCELLED));
            }
            ProcessState::Waiting | ProcessState::Running => {}
        }
        self.update_process(processid, |p| {
            p.state = ProcessState::Cancelled;
            p.endtime = now;
            set_attribute_states(p);
        });
        self.announce_by_id(processid);
        Ok(Reply::Empty)
    }

    pub(crate) fn remove_process(&mut self, processid: &str) -> ApiResult<Reply> {
        let process = self.process(processid).ok_or_else(|| ApiError::internal(texts::REMOVE_NIL))?;
        if !process.processgraphid.is_empty() {
            return Err(ApiError::bad_request(texts::REMOVE_IN_WORKFLOW));
        }
        if process.state == ProcessState::Running {
            return Err(ApiError::bad_request(texts::REMOVE_RUNNING));
        }
        self.delete_process(processid);
        Ok(Reply::Empty)
    }

    /// §5.7: -1 removes every process outside workflows, running ones included.
    pub(crate) fn remove_all_processes(&mut self, colonyname: &str, state: i64) -> ApiResult<Reply> {
        let states: Vec<ProcessState> = match state {
            -1 => ProcessState::ALL.to_vec(),
            1 => {
                return Err(ApiError::bad_request(texts::REMOVE_ALL_RUNNING));
            }
            code => match ProcessState::from_code(code) {
                Some(s) => vec![s],
                None => {
                    return Err(ApiError::bad_request(texts::REMOVE_ALL_BAD_STATE));
                }
            },
        };
        let doomed: Vec<String> = states
            .iter()
            .flat_map(|s| self.idx.by_state.get(&(colonyname.to_string(), *s)).into_iter().flatten())
            .map(|(_, _, id)| id.clone())
            .filter(|id| self.process(id).is_some_and(|p| p.processgraphid.is_empty()))
            .collect();
        for processid in doomed {
            self.delete_process(&processid);
        }
        Ok(Reply::Empty)
    }

    /// Puts a running process back in the queue. With `timed_out_at`, it counts as a retry
    /// after an exec timeout (§5.4); without, it is a re-queue after its executor was
    /// removed, which resets the run times and counts nothing (§3.3).
    pub(crate) fn requeue(&mut self, processid: &str, timed_out_at: Option<Time>) {
        self.update_process(processid, |p| {
            p.state = ProcessState::Waiting;
            p.isassigned = false;
            p.assignedexecutorid.clear();
            match timed_out_at {
                Some(now) => {
                    p.endtime = now;
                    p.retries += 1;
                    if p.spec.maxwaittime > 0 {
                        p.waitdeadline = now.plus_seconds(p.spec.maxwaittime);
                    }
                }
                None => {
                    p.starttime = Time::ZERO;
                    p.endtime = Time::ZERO;
                }
            }
            set_attribute_states(p);
        });
        self.announce_by_id(processid);
    }

    /// Fires every deadline that has passed at `now`: exec timeouts re-queue or fail, wait
    /// timeouts fail (§5.4). Deadlines live in replicated state, so whichever node leads
    /// fires each exactly once.
    pub(crate) fn fire_deadlines(&mut self, now: Time) {
        let expired_exec: Vec<String> = self
            .idx
            .exec_deadlines
            .iter()
            .take_while(|(deadline, _)| *deadline < now)
            .map(|(_, id)| id.clone())
            .collect();
        for processid in expired_exec {
            let Some(process) = self.process(&processid) else {
                continue;
            };
            let retries_left = process.spec.maxretries < 0 || process.retries < process.spec.maxretries;
            self.emit(timed_out(process, false, retries_left));
            if retries_left {
                self.data.extended.scheduler.requeued_maxexectime += 1;
                self.requeue(&processid, Some(now));
            } else {
                self.data.extended.scheduler.failed_maxexectime += 1;
                self.fail(&processid, vec![EXEC_TIMEOUT_ERROR.to_string()], now);
            }
        }
        let expired_wait: Vec<String> = self
            .idx
            .wait_deadlines
            .iter()
            .take_while(|(deadline, _)| *deadline < now)
            .map(|(_, id)| id.clone())
            .collect();
        for processid in expired_wait {
            if let Some(process) = self.process(&processid) {
                self.emit(timed_out(process, true, false));
            }
            self.data.extended.scheduler.failed_maxwaittime += 1;
            self.fail(&processid, vec![WAIT_TIMEOUT_ERROR.to_string()], now);
        }
    }
}

fn timed_out(process: &Process, waited: bool, requeued: bool) -> Event {
    Event::TimedOut {
        processid: process.processid.clone(),
        colonyname: process.spec.conditions.colonyname.clone(),
        executortype: process.spec.conditions.executortype.clone(),
        retries: process.retries,
        waited,
        requeued,
    }
}

/// Attributes mirror the state of their process (§4.5).
fn set_attribute_states(process: &mut Process) {
    for attribute in &mut process.attributes {
        attribute.state = process.state;
    }
}

/// The reference's statistics rule: the first sample (or a non-positive old value) is
/// taken as is, later ones are combined.
fn update_stat(stat: &mut f64, sample: f64, combine: impl Fn(f64, f64) -> f64) {
    *stat = if *stat <= 0.0 { sample } else { combine(*stat, sample) };
}
