//! What the node does with a decoded message (`Action`), and the small makers of actions
//! that `dispatch.rs` and the feature modules (`node/src/files.rs`, `node/src/blueprints.rs`) share.

use colonies_statemachine::{ApiError, ApiResult, Op, Reply, State};
use serde::Serialize;

/// A read: the reply JSON computed from the state, for `caller`.
pub type Query = Box<dyn FnOnce(&State, &str) -> ApiResult<Vec<u8>> + Send>;

pub enum Action {
    /// Answered from the leader's state, after a linearizable read barrier. `reply_type`
    /// replaces the request's payload type in the reply where the reference does so.
    Read { query: Query, reply_type: Option<&'static str> },
    /// Replicated through the log; `echo` answers with the request instead of the result.
    Write { op: Op, echo: bool },
    /// The long-poll `assignprocessmsg` (§5.2).
    Assign { colonyname: String, timeout: i64, availablecpu: String, availablemem: String },
    /// `getclustermsg`: answered from the node's view of the cluster.
    Cluster,
    /// Refused before the log (a missing object, a websocket-only type).
    Refuse(ApiError),
}

pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("replies always serialize")
}

/// The reply JSON of a committed command.
pub fn reply_json(reply: &Reply) -> Vec<u8> {
    match reply {
        Reply::Empty => b"{}".to_vec(),
        Reply::Colony(c) => to_json(c),
        Reply::Executor(e) => to_json(e),
        Reply::Process(p) => to_json(p),
        Reply::Attribute(a) => to_json(a),
        Reply::Function(f) => to_json(f),
        Reply::User(u) => to_json(u),
        Reply::ProcessGraph(g) => to_json(g),
        Reply::Cron(c) => to_json(c),
        Reply::Generator(g) => to_json(g),
        Reply::Skipped(_) => b"{}".to_vec(),
        Reply::File(f) => to_json(f),
        Reply::Snapshot(s) => to_json(s),
        Reply::Location(l) => to_json(l),
        Reply::Blueprint(b) => to_json(b),
        Reply::BlueprintDefinition(d) => to_json(d),
    }
}

pub(crate) fn read<T: Serialize>(query: impl FnOnce(&State, &str) -> ApiResult<T> + Send + 'static) -> Action {
    Action::Read { query: Box::new(move |state, caller| query(state, caller).map(|v| to_json(&v))), reply_type: None }
}

pub(crate) fn write(op: Op) -> Action {
    Action::Write { op, echo: false }
}

/// A message's object, or the reference's text for a null one.
pub(crate) fn required<T>(value: Option<T>, missing: &'static str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::bad_request(missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_replies_are_an_empty_object() {
        assert_eq!(reply_json(&Reply::Empty), b"{}");
    }
}
