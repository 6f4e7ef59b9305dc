//! Faults of a bad day (issue 12), each reproduced against real node processes: a full
//! restart right after an assignment, an isolated leader, a restart with a long log, a full
//! disk.

mod common;

use colonies_client::envelope::RpcRequest;
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AssignProcessMsg, CloseSuccessfulMsg, GetProcessMsg, Message, SubmitFunctionSpecMsg};
use colonies_client::rpc::Client;
use colonies_cluster_tests::{Cluster, admin_get, http_get};
use colonies_statemachine::model::{Process, ProcessState};
use common::*;
use std::time::{Duration, Instant};

/// Rounds of the full-restart test; the fault showed in every round before the fix.
const RESTART_ROUNDS: usize = 3;
/// How long the old leader runs alone before the others come back.
const ALONE: Duration = Duration::from_secs(1);

/// All three nodes die a moment after an assignment is acknowledged, and the old leader
/// comes back first: it leads again at once (its vote is committed) but has not applied
/// the assignment, which it committed before it died. The assignee's close must succeed
/// once the others are back: the leader may not judge it against a state that lags what it
/// committed, and while it cannot tell, its answer is a retryable 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_after_a_full_restart_is_judged_on_the_caught_up_state() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let executor = key(EXECUTOR_KEY);
    for round in 0..RESTART_ROUNDS {
        let submitted: Process =
            client.call(&executor, SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) }).await.unwrap();
        let leader = cluster.wait_leader(STARTUP);
        let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
        let assigned: Process = client.call(&executor, assign).await.unwrap();
        assert_eq!(assigned.processid, submitted.processid);
        for i in 0..cluster.nodes.len() {
            cluster.kill(i);
        }
        cluster.spawn(leader);
        let others: Vec<usize> = (0..cluster.nodes.len()).filter(|i| *i != leader).collect();
        // The client retries while no node answers or none can serve; any other answer is final.
        let close = CloseSuccessfulMsg { processid: assigned.processid.clone(), out: vec![] }.into();
        let (closed, ()) = tokio::join!(client.send(&executor, &close), async {
            tokio::time::sleep(ALONE).await;
            for i in &others {
                cluster.spawn(*i);
            }
        });
        if let Err(e) = closed {
            let logs: Vec<String> = cluster.nodes.iter().map(|n| n.log()).collect();
            panic!("round {round}: the assignee's close was refused: {e}\n{}", logs.join("\n----\n"));
        }
        let closed: Process =
            client.call(&executor, GetProcessMsg { processid: assigned.processid.clone() }).await.unwrap();
        assert_eq!(closed.state, ProcessState::Success, "round {round}");
    }
    cluster.wait_converged(STARTUP);
}

/// A signed call to one node only, without the client's failover: (HTTP status, body).
/// Redirects are followed only by an `http` that follows them.
async fn try_one_node(
    http: &reqwest::Client,
    addr: &str,
    key: &PrivateKey,
    message: Message,
) -> reqwest::Result<(u16, String)> {
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
    let answer = http.post(format!("http://{addr}/api")).json(&request).send().await?;
    Ok((answer.status().as_u16(), answer.text().await.unwrap_or_default()))
}

/// A call to one node that answers itself: redirects are not followed.
async fn call_one_node(addr: &str, key: &PrivateKey, message: Message) -> (u16, String) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    try_one_node(&http, addr, key, message).await.unwrap()
}

/// Polls `/cluster` of node `i` until `done` holds for its body, for at most `within`.
fn wait_for_status(cluster: &Cluster, i: usize, within: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let body = admin_get(&cluster.nodes[i].addr(), "/cluster").map(|(_, body)| body).unwrap_or_default();
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "node {} never got there; last status: {body}", i + 1);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A leader whose followers stop answering (SIGSTOP: as good as a partition) stops naming
/// itself leader once no majority has acknowledged it for a while, answers the long-poll it
/// holds and new writes with a retryable 503, and the cluster heals when the others return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_from_the_majority_stops_claiming_to_lead() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let leader = cluster.wait_leader(STARTUP);
    let leader_addr = cluster.nodes[leader].addr();
    let held = {
        let addr = leader_addr.clone();
        let poll = AssignProcessMsg { colonyname: "dev".into(), timeout: 60, ..Default::default() };
        tokio::spawn(async move { call_one_node(&addr, &key(EXECUTOR_KEY), poll.into()).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let others: Vec<usize> = (0..cluster.nodes.len()).filter(|i| *i != leader).collect();
    for i in &others {
        cluster.signal(*i, "STOP");
    }
    let status =
        wait_for_status(&cluster, leader, Duration::from_secs(15), |body| body.contains("LeaderWithoutMajority"));
    assert!(status.contains("\"leader\":null"), "it names no leader: {status}");
    let (held_status, held_body) = tokio::time::timeout(Duration::from_secs(30), held).await.unwrap().unwrap();
    assert_eq!(held_status, 503, "the held long-poll is told to go elsewhere: {held_body}");
    let submit = SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) };
    let (write_status, write_body) = call_one_node(&leader_addr, &key(EXECUTOR_KEY), submit.into()).await;
    assert_eq!(write_status, 503, "a write is refused as retryable: {write_body}");

    for i in &others {
        cluster.signal(*i, "CONT");
    }
    cluster.wait_leader(STARTUP);
    let submit = SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) };
    let _: Process = client.call(&key(EXECUTOR_KEY), submit).await.unwrap();
    cluster.wait_converged(STARTUP);
}

