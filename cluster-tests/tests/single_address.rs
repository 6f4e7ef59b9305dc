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
/// Calls in flight when the leader dies may be answered with an error (a submit, then the
/// assign that finds nothing because of it): their outcome is unknown to the follower.
const ANSWERED_ERRORS_AT_THE_KILL: usize = 2;

/// Kills the Python client when the test ends, also on a failed assertion.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pycolonies pointed at one follower of a `--forward` cluster submits, assigns and closes
/// in a loop while the leader is SIGKILLed: no call fails to reach the follower, at most
/// the calls in flight at the kill get an error, no process is created twice, and the loop
/// goes on to its end after the failover.
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
    let list = |name: &str| summary[name].as_array().cloned().unwrap_or_default();
    let count = |value: &serde_json::Value| value.as_u64().unwrap_or_else(|| panic!("a count in {summary}"));
    // The client is never left unable to reach the node it knows, nor sent to a dead one.
    assert!(
        list("client_side").is_empty(),
        "calls failed on the client's side: {summary:#}\n{}",
        cluster.log_tails(30)
    );
    // A write in flight at the kill may get an error (its outcome is unknown, and resending
    // it could apply it twice); the next calls must not.
    assert!(list("answered_errors").len() <= ANSWERED_ERRORS_AT_THE_KILL, "{summary:#}\n{}", cluster.log_tails(30));
    let rounds = count(&summary["rounds"]);
    assert!(rounds > 0);
    assert!(
        summary["last_round_at"].as_f64().expect("last_round_at") > LOOP_SECONDS - 2.0,
        "the loop stopped completing rounds after the kill: {summary}"
    );
    // Each submit call made at most one process: none was created twice.
    let stats = &summary["stats"];
    let processes =
        count(&stats["successfulprocesses"]) + count(&stats["waitingprocesses"]) + count(&stats["runningprocesses"]);
    assert!(processes <= count(&summary["submits"]), "more processes than submits: {summary}");
    // A close in flight at the kill may not have been applied: its process runs on until
    // its maxexectime requeues it.
    let unknown_outcomes = list("answered_errors").len() as u64;
    assert!(count(&stats["runningprocesses"]) <= unknown_outcomes, "{summary}");
    assert!(count(&stats["successfulprocesses"]) >= rounds, "{summary}");
}
