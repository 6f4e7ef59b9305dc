//! Who may do what (§3.2), as a pure function of the caller, the operation and the state.
//!
//! `apply` runs it first, so a command that was authorized when proposed but no longer is
//! when it commits is refused; the node runs it before proposing, so a stranger's request
//! never reaches the log.

use crate::command::Op;
use crate::error::{ApiError, ApiResult};
use crate::model::{ExecutorState, Process, ProcessState};
use crate::state::State;
use crate::texts;

impl State {
    pub fn require_server_owner(&self, caller: &str) -> ApiResult<()> {
        if !caller.is_empty() && caller == self.data.serverid {
            Ok(())
        } else {
            Err(ApiError::forbidden(texts::NOT_SERVER_OWNER))
        }
    }

    fn existing_colony(&self, colonyname: &str) -> ApiResult<&crate::model::Colony> {
        self.data.colonies.get(colonyname).ok_or_else(|| ApiError::forbidden(texts::colony_does_not_exist(colonyname)))
    }

    pub fn require_colony_owner(&self, caller: &str, colonyname: &str) -> ApiResult<()> {
        // Only the owner check names an empty colony (the reference's resolveColony).
        if colonyname.is_empty() {
            return Err(ApiError::forbidden(texts::EMPTY_COLONY_NAME));
        }
        if self.existing_colony(colonyname)?.colonyid == caller {
            Ok(())
        } else {
            Err(ApiError::forbidden(texts::NOT_COLONY_OWNER))
        }
    }

    /// An executor of the colony (approved, if `approved`), or else a user of it. A failing
    /// executor check always reports the user error, as the reference does (§3.2).
    pub fn require_member(&self, caller: &str, colonyname: &str, approved: bool) -> ApiResult<()> {
        self.existing_colony(colonyname)?;
        let is_executor =
            self.executors_with_id(colonyname, caller).any(|e| !approved || e.state == ExecutorState::Approved);
        let is_user = self.idx.user_ids.contains_key(&(colonyname.to_string(), caller.to_string()));
        if is_executor || is_user { Ok(()) } else { Err(ApiError::forbidden(texts::not_a_member(colonyname))) }
    }

