//! Who may do what (§3.2), as a pure function of the caller, the operation and the state.
//!
//! `apply` runs it first, so a command that was authorized when proposed but no longer is
//! when it commits is refused; the node runs it before proposing, so a stranger's request
//! never reaches the log.

use crate::command::Op;
use crate::error::{ApiError, ApiResult};
use crate::model::{ExecutorState, Process, ProcessState};
use crate::state::State;

impl State {
    pub fn require_server_owner(&self, caller: &str) -> ApiResult<()> {
        if !caller.is_empty() && caller == self.data.serverid {
            Ok(())
        } else {
            Err(ApiError::forbidden("Access denied, not server owner"))
        }
    }

    fn existing_colony(&self, colonyname: &str) -> ApiResult<&crate::model::Colony> {
        if colonyname.is_empty() {
            return Err(ApiError::forbidden("Empty Colony name"));
        }
        self.data
            .colonies
            .get(colonyname)
            .ok_or_else(|| ApiError::forbidden(format!("Colony with name {colonyname} does not exists")))
    }

    pub fn require_colony_owner(&self, caller: &str, colonyname: &str) -> ApiResult<()> {
        if self.existing_colony(colonyname)?.colonyid == caller {
            Ok(())
        } else {
            Err(ApiError::forbidden("Access denied, not colony owner"))
        }
    }

