//! `bench history`: how a cluster fares as its history grows (issue 14). Starts a local
//! three-node cluster from this binary, measures submit and end-to-end throughput while it
//! is empty, fills it with finished processes step by step (reporting each node's memory
//! and disk), measures the throughput again at full size, reports the snapshots each node
//! built and installed and the leader changes (from `/metrics`), then how long a restarted
//! follower takes to serve and catch up, and how long a wiped one takes to be re-synced by a
//! snapshot. A wiped node rejoins under a new id, as an operator does: one that came back
//! under its old id would make the leader see its log go backwards.

use crate::bench::{BenchColony, Target, end_to_end, leader_of, submit, usage_of, wait_converged};
use anyhow::{Context, bail};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{GetColonyStatsMsg, GetProcessesMsg, Message};
use colonies_client::rpc::Client;
use colonies_localcluster::{Cluster, Placement, free_port};
use std::path::Path;
use std::time::{Duration, Instant};

/// Processes of each throughput measurement.
const PROBE: usize = 2_000;
/// Calls of each query whose latency is measured at full size.
const QUERY_SAMPLES: usize = 200;
/// Submitting clients and executors of the fill and the probes.
const CLIENTS: usize = 4;
const EXECUTORS: usize = 8;
/// How long a restarted or wiped node may take to catch up before the bench gives up.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(600);

