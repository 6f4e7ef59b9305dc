//! The Raft log, vote and commit index in sled.
//!
//! Durability as openraft requires it: the vote is flushed before `save_vote` returns, and
//! appended entries are flushed before the append is reported complete (by the flusher
//! thread, after `append` has returned).
//!
//! A purge reaches the disk only once a durable snapshot covers it. openraft 0.9 asks a
//! follower to purge the log a received snapshot covers at the same time as it hands the
//! snapshot to the state machine, so the purge could be on disk before the snapshot: a crash
//! in between left a store whose log starts after its state ends. Until the snapshot is
//! durable the purge is only in memory (openraft allows a purge to finish later).

use crate::codec::{decode, encode};
use crate::flusher::Flusher;
use crate::{StorageError, TypeConfig};
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{
    AnyError, Entry, ErrorSubject, ErrorVerb, LogId, LogState, RaftLogId, RaftLogReader, StorageIOError, Vote,
};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const VOTE: &[u8] = b"vote";
const COMMITTED: &[u8] = b"committed";
const LAST_PURGED: &[u8] = b"last_purged";

#[derive(Clone)]
pub struct LogStore {
    flusher: Flusher,
    /// Entries keyed by their index, big-endian so key order is index order.
    logs: sled::Tree,
    meta: sled::Tree,
    /// The last log index of the durable snapshot, kept by the state-machine store.
    snapshot_index: watch::Receiver<Option<u64>>,
    /// A purge openraft asked for that waits for a snapshot to cover it.
    pending_purge: Arc<Mutex<Option<LogId<u64>>>>,
    /// One purge on disk at a time, so a late one cannot move the purge point back.
    purging: Arc<tokio::sync::Mutex<()>>,
}

fn io_error(subject: ErrorSubject<u64>, verb: ErrorVerb, error: impl std::error::Error + 'static) -> StorageError {
    StorageError::IO { source: StorageIOError::new(subject, verb, AnyError::new(&error)) }
}

fn read_logs_error(error: impl std::error::Error + 'static) -> StorageError {
    io_error(ErrorSubject::Logs, ErrorVerb::Read, error)
}

fn write_logs_error(error: impl std::error::Error + 'static) -> StorageError {
    io_error(ErrorSubject::Logs, ErrorVerb::Write, error)
}

fn key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

impl LogStore {
    pub(crate) fn open(
        db: &sled::Db,
        flusher: Flusher,
        snapshot_index: watch::Receiver<Option<u64>>,
    ) -> Result<LogStore, sled::Error> {
        Ok(LogStore {
            flusher,
            logs: db.open_tree("logs")?,
            meta: db.open_tree("meta")?,
            snapshot_index,
            pending_purge: Arc::default(),
            purging: Arc::default(),
        })
    }

    /// The purge point on disk.
    pub(crate) fn purged_on_disk(&self) -> Result<Option<LogId<u64>>, StorageError> {
        self.read_meta(LAST_PURGED, ErrorSubject::Logs)
    }

