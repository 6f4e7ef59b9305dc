//! Executor re-registration, liveness and stale removal, and log lines that outlive their
//! processes, on real nodes (issue 15, items 2, 3 and 9).

mod common;

use colonies_client::messages::{
    AddLogMsg, AssignProcessMsg, CloseSuccessfulMsg, GetExecutorMsg, GetLogsMsg, GetProcessMsg, RemoveAllProcessesMsg,
    SearchLogsMsg, SubmitFunctionSpecMsg,
};
use colonies_client::rpc::Client;
use colonies_cluster_tests::python::{conformance_script, python_with_pycolonies};
use colonies_cluster_tests::{Cluster, colonies_binary};
use colonies_statemachine::model::{Executor, ExecutorState, Log, Process, ProcessState};
use common::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const POLLER_KEY: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const WORKER_KEY: &str = "3333333333333333333333333333333333333333333333333333333333333333";
/// Short, so removal shows within seconds; the cleanup looks every second.
const STALE_ARGS: [&str; 4] = ["--stale-executor-duration", "3", "--cleanup-interval", "1"];

async fn executor(client: &Client, name: &str) -> Executor {
    let query = GetExecutorMsg { colonyname: "dev".into(), executorname: name.into() };
    client.call(&key(EXECUTOR_KEY), query).await.unwrap()
}

