//! Executor liveness on the leader (§3.3, issue 15): every assign call, long-polls
//! included, marks its executor alive; executors silent for the stale duration are removed.
//!
//! A poll only touches memory here. The leader reports what it heard in one `Op::Heard`
//! every `HEARD_REPORT_PERIOD`, so thousands of polling executors cost one Raft entry per
//! period, not one per poll. Polls reach the leader only (followers send them on), so no
//! other node needs to report.

use crate::clock::now;
use crate::node::Node;
use colonies_statemachine::{Command, HeardFrom, Op, Time};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

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
    policy: StalePolicy,
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

    fn take(&self) -> Vec<HeardFrom> {
        let heard = std::mem::take(&mut *self.heard.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        heard.into_iter().map(|((colonyname, executorid), at)| HeardFrom { colonyname, executorid, at }).collect()
    }
}

/// The leader loop's liveness duties, driven by its timer.
pub(crate) struct LivenessTimer {
    reported: Instant,
    checked: Instant,
    leading_since: Instant,
}

impl LivenessTimer {
    pub(crate) fn new() -> LivenessTimer {
        let now = Instant::now();
        LivenessTimer { reported: now, checked: now, leading_since: now }
    }

    /// This node has just become leader: polls heard by its predecessor may not have been
    /// reported, so every executor gets a full stale duration from now before any removal.
    pub(crate) fn elected(&mut self) {
        self.leading_since = Instant::now();
    }

    pub(crate) async fn run(&mut self, node: &Node) {
        if self.reported.elapsed() >= HEARD_REPORT_PERIOD {
            self.reported = Instant::now();
            report(node).await;
        }
        let policy = node.liveness.policy;
        if self.checked.elapsed() < policy.check_every || self.leading_since.elapsed() < policy.stale_after {
            return;
        }
        self.checked = Instant::now();
        // What was heard up to now counts before anything is judged stale.
        report(node).await;
        let cutoff = now().plus_nanos(-(policy.stale_after.as_nanos().min(i64::MAX as u128) as i64));
        if node.state.read().state.has_stale_executors(cutoff) {
            let op = Op::RemoveStaleExecutors { cutoff };
            match node.proposer.propose(Command { caller: String::new(), now: now(), op }).await {
                Ok(Ok(_)) => {
                    tracing::info!(cutoff = %cutoff.to_rfc3339(), "removed executors not heard from since the cutoff")
                }
                Ok(Err(e)) => tracing::warn!("stale executors were not removed: {}", e.message),
                Err(e) => tracing::warn!("stale executors were not removed: {e}"),
            }
        }
    }
}

/// Replicates the polls heard since the last report. If the proposal fails (leadership
/// lost), they are dropped: those executors poll the new leader, which hears them anew.
async fn report(node: &Node) {
    let executors = node.liveness.take();
    if executors.is_empty() {
        return;
    }
    let op = Op::Heard { executors };
    if let Ok(Err(e)) = node.proposer.propose(Command { caller: String::new(), now: now(), op }).await {
        tracing::warn!("executor liveness was not recorded: {}", e.message);
    }
}