    fn pending_purge(&self) -> Option<LogId<u64>> {
        *self.pending_purge.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the log up to `upto` from disk, unless a later purge already did.
    async fn purge_on_disk(&self, upto: LogId<u64>) -> Result<(), StorageError> {
        let _one_at_a_time = self.purging.lock().await;
        if self.purged_on_disk()?.is_some_and(|purged| purged >= upto) {
            return Ok(());
        }
        // Record the purge point first: if we crash before the entries are gone, the log
        // still starts right after it, with no hole.
        self.meta.insert(LAST_PURGED, encode(&upto)).map_err(write_logs_error)?;
        self.flush().await.map_err(write_logs_error)?;
        let mut batch = sled::Batch::default();
        for item in self.logs.range(..=key(upto.index)) {
            let (k, _) = item.map_err(read_logs_error)?;
            batch.remove(k);
        }
        self.logs.apply_batch(batch).map_err(write_logs_error)
    }

    async fn flush(&self) -> std::io::Result<()> {
        self.flusher.flush().await
    }

    fn read_meta<T: serde::de::DeserializeOwned>(
        &self,
        name: &[u8],
        subject: ErrorSubject<u64>,
    ) -> Result<Option<T>, StorageError> {
        match self.meta.get(name).map_err(|e| io_error(subject.clone(), ErrorVerb::Read, e))? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some).map_err(|e| io_error(subject, ErrorVerb::Read, e)),
        }
    }

    fn last_entry_id(&self) -> Result<Option<LogId<u64>>, StorageError> {
        match self.logs.last().map_err(read_logs_error)? {
            None => Ok(None),
            Some((_, bytes)) => {
                let entry: Entry<TypeConfig> = decode(&bytes).map_err(read_logs_error)?;
                Ok(Some(*entry.get_log_id()))
            }
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(i) => Bound::Included(key(*i)),
            Bound::Excluded(i) => Bound::Excluded(key(*i)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match range.end_bound() {
            Bound::Included(i) => Bound::Included(key(*i)),
            Bound::Excluded(i) => Bound::Excluded(key(*i)),
            Bound::Unbounded => Bound::Unbounded,
        };
        // Entries of a purge still waiting for its snapshot are gone as far as openraft knows.
        let first_kept = self.pending_purge().map_or(0, |purged| purged.index + 1);
        self.logs
            .range::<[u8; 8], _>((start, end))
            .map(|item| {
                let (_, bytes) = item.map_err(read_logs_error)?;
                decode::<Entry<TypeConfig>>(&bytes).map_err(read_logs_error)
            })
            .filter(|entry| entry.as_ref().map_or(true, |entry| entry.get_log_id().index >= first_kept))
            .collect()
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id = self.purged_on_disk()?.max(self.pending_purge());
        let last_log_id = self.last_entry_id()?.max(last_purged_log_id);
        Ok(LogState { last_purged_log_id, last_log_id })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError> {
        self.meta.insert(VOTE, encode(vote)).map_err(|e| io_error(ErrorSubject::Vote, ErrorVerb::Write, e))?;
        self.flush().await.map_err(|e| io_error(ErrorSubject::Vote, ErrorVerb::Write, e))
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        self.read_meta(VOTE, ErrorSubject::Vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), StorageError> {
        // Not flushed: losing it only means re-learning the commit index from the leader.
        self.meta.insert(COMMITTED, encode(&committed)).map_err(write_logs_error)?;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, StorageError> {
        Ok(self.read_meta::<Option<LogId<u64>>>(COMMITTED, ErrorSubject::Logs)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut batch = sled::Batch::default();
        for entry in entries {
            batch.insert(&key(entry.get_log_id().index), encode(&entry));
        }
        self.logs.apply_batch(batch).map_err(write_logs_error)?;
        // The entries are readable now; durability is reported to openraft by the flusher.
        self.flusher.after_flush(callback);
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        for item in self.logs.range(key(log_id.index)..) {
            let (k, _) = item.map_err(read_logs_error)?;
            batch.remove(k);
        }
        self.logs.apply_batch(batch).map_err(write_logs_error)?;
        self.flush().await.map_err(write_logs_error)
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), StorageError> {
        if *self.snapshot_index.borrow() >= Some(log_id.index) {
            return self.purge_on_disk(log_id).await;
        }
        {
            let mut pending = self.pending_purge.lock().unwrap_or_else(|p| p.into_inner());
            *pending = (*pending).max(Some(log_id));
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut snapshot_index = store.snapshot_index.clone();
            // Gone when the store is: the purge is then redone after the restart.
            if snapshot_index.wait_for(|index| *index >= Some(log_id.index)).await.is_ok()
                && let Err(e) = store.purge_on_disk(log_id).await
            {
                tracing::error!("purging the log up to {log_id} failed: {e}");
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OpenError, open_stores};
    use openraft::storage::{RaftLogStorageExt, RaftStateMachine};
    use openraft::{BasicNode, EntryPayload, Membership, RaftSnapshotBuilder};
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::{Duration, Instant};

    fn log_id(index: u64) -> LogId<u64> {
        LogId::new(openraft::CommittedLeaderId::new(1, 1), index)
    }

    /// openraft purges a follower's log as it hands a received snapshot to the state
    /// machine, without waiting for it: a purge on disk before the snapshot left a store
    /// whose log began after its state ended. The purge now reaches the disk only once a
    /// snapshot covers it.
    #[tokio::test]
    async fn a_purge_reaches_the_disk_only_after_a_snapshot_covers_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, mut sm) = open_stores(dir.path()).unwrap();
        let membership = Membership::new(vec![BTreeSet::from([1])], BTreeMap::from([(1, BasicNode::new("a:1"))]));
        let mut entries = vec![Entry { log_id: log_id(1), payload: EntryPayload::Membership(membership) }];
        entries.extend((2..=10).map(|index| Entry { log_id: log_id(index), payload: EntryPayload::Blank }));
        log.blocking_append(entries.clone()).await.unwrap();
        sm.apply(entries[..5].to_vec()).await.unwrap();

        log.purge(log_id(5)).await.unwrap();
        // openraft sees the purge at once...
        assert_eq!(log.get_log_state().await.unwrap().last_purged_log_id, Some(log_id(5)));
        let kept = log.try_get_log_entries(0..20).await.unwrap();
        assert_eq!(kept.first().map(|e| e.log_id.index), Some(6));
        // ...but the disk keeps the whole log, which a crash now would find.
        assert_eq!(log.purged_on_disk().unwrap(), None);
        assert!(log.logs.get(key(1)).unwrap().is_some());

        sm.build_snapshot().await.unwrap();
        // The purge point is written before the entries go (see `purge_on_disk`): wait for
        // both, or a loaded machine sees the point and the entries still there.
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.purged_on_disk().unwrap() != Some(log_id(5)) || log.logs.get(key(5)).unwrap().is_some() {
            assert!(Instant::now() < deadline, "the purge never followed the snapshot");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(log.logs.get(key(1)).unwrap().is_none() && log.logs.get(key(6)).unwrap().is_some());
    }

    /// A store whose log was purged past its snapshot (what a crash during a snapshot
    /// install left before purges waited for snapshots) is refused, not served.
    #[test]
    fn a_store_purged_past_its_snapshot_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (log, _sm) = open_stores(dir.path()).unwrap();
            let purged: LogId<u64> = LogId::new(openraft::CommittedLeaderId::new(1, 1), 20);
            log.meta.insert(LAST_PURGED, encode(&purged)).unwrap();
            log.meta.flush().unwrap();
        }
        match open_stores(dir.path()) {
            Err(OpenError::Inconsistent(why)) => assert!(why.contains("purged up to index 20"), "{why}"),
            Err(e) => panic!("refused for another reason: {e}"),
            Ok(_) => panic!("a store purged past its snapshot was opened"),
        }
    }
}
