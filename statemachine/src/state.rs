//! The colony state: the replicated data, the indexes derived from it, and `apply`.
//!
//! Only `Data` is snapshotted; the indexes are rebuilt when a snapshot is loaded, so the
//! two can never disagree on disk. Every change to a process goes through
//! `State::update_process`, which moves the process's index entries with it.

use crate::arrivals::{Arrivals, tie_break};
use crate::command::{Command, Op};
use crate::counters::{SchedulerMetrics, Tallies};
use crate::error::{ApiError, ApiResult};
pub use crate::extended::Extended;
use crate::model::{
    Attribute, Colony, Cron, Executor, Function, Generator, Log, Process, ProcessGraph, ProcessState, User,
};
use crate::scheduled::Schedules;
use crate::time::Time;
use crate::versioned::{self, Writer};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::Arc;

/// What a successful command answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Empty,
    Colony(Colony),
    Executor(Executor),
    Process(Box<Process>),
    Attribute(Attribute),
    Function(Function),
    User(User),
    ProcessGraph(Box<ProcessGraph>),
    Cron(Box<Cron>),
    Generator(Box<Generator>),
    /// A leader's cron or generator run that consumed its tick or arguments without
    /// creating a workflow, and why (for the leader's log).
    Skipped(String),
    File(Box<crate::files::model::File>),
    Snapshot(Box<crate::files::model::Snapshot>),
    Location(Box<crate::locations::model::Location>),
    Blueprint(Box<crate::blueprints::model::Blueprint>),
    BlueprintDefinition(Box<crate::blueprints::model::BlueprintDefinition>),
}

/// What the node needs to hear about after an apply: wake a long-polling executor, tell
/// websocket subscribers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A process can now be assigned (submitted, re-queued, or its parents all succeeded).
    Ready { processid: String, colonyname: String, executortype: String },
    /// A process entered `state`.
    Changed { processid: String, state: ProcessState },
    /// A process ran past its `maxexectime` (`waited: false`) or waited past its
    /// `maxwaittime`; `requeued`: it went back to the queue rather than failing. For the log.
    TimedOut { processid: String, colonyname: String, executortype: String, retries: i64, waited: bool, requeued: bool },
    /// A message was appended to the channel `name` of a process.
    ChannelAppended { processid: String, name: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot format version {0} is not supported")]
    Version(u8),
    #[error("snapshot is empty")]
    Empty,
    #[error("snapshot does not decode: {0}")]
    Decode(#[from] bincode::Error),
}

/// Format 1: the data. Format 2: format 1 followed by the crons and generators, so a
/// format 1 snapshot (taken before they existed) still loads, with none. Format 3: format 2
/// followed by the arrival numbers; formats 1 and 2 get them made up in the order the
/// state holds (`Arrivals::migrated`). Format 4: format 3 followed by the data of the extended
/// features (`Extended`); formats 1 to 3 load with none.
const SNAPSHOT_FORMAT_1: u8 = 1;
const SNAPSHOT_FORMAT_2: u8 = 2;
const SNAPSHOT_FORMAT_3: u8 = 3;
const SNAPSHOT_FORMAT: u8 = 4;

/// The replicated data at one moment, detached from the state that goes on changing.
pub struct PointInTime(Data);

impl PointInTime {
    /// A format version byte, then bincode of the replicated data, then of the crons and
    /// generators, then of the arrival numbers, then of the extended features' data.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_snapshot(&mut bytes).expect("writing into a Vec cannot fail");
        bytes
    }

    /// Writes what `to_snapshot` returns to `out`, part by part: a snapshot of a large state
    /// goes to a file without a buffer of its size.
    pub fn write_snapshot(&self, out: impl Write) -> Result<(), bincode::Error> {
        Writer::to(out, SNAPSHOT_FORMAT)?
            .write_part(&self.0)?
            .write_part(&self.0.schedules)?
            .write_part(&self.0.arrivals)?
            .write_part(&self.0.extended)?;
        Ok(())
    }

    /// A hash of the snapshot bytes, for comparing replicas; the bytes are hashed as they
    /// are made, never held whole.
    pub fn digest(&self) -> String {
        let mut hasher = Sha3_256::new();
        self.write_snapshot(&mut hasher).expect("hashing cannot fail");
        hex::encode(hasher.finalize())
    }
}

