//! `GET /cluster` and `GET /cluster/digest`: a node's view of the cluster and a hash of its
//! state, for operators and tests. Both tell an attacker about the cluster (peers, leader,
//! term, log indexes), and the digest serializes the whole state, so both take the cluster
//! secret (issue 13), and the digest is computed at most once per applied index, however
//! many callers ask for it at once.

use crate::leadership::has_lost_its_majority;
use crate::node::Node;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

fn refused() -> Response {
    let body = serde_json::json!({"ok": false, "message": "missing or wrong cluster secret"});
    json(StatusCode::UNAUTHORIZED, body.to_string())
}

/// `GET /cluster`: this node's view of the cluster.
pub async fn cluster_status(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if !colonies_raft::authorized(&headers, &node.cluster_secret) {
        return refused();
    }
    let metrics = node.raft.metrics().borrow().clone();
    // A leader cut off from the majority says so instead of claiming to lead.
    let (state, leader) = if metrics.running_state.is_err() {
        ("Stopped".to_string(), None)
    } else if has_lost_its_majority(&metrics) {
        ("LeaderWithoutMajority".to_string(), None)
    } else {
        (format!("{:?}", metrics.state), *node.leader.borrow())
    };
    let voters: Vec<u64> = metrics.membership_config.membership().voter_ids().collect();
    let nodes: Vec<serde_json::Value> = node
        .addresses()
        .0
        .iter()
        .map(|(id, addr)| serde_json::json!({"id": id, "addr": addr, "voter": voters.contains(id)}))
        .collect();
    let status = serde_json::json!({
        "id": node.id,
        "leader": leader,
        "term": metrics.current_term,
        "state": state,
        "millis_since_quorum_ack": metrics.millis_since_quorum_ack,
        "last_log_index": metrics.last_log_index,
        "last_applied": metrics.last_applied.map(|l| l.index),
        "snapshot": metrics.snapshot.map(|l| l.index),
        "purged": metrics.purged.map(|l| l.index),
        "nodes": nodes,
    });
    json(StatusCode::OK, status.to_string())
}

/// `GET /cluster/digest`: a hash of this node's state and the index it reflects, so tests
/// and operators can check that replicas agree.
pub async fn state_digest(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if !colonies_raft::authorized(&headers, &node.cluster_secret) {
        return refused();
    }
    let (last_applied, digest) = node.digests.get(&node.state).await;
    let body = serde_json::json!({"id": node.id, "last_applied": last_applied, "digest": digest});
    json(StatusCode::OK, body.to_string())
}
