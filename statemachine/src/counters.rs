//! Scheduler metrics kept by the state machine itself (issue 17, design note 16), so that
//! every replica reports the same numbers and a scrape reads them without scanning a table.
//!
//! Two kinds: `SchedulerCounters` count events (a submit, an assignment, a timeout) and are
//! replicated data, carried by snapshots (a field of `Extended`); `Tallies` count what is
//! in the state now (processes by colony, executor type and state; executors by state) and
//! are derived, moved with the indexes and rebuilt when a snapshot loads.

use crate::model::{ExecutorState, Process, ProcessState};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Upper bounds, in seconds, of the buckets of the wait and run time histograms: from a
/// few milliseconds (an idle executor long-polling) to a day (batch jobs). Part of the
/// replicated data: changing them changes what old snapshots' bucket counts mean.
pub const DURATION_BUCKETS: [f64; 16] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, 86400.0];

/// Counts of durations by bucket of `DURATION_BUCKETS` (not cumulative; one more for longer
/// ones), their number and their sum in microseconds (an integer: the same on every replica
/// whatever the order of additions).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationHistogram {
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum_micros: u64,
}

impl DurationHistogram {
    fn observe(&mut self, seconds: f64) {
        let seconds = seconds.max(0.0);
        if self.buckets.len() != DURATION_BUCKETS.len() + 1 {
            self.buckets = vec![0; DURATION_BUCKETS.len() + 1];
        }
        let bucket = DURATION_BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(DURATION_BUCKETS.len());
        self.buckets[bucket] += 1;
        self.count += 1;
        // `as` saturates: a duration beyond u64 microseconds (half a million years) is capped.
        self.sum_micros = self.sum_micros.saturating_add((seconds * 1e6) as u64);
    }

    /// (upper bound, count) per bucket, the last one unbounded (`f64::MAX`), as the text
    /// encoder of prometheus-client takes them.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let bounds = DURATION_BUCKETS.iter().copied().chain([f64::MAX]);
        bounds.zip(self.buckets.iter().copied().chain(std::iter::repeat(0))).collect()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_micros as f64 / 1e6
    }
}

/// Scheduler events since the cluster was formed. Only transitions count: closing a
/// SUCCESS process again (an executor's retry) is not a second close.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerCounters {
    /// Processes created: submitted alone, in a workflow, as a child, by a cron or generator.
    pub submitted: u64,
    pub assigned: u64,
    /// RUNNING -> SUCCESS by an executor's close.
    pub closed_successful: u64,
    /// WAITING or RUNNING -> FAILED by a close (timeouts are counted apart).
    pub closed_failed: u64,
    /// Back to the queue after running past `maxexectime` with retries left.
    pub requeued_maxexectime: u64,
    /// FAILED after running past `maxexectime` with no retries left.
    pub failed_maxexectime: u64,
    /// FAILED after waiting past `maxwaittime`.
    pub failed_maxwaittime: u64,
    /// Submission to assignment.
    pub wait_seconds: DurationHistogram,
    /// Assignment to close (either outcome).
    pub run_seconds: DurationHistogram,
}

impl SchedulerCounters {
    pub(crate) fn assigned(&mut self, process: &Process, now: Time) {
        self.assigned += 1;
        self.wait_seconds.observe(now.seconds_since(process.submissiontime));
    }

    pub(crate) fn closed(&mut self, process: &Process, now: Time, successful: bool) {
        if successful {
            self.closed_successful += 1;
        } else {
            self.closed_failed += 1;
        }
        self.run_seconds.observe(now.seconds_since(process.starttime));
    }
}

/// What the state holds now, kept up to date by the index maintenance. Entries that fall to
/// zero are removed, so the maps only hold combinations that exist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tallies {
    /// (colony, executor type, state) -> processes.
    pub processes: BTreeMap<(String, String, ProcessState), u64>,
    /// (colony, state) -> executors.
    pub executors: BTreeMap<(String, ExecutorState), u64>,
}

impl Tallies {
    pub(crate) fn process(&mut self, process: &Process, insert: bool) {
        let conditions = &process.spec.conditions;
        let key = (conditions.colonyname.clone(), conditions.executortype.clone(), process.state);
        tally(&mut self.processes, key, insert);
    }

    pub(crate) fn executor(&mut self, colonyname: &str, state: ExecutorState, insert: bool) {
        tally(&mut self.executors, (colonyname.to_string(), state), insert);
    }
}

fn tally<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, insert: bool) {
    if insert {
        *map.entry(key).or_default() += 1;
    } else if let std::collections::btree_map::Entry::Occupied(mut entry) = map.entry(key) {
        *entry.get_mut() -= 1;
        if *entry.get() == 0 {
            entry.remove();
        }
    }
}

/// The scheduler metrics at one moment, for a scrape: copied under the state lock (a few
/// dozen numbers per colony and executor type), encoded outside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedulerMetrics {
    pub counters: SchedulerCounters,
    pub tallies: Tallies,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_per_bound_with_an_unbounded_last() {
        let mut histogram = DurationHistogram::default();
        histogram.observe(0.001);
        histogram.observe(0.005);
        histogram.observe(2.0);
        histogram.observe(1e9);
        histogram.observe(-3.0);
        let buckets = histogram.buckets();
        assert_eq!(buckets.len(), DURATION_BUCKETS.len() + 1);
        assert_eq!(buckets[0], (0.005, 3), "0.001, 0.005 and the negative one (as 0)");
        assert_eq!(buckets[8], (2.5, 1));
        assert_eq!(buckets[DURATION_BUCKETS.len()], (f64::MAX, 1));
        assert_eq!(histogram.count, 5);
        assert!((histogram.sum_seconds() - (1e9 + 2.006)).abs() < 1e-3);
        assert_eq!(DurationHistogram::default().buckets().iter().map(|(_, n)| n).sum::<u64>(), 0);
    }

    #[test]
    fn tallies_drop_combinations_that_fall_to_zero() {
        let mut tallies = Tallies::default();
        tallies.executor("c", ExecutorState::Pending, true);
        tallies.executor("c", ExecutorState::Pending, true);
        tallies.executor("c", ExecutorState::Pending, false);
        assert_eq!(tallies.executors.get(&("c".into(), ExecutorState::Pending)), Some(&1));
        tallies.executor("c", ExecutorState::Pending, false);
        tallies.executor("c", ExecutorState::Approved, false);
        assert!(tallies.executors.is_empty());
    }
}