/// (colony name, executor or user name)
pub(crate) type NameKey = (String, String);

/// The replicated data: everything a snapshot holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Data {
    pub serverid: String,
    /// The latest `now` applied; never goes backwards.
    pub clock: Time,
    pub colonies: BTreeMap<String, Colony>,
    pub executors: BTreeMap<NameKey, Executor>,
    pub users: BTreeMap<NameKey, User>,
    pub functions: BTreeMap<String, Function>,
    /// Each process in an allocation of its own: the map's nodes have room for a fixed
    /// number of values whether filled or not, and a process inline (about 900 bytes) left
    /// more than half of every process's memory in unfilled room. Shared, so copying a node
    /// after a snapshot's point-in-time copy does not copy the processes in it. Encoded as
    /// the process itself: the snapshot format is unchanged.
    pub processes: OrdMap<String, Arc<Process>>,
    /// Log lines in insertion order, keyed by a sequence number; each line apart, as the
    /// processes are.
    pub logs: OrdMap<u64, Arc<Log>>,
    pub next_log_seq: u64,
    pub paused: BTreeSet<String>,
    /// Apart and shared, as the processes are.
    pub graphs: OrdMap<String, Arc<ProcessGraph>>,
    /// Written after the rest (see `SNAPSHOT_FORMAT`), not as a field of this struct.
    #[serde(skip)]
    pub schedules: Schedules,
    /// Written after the schedules (see `SNAPSHOT_FORMAT`).
    #[serde(skip)]
    pub arrivals: Arrivals,
    /// Written after the arrival numbers (see `SNAPSHOT_FORMAT`).
    #[serde(skip)]
    pub extended: Extended,
}

/// Lookups derived from `Data`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Indexes {
    /// (colony, executor id) -> executor names with that id (ids are not unique, §3.3).
    pub executor_ids: BTreeMap<(String, String), BTreeSet<String>>,
    /// (colony, user id) -> user names.
    pub user_ids: BTreeMap<(String, String), BTreeSet<String>>,
    /// (colony, executortype) -> assignable processes by (prioritytime, arrival, id).
    pub queue: BTreeMap<(String, String), BTreeSet<ListKey>>,
    /// (colony, state) -> processes by the list time of that state (§6.4), then arrival.
    pub by_state: BTreeMap<(String, ProcessState), BTreeSet<ListKey>>,
    /// WAITING processes with a maxwaittime, by deadline.
    pub wait_deadlines: BTreeSet<(Time, String)>,
    /// RUNNING processes with a maxexectime, by deadline.
    pub exec_deadlines: BTreeSet<(Time, String)>,
    /// attribute id -> process id.
    pub attribute_owner: BTreeMap<String, String>,
    /// process id -> log sequence numbers.
    pub process_logs: BTreeMap<String, Vec<u64>>,
    /// (colony, executor name) -> log sequence numbers.
    pub executor_logs: BTreeMap<NameKey, Vec<u64>>,
    /// (colony, state) -> process graphs by (submission time, arrival, id).
    pub graphs_by_state: BTreeMap<(String, ProcessState), BTreeSet<ListKey>>,
    /// Processes and executors by state, for the metrics.
    pub tallies: Tallies,
}

/// Where a row sorts in a list: its time (as `Time::ordinal`), then its arrival number
/// (`crate::arrivals::tie_break`), then its id.
pub(crate) type ListKey = (i64, u64, String);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    pub(crate) data: Data,
    pub(crate) idx: Indexes,
    events: Vec<Event>,
}

