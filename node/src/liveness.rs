//! Executor liveness on the leader (§3.3, issue 15): every assign call, long-polls
//! included, marks its executor alive; executors silent for the stale duration are removed.
//!
//! A poll only touches memory here. The leader reports what it heard in one `Op::Heard`
//! every `HEARD_REPORT_PERIOD`, so thousands of polling executors cost one Raft entry per
//! period, not one per poll (the leader loop's `LivenessTimer` reports and removes). Polls
//! reach the leader only (followers send them on), so no other node needs to report.

use colonies_statemachine::{HeardFrom, Time};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How often the leader replicates the polls it heard; `lastheardfromtime` lags by at most
/// this much.
pub const HEARD_REPORT_PERIOD: Duration = Duration::from_secs(2);

/// The stale-executor cleanup's settings (`COLONIES_STALE_EXECUTOR_DURATION`,
/// `COLONIES_CLEANUP_INTERVAL`).
#[derive(Clone, Copy, Debug)]
pub struct StalePolicy {
    pub stale_after: Duration,
    pub check_every: Duration,
}

/// Polls heard since the last report, latest per (colony, executor id). Only approved
/// executors of a colony get here, so it holds at most one entry per registration.
pub struct Liveness {
    heard: Mutex<HashMap<(String, String), Time>>,
    pub(crate) policy: StalePolicy,
}

impl Liveness {
    pub fn new(policy: StalePolicy) -> Liveness {
        Liveness { heard: Mutex::new(HashMap::new()), policy }
    }

    pub fn heard(&self, colonyname: &str, executorid: &str, at: Time) {
        let mut heard = self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let latest = heard.entry((colonyname.to_string(), executorid.to_string())).or_insert(at);
        *latest = (*latest).max(at);
    }

    /// The polls heard since the last call, for the leader's report (`leader.rs`).
    pub(crate) fn take(&self) -> Vec<HeardFrom> {
        let heard = std::mem::take(&mut *self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        heard.into_iter().map(|((colonyname, executorid), at)| HeardFrom { colonyname, executorid, at }).collect()
    }
}
