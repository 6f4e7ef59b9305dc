//! Every error text a node can answer with, in one place.
//!
//! Texts the reference server has are its texts byte for byte, taken from its handlers,
//! controller, validator and database (`pkg/server/handlers/*`, `pkg/security/validator`),
//! quirks included: names and ids in angle brackets, `does not exists`, `workkflow`,
//! `att logs`. Texts marked "ours" are answers the reference has no counterpart for (a
//! Raft cluster, limits, checks it lacks). `cluster-tests/tests/error_texts.rs` sends, for
//! each text here, a request that triggers it and compares the answer, and fails when a
//! text here is neither in its table nor in its list of texts no client can trigger.

// --- Decoding a payload (§1.3) -----------------------------------------------------------

pub mod blueprints;
mod decode;
pub use decode::{DECODE_FAILURES, UNKNOWN_EMPTY_PAYLOAD_TYPE, decode_failures, unknown_payload_type};

// --- Files, snapshots, locations and executor reports (§6.12, §6.13) ----------------------

mod files;
pub use files::*;

// --- A missing object in a message (400) -------------------------------------------------

pub const ADD_COLONY_NIL: &str = "Failed to add colony, colony is <nil>";
pub const ADD_EXECUTOR_NIL: &str = "Failed to add executor, executor is nil";
pub const ADD_FUNCTION_NIL: &str = "Failed to add function, msg.Function is nil";
pub const SUBMIT_SPEC_NIL: &str = "Failed to submit process spec, msg.FunctionSpec is nil";
/// Ours: the reference's attribute is not a pointer.
pub const ADD_ATTRIBUTE_NIL: &str = "Failed to add attribute, msg.Attribute is nil";
pub const SUBMIT_WORKFLOW_NIL: &str = "Failed to submit workflow, msg.WorkflowSpec is nil";
pub const ADD_CHILD_NIL: &str = "Failed to add child to processgraph, msg.FunctionSpec is nil";
pub const ADD_CRON_NIL: &str = "Failed to add cron, msg.Cron is nil";
pub const ADD_GENERATOR_NIL: &str = "Failed to add generator, msg.Generator is nil";
/// The reference's user handler says executor.
pub const ADD_USER_NIL: &str = "Failed to add user, executor is nil";

// --- Signatures (403) ----------------------------------------------------------------------

/// The prefix is Go's; the reason after it is the hex decoder's.
pub fn signature_not_hex(why: &str) -> String {
    format!("encoding/hex: {why}")
}

pub const INVALID_SIGNATURE_LENGTH: &str = "Invalid signature length";

/// `code` is the recovery byte plus 27, as btcec reports it.
pub fn recovery_code_out_of_range(code: u16) -> String {
    format!(
        "Failed to recover public key: invalid signature: public key recovery code {code} is not in the valid range [27, 34]"
    )
}

pub const HIGH_S: &str = "Failed verify signature: Signature s value is over half the order";

/// The prefix is the reference's; the reason after it is the secp256k1 library's.
pub fn recovery_failed(why: &str) -> String {
    format!("Failed to recover public key: {why}")
}

/// Ours: a request whose signing took longer than the blocking pool allowed.
pub fn verify_failed(why: &str) -> String {
    format!("verifying the request failed: {why}")
}

// --- Who may do what (§3.2, 403) ----------------------------------------------------------

pub const NOT_SERVER_OWNER: &str = "Access denied, not server owner";
pub const NOT_COLONY_OWNER: &str = "Access denied, not colony owner";
pub const EMPTY_COLONY_NAME: &str = "Empty Colony name";

pub fn colony_does_not_exist(colonyname: &str) -> String {
    format!("Colony with name <{colonyname}> does not exists")
}

pub fn not_a_member(colonyname: &str) -> String {
    format!("Access denied, not a member of Colony with name <{colonyname}>")
}

/// Ours: timers, scheduled runs and liveness reports are the leader's own commands.
pub const LEADER_ONLY: &str = "Access denied, timers are fired by the cluster leader";
/// Ours: the leader's first proposal fills an empty server id only.
pub const SERVER_ID_ALREADY_SET: &str = "The server id is already set";
/// Ours: the reference lets any member remove any cron or generator.
pub const NOT_CREATOR_OR_OWNER: &str = "Access denied, only its creator or the colony owner may remove it";

