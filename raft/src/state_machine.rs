//! The colony state as openraft's state machine.
//!
//! The state lives in memory together with the last applied log id and membership, under
//! one lock, so a snapshot always pairs a state with the index it reflects. The current
//! snapshot is kept in files of its own (`snapshot_files`) and made durable before it is
//! reported built or installed, so the log it covers may be purged safely.
//!
//! No snapshot is ever held in memory whole: it is written to a file as it is encoded,
//! sent to a follower in chunks read from that file (`SNAPSHOT_CHUNK_BYTES` each), received
//! into a file chunk by chunk, and decoded from the file. The encoding and decoding, which
//! grow with the state, run on a thread of their own at a lower priority, so the node's
//! heartbeats and votes are answered meanwhile.

use crate::codec::{decode, encode};
use crate::flusher::Flusher;
use crate::snapshot_files::SnapshotFiles;
use crate::{OpenError, Request, Response, StorageError, TypeConfig};
use colonies_statemachine::{Event, State};
use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, Entry, EntryPayload, ErrorSubject, ErrorVerb, LogId, RaftSnapshotBuilder, Snapshot, SnapshotMeta,
    StorageIOError, StoredMembership,
};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, watch};

/// Where builds before `snapshot_files` kept the snapshot: a sled tree, converted at open.
const SNAPSHOT_TREE: &str = "snapshot";
const SNAPSHOT_META: &[u8] = b"meta";
const SNAPSHOT_DATA: &[u8] = b"data";
/// Events waiting for slow subscribers before the oldest are dropped.
const EVENT_BACKLOG: usize = 65_536;
/// The nice value of the thread that encodes or decodes a snapshot: on a busy machine the
/// node's runtime threads (heartbeats, votes, appends) go first, so a long build is no cause
/// for an election.
const SNAPSHOT_THREAD_NICE: i32 = 10;

type Meta = SnapshotMeta<u64, openraft::BasicNode>;

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
    snapshot_files: SnapshotFiles,
    /// The partial file of the snapshot being received from the leader, if any.
    receiving: Arc<Mutex<Option<PathBuf>>>,
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

/// Runs `work` on a thread of its own at `SNAPSHOT_THREAD_NICE`. A pooled blocking thread
/// would keep the lowered priority for whatever it runs next.
async fn in_background<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> std::io::Result<T> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("snapshot".into()).spawn(move || {
        // On Linux this sets the calling thread's nice value only. Failing to lower it
        // changes nothing but the scheduling, so the result is not checked.
        #[cfg(target_os = "linux")]
        // SAFETY: a plain system call with no pointers.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, SNAPSHOT_THREAD_NICE);
        }
        let _ = sender.send(work());
    })?;
    receiver.await.map_err(|_| std::io::Error::other("the snapshot thread panicked"))
}

/// Whether a snapshot ending at `candidate` may replace the stored one (`current`, encoded):
/// never by an older one. A stored meta that does not decode is replaced.
fn is_not_older(current: Option<&[u8]>, candidate: Option<LogId<u64>>) -> bool {
    match current.map(decode::<Meta>) {
        Some(Ok(current)) => current.last_log_id <= candidate,
        _ => true,
    }
}

/// Decodes the snapshot data in the file at `path`. Blocking.
fn read_state(path: &Path) -> std::io::Result<State> {
    State::read_snapshot(BufReader::new(File::open(path)?)).map_err(std::io::Error::other)
}

impl StateMachineStore {
    /// Opens the store and restores the state from the stored snapshot, if any.
    pub(crate) fn open(
        db: &sled::Db,
        dir: &Path,
        flusher: Flusher,
        stats: crate::StorageStats,
    ) -> Result<StateMachineStore, OpenError> {
        let snapshot_error = |e: &dyn std::fmt::Display| OpenError::Snapshot(e.to_string());
        let snapshot_files = SnapshotFiles::open(dir).map_err(|e| snapshot_error(&e))?;
        Self::convert_sled_snapshot(db, &snapshot_files)?;
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let store = StateMachineStore {
            applied: Arc::default(),
            snapshot_files,
            receiving: Arc::default(),
            flusher,
            events,
            snapshot_count: Arc::default(),
            snapshot_index: Arc::new(watch::channel(None).0),
            stats,
        };
        if let Some((meta, data)) = store.snapshot_files.current().map_err(|e| snapshot_error(&e))? {
            let meta: Meta = decode(&meta).map_err(|e| snapshot_error(&e))?;
            let state = read_state(&data).map_err(|e| snapshot_error(&e))?;
            let bytes = std::fs::metadata(&data).map_err(|e| snapshot_error(&e))?.len();
            store.stats.snapshot_bytes.set(bytes);
            store.replace(state, &meta);
            store.snapshot_index.send_replace(meta.last_log_id.map(|id| id.index));
        }
        Ok(store)
    }

