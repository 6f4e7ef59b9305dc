//! The replicated data of crons and generators (§5.8, §5.9), apart from what they do
//! (`crons.rs`, `generators.rs`), so that the state holds it without depending on them.

use crate::model::{Cron, Generator};
use crate::time::Time;
use imbl::{OrdMap, Vector};
use serde::{Deserialize, Serialize};

/// A cron with the schedule point its next run belongs to (see `schedule`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredCron {
    pub cron: Cron,
    pub slot: Time,
}

/// A generator with its queue of packed arguments.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredGenerator {
    pub generator: Generator,
    /// When the latest argument was packed; the timeout counts from there.
    pub lastpack: Time,
    /// Arguments packed so far; the queue holds the last `queue.len()` of them.
    pub packed: u64,
    pub queue: Vector<String>,
}

impl StoredGenerator {
    /// The number of the oldest queued argument.
    pub fn head(&self) -> u64 {
        self.packed - self.queue.len() as u64
    }
}

/// The crons and generators: replicated, in the snapshot after the rest of the data. In
/// persistent collections like the other large data, so that a snapshot copies them in O(1)
/// under the state lock (they serialize as the standard map and sequence would).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Schedules {
    pub crons: OrdMap<String, StoredCron>,
    pub generators: OrdMap<String, StoredGenerator>,
}
