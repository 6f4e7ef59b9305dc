//! Channels across a leader's death (§6.14, §7.3): an append that was answered is never
//! lost, and a subscriber that loses its node resumes on another after the last sequence
//! it got, ending with every message once, in order.

mod common;

use colonies_client::channels::ChannelEnd;
use colonies_client::messages::{AssignProcessMsg, ChannelAppendMsg, SubmitFunctionSpecMsg, SubscribeChannelMsg};
use colonies_client::rpc::Client;
use colonies_statemachine::channels::{Bytes, MsgEntry};
use colonies_statemachine::model::Process;
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PRODUCER_KEY: &str = "0b2fa8a53a8b1f0b2c4d1e2f3a4b5c6d7e8f90112233445566778899aabbccdd";
/// Messages the producer appends.
const MESSAGES: usize = 1_000;
/// The leader dies once the subscriber has this many.
const KILL_AFTER: usize = MESSAGES / 3;
/// The whole exchange must be over by then (the rate limit alone takes 5 s for 1,000).
const DEADLINE: Duration = Duration::from_secs(120);

/// Appends message `n` until an answer says it is stored: a failed try may or may not have
/// been applied, and the repeat of the sender's sequence is then taken as a retry.
async fn append(client: &Client, processid: &str, n: usize) {
    let message = ChannelAppendMsg {
        processid: processid.into(),
        name: "stream".into(),
        sequence: n as i64,
        payload: Bytes(n.to_string().into_bytes()),
        ..Default::default()
    };
    let started = Instant::now();
    loop {
        match client.send(&key(PRODUCER_KEY), &message.clone().into()).await {
            Ok(_) => return,
            // 429 is the rate limit; anything else here is the leader change.
            Err(e) => {
                assert!(started.elapsed() < DEADLINE, "append {n} kept failing: {e}");
                assert!(!matches!(e.status(), Some(400 | 403 | 404)), "append {n} refused: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Follows the channel, starting on node `first` and moving to the next node whenever the
/// connection is lost, until it holds `MESSAGES` messages.
async fn subscribe(addrs: Vec<String>, first: usize, processid: String, received: Arc<AtomicUsize>) -> Vec<MsgEntry> {
    let mut entries: Vec<MsgEntry> = Vec::new();
    let mut node = first;
    let mut reconnects = 0;
    let started = Instant::now();
    while entries.len() < MESSAGES {
        assert!(started.elapsed() < DEADLINE, "only {} messages by the deadline", entries.len());
        let client = Client::new(vec![addrs[node].clone()]);
        let message = SubscribeChannelMsg {
            processid: processid.clone(),
            name: "stream".into(),
            afterseq: entries.last().map_or(0, |e| e.sequence),
            timeout: DEADLINE.as_secs() as i64,
        };
        let end = client
            .subscribe_channel(&key(EXECUTOR_KEY), message, |batch| {
                entries.extend(batch);
                received.store(entries.len(), Ordering::SeqCst);
                entries.len() < MESSAGES
            })
            .await;
        match end {
            Ok(ChannelEnd::Stopped) => {}
            Ok(ChannelEnd::Ended) => panic!("the subscription ended with {} messages", entries.len()),
            Ok(ChannelEnd::Lost) | Err(_) => {
                reconnects += 1;
                node = (node + 1) % addrs.len();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(reconnects >= 1, "the subscriber was on the leader, so it must have lost its node");
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_every_message_once_in_order_across_a_leader_kill() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    add_executor(&client, &key(PRODUCER_KEY), "producer", "producer").await;
    let mut spec = dev_spec("stream");
    spec.conditions.executortype = "producer".into();
    spec.channels = vec!["stream".into()];
    let submitted: Process = client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap();
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 10, ..Default::default() };
    let assigned: Process = client.call(&key(PRODUCER_KEY), assign).await.unwrap();
    assert_eq!(assigned.processid, submitted.processid);

    // The subscriber starts on the leader, which dies; the producer goes through a follower.
    let leader = cluster.wait_leader(STARTUP);
    let follower = (leader + 1) % cluster.nodes.len();
    let received = Arc::new(AtomicUsize::new(0));
    let subscriber = tokio::spawn(subscribe(cluster.addrs(), leader, submitted.processid.clone(), received.clone()));
    let processid = submitted.processid.clone();
    let producer_addr = cluster.addrs()[follower].clone();
    let producer = tokio::spawn(async move {
        let client = Client::new(vec![producer_addr]);
        for n in 1..=MESSAGES {
            append(&client, &processid, n).await;
        }
    });

    let started = Instant::now();
    while received.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(started.elapsed() < DEADLINE, "the subscriber got {} messages", received.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_at = started.elapsed();
    cluster.kill(leader);
    producer.await.unwrap();
    let produced = started.elapsed();
    let entries = subscriber.await.unwrap();
    eprintln!(
        "leader killed after {killed_at:?} ({KILL_AFTER} received); {MESSAGES} appended after {produced:?}, \
         all received after {:?}",
        started.elapsed()
    );

    let payloads: Vec<String> = entries.iter().map(|e| String::from_utf8_lossy(&e.payload.0).into_owned()).collect();
    let expected: Vec<String> = (1..=MESSAGES).map(|n| n.to_string()).collect();
    assert_eq!(payloads, expected, "every message once, in the order appended");
    let sequences: Vec<i64> = entries.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=MESSAGES as i64).collect::<Vec<_>>());
    assert!(entries.iter().all(|e| e.senderid == key(PRODUCER_KEY).id()));

    // The dead leader comes back and holds the same channel as the others.
    cluster.spawn(leader);
    cluster.wait_converged(STARTUP);
}
