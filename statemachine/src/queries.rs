//! Reads of the state, each authorized for the caller as its RPC requires (§6).

use crate::error::{ApiError, ApiResult};
use crate::model::{
    Attribute, Colony, Executor, ExecutorState, Function, Log, Process, ProcessState, Statistics, User,
};
use crate::state::{ListKey, State};
use crate::texts;
use crate::time::Time;

/// Largest `count` of `getprocessesmsg` (§9.2).
pub const MAX_PROCESS_COUNT: i64 = 100;
/// Largest `count` of `getlogsmsg`.
pub const MAX_LOG_COUNT: i64 = 500;
/// Largest `count` and `days` of `searchlogsmsg`.
pub const MAX_SEARCH_COUNT: i64 = 100;
pub const MAX_SEARCH_DAYS: i64 = 30;

/// `getprocessesmsg`. The filters are exclusive: executortype, else initiator, else label.
#[derive(Clone, Debug, Default)]
pub struct ProcessQuery {
    pub colonyname: String,
    pub count: i64,
    pub state: i64,
    pub executortype: String,
    pub label: String,
    pub initiator: String,
}

/// `getlogsmsg`.
#[derive(Clone, Debug, Default)]
pub struct LogQuery {
    pub colonyname: String,
    pub processid: String,
    pub executorname: String,
    pub count: i64,
    pub since: i64,
    pub latest: bool,
}

impl State {
    /// `getcoloniesmsg`: in the order they were added, as the original (no `ORDER BY`).
    pub fn get_colonies(&self, caller: &str) -> ApiResult<Vec<Colony>> {
        self.require_server_owner(caller)?;
        let mut colonies: Vec<&Colony> = self.data.colonies.values().collect();
        colonies.sort_by_key(|c| self.data.arrivals.colonies.get(&c.name).copied().unwrap_or(u64::MAX));
        Ok(colonies.into_iter().cloned().collect())
    }

    pub fn get_colony(&self, caller: &str, colonyname: &str) -> ApiResult<Colony> {
        self.require_member(caller, colonyname, true)?;
        self.data.colonies.get(colonyname).cloned().ok_or_else(|| Self::not_found_colony(colonyname))
    }

    fn count_processes(&self, colonyname: &str, state: ProcessState) -> i64 {
        self.idx.by_state.get(&(colonyname.to_string(), state)).map_or(0, |set| set.len() as i64)
    }

    /// Workflows of the colony in `state`: the size of the index every change of a graph's
    /// state moves (as processes are counted), so statistics never scan the graphs.
    fn count_workflows(&self, colonyname: &str, state: ProcessState) -> i64 {
        self.idx.graphs_by_state.get(&(colonyname.to_string(), state)).map_or(0, |set| set.len() as i64)
    }

    /// `getcolonystatsmsg`: every field for one colony (§4.12).
    pub fn colony_statistics(&self, caller: &str, colonyname: &str) -> ApiResult<Statistics> {
        self.require_member(caller, colonyname, true)?;
        let executors: Vec<&Executor> = self.executors_of(colonyname).collect();
        let count_in = |state| executors.iter().filter(|e| e.state == state).count() as i64;
        Ok(Statistics {
            colonies: 1,
            executors: executors.len() as i64,
            activeexecutors: count_in(ExecutorState::Approved),
            unregisteredexecutors: count_in(ExecutorState::Unregistered),
            waitingprocesses: self.count_processes(colonyname, ProcessState::Waiting),
            runningprocesses: self.count_processes(colonyname, ProcessState::Running),
            successfulprocesses: self.count_processes(colonyname, ProcessState::Success),
            failedprocesses: self.count_processes(colonyname, ProcessState::Failed),
            cancelledprocesses: self.count_processes(colonyname, ProcessState::Cancelled),
            waitingworkflows: self.count_workflows(colonyname, ProcessState::Waiting),
            runningworkflows: self.count_workflows(colonyname, ProcessState::Running),
            successfulworkflows: self.count_workflows(colonyname, ProcessState::Success),
            failedworkflows: self.count_workflows(colonyname, ProcessState::Failed),
            cancelledworkflows: self.count_workflows(colonyname, ProcessState::Cancelled),
        })
    }

    /// `getstatisticsmsg`: server-wide, only the fields the reference fills.
    pub fn statistics(&self, caller: &str) -> ApiResult<Statistics> {
        self.require_server_owner(caller)?;
        let all = |state| self.data.colonies.keys().map(|c| self.count_processes(c, state)).sum();
        Ok(Statistics {
            colonies: self.data.colonies.len() as i64,
            executors: self.data.executors.values().filter(|e| e.state != ExecutorState::Unregistered).count() as i64,
            waitingprocesses: all(ProcessState::Waiting),
            runningprocesses: all(ProcessState::Running),
            successfulprocesses: all(ProcessState::Success),
            failedprocesses: all(ProcessState::Failed),
            ..Statistics::default()
        })
    }

