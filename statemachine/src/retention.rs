//! Retention (`COLONIES_RETENTION`): history older than a policy is removed, so a cluster
//! that runs for months holds the live work and recent history, not everything ever run.
//!
//! The leader proposes `Op::Retain { cutoff }` with the cutoff it computed from its clock;
//! `apply` removes, deterministically and at most `RETENTION_BATCH` of each kind per command,
//! processes that ended (SUCCESS or FAILED) before the cutoff with their attributes,
//! workflows that ended before it with all their processes, and log lines older than it
//! (a removed process's lines stay until then, as in the reference). Waiting and running work is never touched. The leader repeats the command while
//! anything expired is left, so a large backlog goes in many small entries.

use crate::error::ApiResult;
use crate::model::ProcessState;
use crate::state::{Reply, State};
use crate::time::Time;

/// Processes, workflows and log lines (of each) removed by one `Op::Retain`, at most: the
/// entry stays small and its apply short, whatever the backlog.
pub const RETENTION_BATCH: usize = 1000;
/// Index entries one `Op::Retain` may look at per kind: ended processes that belong to a
/// workflow are passed over (they go with their workflow), and a workflow submitted before
/// the cutoff may have ended after it.
const RETENTION_EXAMINED: usize = 4 * RETENTION_BATCH;
const ENDED: [ProcessState; 2] = [ProcessState::Success, ProcessState::Failed];

/// What is due for removal at a cutoff.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expired {
    processes: Vec<String>,
    graphs: Vec<String>,
    /// Log lines before this sequence number.
    logs_before: u64,
}

impl Expired {
    fn is_empty(&self) -> bool {
        self.processes.is_empty() && self.graphs.is_empty() && self.logs_before == 0
    }
}

impl State {
    /// Whether anything ended or logged before `cutoff` is left to remove.
    pub fn has_expired(&self, cutoff: Time) -> bool {
        !self.expired(cutoff, 1).is_empty()
    }

    pub(crate) fn retain(&mut self, cutoff: Time) -> ApiResult<Reply> {
        let expired = self.expired(cutoff, RETENTION_BATCH);
        for processgraphid in &expired.graphs {
            self.delete_graph(processgraphid);
        }
        for processid in &expired.processes {
            self.delete_process(processid);
        }
        self.delete_logs_before(expired.logs_before);
        Ok(Reply::Empty)
    }

    fn expired(&self, cutoff: Time, limit: usize) -> Expired {
        let mut expired = Expired::default();
        'processes: for ((_, state), ids) in &self.idx.by_state {
            if !ENDED.contains(state) {
                continue;
            }
            // Ended processes are listed by end time, oldest first.
            for (ended, _, id) in ids.iter().take(RETENTION_EXAMINED) {
                if *ended >= cutoff.ordinal() || expired.processes.len() >= limit {
                    continue 'processes;
                }
                if self.process(id).is_some_and(|p| p.processgraphid.is_empty()) {
                    expired.processes.push(id.clone());
                }
            }
        }
        'graphs: for ((_, state), ids) in &self.idx.graphs_by_state {
            if !ENDED.contains(state) {
                continue;
            }
            // Listed by submission time, which comes before the end.
            for (submitted, _, id) in ids.iter().take(RETENTION_EXAMINED) {
                if *submitted >= cutoff.ordinal() || expired.graphs.len() >= limit {
                    continue 'graphs;
                }
                if self.data.graphs.get(id).is_some_and(|g| g.endtime < cutoff) {
                    expired.graphs.push(id.clone());
                }
            }
        }
        // Log lines are kept in the order they came, which is the order of their times.
        let cutoff_nanos = cutoff.unix_nanos().unwrap_or(i64::MIN);
        expired.logs_before = self
            .data
            .logs
            .iter()
            .take(limit)
            .take_while(|(_, log)| log.timestamp < cutoff_nanos)
            .last()
            .map_or(0, |(seq, _)| seq + 1);
        expired
    }

    /// Removes the log lines numbered below `end` (the oldest ones) and their index entries.
    fn delete_logs_before(&mut self, end: u64) {
        let (removed, at_end, mut kept) = self.data.logs.split_lookup(&end);
        if let Some(line) = at_end {
            kept.insert(end, line);
        }
        self.data.logs = kept;
        let mut processes = Vec::new();
        let mut executors = Vec::new();
        for (_, log) in removed {
            let log = std::sync::Arc::unwrap_or_clone(log);
            if !log.processid.is_empty() {
                processes.push(log.processid);
            }
            executors.push((log.colonyname, log.executorname));
        }
        // Each index list is in sequence order, so the removed lines are a prefix of it.
        for processid in processes {
            if let Some(seqs) = self.idx.process_logs.get_mut(&processid) {
                seqs.drain(..seqs.partition_point(|seq| *seq < end));
                if seqs.is_empty() {
                    self.idx.process_logs.remove(&processid);
                }
            }
        }
        for executor in executors {
            if let Some(seqs) = self.idx.executor_logs.get_mut(&executor) {
                seqs.drain(..seqs.partition_point(|seq| *seq < end));
                if seqs.is_empty() {
                    self.idx.executor_logs.remove(&executor);
                }
            }
        }
    }
}
