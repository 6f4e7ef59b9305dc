//! The HTTP API of a node (§1): `POST /api`, `GET /health`, and `GET /cluster`.
//!
//! Callers are authenticated here, once: the id recovered from the signature travels in
//! the replicated command, and the state machine authorizes it (design note 2). Calls
//! that need the leader are redirected or forwarded to it (design note 7).

use crate::action::{Action, reply_json, to_json};
use crate::body::BODY_READ_TIMEOUT;
use crate::build_info::{BUILD_TIME, BUILD_VERSION};
use crate::clock::{new_id, now};
use crate::dispatch::dispatch;
use crate::leadership::CatchUpError;
use crate::limits;
use crate::node::Node;
use crate::proposer::{COMMIT_TIMEOUT, ProposeError};
use crate::routing::{self, Route, Undelivered, failure, route};
use crate::verify::Prepared;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use colonies_client::envelope::{RpcReply, RpcRequest, decode_payload};
use colonies_client::messages::{Backend, ClusterInfo, ClusterNode, Message, ServerInfo, VersionReply};
use colonies_statemachine::{ApiError, Command, Op, texts};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often a waiter re-checks a paused colony.
const PAUSED_RECHECK: Duration = Duration::from_millis(500);
/// A node whose applied state lags its log by more than this many entries is not ready.
const READY_MAX_LAG: u64 = 1000;

pub fn router(node: Arc<Node>) -> Router {
    let cors = node.origins.layer();
    Router::new()
        // GET /api is a 404 like any unknown route, not a 405 (§1.1).
        .route("/api", post(handle_api).fallback(not_found))
        .route("/pubsub", get(crate::pubsub::upgrade))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/cluster", get(crate::status::cluster_status))
        .route("/cluster/digest", get(crate::status::state_digest))
        .fallback(not_found)
        .with_state(node)
        .layer(cors)
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))], "404 page not found")
        .into_response()
}

/// Liveness: the process and its Raft core run. (A core stopped by a storage error also
/// ends the process; this covers the moment in between.)
async fn health(State(node): State<Arc<Node>>) -> Response {
    let running = node.raft.metrics().borrow().running_state.is_ok();
    let status = if running { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], "").into_response()
}

/// Readiness: the node knows a leader that can serve and has applied its log (up to
/// `READY_MAX_LAG` entries), so a load balancer may send it calls. A follower learns how
/// far the log goes from its leader's appends, so one that is still being sent a snapshot
/// reads as ready once it knows the leader; its reads are forwarded to the leader anyway.
async fn ready(State(node): State<Arc<Node>>) -> Response {
    let unready = {
        let metrics = node.raft.metrics();
        let metrics = metrics.borrow();
        let applied = metrics.last_applied.map_or(0, |l| l.index);
        let logged = metrics.last_log_index.unwrap_or_default();
        if metrics.running_state.is_err() {
            Some("the Raft core stopped".to_string())
        } else if node.leader.borrow().is_none() {
            Some("no leader that can serve is known".to_string())
        } else if applied + READY_MAX_LAG < logged {
            Some(format!("applied {applied} of {logged} log entries"))
        } else {
            None
        }
    };
    match unready {
        None => StatusCode::OK.into_response(),
        Some(why) => failure(503, &texts::not_ready(&why)),
    }
}

fn ok(payloadtype: &str, json: &[u8]) -> Response {
    routing::reply_response(StatusCode::OK, &RpcReply::ok(payloadtype, json))
}

fn error(e: &ApiError) -> Response {
    failure(e.status, &e.message)
}

/// `POST /api`: browsers (calls with an `Origin`) get executors in the web UI's shape.
async fn handle_api(State(node): State<Arc<Node>>, headers: HeaderMap, body: axum::body::Body) -> Response {
    let started = std::time::Instant::now();
    let mut payloadtype = None;
    let response = serve_api(node.clone(), body, &mut payloadtype).await;
    node.metrics.served(payloadtype, response.status(), started);
    if crate::webui::from_browser(&headers) { crate::webui::for_browser(response).await } else { response }
}

