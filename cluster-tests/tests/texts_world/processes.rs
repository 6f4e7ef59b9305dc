//! Table rows about processes: submitting, assigning, closing, attributes, logs, removing, reading.

use super::cases::*;
use super::*;
use colonies_client::messages::*;
use colonies_statemachine::model::{Conditions, FunctionSpec};

pub fn rows(w: &World) -> Vec<Case> {
    let owner = &w.owner;
    let cli = &w.cli;
    let two = &w.two;
    let ada = &w.ada;
    let ghost = random_id();
    let running = w.running.processid.clone();
    vec![
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
        // Channels (§6.14): `running` has the channel `chat`, submitted by dev-cli.
        is(
            "CHANNEL_PROCESS_NOT_FOUND",
            cli,
            ChannelReadMsg { processid: ghost.clone(), name: "chat".into(), ..Default::default() },
            404,
            "Process not found",
        ),
        is(
            "CHANNEL_NOT_FOUND",
            cli,
            ChannelReadMsg { processid: running.clone(), name: "nosuch".into(), ..Default::default() },
            404,
            "Channel not found",
        ),
        is(
            "channel_not_authorized",
            ada,
            ChannelAppendMsg { processid: running.clone(), name: "chat".into(), ..Default::default() },
            403,
            "Not authorized to append to channel",
        ),
        is(
            "channel_bad_kind",
            cli,
            ChannelAppendMsg {
                processid: running.clone(),
                name: "chat".into(),
                payloadtype: "shout".into(),
                ..Default::default()
            },
            400,
            "Invalid channel message type <shout>, must be empty, data, end or error",
        ),
        is(
            "too_many_channels",
            cli,
            with_spec(FunctionSpec { channels: (0..101).map(|n| format!("c{n}")).collect(), ..dev_spec("f") }),
            400,
            "Failed to submit function spec, at most 100 channels are allowed",
        ),
    ]
}