async fn wait_for_executor_state(client: &Client, name: &str, state: ExecutorState, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = executor(client, name).await.state;
        if now == state {
            return;
        }
        assert!(Instant::now() < deadline, "executor {name} stayed {now:?}, expected {state:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Long-polls as `name` from `tasks` tasks at once until `stop`; counts the calls answered.
fn poll_until(
    addrs: &[String],
    tasks: usize,
    stop: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..tasks)
        .map(|_| {
            let (client, stop, polls) = (Client::new(addrs.to_vec()), stop.clone(), polls.clone());
            tokio::spawn(async move {
                let message = AssignProcessMsg { colonyname: "dev".into(), timeout: 1, ..Default::default() };
                // Bounded: a minute of polls at most, whatever happens to `stop`.
                for _ in 0..60 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let answer: Result<Process, _> = client.call(&key(POLLER_KEY), message.clone()).await;
                    assert!(answer.is_err(), "the poller's type has no work");
                    polls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect()
}

fn log_index(cluster: &Cluster, node: usize) -> u64 {
    cluster.status_number(node, "last_log_index").expect("the node's last log index")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_keep_an_executor_alive_without_a_write_each_and_silent_ones_are_removed_across_a_leader_kill() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&STALE_ARGS);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    add_executor(&client, &key(POLLER_KEY), "poller", "poll").await;
    add_executor(&client, &key(WORKER_KEY), "worker", "cli").await;
    let submit = SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) };
    let process: Process = client.call(&key(EXECUTOR_KEY), submit).await.unwrap();
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
    let assigned: Process = client.call(&key(WORKER_KEY), assign).await.unwrap();
    assert_eq!(assigned.processid, process.processid);

    let leader = cluster.wait_leader(STARTUP);
    let entries_before = log_index(&cluster, leader);
    let (stop, polls) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let pollers = poll_until(&cluster.addrs(), 16, stop.clone(), polls.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first_heard = executor(&client, "poller").await.lastheardfromtime;
    // The worker went silent after its assign: removed as by `executor remove`, which puts
    // its running process back in the queue.
    wait_for_executor_state(&client, "worker", ExecutorState::Unregistered, Duration::from_secs(30)).await;
    let requeued: Process =
        client.call(&key(EXECUTOR_KEY), GetProcessMsg { processid: process.processid.clone() }).await.unwrap();
    assert_eq!(requeued.state, ProcessState::Waiting);
    assert_eq!(executor(&client, "poller").await.state, ExecutorState::Approved, "polling keeps it alive");
    assert!(executor(&client, "poller").await.lastheardfromtime > first_heard, "last heard moves with the polls");
    let entries = log_index(&cluster, leader) - entries_before;
    let polled = polls.load(Ordering::Relaxed);
    eprintln!("{entries} log entries for {polled} polls");
    assert!(polled >= 40, "only {polled} polls were answered");
    assert!(entries * 5 < polled as u64, "{entries} log entries for {polled} polls");

    // A new leader hears the polls anew and gives every executor a full stale duration.
    cluster.kill(leader);
    let new_leader = cluster.wait_leader(STARTUP);
    assert_ne!(new_leader, leader);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(executor(&client, "poller").await.state, ExecutorState::Approved, "still polling after the kill");
    stop.store(true, Ordering::Relaxed);
    for poller in pollers {
        poller.await.unwrap();
    }
    wait_for_executor_state(&client, "poller", ExecutorState::Unregistered, Duration::from_secs(30)).await;
}

/// Adds colony `dev`'s executor `restarting` and then the same name with a new key, through
/// our CLI pointed at `addr`; returns whether the second add succeeded, and its stderr.
fn cli_adds_a_taken_name(addr: &str) -> (bool, String) {
    let add = |id: String| {
        std::process::Command::new(colonies_binary())
            .args(["executor", "add", "--name", "restarting-cli", "--type", "cli", "--executorid", &id])
            .env("COLONIES_SERVER_ADDRS", addr)
            .env("COLONIES_COLONY_NAME", "dev")
            .env("COLONIES_COLONY_PRVKEY", COLONY_KEY)
            .output()
            .unwrap()
    };
    let first = add("4".repeat(64));
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let second = add("5".repeat(64));
    (second.status.success(), String::from_utf8_lossy(&second.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reregistration_is_off_by_default_and_on_with_the_flag_for_pycolonies_and_the_cli() {
    let python = python_with_pycolonies();
    let _serial = SERIAL.lock().await;
    for allowed in [false, true] {
        let flags: &[&str] = if allowed { &["--allow-executor-reregister"] } else { &[] };
        let mut cluster = started_cluster(flags);
        let leader = cluster.wait_leader(STARTUP);
        let follower = (leader + 1) % cluster.nodes.len();
        let client = Client::new(cluster.addrs());
        add_dev_colony(&client).await;

        let (replaced, stderr) = cli_adds_a_taken_name(&cluster.nodes[follower].addr());
        assert_eq!(replaced, allowed, "CLI, re-registration allowed: {allowed}: {stderr}");
        let stored = executor(&client, "restarting-cli").await;
        let expected_id = if allowed { "5".repeat(64) } else { "4".repeat(64) };
        assert_eq!(stored.executorid, expected_id);
        if !allowed {
            assert!(stderr.contains("already exists"), "{stderr}");
        }

        let port = cluster.nodes[follower].port.to_string();
        let mode = if allowed { "on" } else { "off" };
        let script = conformance_script("pycolonies_reregister.py");
        let python = python.clone();
        let run = tokio::task::spawn_blocking(move || {
            std::process::Command::new(python).arg(script).args(["127.0.0.1", &port, mode]).output().unwrap()
        });
        let output = tokio::time::timeout(Duration::from_secs(60), run).await.expect("pycolonies ended").unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("ok"),
            "pycolonies, re-registration {mode}:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_lines_are_found_after_their_processes_are_removed() {
    let _serial = SERIAL.lock().await;
    let cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let executor_key = key(EXECUTOR_KEY);
    let submit = SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) };
    let process: Process = client.call(&executor_key, submit).await.unwrap();
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
    let _: Process = client.call(&executor_key, assign).await.unwrap();
    let line = AddLogMsg { processid: process.processid.clone(), message: "needle in the log\n".into() };
    client.send(&executor_key, &line.into()).await.unwrap();
    let close = CloseSuccessfulMsg { processid: process.processid.clone(), out: vec![] };
    client.send(&executor_key, &close.into()).await.unwrap();
    let removeall = RemoveAllProcessesMsg { colonyname: "dev".into(), state: -1 };
    client.send(&key(COLONY_KEY), &removeall.into()).await.unwrap();
    let gone = client.call(&executor_key, GetProcessMsg { processid: process.processid.clone() }).await;
    assert!(gone.is_err(), "the process was removed");

    let search = SearchLogsMsg { colonyname: "dev".into(), text: "needle".into(), days: 1, count: 10 };
    let found: Vec<Log> = client.call(&executor_key, search).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].processid, process.processid);
    let by_executor =
        GetLogsMsg { colonyname: "dev".into(), executorname: "dev-cli".into(), count: 10, ..Default::default() };
    let lines: Vec<Log> = client.call(&executor_key, by_executor).await.unwrap();
    assert_eq!(lines.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(), ["needle in the log\n"]);
}
