//! `/metrics` and `/ready` of real nodes (issue 17): the counters move by exactly what a
//! known workload did, on every node where they are replicated; the text parses as the
//! Prometheus format; no id or key leaks; the listener is on loopback; readiness follows
//! contact with the leader.

mod common;

use colonies_client::envelope::decode_payload;
use colonies_client::messages::SubmitFunctionSpecMsg;
use colonies_client::messages::{AssignProcessMsg, CloseFailedMsg, CloseSuccessfulMsg, GetProcessMsg};
use colonies_client::rpc::Client;
use colonies_cluster_tests::{Cluster, colonies_binary, http_get};
use colonies_statemachine::model::{FunctionSpec, Process, ProcessState};
use common::*;
use prometheus_parse::{LineInfo, Scrape, Value};
use std::time::{Duration, Instant};

/// Parses a scrape, first checking that every line is a sample, a HELP or TYPE line, or one
/// of the OpenMetrics comments (`# UNIT`, `# EOF`): the parser itself skips what it does
/// not understand.
fn parse(text: &str) -> Scrape {
    for line in text.lines() {
        if let LineInfo::Ignored = LineInfo::parse(line) {
            assert!(line.starts_with("# UNIT ") || line == "# EOF", "not Prometheus text format: {line:?}");
        }
    }
    assert!(text.trim_end().ends_with("# EOF"), "the exposition ends with # EOF");
    Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).expect("a Prometheus scrape")
}

/// The sum of the samples named `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            _ => panic!("{name} is not a single number"),
        })
        .sum()
}

fn scrape(cluster: &Cluster, i: usize) -> Scrape {
    parse(&cluster.metrics(i).unwrap_or_else(|| panic!("node {} serves no /metrics", i + 1)))
}

/// The replicated scheduler counters, in a fixed order.
const SCHEDULER: [(&str, &[(&str, &str)]); 7] = [
    ("colonies_scheduler_submitted_total", &[]),
    ("colonies_scheduler_assigned_total", &[]),
    ("colonies_scheduler_closed_total", &[("outcome", "successful")]),
    ("colonies_scheduler_closed_total", &[("outcome", "failed")]),
    ("colonies_scheduler_requeued_maxexectime_total", &[]),
    ("colonies_scheduler_wait_seconds_count", &[]),
    ("colonies_scheduler_run_seconds_count", &[]),
];

fn scheduler(scrape: &Scrape) -> Vec<f64> {
    SCHEDULER.iter().map(|(name, labels)| value(scrape, name, labels)).collect()
}

fn spec(maxexectime: i64, maxretries: i64) -> FunctionSpec {
    FunctionSpec { maxexectime, maxretries, ..dev_spec("work") }
}

async fn submit(client: &Client, spec: FunctionSpec) -> Process {
    client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap()
}

async fn assign(client: &Client) -> Process {
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 10, ..Default::default() };
    client.call(&key(EXECUTOR_KEY), assign).await.unwrap()
}