/// Entries written one by one, so that a restarted node has that many to re-apply.
const REPLAYED_ENTRIES: usize = 1500;

/// A node restarted with a long log since its last snapshot listens at once: alive
/// (`/health` 200) but not ready (`/ready` 503) while it re-applies, then ready with all of
/// its state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_listens_at_once_and_is_ready_once_caught_up() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start_with(1, &["--snapshot-logs", "1000000"]);
    cluster.wait_healthy(STARTUP);
    cluster.wait_leader(STARTUP);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    for _ in 0..REPLAYED_ENTRIES {
        let _: Process =
            client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) }).await.unwrap();
    }
    let before = cluster.wait_converged(STARTUP);
    cluster.kill(0);
    cluster.spawn(0);
    let addr = cluster.nodes[0].addr();
    let (mut alive_but_unready, mut polls) = (0, 0);
    let deadline = Instant::now() + STARTUP;
    loop {
        assert!(Instant::now() < deadline, "never ready:\n{}", cluster.nodes[0].log());
        polls += 1;
        let health = http_get(&addr, "/health").map(|(status, _)| status);
        match http_get(&addr, "/ready").map(|(status, _)| status) {
            Some(200) => break,
            Some(503) if health == Some(200) => alive_but_unready += 1,
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(alive_but_unready > 0, "it listened only once ready ({polls} polls)");
    assert_eq!(cluster.wait_converged(STARTUP), before, "ready with the whole state");
}

/// A full disk stops the Raft core (sled cannot write); the node must then end with an
/// error, not stay up with a dead core and a `/health` of 200. Needs root for a tmpfs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_disk_fills_up_exits_with_an_error() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start(1);
    // The datadir must be empty and on the small disk from the start: replace it.
    cluster.kill(0);
    let datadir = cluster.nodes[0].datadir.clone();
    let _ = std::fs::remove_dir_all(&datadir);
    std::fs::create_dir_all(&datadir).unwrap();
    let Some(_disk) = SmallDisk::mount(&datadir, 16) else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (needs root)");
        return;
    };
    cluster.spawn(0);
    cluster.wait_healthy(STARTUP);
    cluster.wait_leader(STARTUP);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=1M"])
        .arg(format!("of={}", datadir.join("filler").display()))
        .stderr(std::process::Stdio::null())
        .status();
    // Writes until the node gives up; a big spec fills what is left fast.
    let mut spec = dev_spec("work");
    spec.args = vec![serde_json::json!("x".repeat(100_000)).into()];
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.nodes[0].is_running() {
        assert!(Instant::now() < deadline, "the node kept running on a full disk:\n{}", cluster.nodes[0].log());
        let submit = SubmitFunctionSpecMsg { spec: Some(spec.clone()) };
        let addr = cluster.nodes[0].addr();
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            try_one_node(&reqwest::Client::new(), &addr, &key(EXECUTOR_KEY), submit.into()),
        )
        .await;
    }
    let code = cluster.nodes[0].exit_code();
    assert!(code.is_some_and(|c| c != 0), "it exits with an error code, not {code:?}");
    assert!(cluster.nodes[0].log().contains("the Raft core stopped"), "{}", cluster.nodes[0].log());
}

/// A tmpfs of a few MiB mounted for one test, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(at: &std::path::Path, mib: u32) -> Option<SmallDisk> {
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status();
        status.is_ok_and(|s| s.success()).then(|| SmallDisk(at.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: the node (killed by the cluster's own drop, which runs later) may still hold it.
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Right after the leader dies, a follower still names it until the next election. A client
/// that knows only that follower (as ColonyOS's own CLI and SDKs do) must not be sent to the
/// dead leader: the follower holds the call until a new leader is known and sends it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_never_sends_a_client_to_a_dead_leader() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let leader = cluster.wait_leader(STARTUP);
    let follower = cluster.nodes[(leader + 1) % cluster.nodes.len()].addr();
    // Redirects are followed, as by ColonyOS's clients; no failover to other addresses.
    let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(2)).build().unwrap();
    cluster.kill(leader);
    let killed = Instant::now();
    let (mut answered, mut failed) = (0, Vec::new());
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        let submit = SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) };
        match try_one_node(&http, &follower, &key(EXECUTOR_KEY), submit.into()).await {
            Ok((200, _)) => answered += 1,
            Ok((status, body)) => failed.push(format!("status {status} after {:?}: {body}", killed.elapsed())),
            Err(e) => failed.push(format!("after {:?}: {e:?}", killed.elapsed())),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed.is_empty(), "calls through the follower failed: {failed:?}\n{}", cluster.log_tails(30));
    assert!(answered > 0);
}