impl State {
    /// Applies one command. An error leaves the state unchanged.
    pub fn apply(&mut self, command: &Command) -> ApiResult<Reply> {
        let now = command.now.max(self.data.clock);
        let caller = command.caller.as_str();
        self.authorize(caller, &command.op)?;
        let reply = match &command.op {
            Op::SetServerId { serverid } => self.set_server_id(serverid),
            Op::AddColony { colony } => self.add_colony(colony),
            Op::RemoveColony { colonyname } => self.remove_colony(colonyname),
            Op::AddExecutor { executor } => self.add_executor(executor, now, false),
            Op::ReregisterExecutor { executor } => self.add_executor(executor, now, true),
            Op::ApproveExecutor { colonyname, executorname } => {
                self.set_executor_state(colonyname, executorname, crate::model::ExecutorState::Approved)
            }
            Op::RejectExecutor { colonyname, executorname } => {
                self.set_executor_state(colonyname, executorname, crate::model::ExecutorState::Rejected)
            }
            Op::RemoveExecutor { colonyname, executorname } => self.remove_executor(colonyname, executorname),
            Op::AddUser { user } => self.add_user(user),
            Op::RemoveUser { colonyname, name } => self.remove_user(colonyname, name),
            Op::AddFunction { function } => self.add_function(caller, function),
            Op::RemoveFunction { functionid } => self.remove_function(functionid),
            Op::Submit { spec, processid } => self.submit(caller, spec, processid, now),
            Op::Assign { colonyname, availablecpu, availablemem } => {
                self.assign(caller, colonyname, availablecpu, availablemem, now)
            }
            Op::CloseSuccessful { processid, out } => self.close_successful(processid, out, now),
            Op::CloseFailed { processid, errors } => self.close_failed(processid, errors, now),
            Op::SetOutput { processid, out } => self.set_output(processid, out),
            Op::AddAttribute { attribute } => self.add_attribute(attribute),
            Op::AddLog { processid, message } => self.add_log(caller, processid, message, now),
            Op::CancelProcess { processid } => self.cancel_process(processid, now),
            Op::RemoveProcess { processid } => self.remove_process(processid),
            Op::RemoveAllProcesses { colonyname, state } => self.remove_all_processes(colonyname, *state),
            Op::PauseAssignments { colonyname } => {
                self.data.paused.insert(colonyname.clone());
                Ok(Reply::Empty)
            }
            Op::ResumeAssignments { colonyname } => {
                self.data.paused.remove(colonyname);
                Ok(Reply::Empty)
            }
            Op::SubmitWorkflow { spec, processgraphid, processids } => {
                self.submit_workflow(caller, spec, processgraphid, processids, now)
            }
            Op::AddChild { processgraphid, parentprocessid, childprocessid, spec, insert, processid } => {
                self.add_child(caller, processgraphid, parentprocessid, childprocessid, spec, *insert, processid, now)
            }
            Op::CancelProcessGraph { processgraphid } => self.cancel_graph(processgraphid, now),
            Op::RemoveProcessGraph { processgraphid } => self.remove_graph(processgraphid),
            Op::RemoveAllProcessGraphs { colonyname, state } => self.remove_all_graphs(colonyname, *state),
            Op::AddExecutorLog { colonyname, executorname, message } => {
                self.store_log(String::new(), colonyname, executorname, message, now);
                Ok(Reply::Empty)
            }
            Op::ChangeColonyId { colonyname, colonyid } => self.change_colony_id(colonyname, colonyid),
            Op::ChangeExecutorId { colonyname, executorid } => self.change_executor_id(caller, colonyname, executorid),
            Op::ChangeUserId { colonyname, userid } => self.change_user_id(caller, colonyname, userid),
            Op::Tick => {
                self.fire_deadlines(now);
                Ok(Reply::Empty)
            }
            Op::Retain { cutoff } => self.retain(*cutoff),
            Op::AddCron { cron, draw } => self.add_cron(caller, cron, *draw, now),
            Op::RunCron { cronid, tick, processgraphid, draw } => {
                self.run_cron(cronid, *tick, processgraphid, *draw, now)
            }
            Op::RemoveCron { cronid } => self.remove_cron(cronid),
            Op::AddGenerator { generator } => self.add_generator(caller, generator),
            Op::PackGenerator { generatorid, arg } => self.pack_generator(generatorid, arg, now),
            Op::FireGenerator { generatorid, head, processgraphid } => {
                self.fire_generator(generatorid, *head, processgraphid, now)
            }
            Op::RemoveGenerator { generatorid } => self.remove_generator(generatorid),
            Op::Heard { executors } => {
                self.record_heard(executors);
                Ok(Reply::Empty)
            }
            Op::RemoveStaleExecutors { cutoff } => self.remove_stale_executors(*cutoff),
            Op::AddFile { .. }
            | Op::RemoveFile { .. }
            | Op::CreateSnapshot { .. }
            | Op::RemoveSnapshot { .. }
            | Op::RemoveAllSnapshots { .. } => self.apply_files(&command.op, now),
            Op::AddLocation { .. }
            | Op::RemoveLocation { .. }
            | Op::ReportAllocation { .. }
            | Op::UpdateExecutor { .. } => self.apply_locations(&command.op),
            Op::ChannelAppend { append } => self.channel_append(caller, append, now),
            Op::AddBlueprintDefinition { definition } => self.add_blueprint_definition(caller, definition, now),
            Op::RemoveBlueprintDefinition { colonyname, name } => self.remove_blueprint_definition(colonyname, name),
            Op::AddBlueprint { blueprint, historyid, processid } => {
                self.add_blueprint(caller, blueprint, historyid, processid, now)
            }
            Op::UpdateBlueprint { blueprint, forcegeneration, historyid, processid } => {
                self.update_blueprint(caller, blueprint, *forcegeneration, historyid, processid, now)
            }
            Op::RemoveBlueprint { colonyname, name, processid } => {
                self.remove_blueprint(caller, colonyname, name, processid, now)
            }
            Op::UpdateBlueprintStatus { colonyname, name, status } => {
                self.update_blueprint_status(colonyname, name, status, now)
            }
            Op::ReconcileBlueprint { colonyname, name, force, processid } => {
                self.reconcile_blueprint(caller, colonyname, name, *force, processid, now)
            }
            Op::RunReconcile { colonyname, name, tick, processid } => {
                self.run_reconcile(colonyname, name, *tick, processid, now)
            }
        }?;
        self.data.clock = now;
        Ok(reply)
    }