    /// A data folder of a build that kept the snapshot in sled: the snapshot moves to the
    /// files and the tree is emptied.
    fn convert_sled_snapshot(db: &sled::Db, files: &SnapshotFiles) -> Result<(), OpenError> {
        let tree = db.open_tree(SNAPSHOT_TREE)?;
        if let (Some(meta), Some(data)) = (tree.get(SNAPSHOT_META)?, tree.get(SNAPSHOT_DATA)?) {
            files.write_whole(&meta, &data).map_err(|e| OpenError::Snapshot(e.to_string()))?;
        }
        if !tree.is_empty() {
            tree.clear()?;
            tree.flush()?;
        }
        Ok(())
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

    fn replace(&self, state: State, meta: &Meta) {
        let mut applied = self.write();
        applied.state = state;
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
    }

    fn stored_snapshot_moved_to(&self, meta: &Meta) {
        let index = meta.last_log_id.map(|id| id.index);
        self.snapshot_index.send_if_modified(|stored| std::mem::replace(stored, index) != index);
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // The copy is quick under the lock; encoding it, which grows with the state, is done
        // after, so applies go on meanwhile.
        let started = std::time::Instant::now();
        let (point_in_time, last_log_id, last_membership) = {
            let applied = self.applied.read().unwrap_or_else(|p| p.into_inner());
            (applied.state.point_in_time(), applied.last_applied, applied.membership.clone())
        };
        let count = self.snapshot_count.fetch_add(1, Ordering::Relaxed) + 1;
        let snapshot_id = match last_log_id {
            Some(id) => format!("{}-{}-{count}", id.leader_id, id.index),
            None => format!("empty-{count}"),
        };
        let meta = SnapshotMeta { last_log_id, last_membership, snapshot_id };
        let files = self.snapshot_files.clone();
        let encoded_meta = encode(&meta);
        let built = in_background(move || -> std::io::Result<(File, u64, bool)> {
            let partial = files.partial()?;
            let path = partial.path.clone();
            let write = move || -> std::io::Result<()> {
                let mut out = BufWriter::new(partial.file);
                point_in_time.write_snapshot(&mut out).map_err(std::io::Error::other)?;
                out.flush()
            };
            if let Err(e) = write() {
                // A full disk, say: what was written of the snapshot goes, so as not to
                // hold the space the node needs to go on.
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            // Kept open for openraft to send from, whether or not it becomes the stored one.
            let data = File::open(&path)?;
            let bytes = data.metadata()?.len();
            let stored = files.commit(&encoded_meta, &path, |current| is_not_older(current, last_log_id))?;
            Ok((data, bytes, stored.is_some()))
        })
        .await
        .and_then(|built| built)
        .map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        let (data, bytes, stored) = built;
        if stored {
            self.stored_snapshot_moved_to(&meta);
        }
        let seconds = started.elapsed().as_secs_f64();
        self.stats.snapshot_builds.inc();
        self.stats.snapshot_build_seconds.observe(seconds);
        self.stats.snapshot_bytes.set(bytes);
        let index = last_log_id.map(|id| id.index);
        tracing::info!(index, bytes, seconds, stored, "built a snapshot; the log before it can be purged");
        Ok(Snapshot { meta, snapshot: Box::new(tokio::fs::File::from_std(data)) })
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

    /// A fresh partial file for the chunks of a snapshot from the leader. openraft receives
    /// one snapshot at a time: the file of one it abandoned (a new leader started over) goes.
    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        let partial = self.snapshot_files.partial().map_err(|e| snapshot_error(ErrorVerb::Write, e))?;
        let abandoned = self.receiving.lock().unwrap_or_else(|p| p.into_inner()).replace(partial.path);
        if let Some(abandoned) = abandoned {
            match std::fs::remove_file(abandoned) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(snapshot_error(ErrorVerb::Delete, e));
                }
                _ => {}
            }
        }
        Ok(Box::new(tokio::fs::File::from_std(partial.file)))
    }

