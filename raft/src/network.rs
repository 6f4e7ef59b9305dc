//! Raft RPCs between nodes over HTTP, with bincode bodies.
//!
//! Every call carries the cluster secret in a header, and the routes refuse a caller
//! without it (design note 8): reaching a node's port is not enough to append to its log.
//! With TLS the calls go over HTTPS (the secret is never sent in clear), and with a cluster
//! CA (mutual TLS) a caller must also have shown a certificate that CA signed (issue 13).

use crate::codec::{CodecError, decode, encode};
use crate::{Raft, TypeConfig};
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use openraft::BasicNode;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

pub use colonies_statemachine::wire::SECRET_HEADER;
/// A snapshot comes in chunks of at most `MAX_SNAPSHOT_CHUNK_BYTES` (whatever the sender's
/// setting), plus the request's vote and meta (a membership: a few KiB).
pub const MAX_SNAPSHOT_BODY: usize = crate::config::MAX_SNAPSHOT_CHUNK_BYTES as usize + (64 << 10);
/// An append carries up to `max_payload_entries` (512) entries of up to 512 batched
/// commands; the bound that follows from those (and `--max-body` per command) is larger
/// than this, but a real append is far smaller: a follower that lags that much gets a
/// snapshot instead. Refusing a larger one would stall replication; what protects a node is
/// that the secret is checked first.
pub const MAX_APPEND_BODY: usize = 1 << 30;
/// A vote request is a few dozen bytes.
pub const MAX_VOTE_BODY: usize = 64 << 10;
/// Time a peer has to send a request body once its headers are in.
pub const PEER_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// The least time a peer RPC is given: an append waits for the follower's flush, which on a
/// busy disk takes longer than the heartbeat interval openraft offers as the timeout.
pub const MIN_RPC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Makes a client for each peer; all share one connection pool.
#[derive(Clone)]
pub struct Network {
    http: reqwest::Client,
    secret: Arc<str>,
    scheme: &'static str,
}

impl Network {
    /// `http` carries the node's TLS settings (the cluster CA and its own certificate), and
    /// `scheme` is `https` when the nodes speak TLS.
    pub fn new(secret: &str, http: reqwest::Client, scheme: &'static str) -> Network {
        Network { http, secret: secret.into(), scheme }
    }
}

pub struct PeerClient {
    target: u64,
    base: String,
    http: reqwest::Client,
    secret: Arc<str>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> PeerClient {
        PeerClient {
            target,
            base: format!("{}://{}/raft", self.scheme, node.addr),
            http: self.http.clone(),
            secret: self.secret.clone(),
        }
    }
}

impl PeerClient {
    async fn call<Req, Resp, E>(
        &self,
        route: &str,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<u64, BasicNode, E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let answer = self
            .http
            .post(format!("{}/{route}", self.base))
            .header(SECRET_HEADER, &*self.secret)
            .timeout(option.hard_ttl().max(MIN_RPC_TIMEOUT))
            .body(encode(request))
            .send()
            .await
            .map_err(|e| {
                // A peer that is down makes openraft back off; anything else is retried.
                if e.is_connect() {
                    RPCError::Unreachable(Unreachable::new(&e))
                } else {
                    RPCError::Network(NetworkError::new(&e))
                }
            })?;
        if !answer.status().is_success() {
            let refused = std::io::Error::other(format!("peer {} answered {}", self.target, answer.status()));
            return Err(RPCError::Network(NetworkError::new(&refused)));
        }
        let body = answer.bytes().await.map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let result: Result<Resp, E> = decode(&body).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

type RpcResult<T, E = openraft::error::Infallible> = Result<T, RPCError<u64, BasicNode, RaftError<u64, E>>>;

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<u64>> {
        self.call("append", &request, &option).await
    }

    async fn install_snapshot(
        &mut self,
        request: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<u64>, InstallSnapshotError> {
        self.call("snapshot", &request, &option).await
    }

    async fn vote(&mut self, request: VoteRequest<u64>, option: RPCOption) -> RpcResult<VoteResponse<u64>> {
        self.call("vote", &request, &option).await
    }
}

#[derive(Clone)]
struct Peer {
    raft: Raft,
    auth: PeerAuth,
}

/// Put on every request of a TLS connection whose client showed a certificate the cluster
/// CA signed (the listener verified it during the handshake).
#[derive(Clone, Copy, Debug)]
pub struct ClusterCertificate;

/// What a caller of a peer route (Raft, membership) must show: the cluster secret, and with
/// mutual TLS a certificate of the cluster CA as well.
#[derive(Clone)]
pub struct PeerAuth {
    secret: Arc<str>,
    certificate_required: bool,
}

impl PeerAuth {
    pub fn new(secret: &str, certificate_required: bool) -> PeerAuth {
        PeerAuth { secret: secret.into(), certificate_required }
    }

    /// Why `parts` may not use a peer route (an answer for a 401), if it may not.
    pub fn refusal(&self, parts: &axum::http::request::Parts) -> Option<&'static str> {
        if self.certificate_required && parts.extensions.get::<ClusterCertificate>().is_none() {
            return Some("no client certificate of the cluster CA");
        }
        (!authorized(&parts.headers, &self.secret)).then_some(WRONG_SECRET)
    }

    /// The body of a caller that has shown the cluster's credentials, up to `limit` bytes;
    /// a caller without them is answered before a byte of its body is read.
    pub async fn body(&self, request: axum::extract::Request, limit: usize) -> Result<axum::body::Bytes, Response> {
        let (parts, body) = request.into_parts();
        if let Some(refusal) = self.refusal(&parts) {
            return Err((StatusCode::UNAUTHORIZED, refusal).into_response());
        }
        bounded_body(body, limit).await
    }
}

/// Compares in time independent of where the first difference is.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Whether a request carries the cluster secret.
pub fn authorized(headers: &HeaderMap, secret: &str) -> bool {
    headers.get(SECRET_HEADER).is_some_and(|given| same_secret(given.as_bytes(), secret.as_bytes()))
}

const WRONG_SECRET: &str = "missing or wrong cluster secret";

/// The refusal of a peer call without the cluster secret.
pub fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, WRONG_SECRET).into_response()
}

