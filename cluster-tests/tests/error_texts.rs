//! Every error text a node can answer with (`colonies_statemachine::texts`), as the
//! reference server spells it (issue 15): for each, the request that triggers it against a
//! real cluster, and the exact status and message expected. The expected texts are written
//! out here, from the reference's source, not computed with `texts`.
//!
//! `every_text_is_in_the_table_or_said_to_be_unreachable` fails when `texts` gains a
//! text that neither the table, the dedicated checks, nor `NOT_TRIGGERED` names.

mod common;
mod texts_world;

use colonies_client::envelope::{RpcReply, RpcRequest};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::*;
use colonies_client::rpc::{Client, ClientError};
use colonies_statemachine::texts::DECODE_FAILURES;
use common::*;
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::time::Duration;
use texts_world::cases::*;
use texts_world::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Texts no request from outside can produce, and why.
const NOT_TRIGGERED: &[(&str, &str)] = &[
    ("ORIGIN_NOT_ALLOWED", "needs --cors-origins, which this cluster does not set; tests/browser.rs triggers it"),
    ("reencode_failed", "every decoded message encodes again"),
    ("verify_failed", "the blocking pool lost a verification task (a panic or a runtime shutting down)"),
    ("LEADER_ONLY", "no message maps to a timer, scheduled run or liveness command"),
    ("SERVER_ID_ALREADY_SET", "only the leader's own first proposal carries no caller"),
    ("ADD_FUNCTION_EMPTY_ID", "the node draws an id for a function sent without one"),
    ("NO_INITIATOR", "membership, checked first, means an executor or user name exists"),
    ("PROCESS_ID_NOT_NEW", "process ids are drawn by the node"),
    ("ASSIGNED_PROCESS_VANISHED", "an assignment and its read are one apply"),
    ("SUCCESSFUL_FROM_WAITING", "a waiting process has no assigned executor, so the assigned check answers first"),
    ("CHANGE_COLONY_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("CHANGE_EXECUTOR_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("CHANGE_USER_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("CHANGE_SERVER_ID_LENGTH", "an id that is not 64 hex digits is refused by the field limits first"),
    ("WORKFLOW_IDS_MISSING", "the node draws one process id per function spec"),
    ("GRAPH_ID_NOT_NEW", "graph ids are drawn by the node"),
    ("CRON_ID_NOT_NEW", "cron ids are drawn by the node"),
    ("cron_run_done", "only the leader names a scheduled run"),
    ("CRON_RUN_NOT_DUE", "only the leader names a scheduled run"),
    ("GENERATOR_ID_NOT_NEW", "generator ids are drawn by the node"),
    ("RUN_GENERATOR_MISSING", "only the leader runs generators"),
    ("generator_run_done", "only the leader runs generators"),
    ("GENERATOR_RUN_NOT_DUE", "only the leader runs generators"),
    ("body_unreadable", "the connection must fail in the middle of a body"),
    ("SHUTTING_DOWN", "a node must stop while it reads or verifies the request"),
    ("TOO_MANY_CONNECTIONS", "needs --max-connections reached; security.rs exercises the cap"),
    ("not_ready", "a node answers it only while it loads its state at start"),
    ("NO_MAJORITY", "needs a leader cut off from its followers (the chaos suite)"),
    ("NO_LEADER", "needs a cluster without a leader (bad_day.rs)"),
    ("leader_answer_cut", "needs a leader that dies while it answers a forwarded call"),
    ("leader_unreachable", "needs a leader that dies after a follower found it alive"),
    ("FILE_ID_NOT_NEW", "file ids are drawn by the node"),
    ("SNAPSHOT_ID_NOT_NEW", "snapshot ids are drawn by the node"),
    ("LOCATION_ID_MISSING", "location ids are drawn by the node"),
    ("too_many_files", "needs MAX_FILES_PER_COLONY files; statemachine/tests/files.rs reaches the limit"),
    ("too_many_snapshots", "needs MAX_SNAPSHOTS_PER_COLONY snapshots"),
    ("too_many_locations", "needs MAX_LOCATIONS_PER_COLONY locations"),
    ("channel_payload_too_large", "the body limit (--max-body, 2 MiB) refuses such a payload first"),
    ("channel_full", "needs 10,000 appends to one channel; statemachine/tests/channels.rs fills one"),
    (
        "channel_bytes_exhausted",
        "needs 64 MiB of payloads (over 40 appends at the body limit); statemachine/tests/channels.rs",
    ),
    ("channel_rate_limited", "needs over 500 appends in 5 s; statemachine/tests/channels.rs checks the rate"),
    ("RECONCILE_DONE", "only the leader names a periodic reconciliation"),
];

/// Texts checked by the dedicated steps of the test rather than by table rows.
const DEDICATED: &[&str] = &[
    "signature_not_hex",
    "INVALID_SIGNATURE_LENGTH",
    "recovery_code_out_of_range",
    "HIGH_S",
    "recovery_failed",
    "DECODE_FAILURES",
    "decode_failures",
    "unknown_payload_type",
    "UNKNOWN_EMPTY_PAYLOAD_TYPE",
    "ASSIGN_PAUSED",
    "ASSIGN_PAUSED_TIMEOUT",
    "too_many_attributes",
    "too_many_logs",
    "subscribe_unknown_process",
    "SUBSCRIBE_NO_EXECUTOR",
    "body_too_large",
    "body_too_slow",
    "not_the_leader",
];

/// The names of the texts in `texts`: every `pub const` and `pub fn`.
fn text_names() -> BTreeSet<String> {
    [
        include_str!("../../statemachine/src/texts/mod.rs"),
        include_str!("../../statemachine/src/texts/decode.rs"),
        include_str!("../../statemachine/src/texts/files.rs"),
        include_str!("../../statemachine/src/texts/blueprints.rs"),
    ]
    .iter()
    .flat_map(|source| source.lines())
    .filter_map(|line| line.strip_prefix("pub const ").or_else(|| line.strip_prefix("pub fn ")))
    .map(|rest| rest.split([':', '(']).next().unwrap_or_default().trim().to_string())
    .collect()
}

#[test]
fn every_text_is_in_the_table_or_said_to_be_unreachable() {
    let names = text_names();
    assert!(names.len() > 100, "the texts module was not read: {names:?}");
    let rows: BTreeSet<String> = cases(&World::placeholder()).iter().map(|c| c.text.to_string()).collect();
    let dedicated: BTreeSet<String> = DEDICATED.iter().map(|s| s.to_string()).collect();
    let unreachable: BTreeSet<String> = NOT_TRIGGERED.iter().map(|(name, _)| name.to_string()).collect();
    for name in &names {
        let places = [&rows, &dedicated, &unreachable].iter().filter(|set| set.contains(name)).count();
        assert_eq!(places, 1, "{name} must be in exactly one of the table, DEDICATED and NOT_TRIGGERED");
    }
    for name in rows.iter().chain(&dedicated).chain(&unreachable) {
        assert!(names.contains(name), "{name} is not a text of the texts module");
    }
}

/// Sends `message` signed by `key` and checks the answer: (HTTP status, reply status, text).
async fn check(addr: &str, case: &Case) {
    let request = RpcRequest::signed(case.message.payload_type(), &case.message.to_payload_json(), &case.key);
    let (status, reply) = send_raw(addr, &request).await;
    let failure = reply.expect_err(&format!("{}: succeeded", case.text));
    assert_eq!((status, failure.status), (case.status, i64::from(case.status)), "{}: {}", case.text, failure.message);
    match &case.expected {
        Expect::Is(text) => assert_eq!(&failure.message, text, "{}", case.text),
        Expect::StartsWith(text) => {
            assert!(failure.message.starts_with(text.as_str()), "{}: {}", case.text, failure.message)
        }
    }
}

async fn raw(addr: &str, key: &PrivateKey, payloadtype: &str, payload: &[u8]) -> (u16, i64, String) {
    let (status, reply) = send_raw(addr, &RpcRequest::signed(payloadtype, payload, key)).await;
    let failure = reply.expect_err(&format!("{payloadtype} with {:?} succeeded", String::from_utf8_lossy(payload)));
    (status, failure.status, failure.message)
}

/// Every payload type's two decoding failures, and unknown payload types (§1.3).
async fn check_decoding(addr: &str, key: &PrivateKey) {
    for (payloadtype, invalid, mismatch) in DECODE_FAILURES {
        // getserverinfomsg's payload is never decoded (§6.11): it has no decoding failure.
        if *payloadtype == "getserverinfomsg" {
            continue;
        }
        assert_eq!(raw(addr, key, payloadtype, b"not json").await, (400, 400, invalid.to_string()));
        assert_eq!(raw(addr, key, payloadtype, br#"{"msgtype":"other"}"#).await, (400, 400, mismatch.to_string()));
    }
    // A few of them written out, from the reference's handlers.
    let written = [
        ("submitfuncspecmsg", b"[".as_slice(), "Failed to submit process, invalid JSON"),
        ("submitworkflowspecmsg", b"[".as_slice(), "Failed to submit workkflow, invalid JSON"),
        ("changeuseridmsg", b"[".as_slice(), "Failed to add log, invalid JSON"),
        (
            "assignprocessmsg",
            br#"{"msgtype":"x"}"#.as_slice(),
            "Failed to assign process, msg.msgType does not match payloadType",
        ),
        (
            "getstatisticsmsg",
            br#"{"msgtype":"x"}"#.as_slice(),
            "Failed to get server version, msg.MsgType does not match payloadType",
        ),
    ];
    for (payloadtype, payload, text) in written {
        assert_eq!(raw(addr, key, payloadtype, payload).await, (400, 400, text.to_string()));
    }
    assert_eq!(raw(addr, key, "nosuchmsg", b"{}").await, (403, 403, "invalid rpcMsg.PayloadType: nosuchmsg".into()));
    let empty = "invalid rpcMsg.PayloadType: empty (this usually means the client is misconfigured - check that \
                 COLONIES_PRVKEY and other environment variables are set correctly)";
    assert_eq!(raw(addr, key, "", b"{}").await, (403, 403, empty.to_string()));
}

/// Signatures the reference refuses (§2.4), each with a request otherwise valid.
async fn check_signatures(addr: &str, key: &PrivateKey) {
    let message = Message::from(GetColoniesMsg {});
    let valid = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
    let refusal = |signature: String| {
        let request = RpcRequest { signature, ..valid.clone() };
        async move {
            let (status, reply) = send_raw(addr, &request).await;
            let failure = reply.expect_err("a bad signature");
            assert_eq!((status, failure.status), (403, 403), "{}", failure.message);
            failure.message
        }
    };
    assert_eq!(refusal(String::new()).await, "Invalid signature length");
    let not_hex = refusal("zz".into()).await;
    assert!(not_hex.starts_with("encoding/hex: "), "{not_hex}");
    // r, s and v: a recovery byte of 8 is 35 to btcec.
    let signature = |r: &str, s: &str, v: &str| format!("{r}{s}{v}");
    let (one, high) = (format!("{}01", "00".repeat(31)), "ff".repeat(32));
    let code = "Failed to recover public key: invalid signature: public key recovery code 35 is not in the valid range [27, 34]";
    assert_eq!(refusal(signature(&one, &one, "08")).await, code);
    let high_s = "Failed verify signature: Signature s value is over half the order";
    assert_eq!(refusal(signature(&one, &high, "00")).await, high_s);
    let zero = "00".repeat(32);
    let unrecoverable = refusal(signature(&zero, &one, "00")).await;
    assert!(unrecoverable.starts_with("Failed to recover public key: "), "{unrecoverable}");
}

/// Paused assignments: at once (503) and after a timeout (408).
async fn check_paused(addr: &str, w: &World) {
    let pause = Message::from(PauseAssignmentsMsg { colonyname: dev() });
    let request = RpcRequest::signed(pause.payload_type(), &pause.to_payload_json(), &w.owner);
    assert_eq!(send_raw(addr, &request).await.0, 200);
    let assign = |timeout| Message::from(AssignProcessMsg { colonyname: dev(), timeout, ..Default::default() });
    let now = assign(-1);
    let at_once = raw(addr, &w.cli, now.payload_type(), &now.to_payload_json()).await;
    assert_eq!(at_once, (503, 503, "No processes available: colony assignments are paused".into()));
    let later = assign(1);
    let timed_out = raw(addr, &w.cli, later.payload_type(), &later.to_payload_json()).await;
    assert_eq!(timed_out, (408, 408, "Assignment timeout: colony assignments are paused".into()));
    let resume = Message::from(ResumeAssignmentsMsg { colonyname: dev() });
    let request = RpcRequest::signed(resume.payload_type(), &resume.to_payload_json(), &w.owner);
    assert_eq!(send_raw(addr, &request).await.0, 200);
}

/// Writers that fill a per-process limit at once, so that the leader batches them.
const FILL_LANES: usize = 16;

/// The per-process limits, filled on the process `bulk`.
async fn check_process_limits(addr: &str, w: &World) {
    let client = std::sync::Arc::new(Client::new(vec![addr.to_string()]));
    let bulk = w.bulk.processid.clone();
    let fill = |count: usize, make: std::sync::Arc<dyn Fn(usize) -> Message + Send + Sync>| -> Vec<_> {
        (0..FILL_LANES)
            .map(|lane| {
                let (client, make, key) = (client.clone(), make.clone(), w.cli.clone());
                tokio::spawn(async move {
                    for i in (lane..count).step_by(FILL_LANES) {
                        client.send(&key, &make(i)).await.unwrap();
                    }
                })
            })
            .collect()
    };
    let target = bulk.clone();
    let attributes = std::sync::Arc::new(move |i: usize| {
        Message::from(AddAttributeMsg { attribute: Some(attribute(&target, &format!("key{i}"))) })
    });
    for lane in fill(colonies_statemachine::MAX_ATTRIBUTES_PER_PROCESS, attributes) {
        lane.await.unwrap();
    }
    let one_more = Message::from(AddAttributeMsg { attribute: Some(attribute(&bulk, "last")) });
    let refused = raw(addr, &w.cli, one_more.payload_type(), &one_more.to_payload_json()).await;
    let text = "Failed to add attribute, the process has 1024 attributes, the most allowed";
    assert_eq!(refused, (400, 400, text.to_string()));
    let target = bulk.clone();
    let logs = std::sync::Arc::new(move |i: usize| {
        Message::from(AddLogMsg { processid: target.clone(), message: format!("line {i}") })
    });
    for lane in fill(colonies_statemachine::MAX_LOGS_PER_PROCESS, logs) {
        lane.await.unwrap();
    }
    let one_more = Message::from(AddLogMsg { processid: bulk, message: "last".into() });
    let refused = raw(addr, &w.cli, one_more.payload_type(), &one_more.to_payload_json()).await;
    let text = "Failed to add log, the process has 10000 log lines, the most allowed";
    assert_eq!(refused, (400, 400, text.to_string()));
}

/// The error frame a `/pubsub` subscription gets for `message` signed by `key`.
async fn subscription_refusal(addr: &str, key: &PrivateKey, message: Message) -> (i64, String) {
    use tokio_tungstenite::tungstenite::Message as Frame;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/pubsub")).await.unwrap();
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
    socket.send(Frame::text(serde_json::to_string(&request).unwrap())).await.unwrap();
    let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an answer within 10 s");
    let Some(Ok(Frame::Text(text))) = frame else { panic!("no error frame: {frame:?}") };
    let reply: RpcReply = serde_json::from_str(text.as_str()).unwrap();
    let failure = reply.into_result().expect_err("a refusal");
    (failure.status, failure.message)
}

async fn check_subscriptions(addr: &str, w: &World) {
    let ghost = random_id();
    let unknown =
        SubscribeProcessMsg { colonyname: dev(), processid: ghost.clone(), state: 2, timeout: 5, ..Default::default() };
    let via_client = Client::new(vec![addr.to_string()]).subscribe_process(&w.cli, unknown).await;
    match via_client {
        Err(ClientError::Server(failure)) => {
            assert_eq!((failure.status, failure.message), (403, format!("Invalid process with Id {ghost}")))
        }
        other => panic!("a subscription to an unknown process: {other:?}"),
    }
    let processes = SubscribeProcessesMsg { colonyname: dev(), executortype: "cli".into(), state: 2, timeout: 5 };
    assert_eq!(subscription_refusal(addr, &w.ada, processes.into()).await, (403, "executor not found".into()));
    let channel =
        SubscribeChannelMsg { processid: w.running.processid.clone(), name: "chat".into(), ..Default::default() };
    assert_eq!(
        subscription_refusal(addr, &w.ada, channel.into()).await,
        (403, "Not authorized to read channel".into())
    );
    let wrong = GetProcessMsg { processid: ghost };
    let mismatch = "Failed to subscribe to process, msg.msgType does not match rpcMsg.PayloadType";
    assert_eq!(subscription_refusal(addr, &w.cli, wrong.into()).await, (403, mismatch.into()));
}

/// A body over `--max-body` (413), and one that stops arriving (408, after 30 s).
async fn check_bodies(addr: &str) -> tokio::task::JoinHandle<String> {
    let big = vec![b' '; 3 << 20];
    let answer = reqwest::Client::new().post(format!("http://{addr}/api")).body(big).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 413);
    let reply: RpcReply = answer.json().await.unwrap();
    let failure = reply.into_result().expect_err("refused");
    assert_eq!(failure.message, "Request body too large: at most 2097152 bytes are accepted (--max-body)");
    let addr = addr.to_string();
    tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!("POST /api HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n{{\"payload");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "no answer to a stalled body within 60 s");
        String::from_utf8_lossy(&answer).into_owned()
    })
}

