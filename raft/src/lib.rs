//! Raft for colonies: the openraft type configuration, the sled-backed log and the
//! state-machine store, and the authenticated HTTP network between nodes.
//!
//! The colony state lives in memory; it is made durable by the Raft log (in sled) and by
//! snapshots (files beside it). After a restart a node loads its latest snapshot and openraft
//! re-applies the log entries after it.

// openraft's storage traits fix `StorageError` (over 200 bytes) as the error type of every
// storage call; the helpers here return what those calls must return.
#![allow(clippy::result_large_err)]

mod codec;
pub mod config;
mod flusher;
mod snapshot_files;
pub use flusher::FlushWatch;
pub mod log_store;
pub mod network;
pub mod state_machine;
mod stats;
pub use stats::StorageStats;

use colonies_statemachine::{ApiResult, Command, Reply};
use serde::{Deserialize, Serialize};

pub use config::raft_config;
pub use log_store::LogStore;
pub use network::{ClusterCertificate, Network, PeerAuth, authorized, raft_router, unauthorized};
pub use state_machine::{StateHandle, StateMachineStore};

/// One Raft entry: the client commands the leader batched together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request(pub Vec<Command>);

/// What `apply` answered for each command of a `Request`, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Response(pub Vec<ApiResult<Reply>>);

openraft::declare_raft_types!(
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type StorageError = openraft::StorageError<u64>;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the data folder: {0}")]
    Sled(#[from] sled::Error),
    #[error("the stored snapshot cannot be read: {0}")]
    Snapshot(String),
    #[error("cannot start the disk flushing thread: {0}")]
    Thread(String),
    #[error(
        "the store in this data folder is inconsistent: {0}; it cannot be served from. Move the folder \
         away and rejoin the cluster under a new node id"
    )]
    Inconsistent(String),
}

/// Opens (or creates) the stores of one node in `dir`.
pub fn open_stores(dir: &std::path::Path) -> Result<(LogStore, StateMachineStore), OpenError> {
    let db = sled::Config::new()
        .path(dir)
        // sled's default cache is 1 GiB; the hot data (the colony state) lives in memory anyway.
        .cache_capacity(64 * 1024 * 1024)
        .open()?;
    let stats = StorageStats::default();
    let flusher = flusher::Flusher::start(db.clone(), stats.clone()).map_err(|e| OpenError::Thread(e.to_string()))?;
    let state_machine = StateMachineStore::open(&db, dir, flusher.clone(), stats)?;
    let log_store = LogStore::open(&db, flusher, state_machine.snapshot_index())?;
    check_consistent(&log_store, &state_machine)?;
    Ok((log_store, state_machine))
}

/// The log may only be purged up to what the snapshot holds: entries purged beyond it are
/// lost to this node's state for good.
fn check_consistent(log_store: &LogStore, state_machine: &StateMachineStore) -> Result<(), OpenError> {
    let purged = log_store.purged_on_disk().map_err(|e| OpenError::Inconsistent(e.to_string()))?;
    let snapshot = *state_machine.snapshot_index().borrow();
    match purged {
        Some(purged) if Some(purged.index) > snapshot => Err(OpenError::Inconsistent(format!(
            "the log is purged up to index {} but the snapshot ends at {}",
            purged.index,
            snapshot.map_or("nothing".to_string(), |index| index.to_string())
        ))),
        _ => Ok(()),
    }
}