/// Waits until the process is back in the queue after an exec timeout.
async fn wait_requeued(client: &Client, processid: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p: Process = client.call(&key(EXECUTOR_KEY), GetProcessMsg { processid: processid.into() }).await.unwrap();
        if p.state == ProcessState::Waiting && p.retries == 1 {
            return;
        }
        assert!(Instant::now() < deadline, "the process was not requeued: {:?}, {} retries", p.state, p.retries);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_exactly_the_workload_on_every_node_and_reveal_no_ids() {
    let _serial = SERIAL.lock().await;
    // Frequent snapshots: the counters must also travel in them.
    let mut cluster = Cluster::start_with_metrics(3, &["--snapshot-logs", "10"]);
    cluster.wait_healthy(STARTUP);
    let leader = cluster.wait_leader(STARTUP);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let before: Vec<Scrape> = (0..3).map(|i| scrape(&cluster, i)).collect();

    // One process runs past its 1 s maxexectime and is requeued, then runs again and
    // succeeds; four more are submitted, three succeed and one fails.
    let timed = submit(&client, spec(1, 1)).await;
    assert_eq!(assign(&client).await.processid, timed.processid);
    wait_requeued(&client, &timed.processid).await;
    assert_eq!(assign(&client).await.processid, timed.processid);
    let close = |processid: &str| CloseSuccessfulMsg { processid: processid.into(), out: vec![] }.into();
    client.send(&key(EXECUTOR_KEY), &close(&timed.processid)).await.unwrap();
    let mut processids = vec![timed.processid.clone()];
    for n in 0..4 {
        let p = submit(&client, spec(-1, -1)).await;
        assert_eq!(assign(&client).await.processid, p.processid);
        if n == 3 {
            let failed = CloseFailedMsg { processid: p.processid.clone(), errors: vec!["no".into()] };
            client.send(&key(EXECUTOR_KEY), &failed.into()).await.unwrap();
        } else {
            client.send(&key(EXECUTOR_KEY), &close(&p.processid)).await.unwrap();
        }
        processids.push(p.processid);
    }
    // submitted, assigned, closed ok, closed failed, requeued, waits observed, runs observed
    let moved = [5.0, 6.0, 4.0, 1.0, 1.0, 6.0, 5.0];
    let expected: Vec<f64> = scheduler(&before[leader]).iter().zip(moved).map(|(b, m)| b + m).collect();
    cluster.wait_converged(STARTUP);
    let after: Vec<Scrape> = (0..3).map(|i| scrape(&cluster, i)).collect();
    for (i, scrape) in after.iter().enumerate() {
        assert_eq!(scheduler(scrape), expected, "node {}", i + 1);
    }
    let processes = |s: &Scrape, state| value(s, "colonies_processes", &[("colony", "dev"), ("state", state)]);
    assert_eq!((processes(&after[leader], "success"), processes(&after[leader], "failed")), (4.0, 1.0));
    assert_eq!(processes(&after[leader], "waiting") + processes(&after[leader], "running"), 0.0);
    let approved = value(&after[leader], "colonies_executors", &[("colony", "dev"), ("state", "approved")]);
    assert_eq!(approved, 1.0);
    // Each submit was answered 200 once, by the leader (a follower redirects it there).
    let submits =
        |s: &Scrape| value(s, "colonies_api_calls_total", &[("payload", "submitfuncspecmsg"), ("status", "200")]);
    let answered: f64 = (0..3).map(|i| submits(&after[i]) - submits(&before[i])).sum();
    assert_eq!(answered, 5.0);
    assert_eq!(submits(&after[leader]) - submits(&before[leader]), 5.0);

    // Nothing names a process, an executor, a colony owner or a key.
    let mut secrets = processids.clone();
    secrets.extend([SERVER_KEY, COLONY_KEY, EXECUTOR_KEY].map(String::from));
    secrets.extend([SERVER_KEY, COLONY_KEY, EXECUTOR_KEY].map(|k| key(k).id()));
    for i in 0..3 {
        let text = cluster.metrics(i).unwrap();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "node {}'s /metrics shows {secret}", i + 1);
        }
    }

    // The leader is killed: the others see a new term and a new leader; the replicated
    // counters stay; the restarted node gets them back from its log.
    let number = |s: &Scrape, name| value(s, name, &[]);
    cluster.kill(leader);
    let new_leader = cluster.wait_leader(STARTUP);
    let survivors: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for &i in &survivors {
        let now = scrape(&cluster, i);
        assert!(number(&now, "colonies_raft_term") > number(&after[i], "colonies_raft_term"), "node {}", i + 1);
        let changes = "colonies_raft_leader_changes_total";
        assert!(number(&now, changes) > number(&after[i], changes), "node {} saw no leader change", i + 1);
        assert_eq!(number(&now, "colonies_raft_leader_id"), (new_leader + 1) as f64);
        assert_eq!(scheduler(&now), expected, "node {}", i + 1);
    }
    let elections: f64 =
        survivors.iter().map(|&i| number(&scrape(&cluster, i), "colonies_raft_elections_started_total")).sum();
    assert!(elections >= 1.0, "somebody stood for election");
    cluster.spawn(leader);
    cluster.wait_healthy(STARTUP);
    cluster.wait_converged(STARTUP);
    assert_eq!(scheduler(&scrape(&cluster, leader)), expected, "the restarted node");
    let snapshots: Vec<Scrape> = (0..3).map(|i| scrape(&cluster, i)).collect();
    for (i, s) in snapshots.iter().enumerate() {
        let built =
            number(s, "colonies_raft_snapshot_builds_total") + number(s, "colonies_raft_snapshot_installs_total");
        if built > 0.0 {
            assert!(number(s, "colonies_raft_snapshot_size_bytes") > 0.0, "node {}", i + 1);
        }
    }
    let built: f64 = snapshots.iter().map(|s| number(s, "colonies_raft_snapshot_builds_total")).sum();
    assert!(built >= 1.0, "a snapshot was built every 10 entries");

    // The new leader's followers catch up: both lags go back to 0.
    let deadline = Instant::now() + STARTUP;
    loop {
        let lags: Vec<f64> = scrape(&cluster, new_leader)
            .samples
            .iter()
            .filter(|s| s.metric == "colonies_raft_follower_lag")
            .map(|s| match s.value {
                Value::Gauge(v) | Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .collect();
        if lags.len() == 2 && lags.iter().all(|lag| *lag == 0.0) {
            break;
        }
        assert!(Instant::now() < deadline, "follower lag stays {lags:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // `cluster info` shows each node's lag, last contact, snapshot index and uptime.
    let info = std::process::Command::new(colonies_binary())
        .args(["cluster", "info", "--json", "--servers", &cluster.addrs().join(",")])
        .env("COLONIES_CLUSTER_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let nodes: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let nodes = nodes.as_array().expect("a list of nodes");
    assert_eq!(nodes.len(), 3);
    for node in nodes {
        assert_eq!(node["lag"], 0, "{node}");
        let contact = node["millis_since_contact"].as_u64().unwrap_or_else(|| panic!("no last contact: {node}"));
        assert!(contact < 5_000, "{node}");
        assert!(node["uptime_seconds"].is_u64(), "{node}");
        assert!(node.get("snapshot").is_some(), "{node}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_the_leader_is_not_ready_until_it_catches_up() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let leader = cluster.wait_leader(STARTUP);
    let cut_off = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    assert!(cluster.ready_within(cut_off, STARTUP));
    // With the leader and the third node stopped, the follower hears from no leader and
    // cannot elect one.
    cluster.signal(leader, "STOP");
    cluster.signal(other, "STOP");
    let addr = cluster.nodes[cut_off].addr();
    let deadline = Instant::now() + Duration::from_secs(10);
    while cluster.get(&addr, "/ready", "").is_some_and(|(status, _)| status == 200) {
        assert!(Instant::now() < deadline, "a node without a leader still says it is ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let (status, body) = cluster.get(&addr, "/ready", "").expect("the node answers");
    assert_eq!(status, 503, "still not ready: {body}");
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    let why = decode_payload(reply["payload"].as_str().unwrap()).unwrap();
    assert!(String::from_utf8_lossy(&why).contains("no leader"), "says why: {body}");
    cluster.signal(leader, "CONT");
    cluster.signal(other, "CONT");
    assert!(cluster.ready_within(cut_off, STARTUP), "ready again once a leader is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_is_on_loopback_only_and_not_on_the_api_port() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start_with_metrics(1, &[]);
    cluster.wait_healthy(STARTUP);
    let port = cluster.nodes[0].metrics_port.unwrap();
    assert!(cluster.metrics(0).is_some(), "served on 127.0.0.1:{port}");
    // Another loopback address reaches a socket bound to any address, not one bound to
    // 127.0.0.1.
    assert_eq!(http_get(&format!("127.0.0.2:{port}"), "/metrics"), None, "bound to more than 127.0.0.1");
    let api = cluster.nodes[0].addr();
    assert_eq!(http_get(&api, "/metrics").map(|(status, _)| status), Some(404), "the API port has no /metrics");
}

/// Every metric the provisioned Grafana dashboard queries is one a node exports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_queries_only_metrics_that_nodes_export() {
    let _serial = SERIAL.lock().await;
    let mut cluster = Cluster::start_with_metrics(1, &[]);
    cluster.wait_healthy(STARTUP);
    // Families with labels appear once something is counted in them.
    add_dev_colony(&Client::new(cluster.addrs())).await;
    let text = cluster.metrics(0).expect("a scrape");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker/grafana/dashboards/colonies.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut queried = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expression");
            let names = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            queried.extend(names.filter(|n| n.starts_with("colonies_") || n.starts_with("process_")).map(String::from));
        }
    }
    assert!(queried.len() >= 10, "{queried:?}");
    for name in queried {
        // Counters and histograms are declared by their base name.
        let base = name.strip_suffix("_total").or_else(|| name.strip_suffix("_bucket")).unwrap_or(&name);
        assert!(text.contains(&format!("# TYPE {base} ")), "the dashboard queries {name}, which no node exports");
    }
}
