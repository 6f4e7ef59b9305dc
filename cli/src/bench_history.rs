//! `bench history`: how a cluster fares as its history grows (issue 14). Starts a local
//! three-node cluster from this binary, measures submit and end-to-end throughput while it
//! is empty, fills it with finished processes step by step (reporting each node's memory
//! and disk), measures the throughput again at full size, then how long a restarted
//! follower takes to serve and catch up. (A wiped node must rejoin under a new id, which
//! this local cluster does not do: a wiped node that comes back under its old id would make
//! the leader see its log go backwards.)

use crate::bench::{Target, end_to_end, leader_of, local_cluster, submit, usage_of, wait_converged};
use anyhow::{Context, bail};
use colonies_client::identity::PrivateKey;
use colonies_localcluster::Cluster;
use std::path::Path;
use std::time::{Duration, Instant};

/// Processes of each throughput measurement.
const PROBE: usize = 2_000;
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

async fn throughput(target: &Target) -> anyhow::Result<(f64, f64)> {
    Ok((submit(target, PROBE, CLIENTS).await?, end_to_end(target, PROBE, CLIENTS, EXECUTORS).await?))
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
    let mut cluster = local_cluster(&server)?;
    crate::dev::wait_leader(&mut cluster)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let target = Target { servers: cluster.addrs(), serverprvkey: server.to_hex() };

    let empty = throughput(&target).await?;
    report_nodes(&cluster, 0);
    let first_term = term(&mut cluster);
    let mut filled = 0;
    while filled < total {
        let count = step.min(total - filled);
        end_to_end(&target, count, CLIENTS, EXECUTORS).await?;
        filled += count;
        report_nodes(&cluster, filled);
    }
    let full = throughput(&target).await?;
    let last_term = term(&mut cluster);
    wait_converged(&mut cluster)?;

    let leader = leader_of(&mut cluster).context("no leader after the fill")?;
    let follower = (leader + 1) % cluster.nodes.len();
    cluster.kill(follower);
    let restart = time_to_serve(&mut cluster, &http, follower).await?;
    report_nodes(&cluster, filled);

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
    println!("  term during the fill: {first_term:?} -> {last_term:?} (equal: no leader change)");
    println!("  follower restart: /health {:.2?}, /ready {:.2?}, caught up {:.2?}", restart[0], restart[1], restart[2]);
    Ok(())
}
