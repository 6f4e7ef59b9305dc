//! Crons and generators on a real cluster whose leader is SIGKILLed: every cron tick fires
//! exactly once, every packed argument is used exactly once, on every replica.

mod common;

use colonies_client::envelope::{RpcReply, RpcRequest, decode_payload};
use colonies_client::messages::{
    AddCronMsg, AddGeneratorMsg, AssignProcessMsg, CloseSuccessfulMsg, GetCronMsg, GetGeneratorMsg,
    GetProcessGraphsMsg, GetProcessMsg, Message, PackGeneratorMsg,
};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{Cron, FunctionSpec, Generator, Process, ProcessGraph, WorkflowSpec};
use colonies_statemachine::{Json, Time};
use common::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECOND: i64 = 1_000_000_000;

/// A one-function workflow as the JSON string crons and generators store.
fn workflow_text(funcname: &str) -> String {
    let spec = FunctionSpec { nodename: funcname.into(), ..dev_spec(funcname) };
    serde_json::to_string(&WorkflowSpec { colonyname: "dev".into(), functionspecs: vec![spec] }).unwrap()
}

/// Every graph of colony `dev`, in all states, oldest first.
async fn all_graphs(client: &Client) -> Vec<ProcessGraph> {
    let mut graphs = Vec::new();
    for state in 0..=4 {
        let message = GetProcessGraphsMsg { colonyname: "dev".into(), count: 100, state };
        graphs.extend(client.call(&key(EXECUTOR_KEY), message).await.unwrap());
    }
    graphs.sort_by_key(|g| g.submissiontime);
    graphs
}

async fn get_cron(client: &Client, cronid: &str) -> Cron {
    client.call(&key(EXECUTOR_KEY), GetCronMsg { cronid: cronid.into() }).await.unwrap()
}

/// This machine's clock, which the nodes share.
fn wall_clock() -> Time {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    Time::from_unix_nanos(since.as_nanos() as i64)
}

fn nanos(t: Time) -> i64 {
    t.unix_nanos().expect("a set time")
}

/// Kills the leader, waits for a successor, and brings the killed node back.
fn kill_leader(cluster: &mut colonies_cluster_tests::Cluster) {
    let leader = cluster.wait_leader(STARTUP);
    cluster.kill(leader);
    cluster.wait_leader(STARTUP);
    cluster.spawn(leader);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_fires_once_per_tick_while_the_leader_is_killed_twice() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let cron = Cron {
        colonyname: "dev".into(),
        name: "every-second".into(),
        interval: -1,
        cronexpression: "@every 1s".into(),
        workflowspec: workflow_text("tick"),
        ..Cron::default()
    };
    let added: Cron = client.call(&key(EXECUTOR_KEY), AddCronMsg { cron: Some(cron) }).await.unwrap();
    let first_tick = nanos(added.nextrun);

    let started = Instant::now();
    for kill_at in [Duration::from_secs(3), Duration::from_secs(7)] {
        tokio::time::sleep(kill_at.saturating_sub(started.elapsed())).await;
        kill_leader(&mut cluster);
    }
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(started.elapsed())).await;
    cluster.wait_healthy(STARTUP);

    // Once the successor has caught up the ticks missed during the failovers, read the
    // cron and its workflows together (the cron unchanged around the listing).
    let deadline = Instant::now() + Duration::from_secs(30);
    let (cron, graphs) = loop {
        let before = get_cron(&client, &added.cronid).await;
        let graphs = all_graphs(&client).await;
        let after = get_cron(&client, &added.cronid).await;
        // Every tick before now has run (nextrun is the next one ahead).
        let caught_up = nanos(after.nextrun) > nanos(wall_clock());
        if before == after && caught_up {
            break (after, graphs);
        }
        assert!(Instant::now() < deadline, "the cron never caught up: next run {:?}", after.nextrun);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Each run moves nextrun on by exactly one tick, so the ticks that elapsed are the
    // distance it moved; one workflow for each, none missing and none twice.
    let ticks = (nanos(cron.nextrun) - first_tick) / SECOND;
    eprintln!("{ticks} ticks, {} workflows", graphs.len());
    assert!(ticks >= 9, "only {ticks} ticks in more than 10 s");
    assert_eq!(graphs.len() as i64, ticks, "one workflow per tick");
    assert_eq!(cron.prevprocessgraphid, graphs.last().unwrap().processgraphid);
    // Never ahead of its tick: the k-th workflow was created at or after the k-th tick.
    for (k, graph) in graphs.iter().enumerate() {
        let tick = first_tick + k as i64 * SECOND;
        assert!(nanos(graph.submissiontime) >= tick, "workflow {k} created before its tick");
    }
    cluster.wait_converged(Duration::from_secs(30));
}

