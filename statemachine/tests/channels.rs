//! Channels (§6.14): order, limits, who may use them, and their end with their process.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::channels::{
    Append, CHANNEL_RATE_BURST, CHANNEL_RATE_PER_SECOND, MAX_CHANNEL_BYTES_PER_PROCESS, MAX_CHANNEL_ENTRIES,
    MAX_CHANNEL_PAYLOAD_BYTES, MAX_CHANNELS_PER_PROCESS, MsgEntry,
};
use colonies_statemachine::model::{Colony, User};
use colonies_statemachine::{Event, Op, State};
use fixture::*;

const USER: &str = "aa0b0e1b3a2b2d6de5fe0b2a2f41a1a59b1b75b1c52a5dbea5b1e2bd1f0c2a11";
const OTHER_OWNER: &str = "bb0b0e1b3a2b2d6de5fe0b2a2f41a1a59b1b75b1c52a5dbea5b1e2bd1f0c2a22";

/// A world with a process of `a` that declares the channels `out` and `in`, assigned to
/// `b`, that may run a minute and is not retried. Returns its id.
fn running() -> (World, String) {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.maxexectime = 60;
    spec.maxretries = 0;
    spec.channels = vec!["out".into(), "in".into()];
    let id = w.submit(spec).processid;
    w.assign(EXEC_B).unwrap();
    (w, id)
}

fn append(processid: &str, name: &str, sequence: i64, payload: &[u8]) -> Op {
    Op::ChannelAppend {
        append: Box::new(Append {
            processid: processid.into(),
            name: name.into(),
            sequence,
            inreplyto: 0,
            payload: payload.to_vec(),
            kind: String::new(),
        }),
    }
}

fn read(state: &State, caller: &str, processid: &str, name: &str, afterseq: i64) -> Vec<MsgEntry> {
    state.channel_read(caller, processid, name, afterseq, 0).unwrap()
}

fn payloads(entries: &[MsgEntry]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.payload.0.clone()).collect()
}