/// Bytes under `path`, recursively.
fn disk_usage(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk_usage(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// One line per node: RSS and datadir size.
fn report_nodes(cluster: &Cluster, processes: usize) {
    for (i, node) in cluster.nodes.iter().enumerate() {
        let rss = node.pid().and_then(usage_of).map_or(0, |(rss, _)| rss);
        let disk = disk_usage(&node.datadir);
        println!(
            "history {processes:>9}: node {} RSS {:>7.1} MiB, disk {:>7.1} MiB",
            i + 1,
            rss as f64 / 1024.0,
            mib(disk)
        );
    }
}

/// The sum of the samples of `name` (every label set) in a `/metrics` text.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| line.strip_prefix(name).is_some_and(|rest| rest.starts_with([' ', '{'])))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// One line per node: snapshots built (with their mean time) and installed, leader
/// changes seen and elections started.
fn report_raft(cluster: &Cluster) {
    for i in 0..cluster.nodes.len() {
        let Some(text) = cluster.metrics(i) else { continue };
        let metric = |name: &str| metric_sum(&text, name);
        let builds = metric("colonies_raft_snapshot_build_duration_seconds_count");
        let mean = metric("colonies_raft_snapshot_build_duration_seconds_sum") / builds.max(1.0);
        println!(
            "  node {}: snapshots built {builds:.0} (mean {mean:.2} s), installed {:.0}, size {:.1} MiB; \
             leader changes seen {:.0}, elections started {:.0}",
            i + 1,
            metric("colonies_raft_snapshot_installs_total"),
            mib(metric("colonies_raft_snapshot_size_bytes") as u64),
            metric("colonies_raft_leader_changes_total"),
            metric("colonies_raft_elections_started_total"),
        );
    }
}

/// Replaces follower `wiped` by a node with an empty data folder and a new id, as an
/// operator replaces a lost disk; the time until it has applied what the others have, and
/// whether it got there by a snapshot (rather than the log alone).
async fn resync_wiped(cluster: &mut Cluster, leader: usize, wiped: usize) -> anyhow::Result<(Duration, bool)> {
    let old_id = cluster.nodes[wiped].id.to_string();
    if !cluster.cluster_command(leader, &["remove", "--nodeid", &old_id]) {
        bail!("the leader did not remove node {old_id}");
    }
    cluster.kill(wiped);
    let begun = Instant::now();
    let fresh = cluster.start_joining_node()?;
    let (new_id, addr) = (cluster.nodes[fresh].id.to_string(), cluster.nodes[fresh].addr());
    if !cluster.cluster_command(leader, &["add", "--nodeid", &new_id, "--addr", &addr]) {
        bail!("the leader did not add node {new_id}");
    }
    if !tokio::task::block_in_place(|| cluster.applied_alike_within(CATCH_UP_LIMIT)) {
        bail!("the wiped node did not catch up within {CATCH_UP_LIMIT:?}");
    }
    Ok((begun.elapsed(), cluster.status_number(fresh, "snapshot").unwrap_or(0) > 0))
}

/// The reads a user makes of a large colony, each `QUERY_SAMPLES` times one after the
/// other through the cluster (followers redirect or answer): the 100 newest successful
/// processes (`process pss`), the waiting ones (`process ps`), the colony's statistics.
async fn query_latencies(target: &Target, colony: &BenchColony) -> anyhow::Result<Vec<(&'static str, [Duration; 2])>> {
    let client = Client::new(target.servers.clone());
    let member = &colony.submitter;
    let list =
        |state: i64| GetProcessesMsg { colonyname: colony.name.clone(), count: 100, state, ..Default::default() };
    let mut results = Vec::new();
    for (query, message) in [
        ("getprocessesmsg, 100 successful (process pss)", Message::from(list(2))),
        ("getprocessesmsg, waiting (process ps)", Message::from(list(0))),
        ("getcolonystatsmsg (colony stats)", Message::from(GetColonyStatsMsg { colonyname: colony.name.clone() })),
    ] {
        let mut samples = Vec::with_capacity(QUERY_SAMPLES);
        for _ in 0..QUERY_SAMPLES {
            let begun = Instant::now();
            client.send(member, &message).await.context(query)?;
            samples.push(begun.elapsed());
        }
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        results.push((query, [at(0.5), at(0.99)]));
    }
    Ok(results)
}

async fn throughput(target: &Target) -> anyhow::Result<(f64, f64)> {
    Ok((submit(target, PROBE, CLIENTS).await?, end_to_end(target, PROBE, CLIENTS, EXECUTORS).await?.rate))
}

/// The term of the leader the nodes agree on.
fn term(cluster: &mut Cluster) -> Option<u64> {
    let leader = leader_of(cluster)?;
    cluster.status_number(leader, "term")
}

/// Time from (re)starting node `i` until its `/health` answers, until its `/ready` does,
/// and until it has applied what the others have.
async fn time_to_serve(cluster: &mut Cluster, http: &reqwest::Client, i: usize) -> anyhow::Result<[Duration; 3]> {
    let begun = Instant::now();
    cluster.spawn(i)?;
    let addr = cluster.nodes[i].addr();
    let url = |path: &str| format!("http://{addr}{path}");
    let mut times = [None; 3];
    while times[1].is_none() {
        if begun.elapsed() > CATCH_UP_LIMIT {
            bail!("node {} did not become ready within {CATCH_UP_LIMIT:?}", i + 1);
        }
        for (slot, path) in [(0, "/health"), (1, "/ready")] {
            if times[slot].is_none()
                && http.get(url(path)).send().await.is_ok_and(|answer| answer.status().is_success())
            {
                times[slot] = Some(begun.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_converged(cluster).context("after the restart")?;
    times[2] = Some(begun.elapsed());
    Ok(times.map(|t| t.unwrap_or_default()))
}

pub async fn history(total: usize, step: usize) -> anyhow::Result<()> {
    if step == 0 || total < step {
        bail!("--step must be between 1 and --processes");
    }
    let server = PrivateKey::generate();
    let placement = || Placement { metrics_port: Some(free_port()), ..Placement::default() };
    let placements = [placement(), placement(), placement()];
    let mut cluster = crate::dev::start_local(None, &placements, server.id(), "error", None, None)?;
    crate::dev::wait_leader(&mut cluster)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let target = Target { servers: cluster.addrs(), serverprvkey: server.to_hex() };

    let empty = throughput(&target).await?;
    report_nodes(&cluster, 0);
    let first_term = term(&mut cluster);
    let mut filled = 0;
    let mut last_colony = None;
    while filled < total {
        let count = step.min(total - filled);
        last_colony = Some(end_to_end(&target, count, CLIENTS, EXECUTORS).await?.colony);
        filled += count;
        report_nodes(&cluster, filled);
    }
    let colony = last_colony.context("the fill ran no step")?;
    let queries = query_latencies(&target, &colony).await?;
    let full = throughput(&target).await?;
    let last_term = term(&mut cluster);
    wait_converged(&mut cluster)?;

    let leader = leader_of(&mut cluster).context("no leader after the fill")?;
    let follower = (leader + 1) % cluster.nodes.len();
    cluster.kill(follower);
    let restart = time_to_serve(&mut cluster, &http, follower).await?;
    report_nodes(&cluster, filled);
    report_raft(&cluster);
    let leader = leader_of(&mut cluster).context("no leader after the restart")?;
    let wiped = (leader + 2) % cluster.nodes.len();
    let (resync, by_snapshot) = resync_wiped(&mut cluster, leader, wiped).await?;

    println!("history: {filled} finished processes (the same spec as bench e2e)");
    println!(
        "  submit   empty {:>6.0}/s   full {:>6.0}/s   ({:+.0}%)",
        empty.0,
        full.0,
        (full.0 / empty.0 - 1.0) * 100.0
    );
    println!(
        "  e2e      empty {:>6.0}/s   full {:>6.0}/s   ({:+.0}%)",
        empty.1,
        full.1,
        (full.1 / empty.1 - 1.0) * 100.0
    );
    for (query, [p50, p99]) in queries {
        println!("  {query:<44} p50 {p50:>9.2?}   p99 {p99:>9.2?}   ({QUERY_SAMPLES} calls)");
    }
    println!("  term during the fill: {first_term:?} -> {last_term:?} (equal: no leader change)");
    println!("  follower restart: /health {:.2?}, /ready {:.2?}, caught up {:.2?}", restart[0], restart[1], restart[2]);
    let how = if by_snapshot { "a snapshot" } else { "the log (nothing purged yet)" };
    println!("  wiped follower, rejoined under a new id, caught up from {how}: {resync:.2?}");
    Ok(())
}