/// `payload`: set to the call's payload type once it is known, for the metrics.
async fn serve_api(node: Arc<Node>, body: axum::body::Body, payload: &mut Option<&'static str>) -> Response {
    // `_held` is this body's share of the memory budget, kept until the call is answered.
    let (body, _held) = match crate::body::read_body(body, node.max_body, &node.bodies, BODY_READ_TIMEOUT).await {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let (caller, json, message) = match node.verifier.prepare(&node.signers, body.clone()).await {
        Ok(Prepared::Signed { caller, json, message }) => (caller, json, *message),
        // These two are answered without a signature (§1.3 steps 3-4).
        Ok(Prepared::Unsigned(request)) if request.payloadtype == "versionmsg" => return version(&request),
        Ok(Prepared::Unsigned(_)) => return server_info(&node),
        Err(e) => return error(&e),
    };
    let payloadtype = message.payload_type();
    *payload = Some(payloadtype);
    let action = dispatch(message, now(), &mut new_id);
    match action {
        Action::Refuse(e) => return error(&e),
        Action::Cluster => return cluster_info(&node, &caller, payloadtype),
        _ => {}
    }
    let leader = node.leader_to_use().await;
    match route(node.id, leader, &node.addresses()) {
        Route::Here => {}
        elsewhere => return send_to_leader(&node, elsewhere, body).await,
    }
    // Every answer below is judged against the applied state, so it must hold what this
    // leader committed; until then the answer is a retryable 503, never a final refusal.
    match node.catch_up.ensure(&node.raft).await {
        Ok(()) => {}
        Err(CatchUpError::NotLeader) => return reroute(&node, body).await,
        Err(e @ CatchUpError::Unavailable) => return failure(503, &e.to_string()),
    }
    ensure_server_id(&node).await;
    match action {
        Action::Read { query, reply_type } => {
            match tokio::time::timeout(COMMIT_TIMEOUT, node.raft.ensure_linearizable()).await {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => return reroute(&node, body).await,
                Err(_) => return failure(503, texts::NO_MAJORITY),
            }
            let result = query(&node.state.read().state, &caller);
            match result {
                Ok(json) => ok(reply_type.unwrap_or(payloadtype), &json),
                Err(e) => error(&e),
            }
        }
        Action::Write { op, echo } => {
            let op = match op {
                Op::AddExecutor { executor } if node.allow_reregister => Op::ReregisterExecutor { executor },
                op => op,
            };
            let command = Command { caller, now: now(), op };
            if let Err(e) = node.state.read().state.authorize(&command.caller, &command.op) {
                return error(&e);
            }
            match node.proposer.propose(command).await {
                Ok(Ok(_)) if echo => ok(payloadtype, &json),
                Ok(Ok(reply)) => ok(payloadtype, &reply_json(&reply)),
                Ok(Err(e)) => error(&e),
                Err(e) => proposal_failed(&node, e, body).await,
            }
        }
        Action::Assign { colonyname, timeout, availablecpu, availablemem } => {
            let op = Op::Assign { colonyname, availablecpu, availablemem };
            assign(&node, caller, op, timeout, payloadtype, body).await
        }
        Action::Refuse(_) | Action::Cluster => unreachable!("answered above"),
    }
}

/// A new cluster learns its server owner from the first leader's configuration. A call
/// that reaches the leader before that commit would be judged without an owner, so the
/// leader commits it first. (`apply` refuses a second setting, so racing calls are harmless.)
async fn ensure_server_id(node: &Node) {
    let Some(serverid) = &node.serverid else { return };
    if node.state.read().state.server_id().is_empty() {
        let op = Op::SetServerId { serverid: serverid.clone() };
        let _ = node.proposer.propose(Command { caller: String::new(), now: now(), op }).await;
    }
}

async fn send_to_leader(node: &Node, to: Route, body: Bytes) -> Response {
    match to {
        Route::Leader { id, addr } if node.forward => {
            node.metrics.forwarded();
            match routing::forward(&node.http, node.scheme, &addr, body.clone()).await {
                Ok(answer) => answer,
                Err(Undelivered(unreachable)) => forward_to_next_leader(node, id, body).await.unwrap_or(unreachable),
            }
        }
        Route::Leader { addr, .. } => {
            node.metrics.redirected();
            routing::redirect(node.scheme, &addr)
        }
        Route::Here | Route::NoLeader => routing::no_leader(),
    }
}

/// The leader `dead` died after it was found alive, and nothing reached it: a
/// single-address client would get an error, so the call goes, once, to the next leader
/// (if another node is elected within `LEADER_WAIT`).
async fn forward_to_next_leader(node: &Node, dead: u64, body: Bytes) -> Option<Response> {
    let next = node.next_leader(dead).await.filter(|next| *next != node.id)?;
    let addr = node.addresses().0.get(&next).cloned()?;
    match routing::forward(&node.http, node.scheme, &addr, body).await {
        Ok(answer) | Err(Undelivered(answer)) => Some(answer),
    }
}

/// This node stopped being the leader while serving the call: send it on.
async fn reroute(node: &Node, body: Bytes) -> Response {
    let leader = node.leader_to_use().await.filter(|l| *l != node.id);
    send_to_leader(node, route(node.id, leader, &node.addresses()), body).await
}

async fn proposal_failed(node: &Node, e: ProposeError, body: Bytes) -> Response {
    match e {
        ProposeError::NotLeader { .. } => reroute(node, body).await,
        ProposeError::Unavailable(message) => failure(503, &message),
    }
}

/// The long-poll assign (§5.2). The state machine picks the process when the command
/// commits, so two executors racing for one process cannot both get it; the loser waits on.
async fn assign(node: &Node, caller: String, op: Op, timeout: i64, payloadtype: &str, body: Bytes) -> Response {
    let Op::Assign { colonyname, availablecpu, availablemem } = &op else { unreachable!("called with an assign") };
    let (executortype, check) = {
        let applied = node.state.read();
        (applied.state.executor_type(&caller, colonyname), applied.state.authorize(&caller, &op))
    };
    if let Err(e) = check {
        return error(&e);
    }
    if executortype.is_some() {
        node.liveness.heard(colonyname, &caller, now());
    }
    // Dispatch already cut the timeout to `MAX_LONG_POLL_SECS`; checked all the same, as
    // an overflow here would panic the handler.
    let deadline = (timeout > 0).then(|| {
        let wait = Duration::from_secs(timeout.min(limits::MAX_LONG_POLL_SECS) as u64);
        Instant::now().checked_add(wait).unwrap_or_else(Instant::now)
    });
    let notify = node.waiters.notify(colonyname, executortype.as_deref().unwrap_or_default());
    // Changes only when the leader does or this one loses its majority: watching the full
    // metrics would wake every parked executor at each heartbeat.
    let mut leader = node.leader.clone();
    let _parked = node.metrics.long_poll();
    loop {
        // Registered before looking at the queue, so a submit in between still wakes us.
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (has_work, paused) = {
            let applied = node.state.read();
            let state = &applied.state;
            (state.has_work_for(&caller, colonyname, availablecpu, availablemem), state.is_paused(&caller, colonyname))
        };
        let paused = paused.unwrap_or(false);
        // Without an executor row the state machine gives the reference's error at once.
        if has_work || executortype.is_none() {
            let command = Command { caller: caller.clone(), now: now(), op: op.clone() };
            match node.proposer.propose(command).await {
                Ok(Ok(reply)) => return ok(payloadtype, &reply_json(&reply)),
                // Another executor took it between our look and the commit.
                Ok(Err(e)) if e.status == 404 && executortype.is_some() => {}
                Ok(Err(e)) => return error(&e),
                // Boxed: rare paths with large futures would otherwise make every parked
                // waiter as big as a forwarded HTTP call.
                Err(e) => return Box::pin(proposal_failed(node, e, body)).await,
            }
        }
        let Some(deadline) = deadline else {
            return if paused { failure(503, texts::ASSIGN_PAUSED) } else { failure(404, texts::NO_PROCESS_AVAILABLE) };
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return if paused {
                failure(408, texts::ASSIGN_PAUSED_TIMEOUT)
            } else {
                failure(404, texts::NO_PROCESS_AVAILABLE)
            };
        }
        let nap = if paused { left.min(PAUSED_RECHECK) } else { left };
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(nap) => {}
            changed = leader.changed() => {
                let leading = changed.is_ok() && *leader.borrow() == Some(node.id);
                if !leading {
                    return Box::pin(reroute(node, body)).await;
                }
            }
        }
    }
}

