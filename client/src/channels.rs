//! Following a channel (§7.3) over a node's `/pubsub` websocket.

use crate::identity::PrivateKey;
use crate::messages::SubscribeChannelMsg;
use crate::rpc::{Client, ClientError, next_reply};
use colonies_statemachine::channels::MsgEntry;

/// How a channel subscription ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelEnd {
    /// The subscription's timeout ran out, or the channel ended with its process.
    Ended,
    /// The node went away: subscribe again (to another node) after the last sequence seen.
    Lost,
    /// The caller asked to stop.
    Stopped,
}

impl Client {
    /// Follows a channel on the first node that accepts a websocket, giving `on_batch`
    /// each batch of messages in order, until the subscription ends, the node goes away or
    /// `on_batch` answers false.
    pub async fn subscribe_channel(
        &self,
        key: &PrivateKey,
        message: SubscribeChannelMsg,
        mut on_batch: impl FnMut(Vec<MsgEntry>) -> bool,
    ) -> Result<ChannelEnd, ClientError> {
        let Some(mut socket) = self.open_subscription(key, message.into()).await? else {
            return Ok(ChannelEnd::Lost);
        };
        while let Some(json) = next_reply(&mut socket).await? {
            let batch: Vec<MsgEntry> = serde_json::from_slice(&json).map_err(|e| ClientError::Decode(e.to_string()))?;
            if batch.is_empty() {
                return Ok(ChannelEnd::Ended);
            }
            if !on_batch(batch) {
                return Ok(ChannelEnd::Stopped);
            }
        }
        Ok(ChannelEnd::Lost)
    }
}
