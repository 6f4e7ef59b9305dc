//! The state changes of the membership operations (server id, colonies, executors, users,
//! functions, id changes), after `State::authorize` has passed. Each returns an error before
//! changing anything, so a refused command is a no-op.

use crate::error::{ApiError, ApiResult};
use crate::model::{Colony, Executor, ExecutorState, Function, ProcessState, User};
use crate::state::{Reply, State};
use crate::texts;
use crate::time::Time;

impl State {
    pub(crate) fn set_server_id(&mut self, serverid: &str) -> ApiResult<Reply> {
        if serverid.len() != 64 {
            return Err(ApiError::bad_request(texts::CHANGE_SERVER_ID_LENGTH));
        }
        self.data.serverid = serverid.to_string();
        Ok(Reply::Empty)
    }

    pub(crate) fn add_colony(&mut self, colony: &Colony) -> ApiResult<Reply> {
        if colony.colonyid.len() != 64 {
            return Err(ApiError::bad_request(texts::INVALID_COLONY_ID_LENGTH));
        }
        if colony.name.is_empty() {
            return Err(ApiError::bad_request(texts::EMPTY_COLONY_NAME_ADD));
        }
        if self.colony_exists(&colony.name) {
            return Err(ApiError::bad_request(texts::colony_already_exists(&colony.name)));
        }
        self.data.colonies.insert(colony.name.clone(), colony.clone());
        self.data.arrivals.colony(&colony.name);
        Ok(Reply::Colony(colony.clone()))
    }

    pub(crate) fn remove_colony(&mut self, colonyname: &str) -> ApiResult<Reply> {
        if !self.colony_exists(colonyname) {
            return Err(Self::not_found_colony(colonyname));
        }
        let executors: Vec<_> =
            self.data.executors.range(Self::colony_range(colonyname)).map(|(k, _)| k.clone()).collect();
        for key in executors {
            if let Some(executor) = self.data.executors.remove(&key) {
                self.unindex_executor(&executor);
            }
        }
        let users: Vec<_> = self.data.users.range(Self::colony_range(colonyname)).map(|(k, _)| k.clone()).collect();
        for key in users {
            if let Some(user) = self.data.users.remove(&key) {
                self.unindex_user(&user);
            }
        }
        self.data.functions.retain(|_, f| f.colonyname != colonyname);
        let processes: Vec<String> = self
            .data
            .processes
            .values()
            .filter(|p| p.spec.conditions.colonyname == colonyname)
            .map(|p| p.processid.clone())
            .collect();
        for processid in processes {
            self.delete_process(&processid);
        }
        let executor_logs: Vec<_> =
            self.idx.executor_logs.range(Self::colony_range(colonyname)).map(|(k, _)| k.clone()).collect();
        // Every line of the colony is indexed under (colony, writer), the writer's name
        // possibly empty, so this finds the lines of removed processes too.
        for key in executor_logs {
            for seq in self.idx.executor_logs.remove(&key).unwrap_or_default() {
                if let Some(line) = self.data.logs.remove(&seq) {
                    self.idx.process_logs.remove(&line.processid);
                }
            }
        }
        self.data.paused.remove(colonyname);
        self.remove_schedules_of(colonyname);
        self.data.extended.files.remove_colony(colonyname);
        self.data.extended.locations.remove_colony(colonyname);
        self.remove_blueprints_of(colonyname);
        self.data.colonies.remove(colonyname);
        self.data.arrivals.colonies.remove(colonyname);
        Ok(Reply::Empty)
    }

    /// Keys `(colony, *)` of a map keyed by (colony, name).
    fn colony_range(colonyname: &str) -> std::ops::RangeInclusive<(String, String)> {
        // Every name sorts at or after "" and strictly before the same colony followed by
        // a char above any in use, so a tuple range on the colony is exact.
        (colonyname.to_string(), String::new())..=(colonyname.to_string(), char::MAX.to_string())
    }