/// What became of one pack.
enum Packed {
    /// Answered with success: applied exactly once.
    Acked,
    /// Refused before it reached the log (no node to connect to, no leader): safe to resend.
    NotApplied,
    /// Sent, but the answer was lost (the node died) or the commit timed out: it may or may
    /// not be applied. Resending could pack it twice, so it is never resent.
    Unknown,
}

/// One pack through node `addr`, following its redirect to the leader, without the
/// client's retries (which cannot tell a lost answer from a refused connection).
async fn pack_once(http: &reqwest::Client, addr: &str, generatorid: &str, arg: &str) -> Packed {
    let message = Message::from(PackGeneratorMsg { generatorid: generatorid.into(), arg: arg.into() });
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &key(EXECUTOR_KEY));
    let body = serde_json::to_vec(&request).unwrap();
    let answer = match http.post(format!("http://{addr}/api")).body(body).send().await {
        Ok(answer) => answer,
        Err(e) if e.is_connect() => return Packed::NotApplied,
        Err(_) => return Packed::Unknown,
    };
    let Ok(bytes) = answer.bytes().await else { return Packed::Unknown };
    let reply: RpcReply = serde_json::from_slice(&bytes).expect("an RPC reply");
    if !reply.error {
        return Packed::Acked;
    }
    let failure: serde_json::Value = serde_json::from_slice(&decode_payload(&reply.payload).unwrap()).unwrap();
    let text = failure["message"].as_str().unwrap_or_default().to_string();
    match failure["status"].as_i64() {
        Some(503) if text.contains("not committed") => Packed::Unknown,
        Some(503) => Packed::NotApplied,
        _ => panic!("pack {arg} refused: {text}"),
    }
}

/// Root args of a generator run, as strings.
async fn batch_args(client: &Client, graph: &ProcessGraph) -> Vec<String> {
    let root = GetProcessMsg { processid: graph.rootprocessids[0].clone() };
    let process: Process = client.call(&key(EXECUTOR_KEY), root).await.unwrap();
    process.spec.args.iter().map(|a| a.0.as_str().unwrap().to_string()).collect()
}