    /// The user RPCs look the colony up before any role check, and answer 400 (§6.10).
    pub(crate) fn require_user_colony(&self, colonyname: &str) -> ApiResult<()> {
        self.existing_colony(colonyname).map(|_| ()).map_err(|e| ApiError::bad_request(e.message))
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
                    Err(ApiError::bad_request(texts::SERVER_ID_ALREADY_SET))
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
            | Op::RemoveStaleExecutors { .. }
            | Op::RunReconcile { .. } => {
                if caller.is_empty() {
                    Ok(())
                } else {
                    Err(ApiError::forbidden(texts::LEADER_ONLY))
                }
            }
            Op::AddFile { .. }
            | Op::RemoveFile { .. }
            | Op::CreateSnapshot { .. }
            | Op::RemoveSnapshot { .. }
            | Op::RemoveAllSnapshots { .. } => self.authorize_files(caller, op),
            Op::AddLocation { .. }
            | Op::RemoveLocation { .. }
            | Op::ReportAllocation { .. }
            | Op::UpdateExecutor { .. } => self.authorize_locations(caller, op),
            Op::AddBlueprintDefinition { .. }
            | Op::RemoveBlueprintDefinition { .. }
            | Op::AddBlueprint { .. }
            | Op::UpdateBlueprint { .. }
            | Op::RemoveBlueprint { .. }
            | Op::UpdateBlueprintStatus { .. }
            | Op::ReconcileBlueprint { .. } => self.authorize_blueprint_op(caller, op),
            Op::AddCron { cron, .. } => self.require_member(caller, &cron.colonyname, true),
            Op::AddGenerator { generator } => self.require_member(caller, &generator.colonyname, true),
            Op::RunCron { cronid, tick: None, .. } => {
                let cron = self.cron(cronid).ok_or_else(|| ApiError::bad_request(texts::RUN_CRON_MISSING))?;
                self.require_member(caller, &cron.colonyname, true)
            }
            Op::RemoveCron { cronid } => {
                let cron = self.cron(cronid).ok_or_else(|| ApiError::internal(texts::REMOVE_CRON_NIL))?;
                self.require_creator_or_owner(caller, &cron.colonyname, &cron.initiatorid)
            }
            Op::PackGenerator { generatorid, .. } => {
                let entry = self.generator(generatorid).ok_or_else(|| ApiError::internal(texts::PACK_GENERATOR_NIL))?;
                self.require_member(caller, &entry.generator.colonyname, true)
            }
            Op::RemoveGenerator { generatorid } => {
                let entry =
                    self.generator(generatorid).ok_or_else(|| ApiError::internal(texts::REMOVE_GENERATOR_NIL))?;
                self.require_creator_or_owner(caller, &entry.generator.colonyname, &entry.generator.initiatorid)
            }
            Op::AddColony { .. } | Op::RemoveColony { .. } => self.require_server_owner(caller),
            Op::AddExecutor { executor } | Op::ReregisterExecutor { executor } => {
                self.require_colony_owner(caller, &executor.colonyname)
            }
            Op::AddUser { user } => {
                self.require_user_colony(&user.colonyname)?;
                self.require_colony_owner(caller, &user.colonyname)
            }
            Op::RemoveUser { colonyname, .. } => {
                self.require_user_colony(colonyname)?;
                self.require_colony_owner(caller, colonyname)
            }
            Op::ApproveExecutor { colonyname, .. }
            | Op::RejectExecutor { colonyname, .. }
            | Op::RemoveExecutor { colonyname, .. }
            | Op::RemoveAllProcesses { colonyname, .. }
            | Op::PauseAssignments { colonyname }
            | Op::ResumeAssignments { colonyname } => self.require_colony_owner(caller, colonyname),
            Op::AddFunction { function } => {
                self.require_member(caller, &function.colonyname, true)?;
                let key = (function.colonyname.clone(), function.executorname.clone());
                let executor =
                    self.data.executors.get(&key).ok_or_else(|| {
                        ApiError::bad_request(texts::add_function_no_executor(&function.executorname))
                    })?;
                if executor.executorid != caller {
                    return Err(ApiError::forbidden(texts::ADD_FUNCTION_OTHER_EXECUTOR));
                }
                Ok(())
            }
            Op::RemoveFunction { functionid } => {
                if functionid.is_empty() {
                    return Err(ApiError::bad_request(texts::REMOVE_FUNCTION_EMPTY_ID));
                }
                let function = self
                    .data
                    .functions
                    .get(functionid)
                    .ok_or_else(|| ApiError::not_found(texts::REMOVE_FUNCTION_MISSING))?;
                self.require_member(caller, &function.colonyname, true)?;
                let owner = self.data.executors.get(&(function.colonyname.clone(), function.executorname.clone()));
                match owner {
                    Some(executor) if executor.executorid == caller => Ok(()),
                    _ => Err(ApiError::forbidden(texts::REMOVE_FUNCTION_OTHER_EXECUTOR)),
                }
            }
            Op::AddExecutorLog { colonyname, executorname, .. } => {
                self.require_member(caller, colonyname, true)?;
                let mut names = self.executors_with_id(colonyname, caller).peekable();
                if names.peek().is_none() {
                    Err(ApiError::forbidden(texts::EXECUTOR_LOG_NO_EXECUTOR))
                } else if names.any(|e| e.executorname == *executorname) {
                    Ok(())
                } else {
                    Err(ApiError::forbidden(texts::EXECUTOR_LOG_NAME_MISMATCH))
                }
            }
            Op::ChangeColonyId { colonyname, .. } => self.require_colony_owner(caller, colonyname),
            Op::ChangeExecutorId { colonyname, .. } => {
                self.require_member(caller, colonyname, false)?;
                if self.executors_with_id(colonyname, caller).next().is_some() {
                    Ok(())
                } else {
                    Err(ApiError::bad_request(texts::CHANGE_EXECUTOR_ID_NO_EXECUTOR))
                }
            }
            Op::ChangeUserId { colonyname, .. } => {
                self.require_member(caller, colonyname, false)?;
                if self.idx.user_ids.contains_key(&(colonyname.clone(), caller.to_string())) {
                    Ok(())
                } else {
                    Err(ApiError::bad_request(texts::CHANGE_USER_ID_NO_USER))
                }
            }
            Op::Submit { spec, .. } => self.require_member(caller, &spec.conditions.colonyname, true),
            Op::SubmitWorkflow { spec, .. } => self.require_member(caller, &spec.colonyname, true),
            // Whether the caller runs the parent is checked with the graph's own rules.
            Op::AddChild { spec, .. } => self.require_member(caller, &spec.conditions.colonyname, true),
            Op::RemoveAllProcessGraphs { colonyname, .. } => self.require_colony_owner(caller, colonyname),
            Op::CancelProcessGraph { processgraphid } => {
                let graph = self.graph(processgraphid).ok_or_else(|| ApiError::internal(texts::CANCEL_GRAPH_NIL))?;
                self.require_member(caller, &graph.colonyname, true)
            }
            Op::RemoveProcessGraph { processgraphid } => {
                let graph = self.graph(processgraphid).ok_or_else(|| ApiError::internal(texts::REMOVE_GRAPH_NIL))?;
                self.require_member(caller, &graph.colonyname, true)
            }
            Op::Assign { colonyname, .. } => self.require_member(caller, colonyname, true),
            Op::CloseSuccessful { processid, .. } => {
                let process = self.existing_process(processid, ApiError::internal(texts::CLOSE_SUCCESSFUL_NIL))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_assigned(
                    process,
                    caller,
                    texts::CLOSE_SUCCESSFUL_NOT_ASSIGNED,
                    texts::CLOSE_SUCCESSFUL_NOT_ALLOWED,
                )
            }
            Op::CloseFailed { processid, .. } => {
                let process = self.existing_process(processid, ApiError::internal(texts::CLOSE_FAILED_NIL))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_assigned(
                    process,
                    caller,
                    texts::CLOSE_FAILED_NOT_ASSIGNED,
                    texts::CLOSE_FAILED_NOT_ALLOWED,
                )
            }
            Op::SetOutput { processid, .. } => {
                let process = self.existing_process(processid, ApiError::internal(texts::SET_OUTPUT_NIL))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                if process.assignedexecutorid != caller {
                    return Err(ApiError::forbidden(texts::CLOSE_SUCCESSFUL_NOT_ALLOWED));
                }
                Self::require_running(process, texts::SET_OUTPUT_NOT_RUNNING)
            }
            Op::AddAttribute { attribute } => {
                let process =
                    self.existing_process(&attribute.targetid, ApiError::not_found(texts::ADD_ATTRIBUTE_NO_PROCESS))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_running(process, texts::ADD_ATTRIBUTE_NOT_RUNNING)?;
                if process.assignedexecutorid != caller {
                    return Err(ApiError::forbidden(texts::add_attribute_not_assigned(&process.assignedexecutorid)));
                }
                Ok(())
            }
            Op::AddLog { processid, .. } => {
                let process = self.existing_process(processid, ApiError::internal(texts::ADD_LOG_NIL))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)?;
                Self::require_running(process, texts::SET_OUTPUT_NOT_RUNNING)?;
                if process.assignedexecutorid != caller {
                    return Err(ApiError::forbidden(texts::ADD_LOG_NOT_ASSIGNED));
                }
                Ok(())
            }
            Op::CancelProcess { processid } => {
                let process = self.existing_process(processid, ApiError::internal(texts::CANCEL_NIL))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)
            }
            Op::RemoveProcess { processid } => {
                let process = self.existing_process(processid, ApiError::internal(texts::REMOVE_NIL))?;
                self.require_member(caller, &process.spec.conditions.colonyname, true)
            }
            Op::ChannelAppend { append } => {
                self.channel_process(caller, &append.processid, &append.name, "append to").map(|_| ())
            }
        }
    }

    fn require_running(process: &Process, message: &str) -> ApiResult<()> {
        if process.state == ProcessState::Running { Ok(()) } else { Err(ApiError::forbidden(message)) }
    }
}