#[test]
fn messages_keep_the_order_of_the_log_and_are_numbered_by_the_state_machine() {
    let (mut w, id) = running();
    w.ok(EXEC_A, append(&id, "in", 7, b"question"));
    w.ok(EXEC_B, append(&id, "out", 1, b"one"));
    w.ok(EXEC_B, append(&id, "out", 2, b"two"));
    w.ok(EXEC_A, append(&id, "out", 2, b"three"));
    let all = read(&w.state, EXEC_A, &id, "out", 0);
    assert_eq!(payloads(&all), [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
    assert_eq!(all.iter().map(|e| e.sequence).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all.iter().map(|e| e.senderid.as_str()).collect::<Vec<_>>(), [EXEC_B, EXEC_B, EXEC_A]);
    assert_eq!(all[0].timestamp, at(0));
    assert_eq!(payloads(&read(&w.state, EXEC_B, &id, "out", 2)), [b"three".to_vec()], "afterseq is a position");
    assert!(read(&w.state, EXEC_B, &id, "out", 3).is_empty());
    assert!(read(&w.state, EXEC_B, &id, "out", 99).is_empty());
    assert_eq!(w.state.channel_read(EXEC_B, &id, "out", 0, 2).unwrap().len(), 2, "limit");
    assert_eq!(read(&w.state, EXEC_B, &id, "in", 0).len(), 1, "channels are apart");
    let events = w.state.drain_events();
    assert!(events.contains(&Event::ChannelAppended { processid: id.clone(), name: "out".into() }));
}

#[test]
fn a_repeated_sender_sequence_is_a_retry_and_is_stored_once() {
    let (mut w, id) = running();
    w.ok(EXEC_B, append(&id, "out", 1, b"one"));
    w.ok(EXEC_B, append(&id, "out", 1, b"one"));
    w.ok(EXEC_A, append(&id, "out", 1, b"same number, other sender"));
    w.ok(EXEC_B, append(&id, "out", 0, b"no number"));
    w.ok(EXEC_B, append(&id, "out", 0, b"no number"));
    assert_eq!(read(&w.state, EXEC_A, &id, "out", 0).len(), 4);
}

#[test]
fn only_the_initiator_and_the_assigned_executor_may_use_a_channel() {
    let (mut w, id) = running();
    w.add_executor(STRANGER, "c", "cli");
    w.ok(
        COLONY_OWNER,
        Op::AddUser {
            user: User { colonyname: COLONY.into(), userid: USER.into(), name: "u".into(), ..User::default() },
        },
    );
    w.ok(SERVER, Op::AddColony { colony: Colony { colonyid: OTHER_OWNER.into(), name: "other".into() } });
    for caller in [STRANGER, USER] {
        let e = w.refused(caller, append(&id, "out", 0, b"x"));
        assert_eq!((e.status, e.message.as_str()), (403, "Not authorized to append to channel"));
        let e = w.state.channel_read(caller, &id, "out", 0, 0).unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (403, "Not authorized to read channel"));
    }
    for caller in [COLONY_OWNER, OTHER_OWNER, SERVER] {
        let e = w.refused(caller, append(&id, "out", 0, b"x"));
        assert_eq!(e.status, 403, "{caller}: {e}");
        assert!(e.message.starts_with("Access denied"), "{e}");
        assert_eq!(w.state.channel_read(caller, &id, "out", 0, 0).unwrap_err().status, 403);
    }
    let e = w.refused(EXEC_B, append(&id, "nosuch", 0, b"x"));
    assert_eq!((e.status, e.message.as_str()), (404, "Channel not found"));
    let e = w.refused(EXEC_B, append(&pid(999), "out", 0, b"x"));
    assert_eq!((e.status, e.message.as_str()), (404, "Process not found"));
}

#[test]
fn the_initiator_may_use_the_channel_of_a_waiting_process() {
    let mut w = World::new();
    let mut spec = World::spec("other");
    spec.channels = vec!["in".into()];
    let id = w.submit(spec).processid;
    w.ok(EXEC_A, append(&id, "in", 1, b"early"));
    assert_eq!(read(&w.state, EXEC_A, &id, "in", 0).len(), 1);
    assert_eq!(w.refused(EXEC_B, append(&id, "in", 1, b"x")).status, 403, "nobody is assigned yet");
}

#[test]
fn channels_end_with_their_process() {
    let ends: [fn(&mut World, &str); 4] = [
        |w, id| {
            w.ok(EXEC_B, Op::CloseSuccessful { processid: id.into(), out: vec![] });
        },
        |w, id| {
            w.ok(EXEC_B, Op::CloseFailed { processid: id.into(), errors: vec![] });
        },
        |w, id| {
            w.ok(EXEC_A, Op::CancelProcess { processid: id.into() });
        },
        |w, _| w.tick(61),
    ];
    for end in ends {
        let (mut w, id) = running();
        w.ok(EXEC_B, append(&id, "out", 1, b"one"));
        let with_messages = w.state.digest();
        end(&mut w, &id);
        let e = w.state.channel_read(EXEC_A, &id, "out", 0, 0).unwrap_err();
        assert!(e.status == 404, "{e}");
        assert!(w.refused(EXEC_B, append(&id, "out", 2, b"late")).status == 404);
        // The messages are gone from the replicated data, not only hidden.
        assert!(w.process(&id).state.code() >= 2, "the process ended");
        let (mut bare, _) = running();
        end(&mut bare, &id);
        assert_eq!(w.state.digest(), bare.state.digest(), "{with_messages}");
    }
}

#[test]
fn a_removed_process_takes_its_messages_along() {
    let removed = |with_message: bool| {
        let mut w = World::new();
        let mut spec = World::spec("other");
        spec.channels = vec!["in".into()];
        let id = w.submit(spec).processid;
        if with_message {
            w.ok(EXEC_A, append(&id, "in", 1, b"early"));
        }
        w.ok(EXEC_A, Op::RemoveProcess { processid: id });
        w.state.digest()
    };
    assert_eq!(removed(true), removed(false));
}

#[test]
fn a_full_channel_and_too_many_channels_are_refused_with_the_state_unchanged() {
    let (mut w, id) = running();
    for n in 0..MAX_CHANNEL_ENTRIES {
        // A second a hundred keeps the rate limit out of the way.
        w.clock = (n as i64) / CHANNEL_RATE_PER_SECOND;
        w.ok(EXEC_B, append(&id, "out", 0, b""));
    }
    w.clock += 10;
    let e = w.refused(EXEC_B, append(&id, "out", 0, b"x"));
    assert_eq!((e.status, e.message.as_str()), (400, "Channel is full, at most 10000 messages are allowed"));
    w.ok(EXEC_B, append(&id, "in", 0, b"the other channel has room"));

    let mut spec = World::spec("cli");
    spec.channels = (0..=MAX_CHANNELS_PER_PROCESS).map(|n| format!("c{n}")).collect();
    let e = w.submit_spec(EXEC_A, spec).unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.contains("at most 100 channels"), "{e}");

    let bad_kind = Op::ChannelAppend {
        append: Box::new(Append {
            processid: id.clone(),
            name: "in".into(),
            sequence: 0,
            inreplyto: 0,
            payload: vec![],
            kind: "shout".into(),
        }),
    };
    assert_eq!(w.refused(EXEC_B, bad_kind).status, 400);
}

