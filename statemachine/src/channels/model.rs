//! The data of channels (`Extended::channels`) and what changes it, apart from the commands
//! that do (`mod.rs`), so that the state and the commands hold it without depending on them.

use crate::error::{ApiError, ApiResult};
use crate::model::{FunctionSpec, ProcessState};
use crate::texts;
use crate::time::Time;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use imbl::{OrdMap, OrdSet, Vector};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Largest payload of one message (the node's body limit is usually lower).
pub const MAX_CHANNEL_PAYLOAD_BYTES: usize = 10 << 20;
/// Messages one channel holds; an append to a full channel is refused.
pub const MAX_CHANNEL_ENTRIES: usize = 10_000;
/// Channels one process may declare in `spec.channels`.
pub const MAX_CHANNELS_PER_PROCESS: usize = 100;
/// Ours: payload bytes all channels of one process hold together, so that one process
/// cannot grow the replicated state (and every snapshot) without bound.
pub const MAX_CHANNEL_BYTES_PER_PROCESS: usize = 64 << 20;
/// Sustained appends per second to the channels of one process.
pub const CHANNEL_RATE_PER_SECOND: i64 = 100;
/// Appends one process may make at once before the rate applies.
pub const CHANNEL_RATE_BURST: i64 = 500;

/// The message kinds an append may name (`payloadtype`); empty means plain data.
pub(super) const KINDS: &[&str] = &["", "data", "end", "error"];

/// Bytes on the wire: a base64 string, as Go writes `[]byte`; an array of byte values is
/// read too (pycolonies and colonies-ts send that).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Array(Vec<u8>),
            Null(()),
        }
        match Form::deserialize(d)? {
            Form::Text(text) => STANDARD.decode(text).map(Bytes).map_err(serde::de::Error::custom),
            Form::Array(bytes) => Ok(Bytes(bytes)),
            Form::Null(()) => Ok(Bytes::default()),
        }
    }
}

/// One message as clients see it (§4.14).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MsgEntry {
    pub sequence: i64,
    #[serde(skip_serializing_if = "is_zero")]
    pub inreplyto: i64,
    pub timestamp: Time,
    pub senderid: String,
    pub payload: Bytes,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
}

pub(super) fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A stored message; its sequence is its position in the channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) inreplyto: i64,
    pub(super) timestamp: Time,
    pub(super) senderid: String,
    pub(super) payload: Vec<u8>,
    pub(super) kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Channel {
    pub(super) entries: Vector<Entry>,
    /// (sender, the sender's own sequence) of every message with a sequence: a repeat is a
    /// client's retry of an append whose answer it lost, and is not stored twice.
    pub(super) sent: OrdSet<(String, i64)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct ProcessChannels {
    /// By name; a declared channel without messages has no entry.
    pub(super) channels: OrdMap<String, Channel>,
    pub(super) bytes: usize,
    /// The rate limit as a virtual schedule (GCRA): the time at which the process's next
    /// append would be on schedule. Appends may run ahead of it by the burst.
    pub(super) schedule: Time,
}

/// The messages of every process that has any (the field of `Extended`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Channels {
    pub(super) processes: OrdMap<String, ProcessChannels>,
}

/// An append (`channelappendmsg`), as the log carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Append {
    pub processid: String,
    pub name: String,
    /// The client's own sequence number; 0 for none.
    pub sequence: i64,
    pub inreplyto: i64,
    pub payload: Vec<u8>,
    pub kind: String,
}

/// Refuses a spec that declares more channels than a process may have.
pub(crate) fn check_spec(spec: &FunctionSpec) -> ApiResult<()> {
    if spec.channels.len() > MAX_CHANNELS_PER_PROCESS {
        return Err(ApiError::bad_request(texts::too_many_channels(MAX_CHANNELS_PER_PROCESS)));
    }
    Ok(())
}

/// Whether messages of a process in this state are kept.
pub(super) fn is_open(state: ProcessState) -> bool {
    matches!(state, ProcessState::Waiting | ProcessState::Running)
}
