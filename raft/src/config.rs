//! openraft settings for colonies.

use openraft::{Config, SnapshotPolicy};

/// Settings for a cluster whose peers talk HTTP with fsync on every append.
///
/// A follower that last heard from its leader waits the leader lease (openraft sets it to
/// `election_timeout_max`) plus a random election timeout before it campaigns, so these two
/// bound the failover gap: 450 + 250..450 ms, about 0.8 s to a new leader. openraft also
/// uses the heartbeat interval as the append RPC timeout, which is too short for an append
/// plus a flush on a loaded machine; the network gives appends a floor of its own
/// (`network::MIN_RPC_TIMEOUT`) so a slow flush is waited for rather than retried.
pub fn raft_config(snapshot_logs: u64) -> Config {
    let config = Config {
        cluster_name: "colonies".into(),
        heartbeat_interval: 100,
        election_timeout_min: 250,
        election_timeout_max: 450,
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
