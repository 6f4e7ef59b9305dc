//! One chaos run: start the cluster, run the load, inject the faults of a schedule, heal,
//! let the executors drain the queue, look at the cluster and judge the history.

use super::checker::{CheckOptions, FinalProcess, FinalState, Verdict, check, describe, describe_fault};
use super::env::{ChaosCluster, EnvConfig};
use super::history::{History, OpKind, Outcome, Recorder};
use super::load::{self, Keys, Load, LoadConfig};
use super::nemesis::{self, Fault};
use colonies_client::messages::{GetProcessMsg, GetProcessesMsg};
use colonies_client::rpc::{Client, ClientError};
use colonies_statemachine::model::{Process, ProcessState};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub enum Schedule {
    /// Each fault once, in this order.
    Once(Vec<Fault>),
    /// Faults drawn at random from the mix until the time is up (the fault under way ends).
    For { duration: Duration, mix: Vec<Fault> },
}

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub env: EnvConfig,
    pub load: LoadConfig,
    pub schedule: Schedule,
    /// Pause between two faults, in ms (a range), with the load running on a sound cluster.
    pub gap_ms: (u64, u64),
    /// Load before the first fault.
    pub warmup: Duration,
    /// Longest wait, once healed, for the executors to empty the queue.
    pub drain: Duration,
    pub seed: u64,
    /// Where to keep the node logs and the whole history when the verdict is not OK.
    pub keep_logs: Option<PathBuf>,
    /// Interruptions so far (e.g. Ctrl-C): the first ends the schedule after the fault under
    /// way, the second also cuts the drain short; the run still heals, cleans up and judges.
    pub interrupt: Arc<AtomicUsize>,
}

impl RunConfig {
    pub fn new(schedule: Schedule, seed: u64) -> RunConfig {
        let load = LoadConfig { seed, ..LoadConfig::default() };
        // Every process may be re-queued up to maxretries times after its exec deadline.
        let drain = Duration::from_secs((load.maxexectime * (load.maxretries + 1)) as u64 + 60);
        RunConfig {
            env: EnvConfig::default(),
            load,
            schedule,
            gap_ms: (2000, 5000),
            warmup: Duration::from_secs(3),
            drain,
            seed,
            keep_logs: None,
            interrupt: Arc::default(),
        }
    }
}

pub struct Report {
    pub verdict: Verdict,
    pub history: History,
    pub elapsed: Duration,
    /// Where the logs were kept, if they were.
    pub logs: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the cluster did not start: {0}")]
    Start(String),
    #[error(transparent)]
    Load(#[from] load::LoadError),
}

/// Runs on the caller's Tokio runtime (multi-threaded: the nemesis and the harness's
/// waits block, and run on blocking threads).
pub async fn run(config: RunConfig) -> Result<Report, RunError> {
    let begun = Instant::now();
    let recorder = Recorder::default();
    println!("chaos: seed {}", config.seed);
    let mut env = {
        let (config, recorder) = (config.env.clone(), recorder.clone());
        blocking(move || {
            let mut env = ChaosCluster::start(&config, &recorder);
            env.recover(&recorder).map(|_| env).map_err(|e| RunError::Start(e.to_string()))
        })
        .await?
    };
    let addrs = env.addrs();
    let keys = load::setup(addrs.clone(), &config.load).await?;
    let mut load = Load::start(&addrs, &keys, &recorder, &config.load);
    tokio::time::sleep(config.warmup).await;

    env = {
        let (config, recorder) = (config.clone(), recorder.clone());
        blocking(move || {
            run_schedule(&mut env, &config, &recorder);
            env
        })
        .await
    };
    load.stop_submitters().await;
    // Whatever the schedule left behind is healed before the quiet period.
    env = {
        let recorder = recorder.clone();
        blocking(move || {
            if let Err(e) = env.recover(&recorder) {
                recorder.anomaly(format!("after the schedule: {e}"));
            }
            env
        })
        .await
    };
    drain(&addrs, &keys, &config, &recorder).await;
    load.stop_executors().await;

    let history = recorder.snapshot();
    let mut end = read_final(&addrs, &keys, &config.load.colony, &history, &recorder).await;
    let (env, digests) = blocking(move || {
        let digests = final_digests(&mut env);
        (env, digests)
    })
    .await;
    end.digests = digests;
    let history = recorder.snapshot();
    let verdict = check(&history, &end, &CheckOptions::default());
    let logs = match (&config.keep_logs, verdict.ok()) {
        (Some(dir), false) => keep_logs(dir, &env, &history, &verdict),
        _ => None,
    };
    drop(env);
    Ok(Report { verdict, history, elapsed: begun.elapsed(), logs })
}

/// Runs blocking harness code off the runtime's workers; a panic there goes on here.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn run_schedule(env: &mut ChaosCluster, config: &RunConfig, recorder: &Recorder) {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let started = Instant::now();
    let mut next = 0;
    while config.interrupt.load(Ordering::Relaxed) == 0 {
        let fault = match &config.schedule {
            Schedule::Once(faults) => match faults.get(next) {
                Some(fault) => *fault,
                None => break,
            },
            Schedule::For { duration, mix } => {
                if started.elapsed() >= *duration || mix.is_empty() {
                    break;
                }
                mix[rng.random_range(0..mix.len())]
            }
        };
        next += 1;
        if let Err(e) = nemesis::inject(fault, env, recorder, &mut rng) {
            // A cluster that does not come back is the finding; more faults would only
            // bury it.
            recorder.anomaly(format!("{fault}: {e}"));
            return;
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(config.gap_ms.0..=config.gap_ms.1)));
    }
}

