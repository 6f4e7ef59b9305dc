//! The replicated commands. Each is one client write (or a leader decision), already
//! authenticated: `caller` is the id recovered from the request's signature, `now` the
//! proposer's clock, and any new ids are filled in by the proposer.

use crate::blueprints::model::{Blueprint, BlueprintDefinition};
use crate::files::model::File;
use crate::json::Json;
use crate::locations::model::Location;
use crate::model::{Allocations, Capabilities};
use crate::model::{Attribute, Colony, Cron, Executor, Function, FunctionSpec, Generator, User, WorkflowSpec};
use crate::time::Time;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Recovered id of the signer; empty for the leader's own commands (`Op::Tick`, ...).
    pub caller: String,
    /// Proposer's wall clock. `apply` never lets the state's clock go backwards, so a new
    /// leader with a slower clock cannot make an end time precede its start time.
    pub now: Time,
    pub op: Op,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// Sets the server owner id. Proposed once by the first leader from its configuration,
    /// and by `changeserveridmsg`.
    SetServerId {
        serverid: String,
    },
    AddColony {
        colony: Colony,
    },
    RemoveColony {
        colonyname: String,
    },
    AddExecutor {
        executor: Box<Executor>,
    },
    ApproveExecutor {
        colonyname: String,
        executorname: String,
    },
    RejectExecutor {
        colonyname: String,
        executorname: String,
    },
    RemoveExecutor {
        colonyname: String,
        executorname: String,
    },
    AddUser {
        user: User,
    },
    RemoveUser {
        colonyname: String,
        name: String,
    },
    /// `function.functionid` is filled by the proposer when the client left it empty.
    AddFunction {
        function: Function,
    },
    RemoveFunction {
        functionid: String,
    },
    Submit {
        spec: Box<FunctionSpec>,
        processid: String,
    },
    /// The state machine picks the process, so two executors can never get the same one.
    Assign {
        colonyname: String,
        availablecpu: String,
        availablemem: String,
    },
    CloseSuccessful {
        processid: String,
        out: Vec<Json>,
    },
    CloseFailed {
        processid: String,
        errors: Vec<String>,
    },
    SetOutput {
        processid: String,
        out: Vec<Json>,
    },
    AddAttribute {
        attribute: Attribute,
    },
    AddLog {
        processid: String,
        message: String,
    },
    CancelProcess {
        processid: String,
    },
    RemoveProcess {
        processid: String,
    },
    RemoveAllProcesses {
        colonyname: String,
        state: i64,
    },
    PauseAssignments {
        colonyname: String,
    },
    ResumeAssignments {
        colonyname: String,
    },
    /// `processids` holds one new id per function spec, in order.
    SubmitWorkflow {
        spec: Box<WorkflowSpec>,
        processgraphid: String,
        processids: Vec<String>,
    },
    /// An executor extends the graph of the process it runs; `processid` is the new child.
    AddChild {
        processgraphid: String,
        parentprocessid: String,
        childprocessid: String,
        spec: Box<FunctionSpec>,
        insert: bool,
        processid: String,
    },
    CancelProcessGraph {
        processgraphid: String,
    },
    RemoveProcessGraph {
        processgraphid: String,
    },
    RemoveAllProcessGraphs {
        colonyname: String,
        state: i64,
    },
    /// A log line of the executor itself, not of a process.
    AddExecutorLog {
        colonyname: String,
        executorname: String,
        message: String,
    },
    ChangeColonyId {
        colonyname: String,
        colonyid: String,
    },
    /// The caller's own executor row in the colony gets the new id.
    ChangeExecutorId {
        colonyname: String,
        executorid: String,
    },
    /// The caller's own user row in the colony gets the new id.
    ChangeUserId {
        colonyname: String,
        userid: String,
    },
    /// Fires every wait and exec deadline that has passed at `now`.
    Tick,
    /// Removes a batch of history that ended before `cutoff` (retention).
    Retain {
        cutoff: crate::time::Time,
    },
    // New operations go last: the log stores variants by position.
    /// `cron.cronid` is new, from the proposer; `draw` places a random cron's first run.
    AddCron {
        cron: Box<Cron>,
        draw: u64,
    },
    /// One run of a cron; `processgraphid` is new, from the proposer, and the processes'
    /// ids are derived from it (`crons::process_ids`). `tick` is the `nextrun` the leader saw due: the run happens only while it still is
    /// the cron's next run, so a late duplicate (a deposed leader's proposal that commits
    /// after its successor ran the tick) is refused. `None`: `runcronmsg`, an extra run
    /// now that leaves the schedule alone. `draw` places the next random run.
    RunCron {
        cronid: String,
        tick: Option<Time>,
        processgraphid: String,
        draw: u64,
    },
    RemoveCron {
        cronid: String,
    },
    /// `generator.generatorid` is new, from the proposer.
    AddGenerator {
        generator: Box<Generator>,
    },
    PackGenerator {
        generatorid: String,
        arg: String,
    },
    /// The leader runs a generator's workflow with the oldest queued arguments. `head` is
    /// the number of the first of them (packs are numbered from 0): once they are used the
    /// head moves on, so a duplicate of this command is refused. Ids as for `RunCron`.
    FireGenerator {
        generatorid: String,
        head: u64,
        processgraphid: String,
    },
    RemoveGenerator {
        generatorid: String,
    },
    /// `addexecutormsg` on a server that allows re-registration
    /// (`COLONIES_ALLOW_EXECUTOR_REREGISTER`): an executor of the same name is replaced, so
    /// one that makes a new key at every start comes back under its name.
    ReregisterExecutor {
        executor: Box<Executor>,
    },
    /// Executors the leader heard from (assign calls, long-polls included) since its last
    /// report: one entry for many polls, instead of a write per poll.
    Heard {
        executors: Vec<HeardFrom>,
    },
    /// Removes, as `removeexecutormsg` does, every executor last heard from before `cutoff`
    /// (the leader's clock minus `COLONIES_STALE_EXECUTOR_DURATION`).
    RemoveStaleExecutors {
        cutoff: Time,
    },
    // --- Files and snapshots (ColonyFS metadata, `files/`) ---
    /// `file.fileid` is new, from the proposer.
    AddFile {
        file: Box<File>,
    },
    /// By `fileid`, or else every revision of (`label`, `name`).
    RemoveFile {
        colonyname: String,
        fileid: String,
        label: String,
        name: String,
    },
    /// `snapshotid` is new, from the proposer.
    CreateSnapshot {
        colonyname: String,
        label: String,
        name: String,
        snapshotid: String,
    },
    /// By `snapshotid`, or else by `name`.
    RemoveSnapshot {
        colonyname: String,
        snapshotid: String,
        name: String,
    },
    RemoveAllSnapshots {
        colonyname: String,
    },
    // --- Locations and executor reports (`locations/`) ---
    /// `location.locationid` is new, from the proposer.
    AddLocation {
        location: Box<Location>,
    },
    RemoveLocation {
        colonyname: String,
        name: String,
    },
    ReportAllocation {
        colonyname: String,
        executorname: String,
        allocations: Allocations,
    },
    /// Replaces the executor's capabilities.
    UpdateExecutor {
        colonyname: String,
        executorname: String,
        capabilities: Capabilities,
    },
    // --- Channels (§6.14) ---
    /// `channelappendmsg`; the message's position is given by the state machine.
    ChannelAppend {
        append: Box<crate::channels::model::Append>,
    },
    // --- Blueprints (§6.15, `crate::blueprints`) ---
    /// `definition.blueprintdefinitionid` is filled by the proposer when the client sent none.
    AddBlueprintDefinition {
        definition: Box<BlueprintDefinition>,
    },
    RemoveBlueprintDefinition {
        colonyname: String,
        name: String,
    },
    /// `blueprint.blueprintid` as for definitions; `historyid` and `processid` (of its
    /// reconciliation) are new, from the proposer.
    AddBlueprint {
        blueprint: Box<Blueprint>,
        historyid: String,
        processid: String,
    },
    UpdateBlueprint {
        blueprint: Box<Blueprint>,
        forcegeneration: bool,
        historyid: String,
        processid: String,
    },
    /// `processid` is new: the cleanup process.
    RemoveBlueprint {
        colonyname: String,
        name: String,
        processid: String,
    },
    UpdateBlueprintStatus {
        colonyname: String,
        name: String,
        status: Json,
    },
    ReconcileBlueprint {
        colonyname: String,
        name: String,
        force: bool,
        processid: String,
    },
    /// The leader's periodic reconciliation of the kind a definition declares; `tick` is
    /// the definition's next run, as a cron's (`RunCron`), and the processes' ids derive
    /// from `processid`.
    RunReconcile {
        colonyname: String,
        name: String,
        tick: Time,
        processid: String,
    },
}

/// An executor's latest assign call, as the leader saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeardFrom {
    pub colonyname: String,
    pub executorid: String,
    pub at: Time,
}