// --- Colonies ------------------------------------------------------------------------------

pub const INVALID_COLONY_ID_LENGTH: &str = "Failed to add colony, invalid colony Id length";
/// Ours: the reference stores a colony without a name.
pub const EMPTY_COLONY_NAME_ADD: &str = "Failed to add colony, name is empty";

pub fn colony_already_exists(colonyname: &str) -> String {
    format!("A Colony with name <{colonyname}> already exists")
}

pub fn colony_not_found(colonyname: &str) -> String {
    format!("Colony with name <{colonyname}> not found")
}

// --- Executors -----------------------------------------------------------------------------

/// Ours: the reference stores an executor without a name.
pub const EMPTY_EXECUTOR_NAME: &str = "Failed to add executor, executor name is empty";
/// Ours: the reference stores any id.
pub const INVALID_EXECUTOR_ID_LENGTH: &str = "Failed to add executor, invalid executor Id length";

pub fn executor_already_exists(executorname: &str, colonyname: &str) -> String {
    format!("Executor with name <{executorname}> in Colony <{colonyname}> already exists")
}

pub const APPROVE_EXECUTOR_NIL: &str = "Failed to approve executor, executor is nil";
pub const REJECT_EXECUTOR_NIL: &str = "Failed to reject executor, executor is nil";
pub const REMOVE_EXECUTOR_NIL: &str = "Failed to remove executor, executor is nil";
pub const GET_EXECUTOR_NIL: &str = "Failed to get executor, executor is nil";
pub const GET_EXECUTOR_BY_ID_NIL: &str = "Failed to get executor by ID, executor is nil";

// --- Functions -----------------------------------------------------------------------------

pub fn add_function_no_executor(executorname: &str) -> String {
    format!("Failed to add function, Executor with name <{executorname}> does not exist")
}

pub const ADD_FUNCTION_OTHER_EXECUTOR: &str = "Not allowed to add a function to another executor";
/// Ours: the node draws an id when the client sends none, so neither can happen from outside.
pub const ADD_FUNCTION_EMPTY_ID: &str = "Failed to add function, function id is empty";
pub const ADD_FUNCTION_ID_TAKEN: &str = "Failed to add function, a function with that id exists";
pub const REMOVE_FUNCTION_EMPTY_ID: &str = "Failed to remove function, msg.FunctionID is empty";
pub const REMOVE_FUNCTION_MISSING: &str = "Failed to remove function, function does not exist";
pub const REMOVE_FUNCTION_OTHER_EXECUTOR: &str = "Not allowed to remove a function from another executor";

// --- Submitting and assigning (§5.1, §5.2) ------------------------------------------------

pub const NO_INITIATOR: &str = "Could not derive InitiatorName";

pub fn priority_out_of_range(min: i64, max: i64) -> String {
    format!("Failed to submit function spec, priority outside range [{min}, {max}]")
}

/// Ours: process ids are drawn by the node.
pub const PROCESS_ID_NOT_NEW: &str = "Failed to submit function spec, process id is not new";
pub const ASSIGN_ZERO_TIMEOUT: &str = "Invalid timeout value, timeout cannot be zero";
pub const ASSIGN_NO_EXECUTOR: &str = "Failed to assign process, executor not found";
pub const ASSIGN_PAUSED: &str = "No processes available: colony assignments are paused";
pub const ASSIGN_PAUSED_TIMEOUT: &str = "Assignment timeout: colony assignments are paused";
pub const NO_PROCESS_AVAILABLE: &str = "No process available for assignment";
/// Ours: an assignment whose process is gone from the state it was just made in.
pub const ASSIGNED_PROCESS_VANISHED: &str = "assigned process vanished";

// --- Closing, failing, output, attributes, logs (§5.3) ------------------------------------

pub const CLOSE_SUCCESSFUL_NIL: &str = "Failed to close process as successful, process is nil";
pub const CLOSE_SUCCESSFUL_NOT_ASSIGNED: &str = "Failed to close process as successful, process is not assigned";
pub const CLOSE_SUCCESSFUL_NOT_ALLOWED: &str =
    "Failed to close process as successful, not allowed to close process as successful";