    /// The events of the applies since the last call.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The server owner id; empty until the first leader has set it.
    pub fn server_id(&self) -> &str {
        &self.data.serverid
    }

    /// The state's clock: the latest time any applied command carried.
    pub fn clock(&self) -> Time {
        self.data.clock
    }

    /// The scheduler's counters and tallies, for `/metrics`.
    pub fn scheduler_metrics(&self) -> SchedulerMetrics {
        SchedulerMetrics { counters: self.data.extended.scheduler.clone(), tallies: self.idx.tallies.clone() }
    }

    /// The earliest wait or exec deadline, so the leader knows when to propose `Op::Tick`.
    pub fn next_deadline(&self) -> Option<Time> {
        let wait = self.idx.wait_deadlines.first().map(|(t, _)| *t);
        let exec = self.idx.exec_deadlines.first().map(|(t, _)| *t);
        wait.into_iter().chain(exec).min()
    }

    /// A format version byte, then bincode of the replicated data, then of the crons and
    /// generators (see `PointInTime`).
    pub fn to_snapshot(&self) -> Vec<u8> {
        self.point_in_time().to_snapshot()
    }

    /// The replicated data as it is now, for a snapshot or digest made after the state lock
    /// is released: the big maps are shared, not copied, so this is quick whatever the size.
    pub fn point_in_time(&self) -> PointInTime {
        PointInTime(self.data.clone())
    }

    pub fn from_snapshot(bytes: &[u8]) -> Result<State, SnapshotError> {
        Self::read_snapshot(bytes)
    }

