//! `colonies bench`: load generators that speak only the public protocol, so they run
//! against any ColonyOS-compatible server. Each run creates its own colony (with fresh
//! keys) using the server owner's key.

use anyhow::{Context, bail};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{
    AddColonyMsg, AddExecutorMsg, ApproveExecutorMsg, AssignProcessMsg, CloseSuccessfulMsg, SubmitFunctionSpecMsg,
};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{Colony, Conditions, Executor, FunctionSpec, Process};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(clap::Args)]
pub struct Target {
    /// Nodes to talk to, `host:port`, comma separated.
    #[arg(long, env = "COLONIES_SERVER_ADDRS", value_delimiter = ',', default_value = "localhost:50080")]
    pub servers: Vec<String>,
    /// The server owner's key, used to create the bench colony.
    #[arg(long, env = "COLONIES_SERVER_PRVKEY", hide_env_values = true)]
    pub serverprvkey: String,
}

/// Latencies per call type.
#[derive(Default)]
struct Latencies(Mutex<BTreeMap<&'static str, Vec<Duration>>>);

impl Latencies {
    async fn record(&self, call: &'static str, took: Duration) {
        self.0.lock().await.entry(call).or_default().push(took);
    }

    async fn report(&self) {
        for (call, samples) in self.0.lock().await.iter_mut() {
            samples.sort();
            let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
            println!("  {call:<8} n={:<7} p50={:>8.2?} p99={:>8.2?}", samples.len(), at(0.5), at(0.99));
        }
    }
}

/// A colony made for the run, with `executors` approved executors of type `bench`.
struct BenchColony {
    name: String,
    executors: Vec<PrivateKey>,
}

async fn create_colony(client: &Client, target: &Target, executors: usize) -> anyhow::Result<BenchColony> {
    let server = PrivateKey::from_hex(&target.serverprvkey).context("reading the server key")?;
    let owner = PrivateKey::generate();
    let name = format!("bench-{}", &owner.id()[..8]);
    let colony = Colony { colonyid: owner.id(), name: name.clone() };
    let _: Colony = client.call(&server, AddColonyMsg { colony: Some(colony) }).await.context("adding the colony")?;
    let mut keys = Vec::new();
    for n in 0..executors.max(1) {
        let key = PrivateKey::generate();
        let executor = Executor {
            executorid: key.id(),
            executorname: format!("bench-{n}"),
            executortype: "bench".into(),
            colonyname: name.clone(),
            ..Executor::default()
        };
        let _: Executor = client.call(&owner, AddExecutorMsg { executor: Some(executor) }).await?;
        let approve = ApproveExecutorMsg { colonyname: name.clone(), executorname: format!("bench-{n}") };
        client.send(&owner, &approve.into()).await?;
        keys.push(key);
    }
    Ok(BenchColony { name, executors: keys })
}

fn spec(colonyname: &str, n: usize) -> FunctionSpec {
    FunctionSpec {
        funcname: "bench".into(),
        args: vec![serde_json::json!(n).into()],
        maxwaittime: -1,
        maxexectime: -1,
        maxretries: -1,
        conditions: Conditions { colonyname: colonyname.into(), executortype: "bench".into(), ..Conditions::default() },
        ..FunctionSpec::default()
    }
}

/// A progress line on stderr, redrawn in place.
fn progress(label: &str, done: usize, total: usize, started: Instant) {
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
    eprint!("\r{label}: {done}/{total} ({rate:.0}/s)   ");
}

async fn submit_all(
    client: Arc<Client>,
    submitter: Arc<PrivateKey>,
    colonyname: Arc<str>,
    count: usize,
    clients: usize,
    latencies: Arc<Latencies>,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let (client, key, colony, next, latencies) =
                (client.clone(), submitter.clone(), colonyname.clone(), next.clone(), latencies.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let begun = Instant::now();
                    let _: Process = client.call(&key, SubmitFunctionSpecMsg { spec: Some(spec(&colony, n)) }).await?;
                    latencies.record("submit", begun.elapsed()).await;
                    if n % 100 == 0 {
                        progress("submitted", n, count, started);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// `bench submit`: `count` submits from `clients` concurrent clients.
pub async fn submit(target: &Target, count: usize, clients: usize) -> anyhow::Result<()> {
    let client = Arc::new(Client::new(target.servers.clone()));
    let colony = create_colony(&client, target, 1).await?;
    let latencies = Arc::new(Latencies::default());
    let started = Instant::now();
    let submitter = Arc::new(colony.executors[0].clone());
    submit_all(client, submitter, colony.name.into(), count, clients, latencies.clone()).await?;
    let took = started.elapsed();
    eprintln!();
    println!(
        "submit: {count} processes from {clients} clients in {took:.2?}: {:.0} processes/s",
        count as f64 / took.as_secs_f64()
    );
    latencies.report().await;
    Ok(())
}

/// `bench e2e`: `executors` executors assign and close while `count` specs are submitted.
pub async fn end_to_end(target: &Target, count: usize, clients: usize, executors: usize) -> anyhow::Result<()> {
    let client = Arc::new(Client::new(target.servers.clone()));
    let colony = create_colony(&client, target, executors).await?;
    let latencies = Arc::new(Latencies::default());
    let closed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = colony
        .executors
        .iter()
        .map(|key| {
            let (client, key, closed, latencies) = (client.clone(), key.clone(), closed.clone(), latencies.clone());
            let colonyname = colony.name.clone();
            tokio::spawn(async move {
                while closed.load(Ordering::Relaxed) < count {
                    let begun = Instant::now();
                    let assign = AssignProcessMsg { colonyname: colonyname.clone(), timeout: 1, ..Default::default() };
                    let process: Process = match client.call(&key, assign).await {
                        Ok(process) => process,
                        Err(e) if e.status() == Some(404) => continue,
                        Err(e) => return Err(anyhow::Error::from(e)),
                    };
                    latencies.record("assign", begun.elapsed()).await;
                    let begun = Instant::now();
                    let close = CloseSuccessfulMsg { processid: process.processid, out: vec![] };
                    client.send(&key, &close.into()).await?;
                    latencies.record("close", begun.elapsed()).await;
                    let done = closed.fetch_add(1, Ordering::Relaxed) + 1;
                    if done % 100 == 0 {
                        progress("closed", done, count, started);
                    }
                }
                Ok(())
            })
        })
        .collect();
    let submitter = Arc::new(colony.executors[0].clone());
    submit_all(client, submitter, colony.name.clone().into(), count, clients, latencies.clone()).await?;
    for worker in workers {
        worker.await??;
    }
    let took = started.elapsed();
    eprintln!();
    println!(
        "e2e: {count} processes, {clients} submitters, {executors} executors in {took:.2?}: {:.0} processes/s",
        count as f64 / took.as_secs_f64()
    );
    latencies.report().await;
    Ok(())
}

/// `bench failover`: starts a local three-node cluster from this binary, and `rounds`
/// times kills the leader with SIGKILL and measures the time to the first acknowledged
/// write on the new leader.
pub async fn failover(rounds: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = PrivateKey::generate();
    let ports: Vec<u16> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()))
        .collect::<Result<_, _>>()?;
    let peers = ports.iter().enumerate().map(|(i, p)| format!("{}=127.0.0.1:{p}", i + 1)).collect::<Vec<_>>().join(",");
    let exe = std::env::current_exe()?;
    let start = |i: usize| {
        std::process::Command::new(&exe)
            .args(["server", "start", "--host", "127.0.0.1", "--nodeid", &(i + 1).to_string()])
            .args(["--port", &ports[i].to_string(), "--peers", &peers])
            .arg("--datadir")
            .arg(dir.path().join(format!("n{i}")))
            .env("COLONIES_SERVER_ID", server.id())
            .env("COLONIES_CLUSTER_SECRET", "bench")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    };
    let mut nodes: Vec<std::process::Child> = (0..3).map(start).collect::<Result<_, _>>()?;
    let result = measure_failovers(&mut nodes, &ports, &server, rounds, start).await;
    for node in &mut nodes {
        let _ = node.kill();
        let _ = node.wait();
    }
    result
}

async fn leader_of(http: &reqwest::Client, ports: &[u16]) -> Option<usize> {
    for port in ports {
        if let Ok(answer) = http.get(format!("http://127.0.0.1:{port}/cluster")).send().await
            && let Ok(status) = answer.json::<serde_json::Value>().await
            && let Some(leader) = status["leader"].as_u64()
        {
            return Some(leader as usize - 1);
        }
    }
    None
}

async fn measure_failovers(
    nodes: &mut [std::process::Child],
    ports: &[u16],
    server: &PrivateKey,
    rounds: usize,
    start: impl Fn(usize) -> std::io::Result<std::process::Child>,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let client = Client::new(ports.iter().map(|p| format!("127.0.0.1:{p}")).collect());
    let mut gaps = Vec::new();
    for round in 0..rounds {
        let begun = Instant::now();
        let leader = loop {
            // Also proves the cluster takes writes before the kill.
            let colony = Colony { colonyid: server.id(), name: format!("warm-{round}-{}", begun.elapsed().as_nanos()) };
            if client.call::<Colony>(server, AddColonyMsg { colony: Some(colony) }).await.is_ok()
                && let Some(leader) = leader_of(&http, ports).await
            {
                break leader;
            }
            if begun.elapsed() > Duration::from_secs(60) {
                bail!("the cluster did not settle");
            }
        };
        nodes[leader].kill()?;
        nodes[leader].wait()?;
        let killed = Instant::now();
        let mut n = 0;
        loop {
            n += 1;
            let colony = Colony { colonyid: server.id(), name: format!("after-{round}-{n}") };
            if client.call::<Colony>(server, AddColonyMsg { colony: Some(colony) }).await.is_ok() {
                break;
            }
        }
        let gap = killed.elapsed();
        eprintln!("round {}: leader {} killed, first acknowledged write after {gap:.2?}", round + 1, leader + 1);
        gaps.push(gap);
        nodes[leader] = start(leader)?;
    }
    gaps.sort();
    println!(
        "failover: {rounds} leader kills; gap to the first acknowledged write: median {:.2?}, min {:.2?}, max {:.2?}",
        gaps[gaps.len() / 2],
        gaps[0],
        gaps[gaps.len() - 1]
    );
    Ok(())
}

/// Resident memory (KiB) and CPU ticks (user + system) of a process, from /proc.
fn usage_of(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat[stat.rfind(") ")? + 2..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((rss, ticks))
}

/// `bench longpoll`: `waiters` executors long-poll an empty queue at once; with `pid`,
/// reports the server's memory and CPU while they wait.
pub async fn longpoll(target: &Target, waiters: usize, hold: u64, pid: Option<u32>) -> anyhow::Result<()> {
    let client = Arc::new(Client::new(target.servers.clone()));
    let colony = create_colony(&client, target, 1).await?;
    let before = pid.and_then(usage_of);
    let started = Instant::now();
    let executor = Arc::new(colony.executors[0].clone());
    let polls: Vec<_> = (0..waiters)
        .map(|_| {
            let (client, executor, colonyname) = (client.clone(), executor.clone(), colony.name.clone());
            tokio::spawn(async move {
                let assign = AssignProcessMsg { colonyname, timeout: hold as i64, ..Default::default() };
                client.call::<Process>(&executor, assign).await.err().and_then(|e| e.status())
            })
        })
        .collect();
    // Measure in the middle of the wait, when every poll is parked on the server.
    tokio::time::sleep(Duration::from_secs(hold / 2)).await;
    let during = pid.and_then(usage_of);
    let mut timed_out = 0;
    for poll in polls {
        if poll.await? == Some(404) {
            timed_out += 1;
        }
    }
    println!(
        "longpoll: {waiters} waiting assigns for {hold} s; {timed_out} ended with 404 after {:.2?}",
        started.elapsed()
    );
    if let (Some((rss_before, ticks_before)), Some((rss_during, ticks_during))) = (before, during) {
        let ticks_per_second = 100.0; // USER_HZ on Linux
        let cpu = (ticks_during - ticks_before) as f64 / ticks_per_second;
        let window = (hold / 2) as f64;
        println!(
            "  server RSS {} MiB before, {} MiB while waiting; CPU {cpu:.2} s in {window:.0} s ({:.1}%)",
            rss_before / 1024,
            rss_during / 1024,
            100.0 * cpu / window
        );
    }
    Ok(())
}
