//! Where calls go and when this node may act as the leader: it leads, a majority heard from
//! it lately, and its applied state holds everything it may have committed.
//!
//! openraft's `current_leader` alone is not enough. A leader cut off from the others keeps
//! calling itself leader until it hears of a higher term, so it would hold long-polls and
//! writes it can never commit. A follower keeps naming a leader that died until the next
//! election, so it would send clients to a dead address. And a leader restarted within its
//! term (its vote was committed) leads again at once, before it knows which of its own
//! entries were committed: its applied state can lag an assignment it acknowledged before
//! it died, and a close judged against that state would be refused for good.

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
/// A follower that has not heard from its leader for this long sends no call to it: the
/// leader sends heartbeats every 100 ms, so it is gone, and the followers elect another
/// once their 450 ms lease and a 250-450 ms election timeout have passed.
pub const LEADER_SILENCE: Duration = Duration::from_millis(500);
/// How long a call waits for a leader to be known before it is answered with a 503.
pub const LEADER_WAIT: Duration = Duration::from_secs(3);
/// How long a follower waits for the leader's answer to a liveness probe.
const PROBE_TIMEOUT: Duration = Duration::from_millis(300);
/// How often the routable leader is recomputed: silence grows without any metrics event to
/// announce it.
const RECHECK: Duration = Duration::from_millis(100);

/// The leader a call should go to, by this node's metrics: `current_leader`, except that
/// this node names nobody while it leads without a majority.
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

/// Keeps the leader calls should go to in a watch channel: `routable_leader`, and nobody
/// while this node is a follower that has not heard from its leader for `LEADER_SILENCE`.
/// Parked long-polls and waiting calls learn of a change at once.
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
            let (leader, me) = {
                let metrics = raft.metrics();
                let metrics = metrics.borrow();
                (routable_leader(&metrics), metrics.id)
            };
            let leader = match leader {
                Some(other) if other != me && !heard_from_leader_lately(&raft).await => None,
                leader => leader,
            };
            sender.send_if_modified(|current| std::mem::replace(current, leader) != leader);
        }
    });
    receiver
}

/// Whether this follower's vote was renewed within `LEADER_SILENCE`: openraft renews it on
/// every append (heartbeats included) from the leader it follows.
async fn heard_from_leader_lately(raft: &Raft) -> bool {
    match raft.with_raft_state(|state| state.vote_last_modified()).await {
        Ok(Some(renewed)) => renewed.elapsed() <= LEADER_SILENCE,
        // Not known (the core is stopping): no reason to doubt the leader here.
        _ => true,
    }
}

/// The leader calls should go to now, waiting up to `LEADER_WAIT` while none is known (an
/// election is on): a client with a single address is then sent to the new leader instead
/// of the dead one or an error.
async fn leader_for_calls(leader: &watch::Receiver<Option<u64>>) -> Option<u64> {
    leader_other_than(leader, None).await
}

/// Waits up to `LEADER_WAIT` for a known leader that is not `dead`.
pub async fn leader_other_than(leader: &watch::Receiver<Option<u64>>, dead: Option<u64>) -> Option<u64> {
    let mut leader = leader.clone();
    let known = tokio::time::timeout(LEADER_WAIT, leader.wait_for(|l| l.is_some() && *l != dead)).await;
    match known {
        Ok(Ok(known)) => *known,
        _ => None,
    }
}

/// Tells a live leader from one that died a moment ago, before the followers notice its
/// silence: a follower asks the leader's `/health` (over a kept-alive connection) before it
/// sends a client there. Only a refused connection counts as dead: a slow answer is no
/// proof, and a leader that is merely busy must not turn calls into errors.
pub struct LeaderProbe {
    http: reqwest::Client,
    scheme: &'static str,
}

impl LeaderProbe {
    pub fn new(http: reqwest::Client, scheme: &'static str) -> LeaderProbe {
        LeaderProbe { http, scheme }
    }

    /// Whether the leader at `addr` is alive, as far as a probe can tell.
    pub async fn answers(&self, addr: &str) -> bool {
        let probe = self.http.get(format!("{}://{addr}/health", self.scheme)).timeout(PROBE_TIMEOUT).send().await;
        !matches!(probe, Err(e) if e.is_connect())
    }

    /// The leader a call should be sent to: the known one if it answers, else the next one
    /// elected (waiting up to `LEADER_WAIT`), else nobody.
    pub async fn leader_to_use(
        &self,
        me: u64,
        leader: &watch::Receiver<Option<u64>>,
        addresses: impl Fn(u64) -> Option<String>,
    ) -> Option<u64> {
        let known = leader_for_calls(leader).await?;
        if known == me {
            return Some(me);
        }
        match addresses(known) {
            Some(addr) if !self.answers(&addr).await => {
                tracing::info!(leader = known, %addr, "the leader does not answer; waiting for the next one");
                leader_other_than(leader, Some(known)).await
            }
            _ => Some(known),
        }
    }
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
