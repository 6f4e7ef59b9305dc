//! The recording load: submitters and executors that use the project's client as real ones
//! would (fail over across nodes, follow redirects, retry what got no answer) and record
//! every call with its outcome.

use super::history::{Assigned, OpKind, Outcome, Recorder};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{
    AddColonyMsg, AssignProcessMsg, CloseFailedMsg, CloseSuccessfulMsg, GetColonyStatsMsg, Message,
    SubmitFunctionSpecMsg,
};
use colonies_client::rpc::{Client, ClientError};
use colonies_statemachine::model::{Colony, Conditions, Executor, FunctionSpec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

const EXECUTOR_TYPE: &str = "chaos";

#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub colony: String,
    pub submitters: usize,
    pub executors: usize,
    /// Pause between two submits of one submitter.
    pub submit_interval: Duration,
    /// Seconds a process may run before the cluster re-queues it (exec deadline).
    pub maxexectime: i64,
    /// Re-queues before a process fails for good.
    pub maxretries: i64,
    /// Seconds an executor's assign long-poll waits for work.
    pub poll_timeout: i64,
    /// How long an executor "runs" a process, in ms (a range).
    pub work_ms: (u64, u64),
    /// Percent of assignments an executor walks away from without closing (a crash).
    pub abandon_percent: u32,
    /// Percent of assignments an executor runs past the exec deadline before closing (a
    /// hung executor that comes back: its late close must be refused once another holds it).
    pub overrun_percent: u32,
    /// Percent of processes closed as failed instead of successful.
    pub fail_percent: u32,
    /// How long a call may take before its outcome is taken as unknown (a stopped node
    /// accepts connections and never answers; the client has no timeout of its own).
    pub call_timeout: Duration,
    /// Attempts of one close while its outcome stays unknown.
    pub close_attempts: u32,
    pub seed: u64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            colony: "chaos".into(),
            submitters: 2,
            executors: 4,
            submit_interval: Duration::from_millis(150),
            maxexectime: 6,
            maxretries: 5,
            poll_timeout: 2,
            work_ms: (20, 300),
            abandon_percent: 2,
            overrun_percent: 1,
            fail_percent: 10,
            call_timeout: Duration::from_secs(20),
            close_attempts: 4,
            seed: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("setting up the colony failed: {0}")]
    Setup(String),
}

/// The keys of the colony the load works in.
pub struct Keys {
    pub server: PrivateKey,
    pub colony: PrivateKey,
    /// (name, key) of each executor; the first is the submitters' identity.
    pub executors: Vec<(String, PrivateKey)>,
}

/// Adds the colony and its approved executors (plus one that only submits), retrying while
/// the young cluster elects its leader.
pub async fn setup(addrs: Vec<String>, config: &LoadConfig) -> Result<Keys, LoadError> {
    let client = Client::new(addrs);
    let keys = Keys {
        server: PrivateKey::from_hex(crate::SERVER_PRVKEY).map_err(|e| LoadError::Setup(e.to_string()))?,
        colony: PrivateKey::generate(),
        executors: std::iter::once("submitter".to_string())
            .chain((0..config.executors).map(|n| format!("worker-{n}")))
            .map(|name| (name, PrivateKey::generate()))
            .collect(),
    };
    let colony = Colony { colonyid: keys.colony.id(), name: config.colony.clone() };
    let _: Colony = client
        .call(&keys.server, AddColonyMsg { colony: Some(colony) })
        .await
        .map_err(|e| LoadError::Setup(format!("add colony: {e}")))?;
    for (name, key) in &keys.executors {
        let kind = if name == "submitter" { "submitter" } else { EXECUTOR_TYPE };
        let executor = Executor {
            executorid: key.id(),
            executorname: name.clone(),
            executortype: kind.into(),
            colonyname: config.colony.clone(),
            ..Executor::default()
        };
        client
            .add_approved_executor(&keys.colony, executor)
            .await
            .map_err(|e| LoadError::Setup(format!("add and approve executor {name}: {e}")))?;
    }
    Ok(keys)
}