/// A follower's redirect to the leader (307), read without following it.
async fn check_redirect(cluster: &colonies_cluster_tests::Cluster, leader: usize, key: &PrivateKey) {
    let follower = (0..cluster.nodes.len()).find(|i| *i != leader).unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let message = Message::from(GetColoniesMsg {});
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
    let answer =
        http.post(format!("http://{}/api", cluster.nodes[follower].addr())).json(&request).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 307);
    let reply: RpcReply = answer.json().await.unwrap();
    let failure = reply.into_result().expect_err("a redirect");
    let expected = format!("Not the leader; the leader is at http://{}/api", cluster.nodes[leader].addr());
    assert_eq!((failure.status, failure.message), (307, expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_text_is_answered_as_the_reference_spells_it() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let leader = cluster.wait_leader(STARTUP);
    let addr = cluster.nodes[leader].addr();
    let world = build(&Client::new(vec![addr.clone()])).await;
    let stalled = check_bodies(&addr).await;
    let table = cases(&world);
    for case in &table {
        check(&addr, case).await;
    }
    check_decoding(&addr, &world.cli).await;
    check_signatures(&addr, &world.cli).await;
    check_paused(&addr, &world).await;
    check_subscriptions(&addr, &world).await;
    check_redirect(&cluster, leader, &world.server).await;
    check_process_limits(&addr, &world).await;
    let answer = stalled.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    let reply: RpcReply = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    let failure = reply.into_result().expect_err("a refusal");
    assert_eq!((failure.status, failure.message.as_str()), (408, "The request body did not arrive within 30 s"));
    eprintln!("{} table rows and the dedicated checks passed", table.len());
}
