//! A node's shared parts: its Raft, its state, the proposer, the waiters, its peers and
//! settings. One `Node` is made at start and shared by every request, long-poll, websocket
//! and the leader's loops.

use crate::config::Peers;
use crate::leadership::{CatchUp, LeaderProbe};
use crate::proposer::Proposer;
use crate::waiters::Waiters;
use colonies_client::identity::RecentSigners;
use colonies_raft::{Raft, StateHandle};
use std::sync::Arc;

pub struct Node {
    pub id: u64,
    pub raft: Raft,
    pub state: StateHandle,
    pub proposer: Proposer,
    pub waiters: Waiters,
    pub peers: Peers,
    pub forward: bool,
    pub http: reqwest::Client,
    /// `https` when the node speaks TLS: the scheme of redirects and of calls to the leader.
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
    /// The configured server owner, set in the state by the first leader.
    pub serverid: Option<String>,
    /// Changes applied to this node's state, for `/pubsub` subscribers.
    pub events: tokio::sync::broadcast::Sender<colonies_statemachine::Event>,
    /// Signers of requests seen lately, so a repeated request is not recovered again.
    pub signers: Arc<RecentSigners>,
    /// Whether this leader's applied state has caught up with its log in its term.
    pub catch_up: CatchUp,
    /// The leader calls should go to, kept current for parked long-polls.
    pub leader: tokio::sync::watch::Receiver<Option<u64>>,
    /// Seconds of history to keep, when retention is on.
    pub retention: Option<i64>,
    /// Whether the leader a follower knows of still answers.
    pub probe: LeaderProbe,
    /// The largest `/api` body (and `/pubsub` frame) accepted, `--max-body`.
    pub max_body: usize,
    /// What `/cluster` and `/cluster/digest` callers must present.
    pub cluster_secret: Arc<str>,
    /// Memory for `/api` bodies being read or handled, shared by all connections.
    pub bodies: crate::body::BodyBudget,
    /// Verifies large requests one at a time, off the async workers.
    pub verifier: crate::verify::Verifier,
    pub digests: crate::digest::DigestCache,
    /// The connection cap's permits; a `/pubsub` websocket holds one while it lives.
    pub connections: Arc<tokio::sync::Semaphore>,
    /// `COLONIES_ALLOW_EXECUTOR_REREGISTER`: adding a taken executor name replaces it.
    pub allow_reregister: bool,
    pub liveness: crate::liveness::Liveness,
    /// `--cors-origins`: the web pages that may call the API.
    pub origins: crate::cors::AllowedOrigins,
}

impl Node {
    /// The leader to send a call to, by this node's view (see `LeaderProbe::leader_to_use`).
    pub async fn leader_to_use(&self) -> Option<u64> {
        let addresses = self.addresses();
        self.probe.leader_to_use(self.id, &self.leader, |id| addresses.0.get(&id).cloned()).await
    }

    /// The leader elected after `dead`, waiting up to `LEADER_WAIT` for one.
    pub async fn next_leader(&self, dead: u64) -> Option<u64> {
        crate::leadership::leader_other_than(&self.leader, Some(dead)).await
    }

    /// Every node this one knows an address for: the configured peers, updated by the
    /// current Raft membership (which includes nodes added later).
    pub fn addresses(&self) -> Peers {
        let mut addresses = self.peers.0.clone();
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        for (id, member) in metrics.membership_config.membership().nodes() {
            addresses.insert(*id, member.addr.clone());
        }
        Peers(addresses)
    }
}