pub const CLOSE_FAILED_NIL: &str = "Failed to close process as failed, process is nil";
pub const CLOSE_FAILED_NOT_ASSIGNED: &str = "Failed to close process as failed, process is not assigned";
pub const CLOSE_FAILED_NOT_ALLOWED: &str = "Failed to close process as failed, not allowed to close process as failed";
pub const SUCCESSFUL_FROM_FAILED: &str = "Tried to set failed process as successful";
pub const SUCCESSFUL_FROM_CANCELLED: &str = "Tried to set cancelled process as successful";
pub const SUCCESSFUL_FROM_WAITING: &str = "Tried to set waiting process as successful without being running";
pub const FAILED_FROM_SUCCESSFUL: &str = "Tried to set successful process as failed";
pub const FAILED_FROM_FAILED: &str = "Tried to set failed process as failed";
pub const FAILED_FROM_CANCELLED: &str = "Tried to set cancelled process as failed";
pub const SET_OUTPUT_NIL: &str = "Failed to set output, process is nil";
/// Also the reference's text for a log added to a process that is not running.
pub const SET_OUTPUT_NOT_RUNNING: &str = "Failed to set output, process is not running";
pub const ADD_ATTRIBUTE_NO_PROCESS: &str = "Failed to add attribute, process not found";
pub const ADD_ATTRIBUTE_NOT_RUNNING: &str = "Failed to add attribute, process is not running";

pub fn add_attribute_not_assigned(assignedexecutorid: &str) -> String {
    format!("Failed to add attribute, only executor with id <{assignedexecutorid}> is allowed to set attributes")
}

/// Ours: a limit (the reference's database refuses a duplicate with its own error).
pub fn too_many_attributes(max: usize) -> String {
    format!("Failed to add attribute, the process has {max} attributes, the most allowed")
}

pub fn attribute_exists(key: &str, attributetype: i64) -> String {
    format!("Failed to add attribute, an attribute with key {key} and type {attributetype} already exists")
}

pub const ATTRIBUTE_MISSING: &str = "Attribute does not exists";
pub const ADD_LOG_NIL: &str = "Failed to add log, process is nil";
pub const ADD_LOG_NOT_ASSIGNED: &str =
    "Failed to add log, not allowed to add log, only the assigned Executor may att logs";

/// Ours: a limit.
pub fn too_many_logs(max: usize) -> String {
    format!("Failed to add log, the process has {max} log lines, the most allowed")
}

pub const EXECUTOR_LOG_NO_EXECUTOR: &str = "Failed to add executor log, executor not found";
pub const EXECUTOR_LOG_NAME_MISMATCH: &str = "Failed to add executor log, executor name mismatch";

// --- Cancelling and removing processes (§5.6, §5.7) ---------------------------------------

pub const CANCEL_NIL: &str = "Failed to cancel process, process is nil";
pub const CANCEL_IN_WORKFLOW: &str =
    "Failed to cancel, cannot cancel a process part of a workflow, cancel the entire workflow instead";
pub const CANCEL_SUCCESSFUL: &str = "Tried to cancel successful process";
pub const CANCEL_FAILED: &str = "Tried to cancel failed process";
pub const CANCEL_CANCELLED: &str = "Tried to cancel already cancelled process";
pub const REMOVE_NIL: &str = "Failed to remove process, process is nil";
pub const REMOVE_IN_WORKFLOW: &str =
    "Failed to remove, cannot remove a process part of a workflow, delete the entire workflow instead";
pub const REMOVE_RUNNING: &str = "Failed to remove process, cannot remove a running process";
pub const REMOVE_ALL_RUNNING: &str = "Not possible to remove running processes";
pub const REMOVE_ALL_BAD_STATE: &str = "Invalid state when deleting all processes";

// --- Reading processes, logs, users --------------------------------------------------------

pub const GET_PROCESS_MISSING: &str = "Failed to get process, process not found";

pub fn count_over_max(max: i64) -> String {
    format!("Count is larger than MaxCount limit <{max}>")
}

pub const GET_PROCESSES_BAD_STATE: &str = "Failed to get processes, invalid msg.State";
/// Ours: the reference's history query takes any state.
pub const GET_HISTORY_BAD_STATE: &str = "Failed to get process history, invalid msg.State";

pub fn initiator_not_a_user(initiator: &str) -> String {
    format!("User <{initiator}> does not exist")
}

pub fn log_count_over_max(max: i64) -> String {
    format!("Count exceeds max log count ({max})")
}

pub fn search_days_over_max(max: i64) -> String {
    format!("Count exceeds max day count ({max})")
}

