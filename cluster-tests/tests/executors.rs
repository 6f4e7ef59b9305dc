//! Executors and failure management on the cluster (issue 4), with real node processes.

mod common;

use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AssignProcessMsg, CloseSuccessfulMsg, GetProcessMsg, SubmitFunctionSpecMsg};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{Conditions, FunctionSpec, Process, ProcessState};
use common::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const SECOND_EXECUTOR_KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn spec(kind: &str, maxexectime: i64, maxretries: i64, maxwaittime: i64) -> FunctionSpec {
    FunctionSpec {
        funcname: "work".into(),
        maxexectime,
        maxretries,
        maxwaittime,
        conditions: Conditions { colonyname: "dev".into(), executortype: kind.into(), ..Conditions::default() },
        ..FunctionSpec::default()
    }
}

async fn submit(client: &Client, spec: FunctionSpec) -> Process {
    client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap()
}

async fn assign(
    client: &Client,
    executor: &PrivateKey,
    timeout: i64,
) -> Result<Process, colonies_client::rpc::ClientError> {
    client.call(executor, AssignProcessMsg { colonyname: "dev".into(), timeout, ..Default::default() }).await
}

async fn process(client: &Client, processid: &str) -> Process {
    client.call(&key(EXECUTOR_KEY), GetProcessMsg { processid: processid.into() }).await.unwrap()
}

