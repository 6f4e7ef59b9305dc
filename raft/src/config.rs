//! openraft settings for colonies.

use openraft::{Config, SnapshotPolicy};

/// Bytes of snapshot data per peer message unless `--snapshot-chunk-bytes` says otherwise.
pub const DEFAULT_SNAPSHOT_CHUNK_BYTES: u64 = 1 << 20;
/// The chunk sizes a node may be configured with. A peer accepts chunks up to the maximum
/// whatever its own setting, so nodes configured differently still talk.
pub const MIN_SNAPSHOT_CHUNK_BYTES: u64 = 4 << 10;
pub const MAX_SNAPSHOT_CHUNK_BYTES: u64 = 16 << 20;

/// Settings for a cluster whose peers talk HTTP with fsync on every append.
///
/// A follower that last heard from its leader waits the leader lease (openraft sets it to
/// `election_timeout_max`) plus a random election timeout before it campaigns, so these two
/// bound the failover gap: 450 + 250..450 ms, about 0.8 s to a new leader. openraft also
/// uses the heartbeat interval as the append RPC timeout, which is too short for an append
/// plus a flush on a loaded machine; the network gives appends a floor of its own
/// (`network::MIN_RPC_TIMEOUT`) so a slow flush is waited for rather than retried.
///
/// A snapshot goes to a follower in chunks of `snapshot_chunk_bytes`; the last chunk's
/// answer waits for the follower to decode and install the whole snapshot, which for a
/// large colony on a slow machine takes far longer than a chunk's transfer, hence the
/// generous `install_snapshot_timeout`.
pub fn raft_config(snapshot_logs: u64, snapshot_chunk_bytes: u64) -> Config {
    let config = Config {
        cluster_name: "colonies".into(),
        heartbeat_interval: 100,
        election_timeout_min: 250,
        election_timeout_max: 450,
        install_snapshot_timeout: 60_000,
        snapshot_max_chunk_size: snapshot_chunk_bytes.clamp(MIN_SNAPSHOT_CHUNK_BYTES, MAX_SNAPSHOT_CHUNK_BYTES),
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