pub const GET_LOGS_NO_PROCESS: &str = "Failed to get logs, process does not exist";
pub const GET_LOGS_NO_EXECUTOR: &str = "Failed to get logs, executor does not exist";
pub const GET_USER_NIL: &str = "Failed to get user, user is nil";
/// Ours: `getuserbyidmsg` has no handler in the reference's public source.
pub const GET_USER_BY_ID_MISSING: &str = "Failed to get user, user not found";

// --- Users ---------------------------------------------------------------------------------

/// Ours: the reference stores a user without a name.
pub const EMPTY_USER_NAME: &str = "Failed to add user, name is empty";

pub fn user_already_exists(name: &str, colonyname: &str) -> String {
    format!("A user with name <{name}> already exists in Colony with name <{colonyname}>")
}

pub fn user_not_found(name: &str) -> String {
    format!("User with name <{name}> not found")
}

// --- Changing ids --------------------------------------------------------------------------

pub const CHANGE_COLONY_ID_EMPTY: &str = "Failed to change colony Id, colony Id is empty";
pub const CHANGE_COLONY_ID_LENGTH: &str = "Failed to change colony Id, new colony Id is not 64 characters";
pub const CHANGE_EXECUTOR_ID_EMPTY: &str = "Failed to change executor Id, executor Id is empty";
pub const CHANGE_EXECUTOR_ID_NO_EXECUTOR: &str = "Failed to change executor Id, executor not found";
pub const CHANGE_EXECUTOR_ID_LENGTH: &str = "Failed to change executor Id, new executor Id is not 64 characters";
pub const CHANGE_USER_ID_EMPTY: &str = "Failed to change user Id, user Id is empty";
pub const CHANGE_USER_ID_NO_USER: &str = "Failed to change user Id, user not found";
pub const CHANGE_USER_ID_LENGTH: &str = "Failed to change user Id, new user Id is not 64 characters";
/// The reference's server-id handler speaks of a colony id.
pub const CHANGE_SERVER_ID_EMPTY: &str = "Failed to change colony Id, colony Id is empty";
/// Ours: the reference takes a server id of any length.
pub const CHANGE_SERVER_ID_LENGTH: &str = "Failed to change server id, invalid server id length";

// --- Workflows (§5.5) ----------------------------------------------------------------------

pub const NODENAME_MISSING: &str = "Nodename is missing, check function spec for errors";

pub fn duplicate_nodename(nodename: &str) -> String {
    format!("Duplicate nodename: {nodename}")
}

pub const UNKNOWN_DEPENDENCY: &str =
    "Failed to submit workflow, invalid dependencies, are you depending on a nodename that does not exits?";
/// Ours: the reference stores a cycle that can never run.
pub const DEPENDENCY_CYCLE: &str = "Failed to submit workflow, the dependencies form a cycle";
/// Ours: checks of the workflow text of a cron or generator.
pub const WORKFLOW_EMPTY: &str = "The workflow spec has no function specs";

pub fn workflow_no_funcname(nodename: &str) -> String {
    format!("The function spec {nodename} has no funcname")
}

pub fn workflow_other_colony(workflow: &str, colonyname: &str) -> String {
    format!("The workflow spec is for colony {workflow}, not {colonyname}")
}

/// Ours: process and graph ids are drawn by the node.
pub const WORKFLOW_IDS_MISSING: &str = "Failed to submit workflow, one new process id per function spec needed";
pub const GRAPH_ID_NOT_NEW: &str = "Failed to submit workflow, process graph id is not new";

/// Ours: the reference's controller reads a missing parent as nil.
pub fn parent_missing(parentprocessid: &str) -> String {
    format!("Process with Id {parentprocessid} does not exist")
}

pub fn parent_not_running(parentprocessid: &str) -> String {
    format!("Process with Id {parentprocessid} is not running")
}

pub fn parent_not_assigned(parentprocessid: &str, executorid: &str) -> String {
    format!("Process with Id {parentprocessid} is not assigned to executor with Id {executorid}")
}

pub fn parent_not_in_graph(parentprocessid: &str) -> String {
    format!("Process with Id {parentprocessid} does not belong to a processgraph")
}

/// Ours: the reference attaches the child to whatever graph it is told.
pub fn parent_in_other_graph(parentprocessid: &str, processgraphid: &str) -> String {
    format!("Process with Id {parentprocessid} is not part of process graph {processgraphid}")
}

