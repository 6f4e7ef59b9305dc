//! The colony state as openraft's state machine.
//!
//! The state lives in memory together with the last applied log id and membership, under
//! one lock, so a snapshot always pairs a state with the index it reflects. The current
//! snapshot is kept in a file of its own (`snapshot_file`) and made durable before it is
//! reported built or installed, so the log it covers may be purged safely.

use crate::codec::{decode, encode};
use crate::flusher::Flusher;
use crate::snapshot_file::SnapshotFile;
use crate::{OpenError, Request, Response, StorageError, TypeConfig};
use colonies_statemachine::{Event, State};
use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, Entry, EntryPayload, ErrorSubject, ErrorVerb, LogId, RaftSnapshotBuilder, Snapshot, SnapshotMeta,
    StorageIOError, StoredMembership,
};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, watch};

/// Where builds before `snapshot_file` kept the snapshot; read once at open, then cleared.
const SNAPSHOT_META: &[u8] = b"meta";
const SNAPSHOT_DATA: &[u8] = b"data";
/// Events waiting for slow subscribers before the oldest are dropped.
const EVENT_BACKLOG: usize = 65_536;

/// The state and the log position it reflects.
#[derive(Default)]
pub struct Applied {
    pub state: State,
    pub last_applied: Option<LogId<u64>>,
    pub membership: StoredMembership<u64, openraft::BasicNode>,
}

/// Read access to the applied state, for queries.
#[derive(Clone)]
pub struct StateHandle(Arc<RwLock<Applied>>);

impl StateHandle {
    pub fn read(&self) -> RwLockReadGuard<'_, Applied> {
        // A panic while holding the lock would be a bug in `apply`; the data is still the
        // last consistent state, so keep serving it.
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Clone)]
pub struct StateMachineStore {
    applied: Arc<RwLock<Applied>>,
    snapshot_file: SnapshotFile,
    /// Holds a snapshot only in a data folder written by an earlier build.
    sled_snapshots: sled::Tree,
    flusher: Flusher,
    events: broadcast::Sender<Event>,
    snapshot_count: Arc<AtomicU64>,
    /// The last log index of the snapshot on disk, for the log store's purges.
    snapshot_index: Arc<watch::Sender<Option<u64>>>,
    stats: crate::StorageStats,
}

fn sm_error(verb: ErrorVerb, error: impl std::error::Error + 'static) -> StorageError {
    StorageError::IO { source: StorageIOError::new(ErrorSubject::StateMachine, verb, AnyError::new(&error)) }
}

fn snapshot_error(verb: ErrorVerb, error: impl std::error::Error + 'static) -> StorageError {
    StorageError::IO { source: StorageIOError::new(ErrorSubject::Snapshot(None), verb, AnyError::new(&error)) }
}

impl StateMachineStore {
    /// Opens the store and restores the state from the stored snapshot, if any.
    pub(crate) fn open(
        db: &sled::Db,
        dir: &Path,
        flusher: Flusher,
        stats: crate::StorageStats,
    ) -> Result<StateMachineStore, OpenError> {
        let sled_snapshots = db.open_tree("snapshot")?;
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let store = StateMachineStore {
            applied: Arc::default(),
            snapshot_file: SnapshotFile::new(dir),
            sled_snapshots,
            flusher,
            events,
            snapshot_count: Arc::default(),
            snapshot_index: Arc::new(watch::channel(None).0),
            stats,
        };
        if let Some((meta, data)) = store.stored_snapshot().map_err(|e| OpenError::Snapshot(e.to_string()))? {
            let state = State::from_snapshot(&data).map_err(|e| OpenError::Snapshot(e.to_string()))?;
            store.replace(state, &meta);
            store.snapshot_index.send_replace(meta.last_log_id.map(|id| id.index));
        }
        Ok(store)
    }

    /// Watches the disk flush in progress, so a node can tell a hung disk from a slow one.
    pub fn flush_watch(&self) -> crate::flusher::FlushWatch {
        self.flusher.watch()
    }

    /// The last log index of the snapshot on disk, from now on.
    pub(crate) fn snapshot_index(&self) -> watch::Receiver<Option<u64>> {
        self.snapshot_index.subscribe()
    }

