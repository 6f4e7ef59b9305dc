//! What the load and the nemesis did, as the clients saw it: every operation with the
//! moment it was invoked, the moment its answer (or its failure) came back, and that answer.
//!
//! The checker reasons only from these records and a final look at the cluster, the way a
//! user who kept a log of their own calls could: an answer that never came is `Unknown`, not
//! a failure, because the server may still have applied it.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A moment on two clocks: `ms` since the history began (monotonic, for ordering the
/// operations) and Unix nanoseconds (wall clock, read at the same moment, to compare with
/// the deadlines the nodes stamp from the same machine's wall clock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub ms: u64,
    pub unix_ns: i64,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The server acknowledged it.
    Ok(T),
    /// The server answered with an error: the call did not take effect.
    Refused { status: i64, message: String },
    /// No answer (timeout, connection lost, no leader for the client's whole failover
    /// window): it may or may not have taken effect.
    Unknown(String),
}

impl<T> Outcome<T> {
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Ok(value) => Outcome::Ok(f(value)),
            Outcome::Refused { status, message } => Outcome::Refused { status, message },
            Outcome::Unknown(why) => Outcome::Unknown(why),
        }
    }
}

/// A process as an executor received it from `assignprocessmsg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assigned {
    pub processid: String,
    /// The exec deadline the server set for this attempt (Unix ns); `None` without one.
    pub execdeadline_ns: Option<i64>,
    pub retries: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `submitfuncspecmsg`; `Ok` holds the new process id.
    Submit { outcome: Outcome<String> },
    /// A long-poll `assignprocessmsg`; a 404 after the poll's timeout is `Refused`.
    Assign { outcome: Outcome<Assigned> },
    /// `closesuccessfulmsg` (`success`) or `closefailedmsg` for a process the executor holds;
    /// `attempt` counts from 1 over retries of the same close.
    Close { processid: String, success: bool, attempt: u32, outcome: Outcome<()> },
    /// The executor walked away from an assigned process without closing it, as a crashed
    /// executor would: the process must come back after its exec deadline.
    Abandon { processid: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Who called: `submitter-N` or an executor's name.
    pub actor: String,
    pub invoked: Stamp,
    pub completed: Stamp,
    pub kind: OpKind,
}

/// One fault the nemesis injected, from its first action to the end of its healing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub name: String,
    pub detail: String,
    pub started: Stamp,
    pub ended: Stamp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub ops: Vec<Op>,
    pub faults: Vec<Fault>,
    /// What the nemesis wants a reader to know (a fault skipped and why).
    pub notes: Vec<String>,
    /// What the nemesis saw go wrong outside the operations; each is a violation.
    pub anomalies: Vec<String>,
}

/// A shared, append-only history that many tasks record into.
#[derive(Clone)]
pub struct Recorder {
    started: Instant,
    history: Arc<Mutex<History>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder { started: Instant::now(), history: Arc::default() }
    }
}

pub fn unix_now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or_default()
}

impl Recorder {
    pub fn now(&self) -> Stamp {
        Stamp { ms: self.started.elapsed().as_millis() as u64, unix_ns: unix_now_ns() }
    }

    pub fn record(&self, actor: &str, invoked: Stamp, kind: OpKind) {
        let op = Op { actor: actor.to_string(), invoked, completed: self.now(), kind };
        self.lock().ops.push(op);
    }

    pub fn fault(&self, name: &str, detail: String, started: Stamp) {
        let fault = Fault { name: name.to_string(), detail, started, ended: self.now() };
        self.lock().faults.push(fault);
    }

    pub fn note(&self, note: String) {
        println!("chaos: {note}");
        self.lock().notes.push(note);
    }

    /// Waits until an operation recorded from now on satisfies `wanted`, for at most
    /// `within` (the nemesis, a plain thread, waits for a fresh assignment this way).
    pub fn wait_for(&self, within: std::time::Duration, wanted: impl Fn(&Op) -> bool) -> bool {
        let deadline = Instant::now() + within;
        let mut seen = self.lock().ops.len();
        loop {
            {
                let history = self.lock();
                if history.ops[seen..].iter().any(&wanted) {
                    return true;
                }
                seen = history.ops.len();
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Something a fault saw go wrong outside the operations (a node that died on its own,
    /// a cluster that did not recover): the checker counts each as a violation.
    pub fn anomaly(&self, anomaly: String) {
        println!("chaos: ANOMALY: {anomaly}");
        self.lock().anomalies.push(anomaly);
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> History {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, History> {
        // A recording task that panicked leaves a consistent history (each push is whole).
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
