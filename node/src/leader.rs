//! What only the leader does: set the server owner id once, fire timers, run crons and
//! generators when they are due (design note 4), remove expired history when retention
//! is on, and keep executors' liveness (`crate::liveness`).
//!
//! Deadlines and next runs live in the replicated state, so whichever node leads finds
//! every pending one; `apply` re-checks each against the command's own time and what it
//! names (a cron's tick, a generator's first argument), so a command proposed by a node
//! that has just lost leadership cannot fire anything early or twice.

use crate::clock::{draw_from, new_id, now};
use crate::liveness::HEARD_REPORT_PERIOD;
use crate::node::Node;
use colonies_statemachine::{Command, Op, Reply};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often the leader looks for passed deadlines. Timeouts fire at most this late.
pub(crate) const TIMER_PERIOD: Duration = Duration::from_millis(100);
/// How often the leader looks for expired history with retention on. A backlog is removed
/// one batch per `TIMER_PERIOD` until none is left.
const RETENTION_PERIOD: Duration = Duration::from_secs(10);

pub async fn run(node: Arc<Node>) {
    let mut ticker = tokio::time::interval(TIMER_PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_leading = false;
    let mut retention_checked = tokio::time::Instant::now();
    let mut liveness = LivenessTimer::new();
    loop {
        ticker.tick().await;
        let leading = *node.leader.borrow() == Some(node.id);
        let elected = leading && !was_leading;
        was_leading = leading;
        if !leading {
            continue;
        }
        if elected {
            liveness.elected();
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
        run_schedules(&node).await;
        liveness.run(&node).await;
    }
}

/// Proposes the cron and generator runs and the periodic blueprint reconciliations that
/// are due. Each command names what it is for
/// (the cron's tick, the generator's first argument), so one that lost a race with a
/// previous leader's is refused by `apply`; that refusal is expected and not logged.
async fn run_schedules(node: &Node) {
    let at = now();
    let (crons, generators, reconciles) = {
        let applied = node.state.read();
        (applied.state.due_crons(at), applied.state.due_generators(at), applied.state.due_reconciles(at))
    };
    let ops = crons
        .into_iter()
        .map(|due| Op::RunCron {
            cronid: due.cronid,
            tick: Some(due.tick),
            processgraphid: new_id(),
            draw: draw_from(&new_id()),
        })
        .chain(generators.into_iter().map(|due| Op::FireGenerator {
            generatorid: due.generatorid,
            head: due.head,
            processgraphid: new_id(),
        }))
        .chain(reconciles.into_iter().map(|due| Op::RunReconcile {
            colonyname: due.colonyname,
            name: due.name,
            tick: due.tick,
            processid: new_id(),
        }));
    // Proposed together, so that many due runs share one Raft entry (the proposer batches
    // what it is handed at once); each names a different cron or generator.
    let mut proposals = tokio::task::JoinSet::new();
    for op in ops {
        let proposer = node.proposer.clone();
        proposals.spawn(async move { proposer.propose(Command { caller: String::new(), now: now(), op }).await });
    }
    while let Some(done) = proposals.join_next().await {
        match done {
            Ok(Ok(Ok(Reply::Skipped(why)))) => tracing::warn!("a scheduled run created no workflow: {why}"),
            Ok(Ok(Err(e))) if e.status != 409 => tracing::warn!("a scheduled run was refused: {}", e.message),
            _ => {}
        }
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
    let heard = node.liveness.take();
    let executors: Vec<_> = {
        let applied = node.state.read();
        heard.into_iter().filter(|h| applied.state.is_news(h)).collect()
    };
    if executors.is_empty() {
        return;
    }
    let op = Op::Heard { executors };
    if let Ok(Err(e)) = node.proposer.propose(Command { caller: String::new(), now: now(), op }).await {
        tracing::warn!("executor liveness was not recorded: {}", e.message);
    }
}