/// The quiet period: executors keep working until nothing waits or runs, for at most
/// `config.drain`.
async fn drain(addrs: &[String], keys: &Keys, config: &RunConfig, recorder: &Recorder) {
    let deadline = Instant::now() + config.drain;
    let mut last = None;
    while Instant::now() < deadline && config.interrupt.load(Ordering::Relaxed) < 2 {
        last = load::queue_counts(addrs, keys, &config.load.colony).await;
        if last == Some((0, 0)) {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let why = if config.interrupt.load(Ordering::Relaxed) >= 2 {
        "the drain was cut short".to_string()
    } else {
        format!("the queue did not drain within {:?}", config.drain)
    };
    recorder.note(format!("{why}: (waiting, running) {last:?}"));
}

/// Reads every acknowledged process and every process still waiting or running, through
/// the leader (reads are linearizable there; equal digests make its answer every node's).
async fn read_final(addrs: &[String], keys: &Keys, colony: &str, history: &History, recorder: &Recorder) -> FinalState {
    let observed = recorder.now();
    let acked: Vec<String> = history
        .ops
        .iter()
        .filter_map(|op| match &op.kind {
            OpKind::Submit { outcome: Outcome::Ok(id) } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let readers = 8;
    let chunk = acked.len().div_ceil(readers).max(1);
    let tasks: Vec<_> = acked
        .chunks(chunk)
        .map(|ids| {
            let (ids, client, key) = (ids.to_vec(), Client::new(addrs.to_vec()), keys.executors[0].1.clone());
            tokio::spawn(async move {
                let mut found = Vec::new();
                for id in ids {
                    found.push((id.clone(), read_process(&client, &key, &id).await));
                }
                found
            })
        })
        .collect();
    let mut end = FinalState { observed, ..FinalState::default() };
    for task in tasks {
        for (id, read) in task.await.unwrap_or_default() {
            match read {
                Ok(Some(process)) => {
                    end.processes.insert(id, final_process(&process));
                }
                Ok(None) => {}
                Err(e) => {
                    end.read_errors.insert(id, e);
                }
            }
        }
    }
    // Processes no submit was acknowledged for (the answer was lost) must not hang either.
    let client = Client::new(addrs.to_vec());
    for state in [ProcessState::Waiting, ProcessState::Running] {
        let query =
            GetProcessesMsg { colonyname: colony.into(), count: 100, state: state.code(), ..Default::default() };
        match client.call(&keys.executors[0].1, query).await {
            Ok(processes) => {
                for process in processes {
                    end.processes.insert(process.processid.clone(), final_process(&process));
                }
            }
            Err(e) => recorder.anomaly(format!("listing {state:?} processes at the end failed: {e}")),
        }
    }
    end
}

/// `Ok(None)` when the cluster says the process does not exist.
async fn read_process(
    client: &Client,
    key: &colonies_client::identity::PrivateKey,
    id: &str,
) -> Result<Option<Process>, String> {
    let mut last = String::new();
    for _ in 0..3 {
        let read =
            tokio::time::timeout(Duration::from_secs(30), client.call(key, GetProcessMsg { processid: id.into() }));
        match read.await {
            Ok(Ok(process)) => return Ok(Some(process)),
            Ok(Err(ClientError::Server(failure))) if failure.status == 404 => return Ok(None),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "no answer within 30 s".into(),
        }
    }
    Err(last)
}

fn final_process(process: &Process) -> FinalProcess {
    FinalProcess {
        state: process.state,
        execdeadline_ns: process.execdeadline.unix_nanos().filter(|_| process.spec.maxexectime > 0),
    }
}

/// Every node's (index, digest), once they agree or after a minute of trying.
fn final_digests(env: &mut ChaosCluster) -> Vec<(u64, Option<(u64, String)>)> {
    let _ = env.cluster.converged(Duration::from_secs(60));
    (0..env.cluster.nodes.len())
        .map(|i| {
            let running = env.cluster.nodes[i].is_running();
            (env.cluster.nodes[i].id, running.then(|| env.cluster.digest(i)).flatten())
        })
        .collect()
}

/// Copies the node logs and the history into a new folder under `dir`.
fn keep_logs(dir: &std::path::Path, env: &ChaosCluster, history: &History, verdict: &Verdict) -> Option<PathBuf> {
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let folder = dir.join(format!("chaos-{stamp}"));
    let written = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(&folder)?;
        for node in &env.cluster.nodes {
            std::fs::write(folder.join(format!("node{}.log", node.id)), node.log())?;
        }
        // Operations and faults in the order they began.
        let mut lines: Vec<(u64, String)> = history.ops.iter().map(|op| (op.invoked.ms, describe(op))).collect();
        lines.extend(history.faults.iter().map(|f| (f.started.ms, describe_fault(f))));
        lines.sort();
        let text: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
        std::fs::write(folder.join("history.txt"), text.join("\n"))?;
        std::fs::write(folder.join("verdict.txt"), verdict.to_string())
    })();
    match written {
        Ok(()) => Some(folder),
        Err(e) => {
            eprintln!("chaos: keeping the logs in {}: {e}", folder.display());
            None
        }
    }
}