#[test]
fn payloads_are_bounded_one_by_one_and_per_process() {
    let (mut w, id) = running();
    let e = w.refused(EXEC_B, append(&id, "out", 0, &vec![0; MAX_CHANNEL_PAYLOAD_BYTES + 1]));
    assert_eq!(e.status, 400);
    assert!(e.message.contains("payload too large"), "{e}");
    let big = vec![7; MAX_CHANNEL_PAYLOAD_BYTES];
    let fits = MAX_CHANNEL_BYTES_PER_PROCESS / MAX_CHANNEL_PAYLOAD_BYTES;
    for n in 0..fits {
        let name = if n % 2 == 0 { "out" } else { "in" };
        w.ok(EXEC_B, append(&id, name, 0, &big));
    }
    let e = w.refused(EXEC_B, append(&id, "in", 0, &big));
    assert_eq!(e.status, 400);
    assert!(e.message.contains("at most 67108864 payload bytes"), "the budget is the process's: {e}");
    w.ok(EXEC_B, append(&id, "in", 0, b"small ones still fit"));
}

#[test]
fn appends_beyond_the_burst_wait_for_the_rate() {
    let (mut w, id) = running();
    for _ in 0..CHANNEL_RATE_BURST {
        w.ok(EXEC_B, append(&id, "out", 0, b""));
    }
    let e = w.refused(EXEC_A, append(&id, "in", 0, b""));
    assert_eq!(e.status, 429, "the limit is per process, whichever channel: {e}");
    w.clock = 1;
    for _ in 0..CHANNEL_RATE_PER_SECOND {
        w.ok(EXEC_B, append(&id, "out", 0, b""));
    }
    assert_eq!(w.refused(EXEC_B, append(&id, "out", 0, b"")).status, 429);
}

#[test]
fn channel_messages_survive_a_snapshot() {
    let (mut w, id) = running();
    w.ok(EXEC_B, append(&id, "out", 1, b"kept"));
    let loaded = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(payloads(&read(&loaded, EXEC_A, &id, "out", 0)), [b"kept".to_vec()]);
    assert_eq!(loaded.digest(), w.state.digest());
}

#[test]
fn payloads_are_base64_on_the_wire_and_byte_arrays_are_read_too() {
    let entry: MsgEntry = serde_json::from_str(r#"{"sequence":1,"payload":[104,105]}"#).unwrap();
    assert_eq!(entry.payload.0, b"hi");
    let json = serde_json::to_value(&entry).unwrap();
    assert_eq!(json["payload"], "aGk=");
    assert!(json.get("inreplyto").is_none() && json.get("type").is_none() && json.get("error").is_none());
    let entry: MsgEntry = serde_json::from_str(r#"{"payload":"aGk="}"#).unwrap();
    assert_eq!(entry.payload.0, b"hi");
}