/// Ours.
pub const CHILD_OTHER_COLONY: &str = "Failed to add child, the child must be in the colony of its graph";

/// Ours.
pub fn child_not_in_graph(childprocessid: &str) -> String {
    format!("Process with Id {childprocessid} is not part of the graph")
}

pub const CANCEL_GRAPH_NIL: &str = "Failed to cancel processgraph, graph is nil";
pub const REMOVE_GRAPH_NIL: &str = "Failed to remove processgraph, graph is nil";
pub const REMOVE_GRAPH_RUNNING: &str = "Failed to remove processgraph, cannot remove a running processgraph";
pub const REMOVE_ALL_GRAPHS_RUNNING: &str = "not possible to remove running processgraphs";
pub const REMOVE_ALL_GRAPHS_BAD_STATE: &str = "invalid state when deleting all processgraphs";
pub const GET_GRAPH_NIL: &str = "Failed to get processgraph, graph is nil";
pub const GET_GRAPHS_BAD_STATE: &str = "invalid msg.State";

// --- Crons and generators (§5.8, §5.9) -----------------------------------------------------

/// Ours: the reference stores a cron without a name.
pub const ADD_CRON_EMPTY_NAME: &str = "Failed to add cron, name is empty";
/// Ours: cron ids are drawn by the node.
pub const CRON_ID_NOT_NEW: &str = "Failed to add cron, cron id is not new";

/// The reference's PostgreSQL store names only the cron.
pub fn cron_already_exists(name: &str) -> String {
    format!("Cron with name <{name}> already exists")
}

/// Ours: an expression that parses but has no next run.
pub const CRON_NEVER_FIRES: &str = "Failed to add cron, the cron expression never fires";
pub const CRON_BAD_INTERVAL: &str = "Cron interval must be -1 (disabled) or larger than 0";
pub const CRON_RANDOM_WITHOUT_INTERVAL: &str = "Random cron is only supported when specifying intervals";

/// The cron-expression parser's words, as the reference's parser (robfig/cron) puts them.
pub fn cron_bad_duration(text: &str) -> String {
    format!("failed to parse duration {text}")
}

pub fn cron_bad_descriptor(text: &str) -> String {
    format!("unrecognized descriptor: {text}")
}

pub fn cron_field_count(fields: usize, text: &str) -> String {
    format!("expected exactly 6 fields, found {fields}: [{text}]")
}

/// Ours: the parser's own reason follows.
pub fn cron_bad_expression(text: &str, why: &str) -> String {
    format!("invalid cron expression {text:?}: {why}")
}

pub const RUN_CRON_MISSING: &str = "cron not found";

/// Ours: a scheduled run the leader proposed late, after it was done.
pub fn cron_run_done(due: &str) -> String {
    format!("Failed to run cron, the run due at {due} is already done")
}

/// Ours.
pub const CRON_RUN_NOT_DUE: &str = "Failed to run cron, the run is not due yet";

/// Ours.
pub fn cron_previous_running(processgraphid: &str) -> String {
    format!("Failed to run cron, its previous process graph {processgraphid} has not ended")
}

pub const REMOVE_CRON_NIL: &str = "Failed to remove cron, cron is nil";
pub const GET_CRON_NIL: &str = "Failed to get cron, cron is nil";

/// Ours: the reference stores a generator without a name.
pub const ADD_GENERATOR_EMPTY_NAME: &str = "Failed to add generator, name is empty";
/// Ours: generator ids are drawn by the node.
pub const GENERATOR_ID_NOT_NEW: &str = "Failed to add generator, generator id is not new";
/// Ours: the reference stores a generator that never runs.
pub const GENERATOR_BAD_TRIGGER: &str = "Failed to add generator, trigger must be larger than 0";

pub fn generator_already_exists(name: &str, colonyname: &str) -> String {
    format!("Generator with name <{name}> in Colony <{colonyname}> already exists")
}

pub const PACK_GENERATOR_NIL: &str = "Failed to increment generator, generator is nil";
/// Ours: a run the leader proposed for a generator removed meanwhile.
pub const RUN_GENERATOR_MISSING: &str = "Failed to run generator, generator not found";

/// Ours.
pub fn generator_run_done(head: u64) -> String {
    format!("Failed to run generator, the arguments from #{head} have already been used")
}