    /// Reads a snapshot part by part from `source` (a file, say), never holding its bytes
    /// whole.
    pub fn read_snapshot(source: impl Read) -> Result<State, SnapshotError> {
        let (version, mut parts) =
            versioned::open_stream(source).map_err(bincode::Error::from)?.ok_or(SnapshotError::Empty)?;
        if !(SNAPSHOT_FORMAT_1..=SNAPSHOT_FORMAT).contains(&version) {
            return Err(SnapshotError::Version(version));
        }
        // Each format is the one before it followed by one more part.
        let mut data: Data = parts.part()?;
        if version >= SNAPSHOT_FORMAT_2 {
            data.schedules = parts.part()?;
        }
        if version >= SNAPSHOT_FORMAT_3 {
            data.arrivals = parts.part()?;
        } else {
            data = Self::migrated(data);
        }
        if version >= SNAPSHOT_FORMAT {
            data.extended = parts.part()?;
        }
        Ok(State::from_data(data))
    }

    /// A hash of the replicated data, for comparing replicas.
    pub fn digest(&self) -> String {
        self.point_in_time().digest()
    }

    /// Data of a snapshot taken before arrival numbers were kept, with numbers made up.
    fn migrated(mut data: Data) -> Data {
        data.arrivals = Arrivals::migrated(
            data.colonies.values(),
            data.processes.values().map(|process| &**process),
            data.graphs.values().map(|graph| &**graph),
        );
        data
    }

    fn from_data(data: Data) -> State {
        let mut state = State { data, ..State::default() };
        let executors: Vec<Executor> = state.data.executors.values().cloned().collect();
        for executor in &executors {
            state.index_executor(executor);
        }
        let users: Vec<User> = state.data.users.values().cloned().collect();
        for user in &users {
            state.index_user(user);
        }
        let processes: Vec<Arc<Process>> = state.data.processes.values().cloned().collect();
        for process in &processes {
            state.index_process(process);
        }
        let graphs: Vec<Arc<ProcessGraph>> = state.data.graphs.values().cloned().collect();
        for graph in &graphs {
            state.index_graph(graph, true);
        }
        let logs: Vec<(u64, NameKey, String)> = state
            .data
            .logs
            .iter()
            .map(|(seq, log)| (*seq, (log.colonyname.clone(), log.executorname.clone()), log.processid.clone()))
            .collect();
        for (seq, executor, processid) in logs {
            state.index_log(seq, executor, processid);
        }
        state
    }

    pub(crate) fn index_executor(&mut self, executor: &Executor) {
        self.idx.tallies.executor(&executor.colonyname, executor.state, true);
        self.idx
            .executor_ids
            .entry((executor.colonyname.clone(), executor.executorid.clone()))
            .or_default()
            .insert(executor.executorname.clone());
    }

    pub(crate) fn unindex_executor(&mut self, executor: &Executor) {
        self.idx.tallies.executor(&executor.colonyname, executor.state, false);
        let key = (executor.colonyname.clone(), executor.executorid.clone());
        if let Some(names) = self.idx.executor_ids.get_mut(&key) {
            names.remove(&executor.executorname);
            if names.is_empty() {
                self.idx.executor_ids.remove(&key);
            }
        }
    }

    pub(crate) fn index_user(&mut self, user: &User) {
        self.idx.user_ids.entry((user.colonyname.clone(), user.userid.clone())).or_default().insert(user.name.clone());
    }

    pub(crate) fn unindex_user(&mut self, user: &User) {
        let key = (user.colonyname.clone(), user.userid.clone());
        if let Some(names) = self.idx.user_ids.get_mut(&key) {
            names.remove(&user.name);
            if names.is_empty() {
                self.idx.user_ids.remove(&key);
            }
        }
    }

    pub(crate) fn index_log(&mut self, seq: u64, executor: NameKey, processid: String) {
        if !processid.is_empty() {
            self.idx.process_logs.entry(processid).or_default().push(seq);
        }
        self.idx.executor_logs.entry(executor).or_default().push(seq);
    }

    /// The position of a process in the listing of its state (§6.4 orders).
    pub(crate) fn list_key(process: &Process) -> i64 {
        match process.state {
            ProcessState::Waiting => process.prioritytime,
            ProcessState::Running => process.starttime.ordinal(),
            _ => process.endtime.ordinal(),
        }
    }

