//! The long chaos run, for people: any duration, any mix of faults, against a release
//! build. Prints the checker's verdict and exits non-zero on a violation.
//!
//! ```sh
//! cargo build --release -p colonies-cli
//! sudo target/release/chaos --minutes 30 --faults all     # after building this binary too
//! ```

use anyhow::{Context, bail};
use clap::Parser;
use colonies_cluster_tests::chaos::checker::describe_fault;
use colonies_cluster_tests::chaos::nemesis::Fault;
use colonies_cluster_tests::chaos::run::{RunConfig, Schedule, run};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Runs a colonies cluster under a load and injected faults, then judges the recorded history")]
struct Args {
    /// How long to inject faults (the drain and the check come after).
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// `all`, or a comma-separated list of: kill-one, kill-all, pause-leader,
    /// partition-leader, disk-full, snapshot-kill, random-restarts.
    #[arg(long, default_value = "all")]
    faults: String,
    /// The `colonies` binary the nodes run; by default the one beside this program
    /// (target/release/colonies for a release build of both).
    #[arg(long, env = "COLONIES_TEST_BINARY")]
    binary: Option<PathBuf>,
    /// Seed of the fault schedule and of the executors' choices (default: the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Where node logs and the history are kept when the verdict is not OK.
    #[arg(long, default_value = "chaos-logs")]
    keep_logs: PathBuf,
    /// Submitting clients and executors of the load.
    #[arg(long, default_value_t = 2)]
    submitters: usize,
    #[arg(long, default_value_t = 4)]
    executors: usize,
    /// Pause between two submits of one submitter, in ms.
    #[arg(long, default_value_t = 150)]
    submit_interval_ms: u64,
    /// Size of the tmpfs under one node's datadir (the disk-full fault fills it); the
    /// state of a long run must fit in it.
    #[arg(long, default_value_t = 512)]
    disk_mib: u64,
}

fn faults(list: &str) -> anyhow::Result<Vec<Fault>> {
    if list == "all" {
        return Ok(Fault::ALL.to_vec());
    }
    list.split(',').map(|name| name.trim().parse::<Fault>().map_err(anyhow::Error::msg)).collect()
}

fn binary(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let binary = match given {
        Some(binary) => binary,
        None => std::env::current_exe().context("locating this program")?.with_file_name("colonies"),
    };
    if !binary.is_file() {
        bail!(
            "no colonies binary at {}: build it (cargo build --release -p colonies-cli) or name one with --binary",
            binary.display()
        );
    }
    Ok(binary)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mix = faults(&args.faults)?;
    let binary = binary(args.binary)?;
    println!("chaos: nodes run {}", binary.display());
    colonies_cluster_tests::use_colonies_binary(binary)
        .map_err(|b| anyhow::anyhow!("binary already set: {}", b.display()))?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1)
    });
    let duration = Duration::from_secs_f64(args.minutes.max(0.0) * 60.0);
    let mut config = RunConfig::new(Schedule::For { duration, mix }, seed);
    config.keep_logs = Some(args.keep_logs);
    config.load.submitters = args.submitters;
    config.load.executors = args.executors;
    config.load.submit_interval = Duration::from_millis(args.submit_interval_ms);
    config.env.disk_mib = Some(args.disk_mib);
    // Ctrl-C ends the schedule, a second one the drain; the nodes, namespaces and tmpfs are
    // cleaned up either way, which exiting here would skip.
    let interrupt = config.interrupt.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            match interrupt.fetch_add(1, Ordering::Relaxed) {
                0 => eprintln!("chaos: interrupted; healing, draining and checking (Ctrl-C again to skip the drain)"),
                _ => eprintln!("chaos: skipping the drain; checking and cleaning up"),
            }
        }
    });
    let report = run(config).await?;
    println!("chaos: ran {:.1} min, {} faults", report.elapsed.as_secs_f64() / 60.0, report.history.faults.len());
    for fault in &report.history.faults {
        println!("chaos: {}", describe_fault(fault));
    }
    for note in &report.history.notes {
        println!("chaos: note: {note}");
    }
    println!("{}", report.verdict);
    if let Some(logs) = &report.logs {
        println!("chaos: node logs and history kept in {}", logs.display());
    }
    if !report.verdict.ok() {
        std::process::exit(1);
    }
    Ok(())
}
