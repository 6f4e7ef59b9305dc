//! Workflows on the cluster: a diamond worked through a leader kill.

mod common;

use colonies_client::messages::{
    AssignProcessMsg, CloseSuccessfulMsg, GetColonyStatsMsg, GetProcessGraphMsg, GetProcessMsg, RemoveProcessGraphMsg,
    SubmitWorkflowSpecMsg,
};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{FunctionSpec, Process, ProcessGraph, ProcessState, Statistics, WorkflowSpec};
use common::*;
use std::time::{Duration, Instant};

fn node(name: &str, dependencies: &[&str]) -> FunctionSpec {
    let mut spec = FunctionSpec { nodename: name.into(), ..dev_spec(name) };
    spec.conditions.dependencies = dependencies.iter().map(|d| d.to_string()).collect();
    spec
}

/// Assigns the next process (retrying through a failover) and closes it with its node name.
async fn work_one(client: &Client) -> Process {
    let executor = key(EXECUTOR_KEY);
    let deadline = Instant::now() + Duration::from_secs(60);
    let process = loop {
        let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 2, ..Default::default() };
        match client.call(&executor, assign).await {
            Ok(process) => break process,
            Err(e) => assert!(Instant::now() < deadline, "no process to work on: {e}"),
        }
    };
    let out = vec![serde_json::json!(format!("{}-out", process.spec.nodename)).into()];
    let close = CloseSuccessfulMsg { processid: process.processid.clone(), out };
    client.send(&executor, &close.into()).await.unwrap();
    process
}

/// (waiting, running, successful, failed) workflows of `dev` by its colony statistics.
async fn workflow_counters(client: &Client) -> (i64, i64, i64, i64) {
    let stats: Statistics =
        client.call(&key(EXECUTOR_KEY), GetColonyStatsMsg { colonyname: "dev".into() }).await.unwrap();
    (stats.waitingworkflows, stats.runningworkflows, stats.successfulworkflows, stats.failedworkflows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diamond_ends_successful_through_a_leader_kill() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let workflow = WorkflowSpec {
        colonyname: "dev".into(),
        functionspecs: vec![node("a", &[]), node("b", &["a"]), node("c", &["a"]), node("d", &["b", "c"])],
    };
    let graph: ProcessGraph =
        client.call(&key(EXECUTOR_KEY), SubmitWorkflowSpecMsg { spec: Some(workflow) }).await.unwrap();
    assert_eq!(graph.processids.len(), 4);
    assert_eq!(workflow_counters(&client).await, (1, 0, 0, 0));

    assert_eq!(work_one(&client).await.spec.nodename, "a");
    assert_eq!(work_one(&client).await.spec.nodename.len(), 1);
    // Half-way (a and one of b, c done): kill the leader; the rest is worked on its successor.
    let leader = cluster.wait_leader(STARTUP);
    cluster.kill(leader);
    let third = work_one(&client).await;
    assert!(["b", "c"].contains(&third.spec.nodename.as_str()), "{}", third.spec.nodename);
    cluster.spawn(leader);
    let last = work_one(&client).await;
    assert_eq!(last.spec.nodename, "d");
    let mut input: Vec<String> = last.input.iter().map(|v| v.0.as_str().unwrap_or_default().to_string()).collect();
    input.sort();
    assert_eq!(input, vec!["b-out", "c-out"], "d sees the outputs of b and c");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let graph: ProcessGraph = client
            .call(&key(EXECUTOR_KEY), GetProcessGraphMsg { processgraphid: graph.processgraphid.clone() })
            .await
            .unwrap();
        if graph.state == ProcessState::Success {
            break;
        }
        assert!(Instant::now() < deadline, "graph still {:?}", graph.state);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every node agrees, including the restarted one.
    cluster.wait_converged(Duration::from_secs(30));
    for processid in &graph.processids {
        let process: Process =
            client.call(&key(EXECUTOR_KEY), GetProcessMsg { processid: processid.clone() }).await.unwrap();
        assert_eq!(process.state, ProcessState::Success, "{}", process.spec.nodename);
    }

    // Colony statistics count the workflow as successful, and no more once it is removed.
    assert_eq!(workflow_counters(&client).await, (0, 0, 1, 0));
    let remove = RemoveProcessGraphMsg { processgraphid: graph.processgraphid.clone(), all: false };
    client.send(&key(EXECUTOR_KEY), &remove.into()).await.unwrap();
    assert_eq!(workflow_counters(&client).await, (0, 0, 0, 0));
}