    /// Whether `getprocessesmsg` reads processes in this state newest first (§6.4).
    pub(crate) fn listed_newest_first(state: ProcessState) -> bool {
        !matches!(state, ProcessState::Waiting | ProcessState::Running)
    }

    /// Whether the assignment loop may hand the process out.
    pub(crate) fn is_assignable(process: &Process) -> bool {
        process.state == ProcessState::Waiting && !process.isassigned && !process.waitforparents
    }

    fn index_entries(&mut self, process: &Process, insert: bool) {
        let id = process.processid.clone();
        let arrival = self.data.arrivals.process(&id);
        let colony = process.spec.conditions.colonyname.clone();
        self.idx.tallies.process(process, insert);
        let by_state = self.idx.by_state.entry((colony.clone(), process.state)).or_default();
        let key = (Self::list_key(process), tie_break(arrival, Self::listed_newest_first(process.state)), id.clone());
        if insert {
            by_state.insert(key);
        } else {
            by_state.remove(&key);
        }
        if Self::is_assignable(process) {
            let queue =
                self.idx.queue.entry((colony.clone(), process.spec.conditions.executortype.clone())).or_default();
            let key = (process.prioritytime, arrival, id.clone());
            if insert {
                queue.insert(key);
            } else {
                queue.remove(&key);
            }
        }
        if process.state == ProcessState::Waiting && process.spec.maxwaittime > 0 {
            let key = (process.waitdeadline, id.clone());
            if insert {
                self.idx.wait_deadlines.insert(key);
            } else {
                self.idx.wait_deadlines.remove(&key);
            }
        }
        // Only -1 disables the exec limit (§5.4): 0 and other negatives leave the deadline
        // at zero time, which has always passed.
        if process.state == ProcessState::Running && process.spec.maxexectime != -1 {
            let key = (process.execdeadline, id.clone());
            if insert {
                self.idx.exec_deadlines.insert(key);
            } else {
                self.idx.exec_deadlines.remove(&key);
            }
        }
        for attribute in &process.attributes {
            if insert {
                self.idx.attribute_owner.insert(attribute.attributeid.clone(), id.clone());
            } else {
                self.idx.attribute_owner.remove(&attribute.attributeid);
            }
        }
    }

    pub(crate) fn index_process(&mut self, process: &Process) {
        self.index_entries(process, true);
    }

    pub(crate) fn unindex_process(&mut self, process: &Process) {
        self.index_entries(process, false);
    }

    pub(crate) fn insert_process(&mut self, process: Process) {
        self.index_process(&process);
        self.data.processes.insert(process.processid.clone(), Arc::new(process));
    }

    /// Stores a process that did not exist before, counting it as submitted.
    pub(crate) fn insert_new_process(&mut self, process: Process) {
        self.data.extended.scheduler.submitted += 1;
        self.insert_process(process);
    }

    /// Changes a stored process and moves its index entries. Returns false if it is unknown.
    pub(crate) fn update_process(&mut self, processid: &str, change: impl FnOnce(&mut Process)) -> bool {
        let Some(process) = self.data.processes.remove(processid) else {
            return false;
        };
        let mut process = Arc::unwrap_or_clone(process);
        self.unindex_process(&process);
        change(&mut process);
        self.close_channels_if_ended(&process);
        self.insert_process(process);
        true
    }

    /// Removes a process but not its log lines: as in the reference, `log search` and
    /// `log get -e` still find them until retention or the colony's removal takes them.
    pub(crate) fn delete_process(&mut self, processid: &str) -> Option<Process> {
        let process = Arc::unwrap_or_clone(self.data.processes.remove(processid)?);
        self.unindex_process(&process);
        self.data.arrivals.processes.remove(processid);
        self.close_channels(processid);
        Some(process)
    }

    pub(crate) fn process(&self, processid: &str) -> Option<&Process> {
        self.data.processes.get(processid).map(|process| &**process)
    }

    pub(crate) fn colony_exists(&self, name: &str) -> bool {
        self.data.colonies.contains_key(name)
    }

    pub(crate) fn not_found_colony(name: &str) -> ApiError {
        ApiError::bad_request(crate::texts::colony_not_found(name))
    }
}
