//! Locations (§6.12), and what an executor reports about itself (§6.2): its allocations
//! and its capabilities. A location is a named place of a colony; executors and processes
//! name one in `locationname`, and scheduling matches them (§5.2).

pub(crate) mod model;

pub use model::*;

use crate::command::Op;
use crate::error::{ApiError, ApiResult};
use crate::model::Executor;
use crate::state::{Reply, State};
use crate::texts;

impl State {
    /// Locations are the colony owner's; an executor reports only about itself.
    pub(crate) fn authorize_locations(&self, caller: &str, op: &Op) -> ApiResult<()> {
        match op {
            Op::AddLocation { location } => self.require_colony_owner(caller, &location.colonyname),
            Op::RemoveLocation { colonyname, .. } => self.require_colony_owner(caller, colonyname),
            Op::ReportAllocation { colonyname, executorname, .. } => self
                .reporting_executor(caller, colonyname, executorname, texts::REPORT_ALLOCATION_NIL)
                .and_then(|e| Self::require_self(e, caller, texts::REPORT_ALLOCATION_OTHER)),
            Op::UpdateExecutor { colonyname, executorname, .. } => self
                .reporting_executor(caller, colonyname, executorname, texts::UPDATE_EXECUTOR_NIL)
                .and_then(|e| Self::require_self(e, caller, texts::UPDATE_EXECUTOR_OTHER)),
            _ => unreachable!("called with a location or executor report command"),
        }
    }

    /// The executor a report is about, for a member (approved or not) of its colony.
    fn reporting_executor(
        &self,
        caller: &str,
        colonyname: &str,
        executorname: &str,
        missing: &'static str,
    ) -> ApiResult<&Executor> {
        self.require_member(caller, colonyname, false)?;
        let key = (colonyname.to_string(), executorname.to_string());
        self.data.executors.get(&key).ok_or_else(|| ApiError::internal(missing))
    }

    fn require_self(executor: &Executor, caller: &str, other: &'static str) -> ApiResult<()> {
        if executor.executorid == caller { Ok(()) } else { Err(ApiError::forbidden(other)) }
    }

    pub(crate) fn apply_locations(&mut self, op: &Op) -> ApiResult<Reply> {
        match op {
            Op::AddLocation { location } => self.add_location(location),
            Op::RemoveLocation { colonyname, name } => {
                let key = (colonyname.clone(), name.clone());
                let locations = &mut self.data.extended.locations.by_name;
                locations.remove(&key).ok_or_else(|| ApiError::not_found(texts::REMOVE_LOCATION_NOT_FOUND))?;
                Ok(Reply::Empty)
            }
            Op::ReportAllocation { colonyname, executorname, allocations } => {
                self.change_executor(colonyname, executorname, |e| e.allocations = allocations.clone())
            }
            Op::UpdateExecutor { colonyname, executorname, capabilities } => {
                self.change_executor(colonyname, executorname, |e| e.capabilities = capabilities.clone())
            }
            _ => unreachable!("called with a location or executor report command"),
        }
    }

    fn add_location(&mut self, location: &Location) -> ApiResult<Reply> {
        if location.name.is_empty() {
            return Err(ApiError::bad_request(texts::LOCATION_EMPTY_NAME));
        }
        let locations = &mut self.data.extended.locations;
        if location.locationid.is_empty() {
            return Err(ApiError::internal(texts::LOCATION_ID_MISSING));
        }
        let key = (location.colonyname.clone(), location.name.clone());
        if locations.by_name.contains_key(&key) {
            return Err(ApiError::bad_request(texts::location_exists(&location.name, &location.colonyname)));
        }
        if locations.of_colony(&location.colonyname).count() >= MAX_LOCATIONS_PER_COLONY {
            return Err(ApiError::bad_request(texts::too_many_locations(MAX_LOCATIONS_PER_COLONY)));
        }
        locations.by_name.insert(key, location.clone());
        Ok(Reply::Location(Box::new(location.clone())))
    }

    /// The executor was found when the command was authorized, in this same apply.
    fn change_executor(
        &mut self,
        colonyname: &str,
        executorname: &str,
        change: impl FnOnce(&mut Executor),
    ) -> ApiResult<Reply> {
        let key = (colonyname.to_string(), executorname.to_string());
        let executor = self.data.executors.get_mut(&key).expect("authorize found the executor");
        change(executor);
        Ok(Reply::Empty)
    }

    /// `getlocationsmsg`: by name.
    pub fn get_locations(&self, caller: &str, colonyname: &str) -> ApiResult<Vec<Location>> {
        self.require_member(caller, colonyname, false)?;
        Ok(self.data.extended.locations.of_colony(colonyname).cloned().collect())
    }

    /// `getlocationmsg`.
    pub fn get_location(&self, caller: &str, colonyname: &str, name: &str) -> ApiResult<Location> {
        self.require_member(caller, colonyname, false)?;
        let key = (colonyname.to_string(), name.to_string());
        let found = self.data.extended.locations.by_name.get(&key);
        found.cloned().ok_or_else(|| ApiError::not_found(texts::GET_LOCATION_NOT_FOUND))
    }
}