    /// What the storage did, for `/metrics`.
    pub fn stats(&self) -> crate::StorageStats {
        self.stats.clone()
    }

    pub fn state(&self) -> StateHandle {
        StateHandle(self.applied.clone())
    }

    /// Events of every apply from now on (process ready, process changed).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// For subscribing later, after the store has moved into openraft.
    pub fn event_sender(&self) -> broadcast::Sender<Event> {
        self.events.clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Applied> {
        self.applied.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn replace(&self, state: State, meta: &SnapshotMeta<u64, openraft::BasicNode>) {
        let mut applied = self.write();
        applied.state = state;
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
    }

    #[allow(clippy::type_complexity)]
    fn stored_snapshot(&self) -> Result<Option<(SnapshotMeta<u64, openraft::BasicNode>, Vec<u8>)>, StorageError> {
        let stored = match self.snapshot_file.read().map_err(|e| snapshot_error(ErrorVerb::Read, e))? {
            Some(stored) => Some(stored),
            None => {
                let read = |name| self.sled_snapshots.get(name).map_err(|e| snapshot_error(ErrorVerb::Read, e));
                match (read(SNAPSHOT_META)?, read(SNAPSHOT_DATA)?) {
                    (Some(meta), Some(data)) => Some((meta.to_vec(), data.to_vec())),
                    _ => None,
                }
            }
        };
        match stored {
            Some((meta, data)) => Ok(Some((decode(&meta).map_err(|e| snapshot_error(ErrorVerb::Read, e))?, data))),
            None => Ok(None),
        }
    }

    /// Makes `data` the stored snapshot, durably, and hands it back.
    async fn store_snapshot(
        &self,
        meta: &SnapshotMeta<u64, openraft::BasicNode>,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, StorageError> {
        let file = self.snapshot_file.clone();
        let encoded_meta = encode(meta);
        let data = tokio::task::spawn_blocking(move || file.write(&encoded_meta, &data).map(|()| data))
            .await
            .map_err(|e| snapshot_error(ErrorVerb::Write, e))?
            .map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        if !self.sled_snapshots.is_empty() {
            // The file now supersedes what an earlier build kept in sled.
            self.sled_snapshots.clear().map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
            self.flusher.flush().await.map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        }
        let index = meta.last_log_id.map(|id| id.index);
        self.snapshot_index.send_if_modified(|stored| std::mem::replace(stored, index) != index);
        Ok(data)
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // The copy is quick under the lock; serializing it, which grows with the state, is
        // done after, so applies go on meanwhile.
        let started = std::time::Instant::now();
        let (point_in_time, last_log_id, last_membership) = {
            let applied = self.applied.read().unwrap_or_else(|p| p.into_inner());
            (applied.state.point_in_time(), applied.last_applied, applied.membership.clone())
        };
        let data = tokio::task::spawn_blocking(move || point_in_time.to_snapshot())
            .await
            .map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        let count = self.snapshot_count.fetch_add(1, Ordering::Relaxed) + 1;
        let snapshot_id = match last_log_id {
            Some(id) => format!("{}-{}-{count}", id.leader_id, id.index),
            None => format!("empty-{count}"),
        };
        let meta = SnapshotMeta { last_log_id, last_membership, snapshot_id };
        let data = self.store_snapshot(&meta, data).await?;
        let seconds = started.elapsed().as_secs_f64();
        self.stats.snapshot_builds.inc();
        self.stats.snapshot_build_seconds.observe(seconds);
        self.stats.snapshot_bytes.set(data.len() as u64);
        let index = last_log_id.map(|id| id.index);
        tracing::info!(index, bytes = data.len(), seconds, "built a snapshot; the log before it can be purged");
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(data)) })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = StateMachineStore;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<u64>>, StoredMembership<u64, openraft::BasicNode>), StorageError> {
        let applied = self.applied.read().unwrap_or_else(|p| p.into_inner());
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut responses = Vec::new();
        let events = {
            let mut applied = self.write();
            for entry in entries {
                applied.last_applied = Some(entry.log_id);
                let response = match entry.payload {
                    EntryPayload::Blank => Response::default(),
                    EntryPayload::Normal(Request(commands)) => {
                        self.stats.entry_commands.observe(commands.len() as f64);
                        Response(commands.iter().map(|command| applied.state.apply(command)).collect())
                    }
                    EntryPayload::Membership(membership) => {
                        let voters: Vec<u64> = membership.voter_ids().collect();
                        let learners: Vec<u64> = membership.learner_ids().collect();
                        let index = entry.log_id.index;
                        tracing::info!(index, ?voters, ?learners, "the cluster membership changed");
                        applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                        Response::default()
                    }
                };
                responses.push(response);
            }
            applied.state.drain_events()
        };
        for event in events {
            // Nobody listening (a follower without waiters) is fine.
            let _ = self.events.send(event);
        }
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, openraft::BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let state = State::from_snapshot(&data).map_err(|e| sm_error(ErrorVerb::Read, e))?;
        let bytes = data.len();
        self.store_snapshot(meta, data).await?;
        self.replace(state, meta);
        self.stats.snapshot_installs.inc();
        self.stats.snapshot_bytes.set(bytes as u64);
        let index = meta.last_log_id.map(|id| id.index);
        tracing::info!(index, bytes, "installed a snapshot from the leader: it replaces the state");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.stored_snapshot()?.map(|(meta, data)| Snapshot { meta, snapshot: Box::new(Cursor::new(data)) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_stores;
    use openraft::CommittedLeaderId;

    fn meta_at(index: u64) -> SnapshotMeta<u64, openraft::BasicNode> {
        SnapshotMeta {
            last_log_id: Some(LogId::new(CommittedLeaderId::new(1, 1), index)),
            last_membership: StoredMembership::default(),
            snapshot_id: format!("test-{index}"),
        }
    }

    fn folder_bytes(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let kind = entry.file_type().unwrap();
                if kind.is_dir() { folder_bytes(&entry.path()) } else { entry.metadata().unwrap().len() }
            })
            .sum()
    }

    /// A 30-minute chaos run (snapshots every 200 entries) saw a node's data folder grow by
    /// about 0.8 MiB/s until it filled its 512 MiB disk: sled kept every replaced snapshot
    /// in its blob files. Replacing a snapshot must cost no more disk than the one it replaces.
    #[tokio::test]
    async fn replaced_snapshots_do_not_pile_up_on_disk() {
        const SNAPSHOT_BYTES: usize = 1 << 20;
        let dir = tempfile::tempdir().unwrap();
        let (_log, sm) = open_stores(dir.path()).unwrap();
        for round in 1..=40u64 {
            let data: Vec<u8> = (0..SNAPSHOT_BYTES).map(|i| (i as u64 * round) as u8).collect();
            sm.store_snapshot(&meta_at(round), data).await.unwrap();
        }
        let used = folder_bytes(dir.path());
        assert!(used < 4 * SNAPSHOT_BYTES as u64, "40 snapshots of 1 MiB left {used} bytes on disk");
        let (meta, data) = sm.stored_snapshot().unwrap().expect("the last snapshot is stored");
        assert_eq!(meta.last_log_id.map(|id| id.index), Some(40));
        assert_eq!(data[1], 40);
    }

    /// A data folder from a build that kept the snapshot in sled opens with that snapshot;
    /// the first snapshot stored afterwards goes to the file and clears the old one.
    #[tokio::test]
    async fn a_snapshot_kept_in_sled_by_an_earlier_build_is_read_then_superseded() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (_log, sm) = open_stores(dir.path()).unwrap();
            let mut batch = sled::Batch::default();
            batch.insert(SNAPSHOT_META, encode(&meta_at(7)));
            batch.insert(SNAPSHOT_DATA, State::default().to_snapshot());
            sm.sled_snapshots.apply_batch(batch).unwrap();
            sm.sled_snapshots.flush().unwrap();
        }
        let (_log, sm) = open_stores(dir.path()).unwrap();
        assert_eq!(*sm.snapshot_index().borrow(), Some(7));
        let (meta, _) = sm.stored_snapshot().unwrap().expect("read from sled");
        assert_eq!(meta.snapshot_id, "test-7");

        sm.store_snapshot(&meta_at(9), State::default().to_snapshot()).await.unwrap();
        assert!(sm.sled_snapshots.is_empty());
        let (meta, _) = sm.stored_snapshot().unwrap().expect("read from the file");
        assert_eq!(meta.snapshot_id, "test-9");
    }
}