/// The outcome of a call: an answer is `Ok` or `Refused`; no answer, or an answer that says
/// the cluster could not decide (5xx), is `Unknown`.
async fn outcome<T>(within: Duration, call: impl Future<Output = Result<T, ClientError>>) -> Outcome<T> {
    match tokio::time::timeout(within, call).await {
        Err(_) => Outcome::Unknown(format!("no answer within {within:?}")),
        Ok(Ok(value)) => Outcome::Ok(value),
        // A write that was not committed in time may still commit later.
        Ok(Err(ClientError::Server(failure))) if failure.status >= 500 => {
            Outcome::Unknown(format!("{} {}", failure.status, failure.message))
        }
        Ok(Err(ClientError::Server(failure))) => Outcome::Refused { status: failure.status, message: failure.message },
        Ok(Err(e)) => Outcome::Unknown(e.to_string()),
    }
}

/// The running load; stop the submitters first, then the executors once the queue drained.
pub struct Load {
    stop_submitting: Arc<AtomicBool>,
    stop_working: Arc<AtomicBool>,
    submitters: Vec<JoinHandle<()>>,
    executors: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(addrs: &[String], keys: &Keys, recorder: &Recorder, config: &LoadConfig) -> Load {
        let stop_submitting = Arc::new(AtomicBool::new(false));
        let stop_working = Arc::new(AtomicBool::new(false));
        let submitter_key = keys.executors[0].1.clone();
        let submitters = (0..config.submitters)
            .map(|n| {
                let submitter = Submitter {
                    name: format!("submitter-{n}"),
                    // Each with its own client, as separate programs would be.
                    client: Client::new(addrs.to_vec()),
                    key: submitter_key.clone(),
                    recorder: recorder.clone(),
                    config: config.clone(),
                    stop: stop_submitting.clone(),
                };
                tokio::spawn(submitter.run())
            })
            .collect();
        let executors = keys.executors[1..]
            .iter()
            .enumerate()
            .map(|(n, (name, key))| {
                let worker = Worker {
                    name: name.clone(),
                    client: Client::new(addrs.to_vec()),
                    key: key.clone(),
                    recorder: recorder.clone(),
                    config: config.clone(),
                    stop: stop_working.clone(),
                    rng: StdRng::seed_from_u64(config.seed.wrapping_add(n as u64 + 1)),
                };
                tokio::spawn(worker.run())
            })
            .collect();
        Load { stop_submitting, stop_working, submitters, executors }
    }

    /// Stops submitting and waits for the submitters' last calls.
    pub async fn stop_submitters(&mut self) {
        self.stop_submitting.store(true, Ordering::Relaxed);
        for task in self.submitters.drain(..) {
            let _ = task.await;
        }
    }

    /// Stops the executors once they finished what they hold.
    pub async fn stop_executors(&mut self) {
        self.stop_working.store(true, Ordering::Relaxed);
        for task in self.executors.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        // A run that panicked must not leave tasks calling a cluster that is going away.
        for task in self.submitters.iter().chain(&self.executors) {
            task.abort();
        }
    }
}

struct Submitter {
    name: String,
    client: Client,
    key: PrivateKey,
    recorder: Recorder,
    config: LoadConfig,
    stop: Arc<AtomicBool>,
}