async fn queue_size(client: &Client, generatorid: &str) -> i64 {
    let shown: Generator =
        client.call(&key(EXECUTOR_KEY), GetGeneratorMsg { generatorid: generatorid.into() }).await.unwrap();
    shown.queuesize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generator_arguments_are_used_once_through_a_leader_kill() {
    const TRIGGER: i64 = 10;
    const TIMEOUT: i64 = 10;
    const TOTAL: usize = 95;
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let generator = Generator {
        colonyname: "dev".into(),
        name: "batches".into(),
        workflowspec: workflow_text("batch"),
        trigger: TRIGGER,
        timeout: TIMEOUT,
        ..Generator::default()
    };
    let added: Generator =
        client.call(&key(EXECUTOR_KEY), AddGeneratorMsg { generator: Some(generator) }).await.unwrap();
    let id = added.generatorid.clone();

    // Three packers, one per node, until 80 packs are acknowledged; the leader is killed
    // after 30. Each arg is sent until it is acknowledged or its fate is unknown.
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let unknown = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let counter = Arc::new(AtomicUsize::new(0));
    let packers: Vec<_> = cluster
        .addrs()
        .into_iter()
        .enumerate()
        .map(|(p, addr)| {
            let (acked, unknown, counter, id) = (acked.clone(), unknown.clone(), counter.clone(), id.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(1)).build().unwrap();
                let mut n = 0;
                while counter.load(Ordering::SeqCst) < 80 {
                    let arg = format!("p{p}-{n}");
                    n += 1;
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        match pack_once(&http, &addr, &id, &arg).await {
                            Packed::Acked => {
                                acked.lock().unwrap().push(arg);
                                counter.fetch_add(1, Ordering::SeqCst);
                                break;
                            }
                            Packed::Unknown => {
                                unknown.lock().unwrap().push(arg);
                                break;
                            }
                            Packed::NotApplied => {
                                assert!(Instant::now() < deadline, "{arg} could not be packed for 30 s");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    while counter.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill_leader(&mut cluster);
    for packer in packers {
        packer.await.unwrap();
    }

    // Packs whose fate was unknown may have been applied: count what the cluster holds
    // (arguments in runs plus the queue; no run is due meanwhile, the timeout is far), and
    // top up to 95 with acknowledged packs.
    let settle = Instant::now() + Duration::from_secs(30);
    let applied = loop {
        let queued = queue_size(&client, &id).await;
        let mut in_runs = 0;
        for graph in all_graphs(&client).await {
            in_runs += batch_args(&client, &graph).await.len() as i64;
        }
        if queued < TRIGGER && queued == queue_size(&client, &id).await {
            break (in_runs + queued) as usize;
        }
        assert!(Instant::now() < settle, "full batches were not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "{} packs acknowledged, {} of unknown fate, {applied} applied before the top-up",
        acked.lock().unwrap().len(),
        unknown.lock().unwrap().len()
    );
    assert!(applied <= TOTAL, "{applied} packs applied");
    let http = reqwest::Client::new();
    let leader = cluster.addrs()[cluster.wait_leader(STARTUP)].clone();
    for n in 0..TOTAL - applied {
        let arg = format!("top-{n}");
        assert!(matches!(pack_once(&http, &leader, &id, &arg).await, Packed::Acked), "{arg}");
        acked.lock().unwrap().push(arg);
    }
    let last_pack = wall_clock();

    // 9 full batches, then the last 5 once the timeout has passed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let graphs = loop {
        let graphs = all_graphs(&client).await;
        if graphs.len() >= 10 {
            break graphs;
        }
        assert!(Instant::now() < deadline, "the last batch never ran: {} runs", graphs.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut sizes = Vec::new();
    let mut used = Vec::new();
    for graph in &graphs {
        let args = batch_args(&client, graph).await;
        sizes.push(args.len());
        used.extend(args);
    }
    assert_eq!(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 5], "batches in the order they ran");
    let last = graphs.last().unwrap();
    assert!(
        nanos(last.submissiontime) >= nanos(last_pack) + (TIMEOUT - 1) * SECOND,
        "the partial batch ran before its timeout"
    );
    let distinct: BTreeSet<&String> = used.iter().collect();
    assert_eq!(distinct.len(), used.len(), "an argument was used twice");
    let acked = acked.lock().unwrap().clone();
    let unknown = unknown.lock().unwrap().clone();
    for arg in &acked {
        assert!(distinct.contains(arg), "acknowledged {arg} was lost");
    }
    let sent: BTreeSet<&String> = acked.iter().chain(&unknown).collect();
    assert!(used.iter().all(|a| sent.contains(a)), "an argument nobody packed");
    assert_eq!(queue_size(&client, &id).await, 0);
    cluster.wait_converged(Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_waits_for_its_previous_workflow_and_passes_its_output_on() {
    let _serial = SERIAL.lock().await;
    let cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let cron = Cron {
        colonyname: "dev".into(),
        name: "one-at-a-time".into(),
        interval: 1,
        waitforprevprocessgraph: true,
        workflowspec: workflow_text("step"),
        ..Cron::default()
    };
    let added: Cron = client.call(&key(EXECUTOR_KEY), AddCronMsg { cron: Some(cron) }).await.unwrap();
    let executor = key(EXECUTOR_KEY);
    let assign = || AssignProcessMsg { colonyname: "dev".into(), timeout: 10, ..Default::default() };
    let first: Process = client.call(&executor, assign()).await.unwrap();
    // Several ticks pass while the first workflow runs: none starts another.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(all_graphs(&client).await.len(), 1, "a second workflow started while the first ran");
    let cron = get_cron(&client, &added.cronid).await;
    assert_eq!(cron.prevprocessgraphid, first.processgraphid);

    let close = CloseSuccessfulMsg { processid: first.processid, out: vec![Json(serde_json::json!("carried"))] };
    client.send(&executor, &close.into()).await.unwrap();
    let second: Process = client.call(&executor, assign()).await.unwrap();
    assert_ne!(second.processgraphid, first.processgraphid);
    assert_eq!(second.input, vec![Json(serde_json::json!("carried"))], "the previous run's leaf output");
    assert_eq!(all_graphs(&client).await.len(), 2);
}