fn version(request: &RpcRequest) -> Response {
    let json = decode_payload(&request.payload).unwrap_or_default();
    if let Err(e) = Message::decode("versionmsg", &json) {
        return failure(e.status(), &e.to_string());
    }
    let reply =
        VersionReply { buildversion: BUILD_VERSION.into(), buildtime: BUILD_TIME.into(), msgtype: "versionmsg".into() };
    ok("versionmsg", &to_json(&reply))
}

fn server_info(node: &Node) -> Response {
    let info = ServerInfo {
        buildversion: BUILD_VERSION.into(),
        buildtime: BUILD_TIME.into(),
        backends: vec![Backend {
            kind: "http".into(),
            port: node.port.into(),
            host: node.host.clone(),
            ..Default::default()
        }],
    };
    ok("getserverinfomsg", &to_json(&info))
}

fn cluster_node(id: u64, addr: &str) -> ClusterNode {
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "0"));
    let port: i64 = port.parse().unwrap_or_default();
    ClusterNode { name: format!("node{id}"), host: host.into(), port, peerport: port, relayport: 0, apiport: port }
}

/// `getclustermsg`, answered by any node from its own view.
fn cluster_info(node: &Node, caller: &str, payloadtype: &str) -> Response {
    if let Err(e) = node.state.read().state.require_server_owner(caller) {
        return error(&e);
    }
    let leader = *node.leader.borrow();
    let addresses = node.addresses();
    let nodes: Vec<ClusterNode> = addresses.0.iter().map(|(id, addr)| cluster_node(*id, addr)).collect();
    let leader = leader.and_then(|l| addresses.0.get(&l).map(|addr| cluster_node(l, addr))).unwrap_or_default();
    ok(payloadtype, &to_json(&ClusterInfo { nodes, leader }))
}