/// Polls until the process reaches `state`, for at most `within`.
async fn wait_for_state(client: &Client, processid: &str, state: ProcessState, within: Duration) -> Process {
    let deadline = Instant::now() + within;
    loop {
        let p = process(client, processid).await;
        if p.state == state {
            return p;
        }
        assert!(Instant::now() < deadline, "process stayed {:?}, expected {state:?}", p.state);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn two_executor_cluster() -> (colonies_cluster_tests::Cluster, Client) {
    let cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    add_executor(&client, &key(SECOND_EXECUTOR_KEY), "second", "cli").await;
    (cluster, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_executors_process_is_requeued_and_done_by_another() {
    let _serial = SERIAL.lock().await;
    let (_cluster, client) = two_executor_cluster().await;
    let p = submit(&client, spec("cli", 2, 1, -1)).await;
    let taken = assign(&client, &key(EXECUTOR_KEY), 5).await.unwrap();
    assert_eq!(taken.processid, p.processid);
    // The first executor vanishes; after the 2 s limit the process is back in the queue.
    let again = assign(&client, &key(SECOND_EXECUTOR_KEY), 10).await.unwrap();
    assert_eq!((again.processid.as_str(), again.retries), (p.processid.as_str(), 1));
    client
        .send(&key(SECOND_EXECUTOR_KEY), &CloseSuccessfulMsg { processid: p.processid.clone(), out: vec![] }.into())
        .await
        .unwrap();
    let late_close = CloseSuccessfulMsg { processid: p.processid.clone(), out: vec![] }.into();
    let late = client.send(&key(EXECUTOR_KEY), &late_close).await;
    assert_eq!(late.unwrap_err().status(), Some(403), "the vanished executor's late close is refused");
    assert_eq!(process(&client, &p.processid).await.state, ProcessState::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_and_wait_deadlines_fire_also_after_the_leader_is_killed() {
    let _serial = SERIAL.lock().await;
    let (mut cluster, client) = two_executor_cluster().await;
    let no_retry = submit(&client, spec("cli", 3, 0, -1)).await;
    let nobody = submit(&client, spec("nobody", -1, -1, 3)).await;
    assign(&client, &key(EXECUTOR_KEY), 5).await.unwrap();
    // Between the assignment and the deadlines, the leader dies.
    let leader = cluster.wait_leader(STARTUP);
    cluster.kill(leader);
    cluster.wait_leader(STARTUP);
    let failed = wait_for_state(&client, &no_retry.processid, ProcessState::Failed, Duration::from_secs(20)).await;
    assert_eq!(failed.errors, vec!["Maximum execution time limit exceeded".to_string()]);
    let expired = wait_for_state(&client, &nobody.processid, ProcessState::Failed, Duration::from_secs(20)).await;
    assert_eq!(expired.errors, vec!["Maximum waiting time limit exceeded".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_wakes_on_submit_and_times_out_with_404() {
    let _serial = SERIAL.lock().await;
    let (_cluster, client) = two_executor_cluster().await;
    let started = Instant::now();
    let idle = assign(&client, &key(EXECUTOR_KEY), 1).await.unwrap_err();
    assert_eq!(idle.status(), Some(404));
    assert!(started.elapsed() >= Duration::from_millis(900), "the poll waited its timeout");
    let client = Arc::new(client);
    let waiter = {
        let client = client.clone();
        tokio::spawn(async move { assign(&client, &key(SECOND_EXECUTOR_KEY), 20).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let submitted = Instant::now();
    let p = submit(&client, spec("cli", -1, -1, -1)).await;
    let got = waiter.await.unwrap().unwrap();
    assert_eq!(got.processid, p.processid);
    assert!(submitted.elapsed() < Duration::from_secs(5), "woken by the submit, not by the timeout");
}

/// 2,000 processes, 8 executors, the leader SIGKILLed twice: every process ends SUCCESS, and
/// each is closed successfully exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_processes_survive_two_leader_kills() {
    let _serial = SERIAL.lock().await;
    const PROCESSES: usize = 2000;
    let mut cluster = started_cluster(&[]);
    let client = Arc::new(Client::new(cluster.addrs()));
    add_dev_colony(&client).await;
    let executors: Vec<PrivateKey> = (0..8).map(|_| PrivateKey::generate()).collect();
    for (n, executor) in executors.iter().enumerate() {
        add_executor(&client, executor, &format!("worker-{n}"), "cli").await;
    }
    let closes: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = executors
        .into_iter()
        .map(|executor| {
            let (client, closes, done) = (client.clone(), closes.clone(), done.clone());
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(240);
                while done.load(Ordering::Relaxed) < PROCESSES && Instant::now() < deadline {
                    // Errors during a failover are expected: the executor just asks again.
                    let Ok(p) = assign(&client, &executor, 1).await else { continue };
                    let close = CloseSuccessfulMsg { processid: p.processid.clone(), out: vec![] };
                    if client.send(&executor, &close.into()).await.is_ok() {
                        *closes.lock().await.entry(p.processid).or_default() += 1;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(PROCESSES);
    for n in 0..PROCESSES {
        // An exec limit makes an assignment whose reply died with the leader harmless:
        // the process returns to the queue instead of staying RUNNING for ever.
        let spec = spec("cli", 10, -1, -1);
        loop {
            let submitted: Result<Process, _> =
                client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec.clone()) }).await;
            if let Ok(p) = submitted {
                ids.push(p.processid);
                break;
            }
        }
        if n == PROCESSES / 3 || n == 2 * PROCESSES / 3 {
            let leader = cluster.wait_leader(STARTUP);
            cluster.kill(leader);
            cluster.wait_leader(STARTUP);
            cluster.spawn(leader);
        }
    }
    for worker in workers {
        worker.await.unwrap();
    }
    cluster.wait_healthy(STARTUP);
    cluster.wait_converged(Duration::from_secs(60));
    let closes = closes.lock().await;
    assert_eq!(closes.len(), PROCESSES, "every process was closed");
    assert!(closes.values().all(|n| *n == 1), "no process was closed successfully twice");
    for id in &ids {
        assert_eq!(process(&client, id).await.state, ProcessState::Success, "process {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_follows_priority_then_submission_order_and_respects_conditions() {
    let _serial = SERIAL.lock().await;
    let (_cluster, client) = two_executor_cluster().await;
    let (first, second) = (key(EXECUTOR_KEY), key(SECOND_EXECUTOR_KEY));
    let with_priority = |priority, n: usize| FunctionSpec {
        priority,
        args: vec![serde_json::json!(n).into()],
        ..spec("cli", -1, -1, -1)
    };
    // Submitted low, high, low, high: assigned high (in submission order), then low.
    let mut submitted = Vec::new();
    for (n, priority) in [0, 5, 0, 5].into_iter().enumerate() {
        submitted.push(submit(&client, with_priority(priority, n)).await.processid);
    }
    // Only the executor named in the conditions may take this one, whatever its priority.
    let named = FunctionSpec {
        priority: 9,
        conditions: Conditions { executornames: Some(vec!["second".into()]), ..spec("cli", -1, -1, -1).conditions },
        ..spec("cli", -1, -1, -1)
    };
    let named = submit(&client, named).await.processid;
    // And nobody of type cli may take a spec for another type.
    let other_type = submit(&client, spec("gpu", -1, -1, -1)).await.processid;

    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(assign(&client, &first, 1).await.unwrap().processid);
    }
    assert_eq!(order, vec![submitted[1].clone(), submitted[3].clone(), submitted[0].clone(), submitted[2].clone()]);
    assert_eq!(assign(&client, &first, 1).await.unwrap_err().status(), Some(404), "the named process is not first's");
    assert_eq!(assign(&client, &second, 1).await.unwrap().processid, named);
    assert_eq!(assign(&client, &second, 1).await.unwrap_err().status(), Some(404));
    assert_eq!(process(&client, &other_type).await.state, ProcessState::Waiting);
}

/// The Rust client's `/pubsub` subscription, on a follower: told of the end, silent at its
/// timeout, refused for a process that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_hears_a_process_end_over_a_followers_websocket() {
    use colonies_client::messages::SubscribeProcessMsg;
    let _serial = SERIAL.lock().await;
    let (mut cluster, client) = two_executor_cluster().await;
    let leader = cluster.wait_leader(STARTUP);
    let follower = Client::new(vec![cluster.nodes[(leader + 1) % cluster.nodes.len()].addr()]);
    let subscription = |processid: &str, state: ProcessState, timeout: i64| SubscribeProcessMsg {
        colonyname: "dev".into(),
        processid: processid.into(),
        executortype: "cli".into(),
        state: state.code(),
        timeout,
    };

    let me = key(EXECUTOR_KEY);
    let p = submit(&client, spec("cli", -1, -1, -1)).await;
    let waiting = follower.subscribe_process(&me, subscription(&p.processid, ProcessState::Success, 20));
    let worker = async {
        let assigned = assign(&client, &key(SECOND_EXECUTOR_KEY), 5).await.unwrap();
        let close = CloseSuccessfulMsg { processid: assigned.processid, out: vec![] };
        client.send(&key(SECOND_EXECUTOR_KEY), &close.into()).await.unwrap();
    };
    let (heard, ()) = tokio::join!(waiting, worker);
    let heard = heard.unwrap().expect("told of SUCCESS");
    assert_eq!((heard.processid.as_str(), heard.state), (p.processid.as_str(), ProcessState::Success));

    // Already in the state: told at once. Never entering it: nothing, after the timeout.
    let again = follower.subscribe_process(&me, subscription(&p.processid, ProcessState::Success, 5));
    assert_eq!(again.await.unwrap().map(|p| p.state), Some(ProcessState::Success));
    let started = Instant::now();
    let never = follower.subscribe_process(&me, subscription(&p.processid, ProcessState::Failed, 1));
    assert!(never.await.unwrap().is_none());
    assert!(started.elapsed() >= Duration::from_millis(900), "it waited its timeout");

    let unknown = follower.subscribe_process(&me, subscription(&"0".repeat(64), ProcessState::Success, 5));
    assert_eq!(unknown.await.unwrap_err().status(), Some(403));
    // Not an id at all: refused before it is looked up (issue 13).
    let malformed = follower.subscribe_process(&me, subscription("nope", ProcessState::Success, 5));
    assert_eq!(malformed.await.unwrap_err().status(), Some(400));
}
