//! What the `/pubsub` subscriptions of processes (`pubsub.rs`) and of channels
//! (`channel_pubsub.rs`) share: waiting for this node to apply what a client has just
//! written through another, and refusing on the socket.

use axum::extract::ws::{Message as Frame, WebSocket};
use colonies_client::envelope::RpcReply;
use colonies_statemachine::Event;
use std::time::Duration;
use tokio::sync::broadcast;

/// How long a node that does not know a process yet waits to apply it. A client that has
/// just submitted through the leader may subscribe on a follower that has not yet heard
/// the commit (it learns it with the leader's next message, within a heartbeat).
const APPLY_GRACE: Duration = Duration::from_secs(2);

/// `lookup`'s answer, waiting up to `APPLY_GRACE` for this node to apply a change of the
/// process when it has none yet.
pub(crate) async fn once_applied<T>(
    events: &mut broadcast::Receiver<Event>,
    processid: &str,
    lookup: impl Fn() -> Option<T>,
) -> Option<T> {
    if let Some(found) = lookup() {
        return Some(found);
    }
    let appeared = async {
        loop {
            match events.recv().await {
                Ok(Event::Changed { processid: changed, .. }) if changed == processid => return,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) if lookup().is_some() => return,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    };
    let _ = tokio::time::timeout(APPLY_GRACE, appeared).await;
    lookup()
}

/// Answers the subscription with an error reply (the socket closes after).
pub(crate) async fn refuse(socket: &mut WebSocket, status: i64, message: &str) {
    let reply = RpcReply::failure(status, message);
    let _ = socket.send(Frame::Text(serde_json::to_string(&reply).unwrap_or_default().into())).await;
}