/// Ours.
pub const GENERATOR_RUN_NOT_DUE: &str = "Failed to run generator, no run is due";
pub const REMOVE_GENERATOR_NIL: &str = "Failed to remove generator, generator is nil";
pub const GET_GENERATOR_NIL: &str = "Failed to get generator, generator is nil";
pub const RESOLVE_GENERATOR_NIL: &str = "Failed to resolve generator, generator is nil";

// --- Resources (§4.3) ----------------------------------------------------------------------

/// Go's `strconv` words after the reference's prefix.
pub fn cpu_not_a_number(why: &str) -> String {
    format!("error converting cpu to int: {why}")
}

pub fn memory_not_a_number(why: &str) -> String {
    format!("error converting memory to int: {why}")
}

// --- Channels (§6.14) ----------------------------------------------------------------------

pub const CHANNEL_PROCESS_NOT_FOUND: &str = "Process not found";
pub const CHANNEL_NOT_FOUND: &str = "Channel not found";

/// `what`: "append to" or "read".
pub fn channel_not_authorized(what: &str) -> String {
    format!("Not authorized to {what} channel")
}

/// Ours: the reference names no kinds but these.
pub fn channel_bad_kind(kind: &str) -> String {
    format!("Invalid channel message type <{kind}>, must be empty, data, end or error")
}

/// Ours, like the limits below: the reference's limits, with texts of our own.
pub fn channel_payload_too_large(max: usize) -> String {
    format!("Channel message payload too large, at most {max} bytes are allowed")
}

pub fn channel_full(max: usize) -> String {
    format!("Channel is full, at most {max} messages are allowed")
}

pub fn channel_bytes_exhausted(max: usize) -> String {
    format!("Channels of the process are full, at most {max} payload bytes are allowed")
}

pub fn too_many_channels(max: usize) -> String {
    format!("Failed to submit function spec, at most {max} channels are allowed")
}

pub fn channel_rate_limited(per_second: i64, burst: i64) -> String {
    format!("Channel rate limit exceeded, at most {per_second} messages per second (burst {burst}) per process")
}

// --- Subscriptions (§7) --------------------------------------------------------------------

pub fn subscribe_unknown_process(processid: &str) -> String {
    format!("Invalid process with Id {processid}")
}

/// Ours: a process subscription by someone who is not an executor of the colony.
pub const SUBSCRIBE_NO_EXECUTOR: &str = "executor not found";

/// Ours: a subscription sent to `/api`.
pub fn websocket_only(payloadtype: &str) -> String {
    format!("{payloadtype} is only served on the /pubsub websocket")
}

// --- The node: limits, the cluster, availability (ours) -----------------------------------

/// A websocket upgrade from a page whose origin `--cors-origins` does not list.
pub const ORIGIN_NOT_ALLOWED: &str = "Origin not allowed (--cors-origins)";

/// A decoded message that does not encode again for the limit checks.
pub fn reencode_failed(why: &str) -> String {
    format!("a decoded message does not re-encode: {why}")
}

/// A field over its limit (`node/src/limits.rs`).
pub fn invalid_field(field: &str, why: &str) -> String {
    format!("Invalid {field}: {why}")
}

pub fn body_too_large(limit: usize) -> String {
    format!("Request body too large: at most {limit} bytes are accepted (--max-body)")
}

pub fn body_unreadable(why: &str) -> String {
    format!("Failed to read the request body: {why}")
}

pub fn body_too_slow(seconds: f32) -> String {
    format!("The request body did not arrive within {seconds} s")
}

pub const SHUTTING_DOWN: &str = "The server is shutting down";
pub const TOO_MANY_CONNECTIONS: &str = "Too many connections; retry later";

pub fn not_ready(why: &str) -> String {
    format!("Not ready: {why}")
}

pub const NO_MAJORITY: &str = "No majority confirmed this node's leadership; the cluster may be down";
pub const NO_LEADER: &str = "No leader in the cluster right now; retry shortly";

pub fn not_the_leader(location: &str) -> String {
    format!("Not the leader; the leader is at {location}")
}

pub fn leader_answer_cut(why: &str) -> String {
    format!("The leader's answer was cut off: {why}")
}

pub fn leader_unreachable(addr: &str, why: &str) -> String {
    format!("The leader at {addr} could not be reached: {why}")
}