/// Reads a body up to `limit` bytes within `PEER_BODY_TIMEOUT`. Only called once the
/// caller has shown its credentials, so a stranger cannot make a node buffer anything.
pub async fn bounded_body(body: Body, limit: usize) -> Result<axum::body::Bytes, Response> {
    if body.size_hint().lower() > limit as u64 {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than {limit} bytes")).into_response());
    }
    match tokio::time::timeout(PEER_BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err((StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")).into_response()),
        Err(_) => Err((StatusCode::REQUEST_TIMEOUT, "the body did not arrive in time").into_response()),
    }
}

/// Decodes the request, runs it, and encodes openraft's result (errors included).
async fn serve<Req, Resp, Fut>(
    peer: Peer,
    request: axum::extract::Request,
    limit: usize,
    run: impl FnOnce(Raft, Req) -> Fut,
) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    Fut: std::future::Future<Output = Resp>,
{
    let body = match peer.auth.body(request, limit).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    match decode::<Req>(&body) {
        Ok(request) => encode(&run(peer.raft, request).await).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, not_a_raft_request(&e)).into_response(),
    }
}

/// What a peer is told about a body that does not decode. The codec's own words speak of
/// stored data, which would mislead whoever reads this.
fn not_a_raft_request(e: &CodecError) -> String {
    match e {
        CodecError::Empty => "not a raft request: the body is empty".into(),
        CodecError::Version(_) => "not a raft request of this build: the first byte (format version) is not 1".into(),
        CodecError::Bincode(e) => format!("not a raft request of this kind: {e}"),
    }
}

/// Tells openraft that the leader with `vote` was heard from, as its heartbeat does: an
/// append of nothing after nothing, which changes no log and commits nothing.
///
/// While a snapshot streams to a follower, the leader's replication to it sends chunks and
/// no heartbeats, and openraft 0.9 does not count a chunk as hearing from the leader. A
/// snapshot that takes longer than the election timeout to send (a large colony, or small
/// chunks) made the receiving follower campaign, which made the leader step down and start
/// the transfer over, again and again. A vote that is not the current leader's is refused
/// here as it is by `install_snapshot`.
async fn leader_heard(raft: &Raft, vote: &openraft::Vote<u64>) {
    let heartbeat =
        AppendEntriesRequest::<TypeConfig> { vote: *vote, prev_log_id: None, entries: Vec::new(), leader_commit: None };
    if let Err(e) = raft.append_entries(heartbeat).await {
        tracing::debug!(error = %e, "a snapshot chunk's leader was not taken as heard from");
    }
}

/// The peer routes of a node: `/raft/append`, `/raft/vote`, `/raft/snapshot`.
pub fn raft_router(raft: Raft, auth: PeerAuth) -> Router {
    let peer = Peer { raft, auth };
    Router::new()
        .route(
            "/raft/append",
            post(|State(p): State<Peer>, r: axum::extract::Request| {
                serve(p, r, MAX_APPEND_BODY, |raft, q: AppendEntriesRequest<TypeConfig>| async move {
                    raft.append_entries(q).await
                })
            }),
        )
        .route(
            "/raft/vote",
            post(|State(p): State<Peer>, r: axum::extract::Request| {
                serve(p, r, MAX_VOTE_BODY, |raft, q: VoteRequest<u64>| async move { raft.vote(q).await })
            }),
        )
        .route(
            "/raft/snapshot",
            post(|State(p): State<Peer>, r: axum::extract::Request| {
                serve(p, r, MAX_SNAPSHOT_BODY, |raft, q: InstallSnapshotRequest<TypeConfig>| async move {
                    leader_heard(&raft, &q.vote).await;
                    raft.install_snapshot(q).await
                })
            }),
        )
        // The handlers read their bodies themselves, each to its own cap, after the secret.
        .layer(DefaultBodyLimit::disable())
        .with_state(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a peer (or someone with the secret) sends, decoding answers a request or
        /// a message for a 400: bincode's length fields cannot make it read past the body.
        #[test]
        fn any_body_decodes_or_is_refused_with_a_reason(mut body in prop::collection::vec(any::<u8>(), 0..512), versioned in any::<bool>()) {
            if versioned && !body.is_empty() {
                body[0] = 1;
            }
            for reason in [
                decode::<AppendEntriesRequest<TypeConfig>>(&body).err().map(|e| not_a_raft_request(&e)),
                decode::<VoteRequest<u64>>(&body).err().map(|e| not_a_raft_request(&e)),
                decode::<InstallSnapshotRequest<TypeConfig>>(&body).err().map(|e| not_a_raft_request(&e)),
            ].into_iter().flatten() {
                prop_assert!(reason.starts_with("not a raft request"), "{}", reason);
            }
        }
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }
}
