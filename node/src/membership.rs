//! Adding and removing nodes on a live cluster, one change at a time: a new node first
//! joins as a learner and catches up, then becomes a voter (joint consensus underneath).
//! The routes take the cluster's credentials, like the Raft routes (the secret, and with
//! mutual TLS a certificate of the cluster CA): membership is cluster administration, not
//! a ColonyOS RPC.

use crate::node::Node;
use crate::routing::{Route, route};
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use colonies_raft::PeerAuth;
use openraft::{BasicNode, ChangeMembers};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct NewMember {
    pub nodeid: u64,
    pub addr: String,
}

#[derive(Clone)]
struct Admin {
    node: Arc<Node>,
    auth: PeerAuth,
}

pub fn router(node: Arc<Node>, auth: PeerAuth) -> Router {
    Router::new()
        .route("/cluster/members", post(add))
        .route("/cluster/members/{nodeid}", delete(remove))
        .with_state(Admin { node, auth })
}

fn answer(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "ok": status.is_success(), "message": message }).to_string();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// `None` when this node leads; otherwise the answer that sends the caller on.
fn not_here(admin: &Admin, path: &str) -> Option<Response> {
    let leader = admin.node.raft.metrics().borrow().current_leader;
    match route(admin.node.id, leader, &admin.node.addresses()) {
        Route::Here => None,
        Route::Leader { addr, .. } => {
            let mut response = answer(StatusCode::TEMPORARY_REDIRECT, "not the leader");
            if let Ok(location) = HeaderValue::from_str(&format!("{}://{addr}{path}", admin.node.scheme)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Some(response)
        }
        Route::NoLeader => Some(answer(StatusCode::SERVICE_UNAVAILABLE, "no leader right now; retry shortly")),
    }
}

/// `{"nodeid":N,"addr":"host:port"}` is far smaller than this.
const MAX_MEMBER_BODY: usize = 4096;

async fn add(State(admin): State<Admin>, request: Request) -> Response {
    // The credentials are checked before the body is read: a stranger's body is never buffered.
    let (parts, body) = request.into_parts();
    if let Some(refusal) = admin.auth.refusal(&parts) {
        return answer(StatusCode::UNAUTHORIZED, refusal);
    }
    let body = match colonies_raft::network::bounded_body(body, MAX_MEMBER_BODY).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let member: NewMember = match serde_json::from_slice(&body) {
        Ok(member) => member,
        Err(e) => {
            return answer(StatusCode::BAD_REQUEST, &format!("expected {{\"nodeid\":N,\"addr\":\"host:port\"}}: {e}"));
        }
    };
    if let Some(elsewhere) = not_here(&admin, "/cluster/members") {
        return elsewhere;
    }
    let raft = &admin.node.raft;
    // Blocking: returns once the learner is close to the leader's log, so promoting it
    // does not stall commits while it catches up.
    if let Err(e) = raft.add_learner(member.nodeid, BasicNode::new(&member.addr), true).await {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("adding node {} as learner failed: {e}", member.nodeid),
        );
    }
    match raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([member.nodeid])), false).await {
        Ok(_) => answer(StatusCode::OK, &format!("node {} is a voter", member.nodeid)),
        Err(e) => answer(StatusCode::INTERNAL_SERVER_ERROR, &format!("promoting node {} failed: {e}", member.nodeid)),
    }
}

async fn remove(State(admin): State<Admin>, Path(nodeid): Path<u64>, request: Request) -> Response {
    if let Some(refusal) = admin.auth.refusal(&request.into_parts().0) {
        return answer(StatusCode::UNAUTHORIZED, refusal);
    }
    if let Some(elsewhere) = not_here(&admin, &format!("/cluster/members/{nodeid}")) {
        return elsewhere;
    }
    let change = ChangeMembers::RemoveVoters(BTreeSet::from([nodeid]));
    match admin.node.raft.change_membership(change, false).await {
        Ok(_) => answer(StatusCode::OK, &format!("node {nodeid} removed")),
        Err(e) => answer(StatusCode::BAD_REQUEST, &format!("removing node {nodeid} failed: {e}")),
    }
}