    /// Decodes the received snapshot from its file, makes it the stored one, then the state.
    /// A node killed before the file is committed restarts with the snapshot and state it
    /// had; the leader sends the snapshot again.
    async fn install_snapshot(&mut self, meta: &Meta, snapshot: Box<tokio::fs::File>) -> Result<(), StorageError> {
        let data = snapshot.into_std().await;
        let receiving = self.receiving.lock().unwrap_or_else(|p| p.into_inner()).take();
        let files = self.snapshot_files.clone();
        let encoded_meta = encode(meta);
        let last_log_id = meta.last_log_id;
        let installed = in_background(move || -> std::io::Result<(State, u64, bool)> {
            let received = files.holding(data, receiving)?;
            let bytes = std::fs::metadata(&received)?.len();
            let state = match read_state(&received) {
                Ok(state) => state,
                Err(e) => {
                    std::fs::remove_file(&received)?;
                    return Err(e);
                }
            };
            let stored = files.commit(&encoded_meta, &received, |current| is_not_older(current, last_log_id))?;
            Ok((state, bytes, stored.is_some()))
        })
        .await
        .and_then(|installed| installed)
        .map_err(|e| sm_error(ErrorVerb::Read, e))?;
        let (state, bytes, stored) = installed;
        let index = last_log_id.map(|id| id.index);
        if !stored {
            tracing::warn!(index, "a received snapshot is older than the stored one; it is not installed");
            return Ok(());
        }
        self.stored_snapshot_moved_to(meta);
        self.replace(state, meta);
        self.stats.snapshot_installs.inc();
        self.stats.snapshot_bytes.set(bytes);
        tracing::info!(index, bytes, "installed a snapshot from the leader: it replaces the state");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let read_error = |e| snapshot_error(ErrorVerb::Read, e);
        let Some((meta, data)) = self.snapshot_files.current().map_err(read_error)? else {
            return Ok(None);
        };
        let meta: Meta = decode(&meta).map_err(|e| snapshot_error(ErrorVerb::Read, e))?;
        let data = tokio::fs::File::open(data).await.map_err(read_error)?;
        Ok(Some(Snapshot { meta, snapshot: Box::new(data) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_stores;
    use colonies_statemachine::{Command, Op, Time};
    use openraft::CommittedLeaderId;
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

    fn log_id(index: u64) -> LogId<u64> {
        LogId::new(CommittedLeaderId::new(1, 1), index)
    }

    fn meta_at(index: u64) -> Meta {
        SnapshotMeta {
            last_log_id: Some(log_id(index)),
            last_membership: StoredMembership::default(),
            snapshot_id: format!("test-{index}"),
        }
    }

    fn folder_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let kind = entry.file_type().unwrap();
                if kind.is_dir() { folder_bytes(&entry.path()) } else { entry.metadata().unwrap().len() }
            })
            .sum()
    }

    fn snapshot_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with("snapshot"))
            .collect();
        names.sort();
        names
    }

    /// Applies, at `index`, the leader's first proposal: it sets the server id.
    async fn apply_server_id(sm: &mut StateMachineStore, index: u64, serverid: &str) {
        let command =
            Command { caller: String::new(), now: Time::ZERO, op: Op::SetServerId { serverid: serverid.into() } };
        let entry = Entry { log_id: log_id(index), payload: EntryPayload::Normal(Request(vec![command])) };
        let responses = sm.apply([entry]).await.unwrap();
        assert!(responses[0].0[0].is_ok(), "{responses:?}");
    }

    fn digest(sm: &StateMachineStore) -> String {
        sm.state().read().state.digest()
    }

    /// Sends `snapshot` to `receiver` as openraft's chunked transport does: a fresh file,
    /// chunks written at their offsets, then the install.
    async fn transfer(snapshot: Snapshot<TypeConfig>, receiver: &mut StateMachineStore, chunk: usize) {
        let mut source = snapshot.snapshot;
        source.seek(std::io::SeekFrom::Start(0)).await.unwrap();
        let mut bytes = Vec::new();
        source.read_to_end(&mut bytes).await.unwrap();
        let mut sink = receiver.begin_receiving_snapshot().await.unwrap();
        for (n, piece) in bytes.chunks(chunk).enumerate() {
            sink.seek(std::io::SeekFrom::Start((n * chunk) as u64)).await.unwrap();
            sink.write_all(piece).await.unwrap();
        }
        sink.shutdown().await.unwrap();
        receiver.install_snapshot(&snapshot.meta, sink).await.unwrap();
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
            sm.snapshot_files.write_whole(&encode(&meta_at(round)), &data).unwrap();
        }
        let used = folder_bytes(dir.path());
        assert!(used < 4 * SNAPSHOT_BYTES as u64, "40 snapshots of 1 MiB left {used} bytes on disk");
        let (meta, data) = sm.snapshot_files.current().unwrap().expect("the last snapshot is stored");
        assert_eq!(decode::<Meta>(&meta).unwrap().last_log_id, Some(log_id(40)));
        assert_eq!(std::fs::read(data).unwrap()[1], 40);
    }

    /// A data folder from a build that kept the snapshot in sled opens with that snapshot,
    /// moved to the files.
    #[tokio::test]
    async fn a_snapshot_kept_in_sled_by_an_earlier_build_is_converted_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = State::default();
        old.apply(&Command {
            caller: String::new(),
            now: Time::ZERO,
            op: Op::SetServerId { serverid: "a".repeat(64) },
        })
        .unwrap();
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            let tree = db.open_tree(SNAPSHOT_TREE).unwrap();
            tree.insert(SNAPSHOT_META, encode(&meta_at(7))).unwrap();
            tree.insert(SNAPSHOT_DATA, old.to_snapshot()).unwrap();
            db.flush().unwrap();
        }
        {
            let (_log, mut sm) = open_stores(dir.path()).unwrap();
            assert_eq!(*sm.snapshot_index().borrow(), Some(7));
            assert_eq!(digest(&sm), old.digest());
            let current = sm.get_current_snapshot().await.unwrap().expect("converted");
            assert_eq!(current.meta.snapshot_id, "test-7");
        }
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert!(db.open_tree(SNAPSHOT_TREE).unwrap().is_empty());
    }

    /// A snapshot built on one node, sent in small chunks and installed on another gives the
    /// same state, stored as the receiver's snapshot; the sender's copy stays the current one.
    #[tokio::test]
    async fn a_snapshot_sent_in_chunks_installs_the_same_state() {
        let (sender_dir, receiver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (_log, mut sender) = open_stores(sender_dir.path()).unwrap();
        apply_server_id(&mut sender, 3, &"b".repeat(64)).await;
        let built = sender.build_snapshot().await.unwrap();
        assert_eq!(*sender.snapshot_index().borrow(), Some(3));
        let (receiver_log, mut receiver) = open_stores(receiver_dir.path()).unwrap();
        assert_ne!(digest(&receiver), digest(&sender));

        transfer(built, &mut receiver, 7).await;
        assert_eq!(digest(&receiver), digest(&sender));
        assert_eq!(receiver.applied_state().await.unwrap().0, Some(log_id(3)));
        assert_eq!(*receiver.snapshot_index().borrow(), Some(3));
        assert_eq!(snapshot_names(receiver_dir.path()), vec!["snapshot-1.data", "snapshot.meta"]);
        let stored = receiver.get_current_snapshot().await.unwrap().expect("stored");
        assert_eq!(stored.meta, sender.get_current_snapshot().await.unwrap().unwrap().meta);
        drop((receiver_log, receiver, stored));
        let (_log, reopened) = open_stores(receiver_dir.path()).unwrap();
        assert_eq!(digest(&reopened), digest(&sender));
    }

    /// A node killed while a snapshot comes in restarts with the snapshot and state it had,
    /// and without the half-received file; a transfer a new leader starts over replaces the
    /// abandoned one's file.
    #[tokio::test]
    async fn a_half_received_snapshot_changes_nothing_and_leaves_no_file() {
        let (sender_dir, receiver_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (_log, mut sender) = open_stores(sender_dir.path()).unwrap();
        apply_server_id(&mut sender, 2, &"c".repeat(64)).await;
        let first = sender.build_snapshot().await.unwrap();
        let (receiver_log, mut receiver) = open_stores(receiver_dir.path()).unwrap();
        transfer(first, &mut receiver, 16).await;
        let before = digest(&receiver);

        let mut abandoned = receiver.begin_receiving_snapshot().await.unwrap();
        abandoned.write_all(b"the start of a snapshot").await.unwrap();
        let mut started_over = receiver.begin_receiving_snapshot().await.unwrap();
        started_over.write_all(b"another start").await.unwrap();
        started_over.flush().await.unwrap();
        assert_eq!(snapshot_names(receiver_dir.path()), vec!["snapshot-1.data", "snapshot-3.partial", "snapshot.meta"]);
        drop((abandoned, started_over, receiver_log, receiver));

        let (_log, reopened) = open_stores(receiver_dir.path()).unwrap();
        assert_eq!(digest(&reopened), before);
        assert_eq!(*reopened.snapshot_index().borrow(), Some(2));
        assert_eq!(snapshot_names(receiver_dir.path()), vec!["snapshot-1.data", "snapshot.meta"]);
    }

    /// Received bytes that do not decode are refused: the stored snapshot and the state stay.
    #[tokio::test]
    async fn a_damaged_received_snapshot_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_log, mut sm) = open_stores(dir.path()).unwrap();
        apply_server_id(&mut sm, 4, &"d".repeat(64)).await;
        sm.build_snapshot().await.unwrap();
        let before = digest(&sm);
        let mut sink = sm.begin_receiving_snapshot().await.unwrap();
        sink.write_all(&[4, 0xff, 0xff, 0xff]).await.unwrap();
        sink.flush().await.unwrap();
        assert!(sm.install_snapshot(&meta_at(9), sink).await.is_err());
        assert_eq!(digest(&sm), before);
        assert_eq!(*sm.snapshot_index().borrow(), Some(4));
        assert_eq!(snapshot_names(dir.path()), vec!["snapshot-1.data", "snapshot.meta"]);
    }
}
