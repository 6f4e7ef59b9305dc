//! openraft's own storage conformance suite against the sled stores, and restarts.

use colonies_raft::{LogStore, StateMachineStore, TypeConfig, open_stores};
use colonies_statemachine::{Command, Op, Time};
use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{
    BasicNode, CommittedLeaderId, Entry, EntryPayload, LogId, Membership, RaftLogReader, RaftSnapshotBuilder,
    StorageError, Vote,
};
use std::collections::{BTreeMap, BTreeSet};

struct SledBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, tempfile::TempDir> for SledBuilder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachineStore), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (log, sm) = open_stores(dir.path()).expect("open stores");
        Ok((dir, log, sm))
    }
}

#[test]
fn openraft_storage_suite_passes() {
    Suite::test_all(SledBuilder).unwrap();
}

fn log_id(term: u64, index: u64) -> LogId<u64> {
    LogId::new(CommittedLeaderId::new(term, 1), index)
}

fn entry(term: u64, index: u64, payload: EntryPayload<TypeConfig>) -> Entry<TypeConfig> {
    Entry { log_id: log_id(term, index), payload }
}

fn server_id_command() -> colonies_raft::Request {
    colonies_raft::Request(vec![Command {
        caller: String::new(),
        now: Time::from_unix_nanos(1),
        op: Op::SetServerId { serverid: "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103".into() },
    }])
}

#[tokio::test]
async fn a_reopened_store_keeps_vote_log_and_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let membership = Membership::new(vec![BTreeSet::from([1])], BTreeMap::from([(1, BasicNode::new("a:1"))]));
    {
        let (mut log, mut sm) = open_stores(dir.path()).unwrap();
        log.save_vote(&Vote::new(3, 1)).await.unwrap();
        let entries = vec![
            entry(1, 1, EntryPayload::Membership(membership.clone())),
            entry(1, 2, EntryPayload::Normal(server_id_command())),
            entry(1, 3, EntryPayload::Blank),
        ];
        // `append` reports completion through openraft's callback, which only openraft can
        // make; the blocking helper of the test suite's extension trait does the same.
        openraft::storage::RaftLogStorageExt::blocking_append(&mut log, entries.clone()).await.unwrap();
        let responses = sm.apply(entries[..2].to_vec()).await.unwrap();
        assert_eq!(responses.len(), 2);
        assert_eq!(responses[1].0.len(), 1, "one result per command of the batch");
        sm.build_snapshot().await.unwrap();
        log.purge(log_id(1, 1)).await.unwrap();
    }
    let (mut log, mut sm) = open_stores(dir.path()).unwrap();
    assert_eq!(log.read_vote().await.unwrap(), Some(Vote::new(3, 1)));
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 1)));
    assert_eq!(state.last_log_id, Some(log_id(1, 3)));
    let entries = log.try_get_log_entries(0..10).await.unwrap();
    assert_eq!(entries.iter().map(|e| e.log_id.index).collect::<Vec<_>>(), vec![2, 3], "no hole after the purge");
    let (applied, stored_membership) = sm.applied_state().await.unwrap();
    assert_eq!(applied, Some(log_id(1, 2)), "the snapshot brought the applied index back");
    assert_eq!(stored_membership.membership(), &membership);
    assert_eq!(
        sm.state().read().state.server_id(),
        "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103",
        "and the state"
    );
    assert!(sm.get_current_snapshot().await.unwrap().is_some());
}
