//! The replicated cluster (issue 3), with real node processes on loopback.

mod common;

use colonies_client::messages::{GetColoniesMsg, GetColonyMsg, GetExecutorsMsg, SubmitFunctionSpecMsg};
use colonies_client::rpc::Client;
use colonies_cluster_tests::Cluster;
use colonies_statemachine::model::{Colony, Executor, ExecutorState, Process};
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_one_node_are_read_through_the_others() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    add_dev_colony(&Client::new(vec![cluster.nodes[1].addr()])).await;
    for i in [0, 2] {
        let client = Client::new(vec![cluster.nodes[i].addr()]);
        let colony: Colony = client.call(&key(EXECUTOR_KEY), GetColonyMsg { colonyname: "dev".into() }).await.unwrap();
        assert_eq!(colony.colonyid, key(COLONY_KEY).id());
        let executors: Vec<Executor> =
            client.call(&key(EXECUTOR_KEY), GetExecutorsMsg { colonyname: "dev".into() }).await.unwrap();
        assert_eq!(executors.len(), 1);
        assert_eq!(executors[0].state, ExecutorState::Approved);
    }
    cluster.wait_converged(STARTUP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_is_replaced_and_catches_up_when_restarted() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_colony(&client, "before").await.unwrap();
    let old = cluster.wait_leader(STARTUP);
    cluster.kill(old);
    let new = cluster.wait_leader(STARTUP);
    assert_ne!(new, old);
    assert!(colony_names(&client).await.contains(&"before".to_string()), "an acknowledged write survives");
    add_colony(&client, "after").await.unwrap();
    cluster.spawn(old);
    cluster.wait_healthy(STARTUP);
    cluster.wait_converged(STARTUP);
    let restarted = Client::new(vec![cluster.nodes[old].addr()]);
    // In the order they were added, as the original lists colonies.
    assert_eq!(colony_names(&restarted).await, vec!["before".to_string(), "after".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_majority_writes_fail_in_bounded_time_and_nothing_acknowledged_is_lost() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_colony(&client, "kept").await.unwrap();
    let survivor = 0;
    cluster.kill(1);
    cluster.kill(2);
    let alone = Client::new(vec![cluster.nodes[survivor].addr()]);
    let started = Instant::now();
    let refused = add_colony(&alone, "lost").await;
    assert!(refused.is_err(), "a single node of three must not accept writes");
    assert!(started.elapsed() < Duration::from_secs(25), "the error came after {:?}", started.elapsed());
    cluster.spawn(1);
    cluster.spawn(2);
    cluster.wait_healthy(STARTUP);
    cluster.wait_leader(STARTUP);
    assert!(colony_names(&client).await.contains(&"kept".to_string()));
    cluster.wait_converged(STARTUP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_routes_refuse_callers_without_the_cluster_secret() {
    let _serial = SERIAL.lock().await;
    let cluster = started_cluster(&[]);
    let http = reqwest::Client::new();
    for route in ["append", "vote", "snapshot"] {
        let url = format!("http://{}/raft/{route}", cluster.nodes[0].addr());
        let anonymous = http.post(&url).body(vec![1, 2, 3]).send().await.unwrap();
        assert_eq!(anonymous.status().as_u16(), 401, "{route} without a secret");
        let wrong = http.post(&url).header("x-colonies-cluster-secret", "guess").body(vec![1]).send().await.unwrap();
        assert_eq!(wrong.status().as_u16(), 401, "{route} with a wrong secret");
    }
    // The right secret gets past the door (and then fails on the garbage body).
    let url = format!("http://{}/raft/vote", cluster.nodes[0].addr());
    let insider = http.post(&url).header("x-colonies-cluster-secret", SECRET).body(vec![1]).send().await.unwrap();
    assert_eq!(insider.status().as_u16(), 400);
}

/// Bytes of snapshot data in the partial files of a data folder: a snapshot being received.
fn partial_snapshot_bytes(datadir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(datadir) else { return 0 };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.ends_with(".partial")))
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// The rejoining node gets the snapshot in small chunks (`--snapshot-chunk-bytes`), is
/// killed while they come in, and still converges once restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_missed_ten_thousand_writes_rejoins_through_a_snapshot_even_if_killed_while_receiving_it() {
    const POLL: Duration = Duration::from_millis(2);
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&["--snapshot-logs", "500", "--snapshot-chunk-bytes", "4096"]);
    let client = Arc::new(Client::new(cluster.addrs()));
    add_dev_colony(&client).await;
    let leader = cluster.wait_leader(STARTUP);
    let stopped = (leader + 1) % 3;
    cluster.kill(stopped);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let client = client.clone();
            tokio::spawn(async move {
                for n in 0..1250 {
                    let spec = dev_spec(&format!("f{w}-{n}"));
                    let _: Process =
                        client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let leader = cluster.wait_leader(STARTUP);
    assert!(cluster.status_number(leader, "purged").unwrap_or(0) > 0, "the leader compacted its log");

    cluster.spawn(stopped);
    let datadir = cluster.nodes[stopped].datadir.clone();
    let started = Instant::now();
    while partial_snapshot_bytes(&datadir) == 0 && started.elapsed() < STARTUP {
        tokio::time::sleep(POLL).await;
    }
    assert!(partial_snapshot_bytes(&datadir) > 0, "the rejoining node began receiving a snapshot");
    cluster.kill(stopped);
    assert_eq!(cluster.status_number(stopped, "snapshot"), None, "the node is down");

    cluster.spawn(stopped);
    cluster.wait_healthy(STARTUP);
    cluster.wait_converged(Duration::from_secs(90));
    assert!(cluster.status_number(stopped, "snapshot").unwrap_or(0) > 0, "the rejoining node installed a snapshot");
    // The node builds snapshots of its own now and then, each through a partial file for a
    // moment; the half-received one must not stay.
    let started = Instant::now();
    while partial_snapshot_bytes(&datadir) > 0 && started.elapsed() < STARTUP {
        tokio::time::sleep(POLL).await;
    }
    assert_eq!(partial_snapshot_bytes(&datadir), 0, "no partial snapshot file is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_are_added_and_removed_without_downtime() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_colony(&client, "first").await.unwrap();
    let fourth = cluster.start_joining_node();
    cluster.wait_healthy(STARTUP);
    let nodeid = cluster.nodes[fourth].id.to_string();
    let addr = cluster.nodes[fourth].addr();
    // Through a node that may be a follower: the change is sent on to the leader.
    assert!(cluster.cluster_command(0, &["add", "--nodeid", &nodeid, "--addr", &addr]));
    add_colony(&client, "second").await.unwrap();
    cluster.wait_converged(STARTUP);
    let via_new = Client::new(vec![addr.clone()]);
    assert_eq!(colony_names(&via_new).await, vec!["first".to_string(), "second".to_string()]);

    let leader = cluster.wait_leader(STARTUP);
    let leaving = (0..3).find(|i| *i != leader).unwrap();
    let leaving_id = cluster.nodes[leaving].id.to_string();
    assert!(cluster.cluster_command(fourth, &["remove", "--nodeid", &leaving_id]));
    cluster.kill(leaving);
    add_colony(&Client::new(vec![cluster.nodes[leader].addr(), addr]), "third").await.unwrap();
    cluster.wait_converged(STARTUP);
    let url = format!("http://{}/cluster/members", cluster.nodes[leader].addr());
    let stranger = reqwest::Client::new().post(url).body(r#"{"nodeid":9,"addr":"127.0.0.1:1"}"#).send().await.unwrap();
    assert_eq!(stranger.status().as_u16(), 401, "membership changes need the cluster secret");
}

/// Sends `getcoloniesmsg` to node `i` without following redirects.
async fn raw_get_colonies(cluster: &Cluster, i: usize) -> reqwest::Response {
    use colonies_client::envelope::RpcRequest;
    use colonies_client::messages::Message;
    let message: Message = GetColoniesMsg {}.into();
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &key(SERVER_KEY));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    http.post(format!("http://{}/api", cluster.nodes[i].addr())).json(&request).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_redirect_to_the_leader_or_forward_with_the_flag() {
    let _serial = SERIAL.lock().await;
    for forward in [false, true] {
        let args: &[&str] = if forward { &["--forward"] } else { &[] };
        let mut cluster = started_cluster(args);
        add_colony(&Client::new(cluster.addrs()), "dev").await.unwrap();
        let leader = cluster.wait_leader(STARTUP);
        let follower = (leader + 1) % 3;
        let answer = raw_get_colonies(&cluster, follower).await;
        if forward {
            assert_eq!(answer.status().as_u16(), 200, "a forwarding follower answers itself");
        } else {
            assert_eq!(answer.status().as_u16(), 307);
            let location = answer.headers()["location"].to_str().unwrap().to_string();
            assert_eq!(location, format!("http://{}/api", cluster.nodes[leader].addr()));
        }
    }
}
