//! What only the leader does: set the server owner id once, fire timers (design note 4) and
//! remove expired history when retention is on.
//!
//! Deadlines live in the replicated state, so whichever node leads finds every pending one;
//! `apply` re-checks each against the command's own time, so a tick proposed by a node that
//! has just lost leadership cannot fire anything early or twice.

use crate::api::Node;
use colonies_statemachine::{Command, Op, Time};
use std::sync::Arc;
use std::time::Duration;

/// How often the leader looks for passed deadlines. Timeouts fire at most this late.
const TIMER_PERIOD: Duration = Duration::from_millis(100);
/// How often the leader looks for expired history with retention on. A backlog is removed
/// one batch per `TIMER_PERIOD` until none is left.
const RETENTION_PERIOD: Duration = Duration::from_secs(10);

pub fn now() -> Time {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default();
    Time::from_unix_nanos(nanos)
}

pub async fn run(node: Arc<Node>) {
    let mut ticker = tokio::time::interval(TIMER_PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_leading = false;
    let mut retention_checked = tokio::time::Instant::now();
    loop {
        ticker.tick().await;
        let leading = *node.leader.borrow() == Some(node.id);
        let elected = leading && !was_leading;
        was_leading = leading;
        if !leading {
            continue;
        }
        // Executors that polled a new leader before it applied what earlier leaders
        // committed saw an empty queue; once caught up, let them look again.
        if elected && node.catch_up.ensure(&node.raft).await.is_ok() {
            node.waiters.wake_all();
        }
        let (needs_server_id, due) = {
            let applied = node.state.read();
            let due = applied.state.next_deadline().is_some_and(|deadline| deadline < now());
            (applied.state.server_id().is_empty(), due)
        };
        if needs_server_id && let Some(serverid) = &node.serverid {
            let op = Op::SetServerId { serverid: serverid.clone() };
            if let Ok(Err(e)) = node.proposer.propose(Command { caller: String::new(), now: now(), op }).await {
                tracing::warn!("the configured server id was not set: {}", e.message);
            }
        }
        if due {
            let _ = node.proposer.propose(Command { caller: String::new(), now: now(), op: Op::Tick }).await;
        }
        if let Some(policy) = node.retention
            && retention_checked.elapsed() >= RETENTION_PERIOD
        {
            let cutoff = now().plus_seconds(-policy);
            if node.state.read().state.has_expired(cutoff) {
                let _ = node
                    .proposer
                    .propose(Command { caller: String::new(), now: now(), op: Op::Retain { cutoff } })
                    .await;
            } else {
                retention_checked = tokio::time::Instant::now();
            }
        }
    }
}
