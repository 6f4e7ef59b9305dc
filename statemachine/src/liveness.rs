//! Executor liveness (§3.3): `lastheardfromtime` follows the executors' assign calls, and
//! executors not heard from for the stale duration are removed.
//!
//! The leader notes each poll in memory and reports many of them in one `Op::Heard`, so
//! thousands of polling executors do not each cost a Raft entry. Removal is decided by the
//! leader's clock (`Op::RemoveStaleExecutors { cutoff }`) but judged here on the replicated
//! times alone, so every replica removes the same executors.

use crate::command::HeardFrom;
use crate::error::ApiResult;
use crate::model::ExecutorState;
use crate::state::{NameKey, Reply, State};
use crate::time::Time;

impl State {
    /// Moves each reported executor's `lastheardfromtime` forward (never back: a report
    /// can commit after an assign that heard from the executor later).
    pub(crate) fn record_heard(&mut self, heard: &[HeardFrom]) {
        for report in heard {
            let names: Vec<String> = self
                .executors_with_id(&report.colonyname, &report.executorid)
                .map(|e| e.executorname.clone())
                .collect();
            for name in names {
                if let Some(executor) = self.data.executors.get_mut(&(report.colonyname.clone(), name)) {
                    executor.lastheardfromtime = executor.lastheardfromtime.max(report.at);
                }
            }
        }
    }

    /// Whether recording `heard` would move some executor's `lastheardfromtime`: not when an
    /// assign that handed it work has set a later time already. The leader reports only
    /// news, so a poll that got work costs no second entry (an `Op::Heard` that changes
    /// nothing still moves the state's clock).
    pub fn is_news(&self, heard: &HeardFrom) -> bool {
        self.executors_with_id(&heard.colonyname, &heard.executorid).any(|e| e.lastheardfromtime < heard.at)
    }

    /// Registered executors heard from before `cutoff`; never-heard ones (zero time) stay,
    /// as in the reference.
    fn stale_executors(&self, cutoff: Time) -> impl Iterator<Item = &NameKey> {
        self.data
            .executors
            .iter()
            .filter(move |(_, e)| {
                e.state != ExecutorState::Unregistered && !e.lastheardfromtime.is_zero() && e.lastheardfromtime < cutoff
            })
            .map(|(key, _)| key)
    }

    /// Whether `Op::RemoveStaleExecutors { cutoff }` would remove anything.
    pub fn has_stale_executors(&self, cutoff: Time) -> bool {
        self.stale_executors(cutoff).next().is_some()
    }

    pub(crate) fn remove_stale_executors(&mut self, cutoff: Time) -> ApiResult<Reply> {
        let stale: Vec<NameKey> = self.stale_executors(cutoff).cloned().collect();
        for (colonyname, executorname) in stale {
            self.remove_executor(&colonyname, &executorname)?;
        }
        Ok(Reply::Empty)
    }
}
