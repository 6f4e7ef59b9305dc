//! The Raft log, vote and commit index in sled.
//!
//! Durability as openraft requires it: the vote is flushed before `save_vote` returns, and
//! appended entries are flushed before the append is reported complete (by the flusher
//! thread, after `append` has returned).

use crate::codec::{decode, encode};
use crate::flusher::Flusher;
use crate::{StorageError, TypeConfig};
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{
    AnyError, Entry, ErrorSubject, ErrorVerb, LogId, LogState, RaftLogId, RaftLogReader, StorageIOError, Vote,
};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

const VOTE: &[u8] = b"vote";
const COMMITTED: &[u8] = b"committed";
const LAST_PURGED: &[u8] = b"last_purged";

#[derive(Clone)]
pub struct LogStore {
    flusher: Flusher,
    /// Entries keyed by their index, big-endian so key order is index order.
    logs: sled::Tree,
    meta: sled::Tree,
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
    pub(crate) fn open(db: &sled::Db, flusher: Flusher) -> Result<LogStore, sled::Error> {
        Ok(LogStore { flusher, logs: db.open_tree("logs")?, meta: db.open_tree("meta")? })
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
        self.logs
            .range::<[u8; 8], _>((start, end))
            .map(|item| {
                let (_, bytes) = item.map_err(read_logs_error)?;
                decode(&bytes).map_err(read_logs_error)
            })
            .collect()
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id: Option<LogId<u64>> = self.read_meta(LAST_PURGED, ErrorSubject::Logs)?;
        let last_log_id = self.last_entry_id()?.or(last_purged_log_id);
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
        // Record the purge point first: if we crash before the entries are gone, the log
        // still starts right after it, with no hole.
        self.meta.insert(LAST_PURGED, encode(&log_id)).map_err(write_logs_error)?;
        self.flush().await.map_err(write_logs_error)?;
        let mut batch = sled::Batch::default();
        for item in self.logs.range(..=key(log_id.index)) {
            let (k, _) = item.map_err(read_logs_error)?;
            batch.remove(k);
        }
        self.logs.apply_batch(batch).map_err(write_logs_error)
    }
}
