//! `subscribechannelmsg` on `/pubsub` (§7.3): the messages of a channel after `afterseq`,
//! then each new one, from this node's applied state. A message's `sequence` is its
//! position in the channel on every replica, so a subscriber that loses its node resumes
//! on another with `afterseq` = the last sequence it got, and misses nothing.

use crate::action::to_json;
use crate::node::Node;
use crate::subscription::{once_applied, refuse};
use axum::extract::ws::{Message as Frame, WebSocket};
use colonies_client::envelope::RpcReply;
use colonies_client::messages::SubscribeChannelMsg;
use colonies_statemachine::channels::MsgEntry;
use colonies_statemachine::{ApiResult, Event, texts};
use std::time::Duration;
use tokio::sync::broadcast;

/// A subscription that names no timeout lasts this long (§7.3).
const DEFAULT_TIMEOUT_SECS: i64 = 30;
/// Messages sent in one frame at most, so that a subscriber far behind gets the backlog
/// in pieces rather than one frame of the whole channel.
pub const MAX_ENTRIES_PER_FRAME: i64 = 100;

/// What the subscription reads: the channel after `cursor`.
struct Subscription<'a> {
    node: &'a Node,
    caller: &'a str,
    processid: String,
    name: String,
    cursor: i64,
}

impl Subscription<'_> {
    fn read(&self) -> ApiResult<Vec<MsgEntry>> {
        let state = self.node.state.read();
        state.state.channel_read(self.caller, &self.processid, &self.name, self.cursor, MAX_ENTRIES_PER_FRAME)
    }

    /// Sends everything after the cursor. False when the channel is gone (its process
    /// ended) or the subscriber went away.
    async fn catch_up(&mut self, socket: &mut WebSocket) -> bool {
        loop {
            let Ok(entries) = self.read() else { return false };
            let Some(last) = entries.last() else { return true };
            self.cursor = last.sequence;
            if !send(socket, &entries).await {
                return false;
            }
        }
    }

    /// Follows the channel until it is gone or the subscriber went away.
    async fn follow(&mut self, socket: &mut WebSocket, mut events: broadcast::Receiver<Event>) {
        loop {
            let relevant = match events.recv().await {
                Ok(Event::ChannelAppended { processid, name }) => processid == self.processid && name == self.name,
                // The process may have ended, which ends the channel.
                Ok(Event::Changed { processid, .. } | Event::TimedOut { processid, .. }) => processid == self.processid,
                Ok(Event::Ready { .. }) => false,
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if relevant && !self.catch_up(socket).await {
                return;
            }
        }
    }
}

pub(crate) async fn serve(
    node: &Node,
    caller: &str,
    socket: &mut WebSocket,
    message: SubscribeChannelMsg,
    mut events: broadcast::Receiver<Event>,
) {
    let SubscribeChannelMsg { processid, name, afterseq, timeout } = message;
    let mut subscription = Subscription { node, caller, processid, name, cursor: afterseq.max(0) };
    // A subscriber may come to this node before it applied the submit made through the leader.
    let processid = subscription.processid.clone();
    let first = once_applied(&mut events, &processid, || match subscription.read() {
        Err(e) if e.message == texts::CHANNEL_PROCESS_NOT_FOUND => None,
        answer => Some(answer),
    })
    .await
    .unwrap_or_else(|| subscription.read());
    if let Err(e) = first {
        return refuse(socket, i64::from(e.status), &e.message).await;
    }
    let timeout = if timeout <= 0 { DEFAULT_TIMEOUT_SECS } else { crate::limits::clamp_long_poll(timeout) };
    let following = async {
        if subscription.catch_up(socket).await {
            subscription.follow(socket, events).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(timeout as u64), following).await;
    // The end of the subscription, or of the channel: an empty batch (§7.3).
    send(socket, &[]).await;
    let _ = socket.send(Frame::Close(None)).await;
}

async fn send(socket: &mut WebSocket, entries: &[MsgEntry]) -> bool {
    let reply = RpcReply::ok("subscribechannelmsg", &to_json(&entries));
    let text = serde_json::to_string(&reply).unwrap_or_default();
    socket.send(Frame::Text(text.into())).await.is_ok()
}
