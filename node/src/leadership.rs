//! When this node may act as the leader: it leads, a majority heard from it lately, and its
//! applied state holds everything it may have committed.
//!
//! openraft's `current_leader` alone is not enough for either. A leader cut off from the
//! others keeps calling itself leader until it hears of a higher term, so it would hold
//! long-polls and writes it can never commit. And a leader restarted within its term (its
//! vote was committed) leads again at once, before it knows which of its own entries were
//! committed: its applied state can lag an assignment it acknowledged before it died, and
//! a close judged against that state would be refused for good.

use crate::proposer::COMMIT_TIMEOUT;
use colonies_raft::Raft;
use openraft::RaftMetrics;
use openraft::error::{CheckIsLeaderError, RaftError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// A leader that has not heard from a majority for this long serves nothing: by then the
/// others have waited out the leader lease (450 ms) and an election timeout (250-450 ms) and
/// elect a new leader (raft/src/config.rs).
pub const QUORUM_SILENCE: Duration = Duration::from_millis(1000);
/// How often the routable leader is recomputed for parked long-polls: a leader's silence
/// grows without any metrics event to announce it.
const RECHECK: Duration = Duration::from_millis(100);

/// The leader a call should go to, by this node's view: `current_leader`, except that this
/// node names nobody while it leads without a majority.
pub fn routable_leader(metrics: &RaftMetrics<u64, openraft::BasicNode>) -> Option<u64> {
    let leader = metrics.current_leader?;
    if leader == metrics.id && has_lost_its_majority(metrics) {
        return None;
    }
    Some(leader)
}

/// This node leads but no majority acknowledged it within `QUORUM_SILENCE`. A leader not yet
/// acknowledged at all (just elected) has not lost anything yet.
pub fn has_lost_its_majority(metrics: &RaftMetrics<u64, openraft::BasicNode>) -> bool {
    metrics.current_leader == Some(metrics.id)
        && metrics.millis_since_quorum_ack.is_some_and(|ms| ms > QUORUM_SILENCE.as_millis() as u64)
}

/// Keeps `routable_leader` in a watch channel, so parked long-polls learn at once that this
/// node stopped leading or lost its majority.
pub fn watch_routable_leader(raft: Raft) -> watch::Receiver<Option<u64>> {
    let (sender, receiver) = watch::channel(routable_leader(&raft.metrics().borrow()));
    tokio::spawn(async move {
        let mut server = raft.server_metrics();
        loop {
            tokio::select! {
                changed = server.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(RECHECK) => {}
                _ = sender.closed() => return,
            }
            let leader = routable_leader(&raft.metrics().borrow());
            sender.send_if_modified(|current| std::mem::replace(current, leader) != leader);
        }
    });
    receiver
}

/// Why the leader could not bring its state up to date.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error("this node is not the leader")]
    NotLeader,
    #[error("the leader could not confirm its log with a majority within {COMMIT_TIMEOUT:?}; retry shortly")]
    Unavailable,
}

/// The term in which this leader last had its applied state up to date with its log.
#[derive(Default)]
pub struct CatchUp {
    term: AtomicU64,
}

impl CatchUp {
    /// Returns once the applied state holds every entry this node had in its log when it
    /// was first asked in its current term: whatever it (or an earlier leader) committed and
    /// may have acknowledged. Checked once per term; later calls of the term return at once.
    pub async fn ensure(&self, raft: &Raft) -> Result<(), CatchUpError> {
        let (term, last_log_index) = {
            let metrics = raft.metrics();
            let metrics = metrics.borrow();
            (metrics.current_term, metrics.last_log_index)
        };
        if self.term.load(Ordering::Acquire) == term {
            return Ok(());
        }
        // A majority confirms this node still leads; then its log up to `last_log_index`
        // must commit (a leader commits its own entries once a majority has them) and apply.
        match tokio::time::timeout(COMMIT_TIMEOUT, raft.ensure_linearizable()).await {
            Ok(Ok(_)) => {}
            Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(_)))) => {
                return Err(CatchUpError::NotLeader);
            }
            Ok(Err(_)) | Err(_) => return Err(CatchUpError::Unavailable),
        }
        raft.wait(Some(COMMIT_TIMEOUT))
            .applied_index_at_least(last_log_index, "the leader's applied state catches up with its log")
            .await
            .map_err(|_| CatchUpError::Unavailable)?;
        // A term that changed meanwhile is not the one stored: the next call checks again.
        self.term.store(term, Ordering::Release);
        Ok(())
    }
}