    /// Adds an executor. With `reregister`, one already registered under the name is
    /// removed first as by `removeexecutormsg` (its running processes go back to the queue,
    /// its functions are dropped): its old key can no longer close them.
    pub(crate) fn add_executor(&mut self, executor: &Executor, now: Time, reregister: bool) -> ApiResult<Reply> {
        if executor.executorname.is_empty() {
            return Err(ApiError::bad_request(texts::EMPTY_EXECUTOR_NAME));
        }
        if executor.executorid.len() != 64 {
            return Err(ApiError::bad_request(texts::INVALID_EXECUTOR_ID_LENGTH));
        }
        let key = (executor.colonyname.clone(), executor.executorname.clone());
        if self.data.executors.contains_key(&key) && reregister {
            self.remove_executor(&executor.colonyname, &executor.executorname)?;
            if let Some(old) = self.data.executors.remove(&key) {
                self.unindex_executor(&old);
            }
        } else if self.data.executors.contains_key(&key) {
            return Err(ApiError::bad_request(texts::executor_already_exists(
                &executor.executorname,
                &executor.colonyname,
            )));
        }
        let mut stored = executor.clone();
        stored.state = ExecutorState::Pending;
        stored.commissiontime = now;
        self.index_executor(&stored);
        self.data.executors.insert(key, stored.clone());
        Ok(Reply::Executor(stored))
    }

    fn executor_or(&self, colonyname: &str, executorname: &str, message: &str) -> ApiResult<&Executor> {
        self.data
            .executors
            .get(&(colonyname.to_string(), executorname.to_string()))
            .ok_or_else(|| ApiError::internal(message))
    }

    pub(crate) fn set_executor_state(
        &mut self,
        colonyname: &str,
        executorname: &str,
        state: ExecutorState,
    ) -> ApiResult<Reply> {
        let missing =
            if state == ExecutorState::Approved { texts::APPROVE_EXECUTOR_NIL } else { texts::REJECT_EXECUTOR_NIL };
        self.executor_or(colonyname, executorname, missing)?;
        self.set_executor_state_unchecked(colonyname, executorname, state);
        Ok(Reply::Empty)
    }

    /// Changes a stored executor's state, moving its tally.
    fn set_executor_state_unchecked(&mut self, colonyname: &str, executorname: &str, state: ExecutorState) {
        let key = (colonyname.to_string(), executorname.to_string());
        if let Some(executor) = self.data.executors.get(&key).cloned() {
            self.unindex_executor(&executor);
            let executor = Executor { state, ..executor };
            self.index_executor(&executor);
            self.data.executors.insert(key, executor);
        }
    }

    /// Marks the executor UNREGISTERED (the row stays, §3.3), puts its running processes
    /// back in the queue without counting a retry, and drops its functions.
    pub(crate) fn remove_executor(&mut self, colonyname: &str, executorname: &str) -> ApiResult<Reply> {
        let executorid = self.executor_or(colonyname, executorname, texts::REMOVE_EXECUTOR_NIL)?.executorid.clone();
        self.set_executor_state_unchecked(colonyname, executorname, ExecutorState::Unregistered);
        let running: Vec<String> = self
            .idx
            .by_state
            .get(&(colonyname.to_string(), ProcessState::Running))
            .into_iter()
            .flatten()
            .map(|(_, _, id)| id.clone())
            .filter(|id| self.process(id).is_some_and(|p| p.assignedexecutorid == executorid))
            .collect();
        for processid in running {
            self.requeue(&processid, None);
        }
        self.data.functions.retain(|_, f| !(f.colonyname == colonyname && f.executorname == executorname));
        Ok(Reply::Empty)
    }

    pub(crate) fn add_user(&mut self, user: &User) -> ApiResult<Reply> {
        if user.name.is_empty() {
            return Err(ApiError::bad_request(texts::EMPTY_USER_NAME));
        }
        let key = (user.colonyname.clone(), user.name.clone());
        if self.data.users.contains_key(&key) {
            return Err(ApiError::bad_request(texts::user_already_exists(&user.name, &user.colonyname)));
        }
        self.index_user(user);
        self.data.users.insert(key, user.clone());
        Ok(Reply::User(user.clone()))
    }

