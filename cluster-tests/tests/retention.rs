//! Retention on a real cluster: ended history older than the policy disappears on every
//! node, in batches that survive a leader kill; waiting and running work stays.

mod common;

use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AssignProcessMsg, CloseSuccessfulMsg, GetColonyStatsMsg, SubmitFunctionSpecMsg};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{Process, Statistics};
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// More than one retention batch (1,000), so the removal spans several entries.
const ENDED: usize = 1100;
const WORKERS: usize = 8;
const POLICY_SECONDS: &str = "2";

async fn stats(client: &Client) -> Statistics {
    client.call(&key(EXECUTOR_KEY), GetColonyStatsMsg { colonyname: "dev".into() }).await.unwrap()
}

/// Submits, takes and closes processes until `count` have succeeded.
async fn run_processes(client: Arc<Client>, count: usize) {
    let executors: Vec<PrivateKey> = (0..WORKERS).map(|_| PrivateKey::generate()).collect();
    for (n, executor) in executors.iter().enumerate() {
        add_executor(&client, executor, &format!("worker-{n}"), "cli").await;
    }
    let workers: Vec<_> = executors
        .into_iter()
        .enumerate()
        .map(|(n, executor)| {
            let client = client.clone();
            let share = count / WORKERS + usize::from(n < count % WORKERS);
            tokio::spawn(async move {
                for _ in 0..share {
                    let submit = SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) };
                    let _: Process = client.call(&executor, submit).await.unwrap();
                    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
                    let p: Process = client.call(&executor, assign).await.unwrap();
                    let close = CloseSuccessfulMsg { processid: p.processid, out: vec![] };
                    client.send(&executor, &close.into()).await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_history_goes_on_every_node_through_a_leader_kill_and_live_work_stays() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&["--retention", "--retention-policy", POLICY_SECONDS]);
    let client = Arc::new(Client::new(cluster.addrs()));
    add_dev_colony(&client).await;
    run_processes(client.clone(), ENDED).await;
    // Live work: one waiting for an executor type nobody has, one running.
    let mut waiting = dev_spec("work");
    waiting.conditions.executortype = "nobody".into();
    let _: Process = client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(waiting) }).await.unwrap();
    let _: Process =
        client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(dev_spec("work")) }).await.unwrap();
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 5, ..Default::default() };
    let _: Process = client.call(&key(EXECUTOR_KEY), assign).await.unwrap();
    // Retention has been removing what ended two seconds ago all along; the leader dies
    // with part of the backlog left, and the next one finishes the job.
    let leader = cluster.wait_leader(STARTUP);
    cluster.kill(leader);
    cluster.wait_leader(STARTUP);
    let deadline = Instant::now() + Duration::from_secs(60);
    while stats(&client).await.successfulprocesses > 0 {
        assert!(Instant::now() < deadline, "retention never finished: {:?}", stats(&client).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let left = stats(&client).await;
    assert_eq!((left.waitingprocesses, left.runningprocesses), (1, 1), "live work stays");
    cluster.spawn(leader);
    cluster.wait_healthy(STARTUP);
    cluster.wait_converged(STARTUP);
}