    /// An executor of the colony (approved, if `approved`), or else a user of it. A failing
    /// executor check always reports the user error, as the reference does (§3.2).
    pub fn require_member(&self, caller: &str, colonyname: &str, approved: bool) -> ApiResult<()> {
        self.existing_colony(colonyname)?;
        let is_executor =
            self.executors_with_id(colonyname, caller).any(|e| !approved || e.state == ExecutorState::Approved);
        let is_user = self.idx.user_ids.contains_key(&(colonyname.to_string(), caller.to_string()));
        if is_executor || is_user {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("Access denied, not a member of Colony with name {colonyname}")))
        }
    }

    /// The executors of a colony that sign with `id` (the same id may have several names).
    pub(crate) fn executors_with_id<'a>(
        &'a self,
        colonyname: &'a str,
        id: &str,
    ) -> impl Iterator<Item = &'a crate::model::Executor> + 'a {
        self.idx
            .executor_ids
            .get(&(colonyname.to_string(), id.to_string()))
            .into_iter()
            .flatten()
            .filter_map(move |name| self.data.executors.get(&(colonyname.to_string(), name.clone())))
    }

    /// The process, or `error` (whose status differs per RPC, §5.3).
    fn existing_process(&self, processid: &str, error: ApiError) -> ApiResult<&Process> {
        self.process(processid).ok_or(error)
    }

    fn require_assigned(process: &Process, caller: &str, not_assigned: &str, other: &str) -> ApiResult<()> {
        if process.assignedexecutorid.is_empty() {
            Err(ApiError::forbidden(not_assigned))
        } else if process.assignedexecutorid != caller {
            Err(ApiError::forbidden(other))
        } else {
            Ok(())
        }
    }

    /// Checks that `caller` may perform `op` now. Preconditions on the state of the objects
    /// (a process already closed, a duplicate name) are left to the operation itself.
    pub fn authorize(&self, caller: &str, op: &Op) -> ApiResult<()> {
        match op {
            Op::SetServerId { .. } => {
                // The leader's own first proposal carries no caller and may only fill an
                // empty id; a client needs the current server key.
                if caller.is_empty() && self.data.serverid.is_empty() {
                    Ok(())
                } else if caller.is_empty() {
                    Err(ApiError::bad_request("The server id is already set"))
                } else {
                    self.require_server_owner(caller)
                }
            }
            // Scheduled runs are the leader's decisions, like timers.
            Op::Tick
            | Op::Retain { .. }
            | Op::RunCron { tick: Some(_), .. }
            | Op::FireGenerator { .. }
            | Op::Heard { .. }
            | Op::RemoveStaleExecutors { .. } => {
                if caller.is_empty() {
                    Ok(())
                } else {
                    Err(ApiError::forbidden("Access denied, timers are fired by the cluster leader"))
                }
            }
            Op::AddCron { cron, .. } => self.require_member(caller, &cron.colonyname, true),
            Op::AddGenerator { generator } => self.require_member(caller, &generator.colonyname, true),
            Op::RunCron { cronid, tick: None, .. } => {
                let cron = self.cron(cronid).ok_or_else(|| ApiError::bad_request("cron not found"))?;
                self.require_member(caller, &cron.colonyname, true)
            }
            Op::RemoveCron { cronid } => {
                let cron = self.cron(cronid).ok_or_else(|| ApiError::internal("Failed to remove cron, cron is nil"))?;
                self.require_creator_or_owner(caller, &cron.colonyname, &cron.initiatorid)
            }
            Op::PackGenerator { generatorid, .. } => {
                let entry = self
                    .generator(generatorid)
                    .ok_or_else(|| ApiError::bad_request("Failed to pack generator, generator not found"))?;
                self.require_member(caller, &entry.generator.colonyname, true)
            }
            Op::RemoveGenerator { generatorid } => {
                let entry = self
                    .generator(generatorid)
                    .ok_or_else(|| ApiError::internal("Failed to remove generator, generator is nil"))?;
                self.require_creator_or_owner(caller, &entry.generator.colonyname, &entry.generator.initiatorid)
            }
            Op::AddColony { .. } | Op::RemoveColony { .. } => self.require_server_owner(caller),
            Op::AddExecutor { executor } | Op::ReregisterExecutor { executor } => {
                self.require_colony_owner(caller, &executor.colonyname)
            }
            Op::AddUser { user } => self.require_colony_owner(caller, &user.colonyname),
            Op::ApproveExecutor { colonyname, .. }
            | Op::RejectExecutor { colonyname, .. }
            | Op::RemoveExecutor { colonyname, .. }
            | Op::RemoveUser { colonyname, .. }
            | Op::RemoveAllProcesses { colonyname, .. }
            | Op::PauseAssignments { colonyname }
            | Op::ResumeAssignments { colonyname } => self.require_colony_owner(caller, colonyname),
            Op::AddFunction { function } => {
                self.require_member(caller, &function.colonyname, true)?;
                let key = (function.colonyname.clone(), function.executorname.clone());
                let executor = self.data.executors.get(&key).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Failed to add function, Executor with name {} does not exist",
                        function.executorname
                    ))
                })?;
                if executor.executorid != caller {
                    return Err(ApiError::forbidden("Not allowed to add a function to another executor"));
                }
                Ok(())
            }
            Op::RemoveFunction { functionid } => {
                if functionid.is_empty() {
                    return Err(ApiError::bad_request("Failed to remove function, functionid is empty"));
                }
                let function = self
                    .data
                    .functions
                    .get(functionid)
                    .ok_or_else(|| ApiError::not_found("Failed to remove function, function does not exist"))?;
                self.require_member(caller, &function.colonyname, true)?;
                let owner = self.data.executors.get(&(function.colonyname.clone(), function.executorname.clone()));
                match owner {
                    Some(executor) if executor.executorid == caller => Ok(()),
                    _ => Err(ApiError::forbidden("Not allowed to remove a function of another executor")),
                }
            }
            Op::AddExecutorLog { colonyname, executorname, .. } => {
                self.require_member(caller, colonyname, true)?;
                if self.executors_with_id(colonyname, caller).any(|e| e.executorname == *executorname) {
                    Ok(())
                } else {
                    Err(ApiError::forbidden("Failed to add executor log, only the executor itself may add its logs"))
                }
            }
            Op::ChangeColonyId { colonyname, .. } => self.require_colony_owner(caller, colonyname),
            Op::ChangeExecutorId { colonyname, .. } => {
                self.require_member(caller, colonyname, false)?;
                if self.executors_with_id(colonyname, caller).next().is_some() {
                    Ok(())
                } else {
                    Err(ApiError::forbidden("Access denied, only an executor may change its id"))
                }
            }
            Op::ChangeUserId { colonyname, .. } => {
                self.require_member(caller, colonyname, false)?;
                if self.idx.user_ids.contains_key(&(colonyname.clone(), caller.to_string())) {
                    Ok(())
                } else {
                    Err(ApiError::forbidden("Access denied, only a user may change its id"))
                }
            }
            Op::Submit { spec, .. } => self.require_member(caller, &spec.conditions.colonyname, true),
            Op::SubmitWorkflow { spec, .. } => self.require_member(caller, &spec.colonyname, true),
            // Whether the caller runs the parent is checked with the graph's own rules.
            Op::AddChild { spec, .. } => self.require_member(caller, &spec.conditions.colonyname, true),
            Op::RemoveAllProcessGraphs { colonyname, .. } => self.require_colony_owner(caller, colonyname),
            Op::CancelProcessGraph { processgraphid } => {
                let graph = self
                    .graph(processgraphid)
                    .ok_or_else(|| ApiError::internal("Failed to cancel processgraph, graph is nil"))?;
                self.require_member(caller, &graph.colonyname, true)
            }
            Op::RemoveProcessGraph { processgraphid } => {
                let graph = self
                    .graph(processgraphid)
                    .ok_or_else(|| ApiError::internal("Failed to remove processgraph, graph is nil"))?;
                self.require_member(caller, &graph.colonyname, true)
            }
            Op::Assign { colonyname, .. } => self.require_member(caller, colonyname, true),
            Op::CloseSuccessful { processid, .. } => {
                let process = self.existing_process(
                    processid,
                    ApiError::internal("Failed to close process as successful, process is nil"),
                )?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_assigned(
                    process,
                    caller,
                    "Failed to close process as successful, process is not assigned",
                    "Failed to close process as successful, not allowed to close process as successful",
                )
            }
            Op::CloseFailed { processid, .. } => {
                let process = self.existing_process(
                    processid,
                    ApiError::internal("Failed to close process as failed, process is nil"),
                )?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_assigned(
                    process,
                    caller,
                    "Failed to close process as failed, process is not assigned",
                    "Failed to close process as failed, not allowed to close process as failed",
                )
            }
            Op::SetOutput { processid, .. } => {
                let process =
                    self.existing_process(processid, ApiError::internal("Failed to set output, process is nil"))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                if process.assignedexecutorid != caller {
                    return Err(ApiError::forbidden(
                        "Failed to close process as successful, not allowed to close process as successful",
                    ));
                }
                Self::require_running(process, "Failed to set output, process is not running")
            }
            Op::AddAttribute { attribute } => {
                let process = self.existing_process(
                    &attribute.targetid,
                    ApiError::not_found("Failed to add attribute, process not found"),
                )?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_running(process, "Failed to add attribute, process is not running")?;
                if process.assignedexecutorid != caller {
                    return Err(ApiError::forbidden(format!(
                        "Failed to add attribute, only executor with id {} is allowed to set attributes",
                        process.assignedexecutorid
                    )));
                }
                Ok(())
            }
            Op::AddLog { processid, .. } => {
                let process =
                    self.existing_process(processid, ApiError::internal("Failed to add log, process is nil"))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_running(process, "Failed to set output, process is not running")?;
                if process.assignedexecutorid != caller {
                    return Err(ApiError::forbidden(
                        "Failed to add log, not allowed to add log, only the assigned Executor may att logs",
                    ));
                }
                Ok(())
            }
            Op::CancelProcess { processid } => {
                let process =
                    self.existing_process(processid, ApiError::internal("Failed to cancel process, process is nil"))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)
            }
            Op::RemoveProcess { processid } => {
                let process =
                    self.existing_process(processid, ApiError::internal("Failed to remove process, process is nil"))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)
            }
        }
    }

    fn require_running(process: &Process, message: &str) -> ApiResult<()> {
        if process.state == ProcessState::Running { Ok(()) } else { Err(ApiError::forbidden(message)) }
    }
}
