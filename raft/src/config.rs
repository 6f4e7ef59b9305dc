//! openraft settings for colonies.

use openraft::{Config, SnapshotPolicy};

/// Settings for a cluster whose peers talk HTTP with fsync on every append.
///
/// The heartbeat interval is also openraft's timeout for an append RPC, so it must cover an
/// append plus a flush on a loaded 2-core machine: 50-100 ms timed out there (see
/// shared/spec/openraft-sled-notes.md). Elections follow within 3-6 heartbeats.
pub fn raft_config(snapshot_logs: u64) -> Config {
    let config = Config {
        cluster_name: "colonies".into(),
        heartbeat_interval: 250,
        election_timeout_min: 750,
        election_timeout_max: 1500,
        // A snapshot of a large colony takes seconds to send and install.
        install_snapshot_timeout: 10_000,
        max_payload_entries: 512,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_logs),
        // Keep some log behind a snapshot so a briefly lagging follower catches up from the
        // log instead of a full snapshot, and purging cannot race a transfer (#1706).
        max_in_snapshot_log_to_keep: snapshot_logs / 2,
        replication_lag_threshold: snapshot_logs.max(1000),
        ..Config::default()
    };
    config.validate().expect("the colonies raft settings are valid")
}
