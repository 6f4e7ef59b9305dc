//! The Raft and scheduler parts of `/metrics` (issue 17), read when a scrape comes, and the
//! watcher that counts (and logs) leader changes and elections as they happen.

use crate::metrics::{counter, gauge};
use colonies_raft::{Raft, StateHandle};
use colonies_statemachine::counters::{DurationHistogram, SchedulerMetrics};
use openraft::{RaftMetrics, ServerState};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counted by `watch_leadership` from Raft's metrics channel.
#[derive(Debug, Default)]
pub struct Leadership {
    changes: AtomicU64,
    elections: AtomicU64,
}

/// Counts each change of the known leader and each election this node starts (it becomes
/// a candidate in a new term), with one log line each. A watch channel keeps only the
/// latest value, so a candidacy that ends before the core publishes it goes uncounted; the
/// term still moves.
pub fn watch_leadership(raft: Raft, leadership: Arc<Leadership>) {
    tokio::spawn(async move {
        let mut metrics = raft.metrics();
        let (mut leader, mut term, mut candidate_in) = (None, 0, 0);
        loop {
            {
                let now = metrics.borrow_and_update();
                if now.current_leader != leader && now.current_leader.is_some() {
                    leadership.changes.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        node = now.id,
                        term = now.current_term,
                        leader = now.current_leader,
                        previous = leader,
                        "the leader changed"
                    );
                }
                // While no leader is known (an election is on), the next one known counts
                // as a change even if it is the same node again, in a new term.
                leader = now.current_leader;
                if now.state == ServerState::Candidate && candidate_in < now.current_term {
                    candidate_in = now.current_term;
                    leadership.elections.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        node = now.id,
                        term = now.current_term,
                        previous_term = term,
                        "starting an election"
                    );
                }
                term = now.current_term;
            }
            if metrics.changed().await.is_err() {
                return;
            }
        }
    });
}

struct RaftFigures {
    raft: Raft,
    leadership: Arc<Leadership>,
}

// `Collector` asks for Debug; neither the Raft handle nor the state has it.
impl std::fmt::Debug for RaftFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RaftFigures")
    }
}

/// The commit index a leader can vouch for: the highest log index a majority of the voters
/// hold (the leader's own log included).
fn quorum_index(metrics: &RaftMetrics<u64, openraft::BasicNode>) -> Option<u64> {
    let replication = metrics.replication.as_ref()?;
    let mut held: Vec<u64> = metrics
        .membership_config
        .membership()
        .voter_ids()
        .map(|id| match id == metrics.id {
            true => metrics.last_log_index.unwrap_or_default(),
            false => replication.get(&id).copied().flatten().map_or(0, |log_id| log_id.index),
        })
        .collect();
    held.sort_unstable_by(|a, b| b.cmp(a));
    held.get(held.len() / 2).copied()
}

impl Collector for RaftFigures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let metrics = self.raft.metrics().borrow().clone();
        let e = &mut encoder;
        let last_log = metrics.last_log_index.unwrap_or_default();
        let snapshot = metrics.snapshot.map_or(0, |id| id.index);
        gauge(e, "colonies_raft_term", "Current Raft term", metrics.current_term)?;
        gauge(
            e,
            "colonies_raft_leader_id",
            "Node id of the known leader (0: none known)",
            metrics.current_leader.unwrap_or(0),
        )?;
        let leads = metrics.current_leader == Some(metrics.id);
        gauge(e, "colonies_raft_is_leader", "1 if this node is the leader", u64::from(leads))?;
        gauge(e, "colonies_raft_last_log_index", "Last index in this node's log", last_log)?;
        let applied = metrics.last_applied.map_or(0, |id| id.index);
        gauge(e, "colonies_raft_applied_index", "Last log index applied to this node's state", applied)?;
        gauge(e, "colonies_raft_snapshot_index", "Last log index in this node's snapshot", snapshot)?;
        let since = last_log.saturating_sub(snapshot);
        gauge(e, "colonies_raft_log_entries_since_snapshot", "Log entries after the last snapshot", since)?;
        if let Some(commit) = quorum_index(&metrics) {
            gauge(e, "colonies_raft_commit_index", "Highest index a majority holds (on the leader)", commit)?;
        }
        if let Some(ms) = metrics.millis_since_quorum_ack {
            let seconds = ms as f64 / 1000.0;
            gauge(
                e,
                "colonies_raft_seconds_since_quorum_ack",
                "Time since a majority acknowledged the leader",
                seconds,
            )?;
        }
        // Declared on every node, so dashboards find it; samples only on the leader.
        let help = "Log entries the leader holds that a follower does not (on the leader)";
        let mut family = e.encode_descriptor("colonies_raft_follower_lag", help, None, MetricType::Gauge)?;
        let followers = metrics.replication.iter().flatten().filter(|(id, _)| **id != metrics.id);
        for (follower, matched) in followers {
            let lag = last_log.saturating_sub(matched.map_or(0, |id| id.index));
            ConstGauge::new(lag).encode(family.encode_family(&[("follower", follower.to_string())])?)?;
        }
        let changes = self.leadership.changes.load(Ordering::Relaxed);
        counter(e, "colonies_raft_leader_changes", "Times this node learned of a new leader", changes)?;
        let elections = self.leadership.elections.load(Ordering::Relaxed);
        counter(e, "colonies_raft_elections_started", "Elections this node started as a candidate", elections)
    }
}