    pub(crate) fn remove_user(&mut self, colonyname: &str, name: &str) -> ApiResult<Reply> {
        let user = self
            .data
            .users
            .remove(&(colonyname.to_string(), name.to_string()))
            .ok_or_else(|| ApiError::bad_request(texts::user_not_found(name)))?;
        self.unindex_user(&user);
        Ok(Reply::Empty)
    }

    pub(crate) fn add_function(&mut self, caller: &str, function: &Function) -> ApiResult<Reply> {
        if function.functionid.is_empty() {
            return Err(ApiError::bad_request(texts::ADD_FUNCTION_EMPTY_ID));
        }
        if self.data.functions.contains_key(&function.functionid) {
            return Err(ApiError::bad_request(texts::ADD_FUNCTION_ID_TAKEN));
        }
        let mut stored = function.clone();
        if let Some(executor) = self.executors_with_id(&function.colonyname, caller).next() {
            stored.locationname = executor.locationname.clone();
        }
        self.data.functions.insert(stored.functionid.clone(), stored.clone());
        Ok(Reply::Function(stored))
    }

    pub(crate) fn remove_function(&mut self, functionid: &str) -> ApiResult<Reply> {
        self.data.functions.remove(functionid);
        Ok(Reply::Empty)
    }

    /// The name a new process records for its submitter: its executor name in the colony
    /// (or any colony), else its user name in the colony.
    pub(crate) fn initiator_name(&self, caller: &str, colonyname: &str) -> Option<String> {
        if let Some(executor) = self.executors_with_id(colonyname, caller).next() {
            return Some(executor.executorname.clone());
        }
        let any_colony = self.idx.executor_ids.iter().find(|((_, id), _)| id == caller);
        if let Some((_, names)) = any_colony {
            return names.first().cloned();
        }
        self.idx.user_ids.get(&(colonyname.to_string(), caller.to_string())).and_then(|names| names.first().cloned())
    }

    fn require_new_id(id: &str, wrong_length: &'static str) -> ApiResult<()> {
        if id.len() == 64 { Ok(()) } else { Err(ApiError::bad_request(wrong_length)) }
    }

    pub(crate) fn change_colony_id(&mut self, colonyname: &str, colonyid: &str) -> ApiResult<Reply> {
        Self::require_new_id(colonyid, texts::CHANGE_COLONY_ID_LENGTH)?;
        if let Some(colony) = self.data.colonies.get_mut(colonyname) {
            colony.colonyid = colonyid.to_string();
        }
        Ok(Reply::Empty)
    }

    pub(crate) fn change_executor_id(&mut self, caller: &str, colonyname: &str, executorid: &str) -> ApiResult<Reply> {
        Self::require_new_id(executorid, texts::CHANGE_EXECUTOR_ID_LENGTH)?;
        let names: Vec<String> = self.executors_with_id(colonyname, caller).map(|e| e.executorname.clone()).collect();
        for name in names {
            let key = (colonyname.to_string(), name);
            if let Some(mut executor) = self.data.executors.remove(&key) {
                self.unindex_executor(&executor);
                executor.executorid = executorid.to_string();
                self.index_executor(&executor);
                self.data.executors.insert(key, executor);
            }
        }
        Ok(Reply::Empty)
    }

    pub(crate) fn change_user_id(&mut self, caller: &str, colonyname: &str, userid: &str) -> ApiResult<Reply> {
        Self::require_new_id(userid, texts::CHANGE_USER_ID_LENGTH)?;
        let names = self.idx.user_ids.get(&(colonyname.to_string(), caller.to_string())).cloned().unwrap_or_default();
        for name in names {
            let key = (colonyname.to_string(), name);
            if let Some(mut user) = self.data.users.remove(&key) {
                self.unindex_user(&user);
                user.userid = userid.to_string();
                self.index_user(&user);
                self.data.users.insert(key, user);
            }
        }
        Ok(Reply::Empty)
    }
}