    fn executors_of<'a>(&'a self, colonyname: &'a str) -> impl Iterator<Item = &'a Executor> + 'a {
        self.data.executors.iter().filter(move |((colony, _), _)| colony == colonyname).map(|(_, e)| e)
    }

    /// `getexecutorsmsg`: pending executors may list too; UNREGISTERED rows are included.
    pub fn get_executors(&self, caller: &str, colonyname: &str) -> ApiResult<Vec<Executor>> {
        self.require_member(caller, colonyname, false)?;
        Ok(self.executors_of(colonyname).cloned().collect())
    }

    pub fn get_executor(&self, caller: &str, colonyname: &str, executorname: &str) -> ApiResult<Executor> {
        self.require_member(caller, colonyname, true)?;
        self.data
            .executors
            .get(&(colonyname.to_string(), executorname.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::internal(texts::GET_EXECUTOR_NIL))
    }

    pub fn get_executor_by_id(&self, caller: &str, executorid: &str) -> ApiResult<Executor> {
        let executor = self
            .data
            .executors
            .values()
            .find(|e| e.executorid == executorid)
            .ok_or_else(|| ApiError::not_found(texts::GET_EXECUTOR_BY_ID_NIL))?;
        self.require_member(caller, &executor.colonyname, true)?;
        Ok(executor.clone())
    }

    /// `getfunctionsmsg`; an empty executor name lists the whole colony.
    pub fn get_functions(&self, caller: &str, colonyname: &str, executorname: &str) -> ApiResult<Vec<Function>> {
        self.require_member(caller, colonyname, true)?;
        Ok(self
            .data
            .functions
            .values()
            .filter(|f| f.colonyname == colonyname && (executorname.is_empty() || f.executorname == executorname))
            .cloned()
            .collect())
    }

    pub fn get_process(&self, caller: &str, processid: &str) -> ApiResult<Process> {
        let process = self.process(processid).ok_or_else(|| ApiError::not_found(texts::GET_PROCESS_MISSING))?;
        self.require_member(caller, &process.spec.conditions.colonyname, true)?;
        Ok(process.clone())
    }

    /// `getprocessesmsg` in the reference's order: WAITING by queue position, RUNNING by
    /// start, ended ones newest first.
    pub fn get_processes(&self, caller: &str, query: &ProcessQuery) -> ApiResult<Vec<Process>> {
        self.require_member(caller, &query.colonyname, true)?;
        if query.count > MAX_PROCESS_COUNT {
            return Err(ApiError::bad_request(texts::count_over_max(MAX_PROCESS_COUNT)));
        }
        let state = ProcessState::from_code(query.state)
            .ok_or_else(|| ApiError::bad_request(texts::GET_PROCESSES_BAD_STATE))?;
        let initiator_id = if query.executortype.is_empty() && !query.initiator.is_empty() {
            let user = self
                .data
                .users
                .get(&(query.colonyname.clone(), query.initiator.clone()))
                .ok_or_else(|| ApiError::bad_request(texts::initiator_not_a_user(&query.initiator)))?;
            Some(user.userid.clone())
        } else {
            None
        };
        let keep = |p: &Process| {
            if !query.executortype.is_empty() {
                p.spec.conditions.executortype == query.executortype
            } else if let Some(id) = &initiator_id {
                p.initiatorid == *id
            } else {
                query.label.is_empty() || p.spec.label == query.label
            }
        };
        let Some(ids) = self.idx.by_state.get(&(query.colonyname.clone(), state)) else {
            return Ok(Vec::new());
        };
        let ordered: Box<dyn Iterator<Item = &ListKey>> =
            if Self::listed_newest_first(state) { Box::new(ids.iter().rev()) } else { Box::new(ids.iter()) };
        Ok(ordered
            .filter_map(|(_, _, id)| self.process(id))
            .filter(|p| keep(p))
            .take(query.count.max(0) as usize)
            .cloned()
            .collect())
    }

    pub fn get_attribute(&self, caller: &str, attributeid: &str) -> ApiResult<Attribute> {
        let not_found = || ApiError::bad_request(texts::ATTRIBUTE_MISSING);
        let owner = self.idx.attribute_owner.get(attributeid).ok_or_else(not_found)?;
        let process = self.process(owner).ok_or_else(not_found)?;
        self.require_member(caller, &process.spec.conditions.colonyname, true)?;
        process.attributes.iter().find(|a| a.attributeid == attributeid).cloned().ok_or_else(not_found)
    }

    pub fn get_logs(&self, caller: &str, query: &LogQuery) -> ApiResult<Vec<Log>> {
        if query.count > MAX_LOG_COUNT {
            return Err(ApiError::forbidden(texts::log_count_over_max(MAX_LOG_COUNT)));
        }
        let seqs = if query.executorname.is_empty() {
            let process =
                self.process(&query.processid).ok_or_else(|| ApiError::internal(texts::GET_LOGS_NO_PROCESS))?;
            self.require_member(caller, &process.spec.conditions.colonyname, true)?;
            self.idx.process_logs.get(&query.processid)
        } else {
            // Removed executors keep their row (UNREGISTERED), so their logs stay readable.
            let key = (query.colonyname.clone(), query.executorname.clone());
            if !self.data.executors.contains_key(&key) {
                return Err(ApiError::internal(texts::GET_LOGS_NO_EXECUTOR));
            }
            self.require_member(caller, &query.colonyname, true)?;
            self.idx.executor_logs.get(&(query.colonyname.clone(), query.executorname.clone()))
        };
        let logs: Vec<&Log> =
            seqs.into_iter().flatten().filter_map(|seq| self.data.logs.get(seq).map(|log| &**log)).collect();
        let count = query.count.max(0) as usize;
        let chosen: Vec<&Log> = if query.latest {
            logs[logs.len().saturating_sub(count)..].to_vec()
        } else if query.since > 0 {
            logs.into_iter().filter(|l| l.timestamp > query.since).take(count).collect()
        } else {
            logs.into_iter().take(count).collect()
        };
        Ok(chosen.into_iter().cloned().collect())
    }

    /// `getprocesshistmsg`: processes in `state` submitted in the last `seconds` before
    /// `now`, optionally only those run by `executorid`, oldest first.
    pub fn process_history(
        &self,
        caller: &str,
        colonyname: &str,
        executorid: &str,
        seconds: i64,
        state: i64,
        now: Time,
    ) -> ApiResult<Vec<Process>> {
        self.require_member(caller, colonyname, true)?;
        let state =
            ProcessState::from_code(state).ok_or_else(|| ApiError::bad_request(texts::GET_HISTORY_BAD_STATE))?;
        let since = now.plus_seconds(-seconds.max(0));
        let mut found: Vec<(Time, u64, &Process)> = self
            .idx
            .by_state
            .get(&(colonyname.to_string(), state))
            .into_iter()
            .flatten()
            .filter_map(|(_, _, id)| {
                let arrival = self.data.arrivals.processes.get(id).copied().unwrap_or_default();
                self.process(id).map(|p| (p.submissiontime, arrival, p))
            })
            .filter(|(_, _, p)| {
                p.submissiontime >= since && (executorid.is_empty() || p.assignedexecutorid == executorid)
            })
            .collect();
        // Oldest first; equal times in the order they arrived.
        found.sort_by_key(|(submitted, arrival, _)| (*submitted, *arrival));
        Ok(found.into_iter().map(|(_, _, p)| p.clone()).collect())
    }

    /// `searchlogsmsg`: log lines of the colony added in the last `days` that contain `text`.
    pub fn search_logs(
        &self,
        caller: &str,
        colonyname: &str,
        text: &str,
        days: i64,
        count: i64,
        now: Time,
    ) -> ApiResult<Vec<Log>> {
        self.require_member(caller, colonyname, true)?;
        if count > MAX_SEARCH_COUNT {
            return Err(ApiError::bad_request(texts::log_count_over_max(MAX_SEARCH_COUNT)));
        }
        if days > MAX_SEARCH_DAYS {
            return Err(ApiError::bad_request(texts::search_days_over_max(MAX_SEARCH_DAYS)));
        }
        let since = now.plus_seconds(-days.max(0) * 86_400).unix_nanos().unwrap_or(i64::MIN);
        Ok(self
            .data
            .logs
            .values()
            .filter(|l| l.colonyname == colonyname && l.timestamp >= since && l.message.contains(text))
            .take(count.max(0) as usize)
            .map(|log| Log::clone(log))
            .collect())
    }

    pub fn get_user_by_id(&self, caller: &str, colonyname: &str, userid: &str) -> ApiResult<User> {
        self.require_member(caller, colonyname, false)?;
        self.idx
            .user_ids
            .get(&(colonyname.to_string(), userid.to_string()))
            .and_then(|names| names.first())
            .and_then(|name| self.data.users.get(&(colonyname.to_string(), name.clone())))
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::GET_USER_BY_ID_MISSING))
    }

    pub fn get_users(&self, caller: &str, colonyname: &str) -> ApiResult<Vec<User>> {
        self.require_user_colony(colonyname)?;
        self.require_member(caller, colonyname, false)?;
        Ok(self.data.users.iter().filter(|((c, _), _)| c == colonyname).map(|(_, u)| u.clone()).collect())
    }

    pub fn get_user(&self, caller: &str, colonyname: &str, name: &str) -> ApiResult<User> {
        self.require_user_colony(colonyname)?;
        self.require_member(caller, colonyname, false)?;
        self.data
            .users
            .get(&(colonyname.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::internal(texts::GET_USER_NIL))
    }

    /// The type of the approved executor that signs with `executorid` in the colony, which
    /// is what its assign requests wait for.
    pub fn executor_type(&self, executorid: &str, colonyname: &str) -> Option<String> {
        self.executors_with_id(colonyname, executorid)
            .find(|e| e.state == ExecutorState::Approved)
            .map(|e| e.executortype.clone())
    }

    pub fn is_paused(&self, caller: &str, colonyname: &str) -> ApiResult<bool> {
        self.require_member(caller, colonyname, false)?;
        Ok(self.data.paused.contains(colonyname))
    }
}
