//! Whatever arrives at `/api` or `/pubsub`, the decoders and checks a node runs before
//! anything is proposed must answer with a value or an error: no panic, and no allocation
//! out of proportion to the input (issue 13).
//!
//! This binary counts the bytes its thread allocates while decoding, with a global
//! allocator of its own, so the bound is measured, not assumed.

use colonies_client::envelope::{RpcRequest, decode_payload, encode_payload};
use colonies_client::messages::Message;
use colonies_node::action::Action;
use colonies_node::dispatch::dispatch;
use colonies_node::limits::check_message;
use colonies_statemachine::Time;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with`: the allocator also runs while thread locals are torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATED.try_with(|total| total.set(total.get() + bytes));
        }
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated by this thread while `f` runs.
fn allocated_by(f: impl FnOnce()) -> usize {
    ALLOCATED.with(|t| t.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    ALLOCATED.with(|t| t.get())
}

/// Generous: JSON values cost tens of bytes per input byte (a `[]` is a 32-byte value and
/// a vector), and growing vectors count each size they pass through. What matters is that
/// the cost is linear: a length field claiming gigabytes must not be believed.
fn budget(input: usize) -> usize {
    400 * input + (256 << 10)
}

/// What a node does with a request body before proposing anything.
fn serve_body(body: &[u8]) {
    let Ok(request) = serde_json::from_slice::<RpcRequest>(body) else { return };
    let json = decode_payload(&request.payload).unwrap_or_default();
    decode_as_every_type(&json);
}

fn decode_as_every_type(json: &[u8]) {
    for payloadtype in Message::PAYLOAD_TYPES {
        if let Ok(message) = Message::decode(payloadtype, json)
            && check_message(&message).is_ok()
        {
            let mut n = 0u64;
            let mut new_id = || {
                n += 1;
                format!("{n:064x}")
            };
            // Dispatch only builds the action; a read's query would run on the state.
            match dispatch(message, Time::ZERO, &mut new_id) {
                Action::Read { .. } | Action::Write { .. } | Action::Assign { .. } => {}
                Action::Cluster | Action::Refuse(_) => {}
            }
        }
    }
}

/// Arbitrary JSON, nested a few levels.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A message-shaped object: known field names with arbitrary values, and some payload
/// type's `msgtype`, so the decoders get past their first checks.
fn message_like() -> impl Strategy<Value = serde_json::Value> {
    let field = prop::sample::select(vec![
        "colonyname",
        "executorname",
        "processid",
        "timeout",
        "count",
        "state",
        "spec",
        "colony",
        "executor",
        "attribute",
        "user",
        "fun",
        "out",
        "errors",
        "message",
        "seconds",
        "days",
        "since",
        "functionspecs",
        "conditions",
        "kwargs",
        "env",
    ]);
    (prop::collection::btree_map(field, json_value(), 0..8), prop::sample::select(Message::PAYLOAD_TYPES)).prop_map(
        |(fields, msgtype)| {
            let mut object: serde_json::Map<String, serde_json::Value> =
                fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            object.insert("msgtype".into(), msgtype.into());
            serde_json::Value::Object(object)
        },
    )
}

// proptest's default of 256 cases per property in CI; `PROPTEST_CASES` sets more for a long
// local run (the README's "Fuzzing").
proptest! {

    #[test]
    fn arbitrary_bodies_cost_in_proportion_and_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let used = allocated_by(|| serve_body(&body));
        prop_assert!(used <= budget(body.len()), "{used} bytes for a {}-byte body", body.len());
    }

    #[test]
    fn arbitrary_payload_text_is_decoded_or_refused(payload in ".{0,512}") {
        let request = RpcRequest { payloadtype: "x".into(), payload: payload.clone(), signature: String::new() };
        let body = serde_json::to_vec(&request).unwrap();
        let used = allocated_by(|| {
            let _ = decode_payload(&payload);
            serve_body(&body);
        });
        prop_assert!(used <= budget(body.len()));
    }

    #[test]
    fn arbitrary_json_as_every_payload_type(value in json_value()) {
        let json = serde_json::to_vec(&value).unwrap();
        let used = allocated_by(|| decode_as_every_type(&json));
        // Every type decodes it once: the budget is per type.
        prop_assert!(used <= Message::PAYLOAD_TYPES.len() * budget(json.len()));
    }

    #[test]
    fn message_shaped_json_through_envelope_decode_and_checks(value in message_like()) {
        let json = serde_json::to_vec(&value).unwrap();
        let payloadtype = value["msgtype"].as_str().unwrap_or_default().to_string();
        let request = RpcRequest { payloadtype, payload: encode_payload(&json), signature: String::new() };
        let body = serde_json::to_vec(&request).unwrap();
        let used = allocated_by(|| serve_body(&body));
        prop_assert!(used <= Message::PAYLOAD_TYPES.len() * budget(body.len()));
    }
}

/// Inputs that decoders may be fooled by: an empty payload, a long one of no JSON, deep
/// nesting, a lone surrogate.
#[test]
fn short_inputs_that_claim_large_sizes_allocate_little() {
    for body in [
        br#"{"payloadtype":"submitfuncspecmsg","payload":"","signature":""}"#.to_vec(),
        format!(r#"{{"payloadtype":"x","payload":"{}"}}"#, "A".repeat(4096)).into_bytes(),
        b"[".repeat(10_000),
        br#"{"payload":"\ud800"}"#.to_vec(),
    ] {
        let used = allocated_by(|| serve_body(&body));
        assert!(used <= budget(body.len()), "{used} bytes for {} bytes", body.len());
    }
}

/// The measurement itself: a bound checked against a counter that never moves proves
/// nothing.
#[test]
fn the_counter_sees_this_threads_allocations() {
    let used = allocated_by(|| drop(std::hint::black_box(vec![0u8; 10_000])));
    assert!(used >= 10_000, "{used}");
}
