//! `/pubsub`: websocket subscriptions to process state changes (spec §7). Any node serves
//! them from its own applied state, so a subscriber hears of a change once its node has
//! applied it; nothing about a subscription is replicated.

use crate::action::to_json;
use crate::node::Node;
use crate::subscription::{once_applied, refuse};
use axum::extract::State;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use colonies_client::envelope::{RpcReply, RpcRequest, decode_payload};
use colonies_client::messages::{Message, SubscribeProcessMsg, SubscribeProcessesMsg};
use colonies_statemachine::model::Process;
use colonies_statemachine::{Event, texts};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub async fn upgrade(State(node): State<Arc<Node>>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    // Browsers send websockets no preflight: the page's origin is checked here.
    if !node.origins.admits(&headers) {
        return crate::routing::failure(403, texts::ORIGIN_NOT_ALLOWED);
    }
    // hyper lets go of an upgraded connection (and its permit): the websocket takes a
    // permit of its own, so subscriptions count against the connection cap too.
    let Ok(permit) = node.connections.clone().try_acquire_owned() else {
        node.metrics.rejected(crate::metrics::Rejection::Limit);
        return crate::routing::failure(503, texts::TOO_MANY_CONNECTIONS);
    };
    // The subscription is one small message: frames are held to the /api body limit.
    let limit = node.max_body;
    upgrade.max_message_size(limit).max_frame_size(limit).on_upgrade(move |socket| async move {
        let _subscribed = node.metrics.subscriber();
        serve(node, socket).await;
        drop(permit);
    })
}

/// Time a subscriber has to send its subscription once connected, like the header timeout
/// of a plain request.
const FIRST_FRAME_TIMEOUT: Duration = crate::listen::HEADER_READ_TIMEOUT;

/// What a subscriber waits for.
enum Interest {
    /// One process entering `state`.
    Process { processid: String },
    /// Any process of the colony and executortype entering `state`.
    Processes { colonyname: String, executortype: String },
}

async fn serve(node: Arc<Node>, mut socket: WebSocket) {
    let Ok(Some(Ok(Frame::Text(text)))) = tokio::time::timeout(FIRST_FRAME_TIMEOUT, socket.recv()).await else {
        return;
    };
    let Ok(request) = serde_json::from_str::<RpcRequest>(text.as_str()) else { return };
    // A bad signature closes the connection without a message (§7.1).
    let Ok(caller) = node.signers.recover(&request.payload, &request.signature) else { return };
    let json = decode_payload(&request.payload).unwrap_or_default();
    let message = match Message::decode(&request.payloadtype, &json) {
        Ok(message) => message,
        Err(e) => return refuse(&mut socket, i64::from(e.status()), &e.to_string()).await,
    };
    if let Err(e) = crate::limits::check_message(&message) {
        return refuse(&mut socket, i64::from(e.status), &e.message).await;
    }
    // Subscribed before looking at the state, so a change in between is not missed.
    let mut events = node.events.subscribe();
    let (interest, state, timeout, at_once) = match message {
        Message::SubscribeProcess(SubscribeProcessMsg { processid, state, timeout, .. }) => {
            let Some(process) = find_process(&node, &caller, &processid, &mut events).await else {
                return refuse(&mut socket, 403, &texts::subscribe_unknown_process(&processid)).await;
            };
            let at_once = (process.state.code() == state).then_some(process);
            (Interest::Process { processid }, state, timeout, at_once)
        }
        Message::SubscribeProcesses(SubscribeProcessesMsg { colonyname, executortype, state, timeout }) => {
            if node.state.read().state.executor_type(&caller, &colonyname).is_none() {
                return refuse(&mut socket, 403, texts::SUBSCRIBE_NO_EXECUTOR).await;
            }
            (Interest::Processes { colonyname, executortype }, state, timeout, None)
        }
        Message::SubscribeChannel(message) => {
            return crate::channel_pubsub::serve(&node, &caller, &mut socket, message, events).await;
        }
        _ => {
            let (_, mismatch) = texts::decode_failures("subscribeprocessmsg").unwrap_or_default();
            return refuse(&mut socket, 403, mismatch).await;
        }
    };
    if let Some(process) = at_once
        && !send(&mut socket, &process).await
    {
        return;
    }
    // When the timeout runs out the connection just ends, without a message (§7.1).
    let limit = Duration::from_secs(crate::limits::clamp_long_poll(timeout).max(1) as u64);
    let _ = tokio::time::timeout(limit, forward(&node, &caller, &mut socket, events, &interest, state)).await;
}

/// The process as this node has applied it, waiting up to `APPLY_GRACE` for it to appear.
async fn find_process(
    node: &Node,
    caller: &str,
    processid: &str,
    events: &mut broadcast::Receiver<Event>,
) -> Option<Process> {
    once_applied(events, processid, || node.state.read().state.get_process(caller, processid).ok()).await
}

/// Sends every matching change until the client goes away.
async fn forward(
    node: &Node,
    caller: &str,
    socket: &mut WebSocket,
    mut events: broadcast::Receiver<Event>,
    interest: &Interest,
    state: i64,
) {
    loop {
        let processid = match events.recv().await {
            Ok(Event::Changed { processid, state: entered }) if entered.code() == state => processid,
            Ok(_) => continue,
            // Missed changes: the subscribed process may have moved meanwhile; look again.
            Err(broadcast::error::RecvError::Lagged(_)) => match interest {
                Interest::Process { processid } => processid.clone(),
                Interest::Processes { .. } => continue,
            },
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let found = node.state.read().state.get_process(caller, &processid).ok();
        let Some(process) = found.filter(|p| p.state.code() == state && matches(interest, p)) else { continue };
        if !send(socket, &process).await {
            return;
        }
    }
}

fn matches(interest: &Interest, process: &Process) -> bool {
    match interest {
        Interest::Process { processid } => &process.processid == processid,
        Interest::Processes { colonyname, executortype } => {
            let conditions = &process.spec.conditions;
            &conditions.colonyname == colonyname
                && (executortype.is_empty() || &conditions.executortype == executortype)
        }
    }
}

/// Every event travels as a `subscribeprocessmsg` reply, for both kinds (§7.1).
async fn send(socket: &mut WebSocket, process: &Process) -> bool {
    let reply = RpcReply::ok("subscribeprocessmsg", &to_json(process));
    let text = serde_json::to_string(&reply).unwrap_or_default();
    socket.send(Frame::Text(text.into())).await.is_ok()
}