impl Submitter {
    async fn run(self) {
        let mut n = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            let spec = FunctionSpec {
                funcname: "chaos".into(),
                args: vec![serde_json::json!(format!("{}-{n}", self.name)).into()],
                maxwaittime: -1,
                maxexectime: self.config.maxexectime,
                maxretries: self.config.maxretries,
                conditions: Conditions {
                    colonyname: self.config.colony.clone(),
                    executortype: EXECUTOR_TYPE.into(),
                    ..Conditions::default()
                },
                ..FunctionSpec::default()
            };
            let invoked = self.recorder.now();
            let submit = self.client.call(&self.key, SubmitFunctionSpecMsg { spec: Some(spec) });
            let outcome = outcome(self.config.call_timeout, submit).await.map(|process| process.processid);
            self.recorder.record(&self.name, invoked, OpKind::Submit { outcome });
            n += 1;
            tokio::time::sleep(self.config.submit_interval).await;
        }
    }
}

struct Worker {
    name: String,
    client: Client,
    key: PrivateKey,
    recorder: Recorder,
    config: LoadConfig,
    stop: Arc<AtomicBool>,
    rng: StdRng,
}

impl Worker {
    async fn run(mut self) {
        let poll = AssignProcessMsg {
            colonyname: self.config.colony.clone(),
            timeout: self.config.poll_timeout,
            ..AssignProcessMsg::default()
        };
        let within = self.config.call_timeout + Duration::from_secs(self.config.poll_timeout as u64);
        while !self.stop.load(Ordering::Relaxed) {
            let invoked = self.recorder.now();
            let assign = self.client.call(&self.key, poll.clone());
            let outcome = outcome(within, assign).await.map(|p| Assigned {
                execdeadline_ns: p.execdeadline.unix_nanos().filter(|_| p.spec.maxexectime > 0),
                processid: p.processid,
                retries: p.retries,
            });
            let assigned = match &outcome {
                Outcome::Ok(assigned) => Some(assigned.clone()),
                Outcome::Refused { status: 404, .. } => None,
                // A real executor backs off a little before asking again.
                _ => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    None
                }
            };
            self.recorder.record(&self.name, invoked, OpKind::Assign { outcome });
            if let Some(assigned) = assigned {
                self.work(assigned.processid).await;
            }
        }
    }

    /// Runs the process for a while and closes it, retrying the close while its outcome is
    /// unknown; a refusal is final, as it is for a real executor.
    async fn work(&mut self, processid: String) {
        let roll = self.rng.random_range(0..100);
        if roll < self.config.abandon_percent {
            let now = self.recorder.now();
            self.recorder.record(&self.name, now, OpKind::Abandon { processid });
            return;
        }
        let run = if roll < self.config.abandon_percent + self.config.overrun_percent {
            Duration::from_secs(self.config.maxexectime as u64) + Duration::from_millis(1500)
        } else {
            Duration::from_millis(self.rng.random_range(self.config.work_ms.0..=self.config.work_ms.1))
        };
        tokio::time::sleep(run).await;
        let success = self.rng.random_range(0..100) >= self.config.fail_percent;
        for attempt in 1..=self.config.close_attempts {
            let invoked = self.recorder.now();
            let close: Message = if success {
                CloseSuccessfulMsg { processid: processid.clone(), out: vec![] }.into()
            } else {
                CloseFailedMsg { processid: processid.clone(), errors: vec!["chaos says no".into()] }.into()
            };
            // The reply of a close has no body worth decoding.
            let outcome = outcome(self.config.call_timeout, self.client.send(&self.key, &close)).await.map(|_| ());
            let unknown = matches!(outcome, Outcome::Unknown(_));
            let kind = OpKind::Close { processid: processid.clone(), success, attempt, outcome };
            self.recorder.record(&self.name, invoked, kind);
            if !unknown {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The colony's waiting and running counts, read through the leader.
pub async fn queue_counts(addrs: &[String], keys: &Keys, colony: &str) -> Option<(i64, i64)> {
    let client = Client::new(addrs.to_vec());
    let stats = client.call(&keys.executors[0].1, GetColonyStatsMsg { colonyname: colony.into() });
    match outcome(Duration::from_secs(20), stats).await {
        Outcome::Ok(stats) => Some((stats.waitingprocesses, stats.runningprocesses)),
        _ => None,
    }
}
