//! What this node's storage did (issue 17): snapshot builds and installs, group-commit
//! flushes, commands per log entry. Kept in prometheus-client metrics (atomics, shared by
//! clones), which the node registers in its `/metrics` registry.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug)]
pub struct StorageStats {
    pub(crate) snapshot_builds: Counter,
    pub(crate) snapshot_installs: Counter,
    pub(crate) snapshot_build_seconds: Histogram,
    pub(crate) snapshot_bytes: Gauge<u64, AtomicU64>,
    /// One flush of sled makes every log append, vote and purge queued meanwhile durable.
    pub(crate) flush_seconds: Histogram,
    pub(crate) flush_group: Histogram,
    /// The proposer batches client commands into one Raft entry.
    pub(crate) entry_commands: Histogram,
}

impl Default for StorageStats {
    fn default() -> StorageStats {
        StorageStats {
            snapshot_builds: Counter::default(),
            snapshot_installs: Counter::default(),
            // 1 ms to about 65 s.
            snapshot_build_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 17)),
            snapshot_bytes: Gauge::default(),
            // 50 µs to about 1.6 s: a disk flush.
            flush_seconds: Histogram::new(exponential_buckets(0.00005, 2.0, 16)),
            flush_group: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            entry_commands: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
        }
    }
}

impl StorageStats {
    pub fn register(&self, registry: &mut Registry) {
        let raft = registry.sub_registry_with_prefix("colonies_raft");
        raft.register("snapshot_builds", "Snapshots this node built", self.snapshot_builds.clone());
        raft.register(
            "snapshot_installs",
            "Snapshots this node installed from its leader",
            self.snapshot_installs.clone(),
        );
        raft.register_with_unit(
            "snapshot_build_duration",
            "Time to serialize and store a snapshot this node built",
            Unit::Seconds,
            self.snapshot_build_seconds.clone(),
        );
        raft.register_with_unit(
            "snapshot_size",
            "Size of the latest snapshot built or installed",
            Unit::Bytes,
            self.snapshot_bytes.clone(),
        );
        raft.register_with_unit(
            "flush_duration",
            "Time of one group-commit flush of the log store",
            Unit::Seconds,
            self.flush_seconds.clone(),
        );
        raft.register(
            "flush_group_size",
            "Writes (appends, votes, purges) made durable by one flush",
            self.flush_group.clone(),
        );
        raft.register(
            "entry_commands",
            "Client commands batched into one applied log entry",
            self.entry_commands.clone(),
        );
    }
}