struct SchedulerFigures {
    state: StateHandle,
}

impl std::fmt::Debug for SchedulerFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchedulerFigures")
    }
}

fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    histogram: &DurationHistogram,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    metric.encode_histogram::<NoLabelSet>(histogram.sum_seconds(), histogram.count, &histogram.buckets(), None)
}

fn lower<T: std::fmt::Debug>(state: T) -> String {
    format!("{state:?}").to_lowercase()
}

impl Collector for SchedulerFigures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // Copied under the read lock (a few numbers per colony and type), encoded after.
        let SchedulerMetrics { counters: c, tallies } = self.state.read().state.scheduler_metrics();
        let e = &mut encoder;
        counter(
            e,
            "colonies_scheduler_submitted",
            "Processes created (alone, in workflows, by crons and generators)",
            c.submitted,
        )?;
        counter(e, "colonies_scheduler_assigned", "Processes assigned to an executor", c.assigned)?;
        let help = "Processes closed by their executor, by outcome";
        let mut closed = e.encode_descriptor("colonies_scheduler_closed", help, None, MetricType::Counter)?;
        for (outcome, count) in [("successful", c.closed_successful), ("failed", c.closed_failed)] {
            ConstCounter::new(count).encode(closed.encode_family(&[("outcome", outcome)])?)?;
        }
        let help = "Processes put back in the queue after running past maxexectime";
        counter(e, "colonies_scheduler_requeued_maxexectime", help, c.requeued_maxexectime)?;
        let help = "Processes failed after running past maxexectime with no retries left";
        counter(e, "colonies_scheduler_failed_maxexectime", help, c.failed_maxexectime)?;
        let help = "Processes failed after waiting past maxwaittime";
        counter(e, "colonies_scheduler_failed_maxwaittime", help, c.failed_maxwaittime)?;
        let help = "Time from submission to assignment";
        histogram(e, "colonies_scheduler_wait_seconds", help, &c.wait_seconds)?;
        histogram(e, "colonies_scheduler_run_seconds", "Time from assignment to close", &c.run_seconds)?;
        let help = "Processes by colony, executor type and state";
        let mut processes = e.encode_descriptor("colonies_processes", help, None, MetricType::Gauge)?;
        for ((colony, executortype, state), count) in &tallies.processes {
            let labels = [("colony", colony.clone()), ("executortype", executortype.clone()), ("state", lower(state))];
            ConstGauge::new(*count).encode(processes.encode_family(&labels)?)?;
        }
        let mut executors =
            e.encode_descriptor("colonies_executors", "Executors by colony and state", None, MetricType::Gauge)?;
        for ((colony, state), count) in &tallies.executors {
            let labels = [("colony", colony.clone()), ("state", lower(state))];
            ConstGauge::new(*count).encode(executors.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// Registers the Raft, storage and scheduler parts, and starts the leadership watcher.
pub fn register(registry: &mut Registry, raft: &Raft, state: StateHandle, storage: &colonies_raft::StorageStats) {
    let leadership = Arc::new(Leadership::default());
    watch_leadership(raft.clone(), leadership.clone());
    registry.register_collector(Box::new(RaftFigures { raft: raft.clone(), leadership }));
    registry.register_collector(Box::new(SchedulerFigures { state }));
    storage.register(registry);
}
