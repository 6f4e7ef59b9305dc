//! `colonies bench`: load generators that speak only the public protocol, so they run
//! against any ColonyOS-compatible server. Each run creates its own colony (with fresh
//! keys) using the server owner's key.

use anyhow::{Context, bail};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{
    AddColonyMsg, AddUserMsg, AssignProcessMsg, CloseSuccessfulMsg, SubmitFunctionSpecMsg,
};
use colonies_client::rpc::Client;
use colonies_localcluster::{Cluster, Placement};
use colonies_statemachine::model::{Colony, Conditions, Executor, FunctionSpec, Process, User};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The nodes to load and the server owner's key, which creates the bench colony.
pub struct Target {
    pub servers: Vec<String>,
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

/// A colony made for the run, with `executors` approved executors of type `bench` and a
/// user who submits, as people and services submit work in a colony.
pub(crate) struct BenchColony {
    pub name: String,
    executors: Vec<PrivateKey>,
    pub submitter: PrivateKey,
}

/// What an end-to-end run did: its rate, and the colony that now holds its processes.
pub(crate) struct EndToEnd {
    pub rate: f64,
    pub colony: BenchColony,
}

async fn create_colony(client: &Client, target: &Target, executors: usize) -> anyhow::Result<BenchColony> {
    let server = PrivateKey::from_hex(&target.serverprvkey).context("reading the server key")?;
    let owner = PrivateKey::generate();
    let name = format!("bench-{}", &owner.id()[..8]);
    let colony = Colony { colonyid: owner.id(), name: name.clone() };
    let _: Colony = client.call(&server, AddColonyMsg { colony: Some(colony) }).await.context("adding the colony")?;
    let submitter = PrivateKey::generate();
    let user =
        User { colonyname: name.clone(), userid: submitter.id(), name: "bench-submitter".into(), ..User::default() };
    let _: User = client.call(&owner, AddUserMsg { user: Some(user) }).await.context("adding the submitting user")?;
    let mut keys = Vec::new();
    for n in 0..executors {
        let key = PrivateKey::generate();
        let executor = Executor {
            executorid: key.id(),
            executorname: format!("bench-{n}"),
            executortype: "bench".into(),
            colonyname: name.clone(),
            ..Executor::default()
        };
        client.add_approved_executor(&owner, executor).await?;
        keys.push(key);
    }
    Ok(BenchColony { name, executors: keys, submitter })
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

/// Width of the progress bar, in characters.
const BAR_WIDTH: usize = 30;
/// How often the bar is redrawn on a terminal.
const REDRAW_EVERY: Duration = Duration::from_millis(200);

/// Progress of a run on stderr. The first counter is the one the run ends on and fills the
/// bar; the others are shown beside it. On a terminal the line is redrawn in place; in a
/// log, a line is written each time another tenth of the run is done.
struct Progress {
    total: usize,
    counters: Vec<(&'static str, AtomicUsize)>,
    started: Instant,
    /// When the first counter reached the total: the run's own duration, without the time
    /// idle callers take to return (executors still long-polling an empty queue).
    completed: std::sync::OnceLock<Duration>,
    finished: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn new(total: usize, labels: &[&'static str]) -> Arc<Progress> {
        Arc::new(Progress {
            total,
            counters: labels.iter().map(|label| (*label, AtomicUsize::new(0))).collect(),
            started: Instant::now(),
            completed: Default::default(),
            finished: Default::default(),
        })
    }

    fn count(&self, label: &str) {
        let Some(index) = self.counters.iter().position(|(name, _)| *name == label) else { return };
        let reached = self.counters[index].1.fetch_add(1, Ordering::Relaxed) + 1;
        if index == 0 && reached == self.total {
            let _ = self.completed.set(self.started.elapsed());
        }
    }

    /// How long the run took: until the last counted call, or until now.
    fn elapsed(&self) -> Duration {
        self.completed.get().copied().unwrap_or_else(|| self.started.elapsed())
    }

    fn done(&self) -> usize {
        self.counters[0].1.load(Ordering::Relaxed)
    }

    fn line(&self) -> String {
        let done = self.done();
        let percent = 100 * done / self.total.max(1);
        let rate = done as f64 / self.elapsed().as_secs_f64().max(1e-9);
        let counts: Vec<String> = self
            .counters
            .iter()
            .enumerate()
            .map(|(index, (label, n))| {
                let n = n.load(Ordering::Relaxed);
                if index == 0 { format!("{label} {n}/{}", self.total) } else { format!("{label} {n}") }
            })
            .collect();
        format!("[{}] {percent:>3}%  {}  {rate:.0}/s", bar(done, self.total, BAR_WIDTH), counts.join("  "))
    }

    /// Draws the progress until [`Progress::finish`], in place or once per tenth.
    fn start_drawing(self: &Arc<Progress>) -> tokio::task::JoinHandle<()> {
        use std::io::{IsTerminal, Write};
        let progress = self.clone();
        let terminal = std::io::stderr().is_terminal();
        tokio::spawn(async move {
            let mut tenths_shown = 0;
            loop {
                let finished = progress.finished.load(Ordering::Relaxed);
                let tenths = 10 * progress.done() / progress.total.max(1);
                if terminal {
                    eprint!("\r{}", progress.line());
                } else if (tenths > tenths_shown && tenths < 10) || finished {
                    tenths_shown = tenths;
                    eprintln!("{}", progress.line());
                }
                let _ = std::io::stderr().flush();
                if finished {
                    if terminal {
                        eprintln!();
                    }
                    return;
                }
                tokio::time::sleep(REDRAW_EVERY).await;
            }
        })
    }

    /// Draws the final state and ends the progress line.
    async fn finish(&self, drawing: tokio::task::JoinHandle<()>) {
        self.finished.store(true, Ordering::Relaxed);
        let _ = drawing.await;
    }
}

/// `done` of `total` as a bar `width` characters wide.
fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (width * done.min(total)).checked_div(total).unwrap_or(width);
    format!("{}{}", "#".repeat(filled), "-".repeat(width - filled))
}

async fn submit_all(
    client: Arc<Client>,
    submitter: Arc<PrivateKey>,
    colonyname: Arc<str>,
    count: usize,
    clients: usize,
    latencies: Arc<Latencies>,
    progress: Arc<Progress>,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let (client, key, colony, next, latencies, progress) = (
                client.clone(),
                submitter.clone(),
                colonyname.clone(),
                next.clone(),
                latencies.clone(),
                progress.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let begun = Instant::now();
                    let _: Process = client.call(&key, SubmitFunctionSpecMsg { spec: Some(spec(&colony, n)) }).await?;
                    latencies.record("submit", begun.elapsed()).await;
                    progress.count("submitted");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// `bench submit`: `count` submits from `clients` concurrent clients; returns processes/s.
pub async fn submit(target: &Target, count: usize, clients: usize) -> anyhow::Result<f64> {
    let client = Arc::new(Client::new(target.servers.clone()));
    let colony = create_colony(&client, target, 0).await?;
    let latencies = Arc::new(Latencies::default());
    let submitter = Arc::new(colony.submitter.clone());
    let progress = Progress::new(count, &["submitted"]);
    let drawing = progress.start_drawing();
    submit_all(client, submitter, colony.name.into(), count, clients, latencies.clone(), progress.clone()).await?;
    let took = progress.elapsed();
    progress.finish(drawing).await;
    let rate = count as f64 / took.as_secs_f64();
    println!("submit: {count} processes from {clients} clients in {took:.2?}: {rate:.0} processes/s");
    latencies.report().await;
    Ok(rate)
}

/// `bench e2e`: `executors` executors assign and close while `count` specs are submitted;
/// returns processes/s.
pub(crate) async fn end_to_end(
    target: &Target,
    count: usize,
    clients: usize,
    executors: usize,
) -> anyhow::Result<EndToEnd> {
    if executors == 0 {
        bail!("an end-to-end run needs at least one executor (--executors)");
    }
    let client = Arc::new(Client::new(target.servers.clone()));
    let colony = create_colony(&client, target, executors).await?;
    let latencies = Arc::new(Latencies::default());
    let progress = Progress::new(count, &["closed", "submitted"]);
    let drawing = progress.start_drawing();
    let workers: Vec<_> = colony
        .executors
        .iter()
        .map(|key| {
            let (client, key, latencies, progress) = (client.clone(), key.clone(), latencies.clone(), progress.clone());
            let colonyname = colony.name.clone();
            tokio::spawn(async move {
                while progress.done() < count {
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
                    progress.count("closed");
                }
                Ok(())
            })
        })
        .collect();
    let submitter = Arc::new(colony.submitter.clone());
    submit_all(client, submitter, colony.name.clone().into(), count, clients, latencies.clone(), progress.clone())
        .await?;
    for worker in workers {
        worker.await??;
    }
    // Up to the last close: executors left long-polling an empty queue are not the run.
    let took = progress.elapsed();
    progress.finish(drawing).await;
    let rate = count as f64 / took.as_secs_f64();
    println!(
        "e2e: {count} processes, {clients} submitters, {executors} executors in {took:.2?}: {rate:.0} processes/s"
    );
    latencies.report().await;
    Ok(EndToEnd { rate, colony })
}

/// `bench failover`: starts a local three-node cluster from this binary, and `rounds`
/// times kills the leader with SIGKILL and measures the time until an executor is
/// assigned a waiting process by the new leader.
pub async fn failover(rounds: usize) -> anyhow::Result<()> {
    let server = PrivateKey::generate();
    let mut cluster = local_cluster(&server)?;
    measure_failovers(&mut cluster, &server, rounds).await
}

/// Three nodes of this binary on free ports, in a temporary folder, owned by `server`.
pub(crate) fn local_cluster(server: &PrivateKey) -> anyhow::Result<Cluster> {
    crate::dev::start_local(
        None,
        &[Placement::default(), Placement::default(), Placement::default()],
        server.id(),
        "error",
        None,
        None,
    )
}

/// The node index of the leader, once the running nodes agree on one (within 5 s).
pub(crate) fn leader_of(cluster: &mut Cluster) -> Option<usize> {
    tokio::task::block_in_place(|| cluster.leader_within(Duration::from_secs(5)).ok())
}

/// Waits until every running node has applied the same log index.
pub(crate) fn wait_converged(cluster: &mut Cluster) -> anyhow::Result<()> {
    const LIMIT: Duration = Duration::from_secs(30);
    if !tokio::task::block_in_place(|| cluster.applied_alike_within(LIMIT)) {
        bail!("the nodes did not converge within {LIMIT:?}");
    }
    Ok(())
}

async fn measure_failovers(cluster: &mut Cluster, server: &PrivateKey, rounds: usize) -> anyhow::Result<()> {
    let client = Client::new(cluster.addrs());
    let target = Target { servers: client.servers().to_vec(), serverprvkey: server.to_hex() };
    let colony = create_colony(&client, &target, 1).await?;
    let executor = &colony.executors[0];
    let mut gaps = Vec::new();
    for round in 0..rounds {
        let begun = Instant::now();
        // One waiting process per round, submitted before the kill: the gap ends when an
        // executor is handed it by the new leader.
        let leader = loop {
            let submitted =
                client.call(&colony.submitter, SubmitFunctionSpecMsg { spec: Some(spec(&colony.name, round)) });
            if submitted.await.is_ok()
                && let Some(leader) = leader_of(cluster)
            {
                break leader;
            }
            if begun.elapsed() > Duration::from_secs(60) {
                bail!("the cluster did not settle");
            }
        };
        // Kill a healthy cluster: a node restarted in the previous round must have caught
        // up, or the survivors are one up-to-date node and one still replaying.
        wait_converged(cluster)?;
        cluster.kill(leader);
        let killed = Instant::now();
        loop {
            let assign = AssignProcessMsg { colonyname: colony.name.clone(), timeout: 1, ..Default::default() };
            if client.call(executor, assign).await.is_ok() {
                break;
            }
            if killed.elapsed() > Duration::from_secs(60) {
                bail!("no assign succeeded within 60 s of the kill");
            }
        }
        let gap = killed.elapsed();
        eprintln!("round {}: leader {} killed, first assign after {gap:.2?}", round + 1, leader + 1);
        gaps.push(gap);
        cluster.spawn(leader)?;
    }
    gaps.sort();
    println!(
        "failover: {rounds} leader kills; gap from SIGKILL to the first assign: median {:.2?}, min {:.2?}, max {:.2?}",
        gaps[gaps.len() / 2],
        gaps[0],
        gaps[gaps.len() - 1]
    );
    Ok(())
}

/// Resident memory (KiB) and CPU ticks (user + system) of a process, from /proc.
pub(crate) fn usage_of(pid: u32) -> Option<(u64, u64)> {
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
    let started = Instant::now();
    let executor = Arc::new(colony.executors[0].clone());
    let polls: Vec<_> = (0..waiters)
        .map(|_| {
            let (client, executor, colonyname) = (client.clone(), executor.clone(), colony.name.clone());
            tokio::spawn(async move {
                let assign = AssignProcessMsg { colonyname, timeout: hold as i64, ..Default::default() };
                client.call(&executor, assign).await.err().and_then(|e| e.status())
            })
        })
        .collect();
    // Sample between a third and two thirds of the wait, when every poll is parked on the
    // server and connection setup is over: what idle waiters cost, not what arriving costs.
    let window = Duration::from_secs(hold) / 3;
    tokio::time::sleep(window).await;
    let first = pid.and_then(usage_of);
    tokio::time::sleep(window).await;
    let second = pid.and_then(usage_of);
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
    if let (Some((_, ticks_first)), Some((rss, ticks_second))) = (first, second) {
        let ticks_per_second = 100.0; // USER_HZ on Linux
        let cpu = (ticks_second - ticks_first) as f64 / ticks_per_second;
        println!(
            "  server RSS {} MiB while waiting; CPU {cpu:.2} s in {:.1} s of waiting ({:.1}%)",
            rss / 1024,
            window.as_secs_f64(),
            100.0 * cpu / window.as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_in_proportion_and_never_overflows() {
        assert_eq!(bar(0, 10, 10), "----------");
        assert_eq!(bar(5, 10, 10), "#####-----");
        assert_eq!(bar(10, 10, 10), "##########");
        assert_eq!(bar(15, 10, 10), "##########", "more than the total stays full");
        assert_eq!(bar(1, 3, 10), "###-------");
        assert_eq!(bar(0, 0, 4), "####", "nothing to do is done");
    }

    #[test]
    fn the_progress_line_shows_the_bar_every_counter_and_the_total() {
        let progress = Progress::new(200, &["closed", "submitted"]);
        for _ in 0..50 {
            progress.count("closed");
        }
        for _ in 0..120 {
            progress.count("submitted");
        }
        progress.count("unknown");
        let line = progress.line();
        assert!(line.starts_with(&format!("[{}]  25%", bar(50, 200, BAR_WIDTH))), "{line}");
        assert!(line.contains("closed 50/200  submitted 120  "), "{line}");
        assert!(line.ends_with("/s"), "{line}");
        assert_eq!(progress.done(), 50);
    }
}
