//! ColonyOS's own SDKs take one address and never fail over: a follower must carry them
//! through a leader's death (issue 15, a follower never sends a client to a dead leader).

mod common;

use colonies_cluster_tests::python::{conformance_script, python_with_pycolonies};
use common::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the Python loop runs; the leader dies about a second into it.
const LOOP_SECONDS: f64 = 8.0;

/// Kills the Python client when the test ends, also on a failed assertion.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pycolonies pointed at one follower submits, assigns and closes in a loop while the
/// leader is SIGKILLed: no call fails, no process is created twice, and the loop goes on
/// to its end after the failover.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycolonies_on_one_follower_rides_through_a_leader_kill() {
    let python = python_with_pycolonies();
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&["--forward"]);
    let leader = cluster.wait_leader(STARTUP);
    let follower = (leader + 1) % cluster.nodes.len();
    let port = cluster.nodes[follower].port.to_string();
    let mut client = Killed(
        Command::new(python)
            .arg(conformance_script("pycolonies_failover_loop.py"))
            .args(["127.0.0.1", &port, &LOOP_SECONDS.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running python"),
    );
    let (lines, received) = mpsc::channel();
    let stdout = client.0.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = String::new();
    let ready = received.recv_timeout(Duration::from_secs(60));
    if ready.as_deref() != Ok("ready") {
        let _ = client.0.kill();
        let _ = client.0.stderr.take().expect("piped").read_to_string(&mut stderr);
        panic!("the Python client did not get ready: {ready:?}\n{stderr}");
    }
    std::thread::sleep(Duration::from_secs(1));
    cluster.kill(leader);

    let summary = received.recv_timeout(Duration::from_secs(120));
    let Ok(summary) = summary else {
        let _ = client.0.kill();
        let _ = client.0.stderr.take().expect("piped").read_to_string(&mut stderr);
        panic!("no summary from the Python client: {summary:?}\n{stderr}\n{}", cluster.log_tails(30));
    };
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("a JSON summary");
    let failures = summary["failures"].as_array().expect("failures");
    assert!(failures.is_empty(), "calls failed: {failures:#?}\n{}", cluster.log_tails(30));
    let rounds = summary["rounds"].as_u64().expect("rounds");
    assert!(rounds > 0);
    assert!(
        summary["last_round_at"].as_f64().expect("last_round_at") > LOOP_SECONDS - 2.0,
        "the loop stopped completing rounds after the kill: {summary}"
    );
    // One process per round, each closed once: none created twice, none left behind.
    let stats = &summary["stats"];
    assert_eq!(stats["successfulprocesses"].as_u64(), Some(rounds), "{summary}");
    assert_eq!(stats["waitingprocesses"].as_u64(), Some(0), "{summary}");
    assert_eq!(stats["runningprocesses"].as_u64(), Some(0), "{summary}");
}
