//! The payload types of the original server (`docs/payload-types.txt`, from the protocol
//! spec's catalogue) against those this server serves: the message table, every type of
//! which `dispatch` matches exhaustively (no arm answers "not served" any more).
//!
//! Every type is served but those the reference itself leaves out: no ColonyOS client call
//! gets "not supported" here (issue 18).

use colonies_client::messages::{DecodeError, Message};
use std::collections::BTreeSet;

/// The reference does not serve these either (spec §6): the node messages are defined in
/// its rpc package but no handler is registered, so they are unknown types (403), and
/// `pausestatusreplymsg` only ever appears in replies.
const NOT_SERVED_BY_THE_REFERENCE: &[&str] =
    &["getnodemsg", "getnodesmsg", "getnodesbylocationmsg", "pausestatusreplymsg"];

fn reference_types() -> BTreeSet<&'static str> {
    include_str!("../../docs/payload-types.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
}

/// The types a bare message of which decodes: each then reaches its arm of `dispatch`.
fn served() -> BTreeSet<&'static str> {
    Message::PAYLOAD_TYPES
        .iter()
        .copied()
        .filter(|payloadtype| {
            let json = format!(r#"{{"msgtype":"{payloadtype}"}}"#);
            Message::decode(payloadtype, json.as_bytes()).is_ok()
        })
        .collect()
}

fn set(list: &[&'static str]) -> BTreeSet<&'static str> {
    list.iter().copied().collect()
}

#[test]
fn the_list_is_the_reference_catalogue() {
    let all = reference_types();
    assert_eq!(all.len(), 103, "the spec's catalogue names 103 payload types");
    assert!(set(NOT_SERVED_BY_THE_REFERENCE).is_subset(&all), "a type the reference does not have is named");
}

#[test]
fn every_reference_payload_type_is_served() {
    let all = reference_types();
    let served = served();
    let ours: Vec<_> = served.difference(&all).collect();
    assert!(ours.is_empty(), "served, but not a payload type of the reference: {ours:?}");
    let missing: BTreeSet<_> =
        all.difference(&served).copied().filter(|t| !NOT_SERVED_BY_THE_REFERENCE.contains(t)).collect();
    assert!(missing.is_empty(), "payload types of the reference not served: {missing:?}");
    let unserved = set(NOT_SERVED_BY_THE_REFERENCE);
    let overlap: Vec<_> = served.intersection(&unserved).collect();
    assert!(overlap.is_empty(), "the reference does not serve {overlap:?}");
}

#[test]
fn types_the_reference_does_not_handle_are_unknown_here_too() {
    for payloadtype in NOT_SERVED_BY_THE_REFERENCE {
        let json = format!(r#"{{"msgtype":"{payloadtype}"}}"#);
        let e = Message::decode(payloadtype, json.as_bytes()).unwrap_err();
        assert!(matches!(e, DecodeError::UnknownType(_)), "{payloadtype}: {e:?}");
        assert_eq!(e.status(), 403);
    }
}
