//! The verdict on a history: pure code over what the clients recorded and a final look at
//! the cluster, so that each rule can be tested with a hand-made history that breaks it.
//!
//! Operations overlap and some answers never came, so the rules only convict on what the
//! records prove: "B's assignment completed before A's close was sent" proves an order,
//! two overlapping calls prove none. Executors work one process at a time (they do not poll
//! while they hold one), which is what lets a close be tied to the assignment it ends.

use super::history::{Assigned, Fault, History, Op, OpKind, Outcome, Stamp};
use colonies_statemachine::model::ProcessState;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A process as the cluster holds it at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinalProcess {
    pub state: ProcessState,
    /// The exec deadline of the current attempt (Unix ns), if it has one.
    pub execdeadline_ns: Option<i64>,
}

/// The final look at the cluster, after the load stopped and the faults were healed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalState {
    /// When the processes were read.
    pub observed: Stamp,
    /// Every acknowledged process found, and any other process of the colony that was still
    /// waiting or running.
    pub processes: BTreeMap<String, FinalProcess>,
    /// Processes that could not be read at all (not "not found": no usable answer).
    pub read_errors: BTreeMap<String, String>,
    /// (node id, (last applied index, digest)) of every node; `None` for a node that is not
    /// running or did not answer.
    pub digests: Vec<(u64, Option<(u64, String)>)>,
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// How long past its exec deadline a process may still be RUNNING at the end (the
    /// leader's timer, a commit and the read of the final state take time).
    pub running_slack_ns: i64,
    /// How far before an assignment's exec deadline a refusal of the assignee's close must
    /// come to be proven wrong (the wall clock may be slewed a little during a long run).
    pub refusal_margin_ns: i64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { running_slack_ns: 10_000_000_000, refusal_margin_ns: 1_000_000_000 }
    }
}

/// The counts of a checked run, and what went wrong with a history excerpt for each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub operations: usize,
    pub faults: usize,
    pub acknowledged_submits: usize,
    pub assignments: usize,
    pub acknowledged_closes: usize,
    /// Processes that were assigned more than once (re-queued after their exec deadline).
    pub requeued: usize,
    /// Acknowledged submits missing at the end.
    pub lost: usize,
    /// Processes closed with an acknowledgement on two attempts, or assigned again after an
    /// acknowledged close.
    pub double: usize,
    /// Acknowledged closes sent by an executor that did not hold the process then.
    pub non_assignee_closes: usize,
    /// Closes by the executor that held the process, refused before its exec deadline could
    /// have fired: the work was done and then lost (it runs again elsewhere).
    pub wrongful_refusals: usize,
    /// Processes WAITING at the end, or RUNNING past their exec deadline.
    pub stuck: usize,
    /// Acknowledged processes whose final state could not be read.
    pub unverified: usize,
    pub digests_equal: bool,
    /// What the nemesis saw go wrong outside the operations (see `History::anomalies`).
    pub anomalies: usize,
    pub violations: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "verdict: {}", if self.ok() { "OK" } else { "VIOLATIONS" })?;
        writeln!(
            f,
            "operations {} | faults {} | acknowledged submits {} | assignments {} | acknowledged closes {} | requeued {}",
            self.operations,
            self.faults,
            self.acknowledged_submits,
            self.assignments,
            self.acknowledged_closes,
            self.requeued
        )?;
        writeln!(
            f,
            "lost {} | double {} | closes by non-assignee {} | wrongful refusals {} | stuck {} | unverified {} | anomalies {} | digests equal {}",
            self.lost,
            self.double,
            self.non_assignee_closes,
            self.wrongful_refusals,
            self.stuck,
            self.unverified,
            self.anomalies,
            self.digests_equal
        )?;
        for violation in &self.violations {
            writeln!(f, "\n{violation}")?;
        }
        Ok(())
    }
}

/// What the history says about one process.
#[derive(Default)]
struct Process<'h> {
    submitted: Option<&'h Op>,
    /// Assignments received, in the order they completed.
    assigns: Vec<(&'h Op, &'h Assigned)>,
    closes: Vec<&'h Op>,
}

fn by_process(history: &History) -> BTreeMap<&str, Process<'_>> {
    let mut processes: BTreeMap<&str, Process> = BTreeMap::new();
    for op in &history.ops {
        match &op.kind {
            OpKind::Submit { outcome: Outcome::Ok(processid) } => {
                processes.entry(processid).or_default().submitted = Some(op)
            }
            OpKind::Assign { outcome: Outcome::Ok(assigned) } => {
                processes.entry(&assigned.processid).or_default().assigns.push((op, assigned))
            }
            OpKind::Close { processid, .. } => processes.entry(processid).or_default().closes.push(op),
            _ => {}
        }
    }
    for process in processes.values_mut() {
        process.assigns.sort_by_key(|(op, _)| op.completed);
        process.closes.sort_by_key(|op| op.invoked);
    }
    processes
}

/// The assignment a close ends: the last one its executor received before sending it.
fn assignment_of(process: &Process, close: &Op) -> Option<usize> {
    process.assigns.iter().rposition(|(assign, _)| assign.actor == close.actor && assign.completed <= close.invoked)
}

pub fn check(history: &History, end: &FinalState, options: &CheckOptions) -> Verdict {
    let processes = by_process(history);
    let mut verdict = Verdict {
        operations: history.ops.len(),
        faults: history.faults.len(),
        acknowledged_submits: processes.values().filter(|p| p.submitted.is_some()).count(),
        assignments: processes.values().map(|p| p.assigns.len()).sum(),
        acknowledged_closes: history
            .ops
            .iter()
            .filter(|op| matches!(&op.kind, OpKind::Close { outcome: Outcome::Ok(()), .. }))
            .count(),
        requeued: processes.values().filter(|p| p.assigns.len() > 1).count(),
        anomalies: history.anomalies.len(),
        violations: history.anomalies.iter().map(|a| format!("anomaly: {a}")).collect(),
        ..Verdict::default()
    };
    // Captures only `verdict.violations`, so the counts stay writable beside it.
    let mut violate = |what: String, processid: &str| {
        verdict.violations.push(format!("{what}\n{}", excerpt(history, processid)));
    };
    for (processid, process) in &processes {
        let acked: Vec<&Op> =
            process.closes.iter().copied().filter(|c| matches!(close_outcome(c), Some(Outcome::Ok(())))).collect();
        // Closes by someone who did not hold the process when they sent it.
        for close in &acked {
            match assignment_of(process, close) {
                None => {
                    verdict.non_assignee_closes += 1;
                    violate(
                        format!("close by non-assignee: {} closed {processid} without an assignment", close.actor),
                        processid,
                    );
                }
                Some(mine) => {
                    let (assigned, _) = process.assigns[mine];
                    if let Some((other, _)) = process.assigns.iter().enumerate().find_map(|(i, a)| {
                        (i != mine && a.0.invoked > assigned.completed && a.0.completed < close.invoked).then_some(a)
                    }) {
                        verdict.non_assignee_closes += 1;
                        violate(
                            format!(
                                "close by non-assignee: {}'s close of {processid} was acknowledged although {} was assigned it in between",
                                close.actor, other.actor
                            ),
                            processid,
                        );
                    }
                }
            }
        }
        // Two attempts acknowledged as done, or a run after an acknowledged close.
        let closed_attempts: BTreeSet<usize> = acked.iter().filter_map(|c| assignment_of(process, c)).collect();
        let first_ack = acked.iter().map(|c| c.completed).min();
        let ran_again = first_ack.and_then(|acked_at| process.assigns.iter().find(|(a, _)| a.invoked > acked_at));
        if closed_attempts.len() > 1 {
            verdict.double += 1;
            violate(
                format!(
                    "double: {} attempts of {processid} were each closed with an acknowledgement",
                    closed_attempts.len()
                ),
                processid,
            );
        } else if let Some((again, _)) = ran_again {
            verdict.double += 1;
            violate(
                format!("double: {processid} was assigned to {} after its close was acknowledged", again.actor),
                processid,
            );
        }
        // The holder's close refused while nothing could have taken the process from it.
        for close in &process.closes {
            let Some(Outcome::Refused { status, message }) = close_outcome(close) else { continue };
            let Some(mine) = assignment_of(process, close) else { continue };
            let Some(deadline) = process.assigns[mine].1.execdeadline_ns else { continue };
            // A retried close may find its own earlier attempt applied ("failed as failed").
            let earlier_attempt_may_have_landed = *status == 400
                && process.closes.iter().any(|c| {
                    c.actor == close.actor
                        && c.invoked < close.invoked
                        && assignment_of(process, c) == Some(mine)
                        && !matches!(close_outcome(c), Some(Outcome::Refused { .. }))
                });
            if close.completed.unix_ns + options.refusal_margin_ns < deadline && !earlier_attempt_may_have_landed {
                verdict.wrongful_refusals += 1;
                violate(
                    format!(
                        "wrongful refusal: {}'s close of {processid} was refused ({status} {message:?}) {:.1} s before its exec deadline",
                        close.actor,
                        (deadline - close.completed.unix_ns) as f64 / 1e9
                    ),
                    processid,
                );
            }
        }
        if process.submitted.is_some() && !end.processes.contains_key(*processid) {
            match end.read_errors.get(*processid) {
                Some(error) => {
                    verdict.unverified += 1;
                    violate(format!("unverified: {processid} could not be read at the end: {error}"), processid);
                }
                None => {
                    verdict.lost += 1;
                    violate(format!("lost: the acknowledged submit {processid} is missing at the end"), processid);
                }
            }
        }
    }
    for (processid, process) in &end.processes {
        let stuck = match process.state {
            ProcessState::Waiting => Some("still WAITING after the quiet period with executors available".to_string()),
            ProcessState::Running => match process.execdeadline_ns {
                Some(deadline) if end.observed.unix_ns > deadline + options.running_slack_ns => Some(format!(
                    "still RUNNING {:.1} s past its exec deadline",
                    (end.observed.unix_ns - deadline) as f64 / 1e9
                )),
                Some(_) => None,
                None => Some("RUNNING at the end without an exec deadline".into()),
            },
            _ => None,
        };
        if let Some(why) = stuck {
            verdict.stuck += 1;
            verdict.violations.push(format!("stuck: {processid} {why}\n{}", excerpt(history, processid)));
        }
    }
    let first = end.digests.first().and_then(|(_, d)| d.as_ref());
    verdict.digests_equal = first.is_some() && end.digests.iter().all(|(_, d)| d.as_ref() == first);
    if !verdict.digests_equal {
        verdict.violations.push(format!("digests differ (node, (last applied, digest)): {:?}", end.digests));
    }
    verdict
}

fn close_outcome(op: &Op) -> Option<&Outcome<()>> {
    match &op.kind {
        OpKind::Close { outcome, .. } => Some(outcome),
        _ => None,
    }
}

/// Every operation on `processid` and the faults that overlapped them, one line each.
pub fn excerpt(history: &History, processid: &str) -> String {
    let concerns = |op: &Op| match &op.kind {
        OpKind::Submit { outcome: Outcome::Ok(id) } => id == processid,
        OpKind::Assign { outcome: Outcome::Ok(a) } => a.processid == processid,
        OpKind::Close { processid: id, .. } | OpKind::Abandon { processid: id } => id == processid,
        _ => false,
    };
    let ops: Vec<&Op> = history.ops.iter().filter(|op| concerns(op)).collect();
    let (Some(from), Some(to)) = (ops.iter().map(|op| op.invoked.ms).min(), ops.iter().map(|op| op.completed.ms).max())
    else {
        return "  (no operation on it was recorded)".into();
    };
    let mut lines: Vec<(u64, String)> = ops.iter().map(|op| (op.invoked.ms, format!("  {}", describe(op)))).collect();
    for fault in history.faults.iter().filter(|f| f.started.ms <= to && f.ended.ms >= from) {
        lines.push((
            fault.started.ms,
            format!(
                "  [{} .. {}] fault {}: {}",
                secs(fault.started.ms),
                secs(fault.ended.ms),
                fault.name,
                fault.detail
            ),
        ));
    }
    lines.sort();
    lines.into_iter().map(|(_, line)| line).collect::<Vec<_>>().join("\n")
}

fn secs(ms: u64) -> String {
    format!("{:.3}s", ms as f64 / 1000.0)
}

pub fn describe(op: &Op) -> String {
    let what = match &op.kind {
        OpKind::Submit { outcome } => format!("submit -> {}", show(outcome, |id| id.clone())),
        OpKind::Assign { outcome } => format!(
            "assign -> {}",
            show(outcome, |a| format!(
                "{} (retries {}, exec deadline {})",
                a.processid,
                a.retries,
                a.execdeadline_ns.map_or("none".into(), |d| format!("{:.3}", d as f64 / 1e9))
            ))
        ),
        OpKind::Close { processid, success, attempt, outcome } => format!(
            "close {} {processid} (attempt {attempt}) -> {}",
            if *success { "successful" } else { "failed" },
            show(outcome, |()| String::new())
        ),
        OpKind::Abandon { processid } => format!("abandons {processid}"),
    };
    format!(
        "[{} .. {}] (wall {:.3}) {}: {what}",
        secs(op.invoked.ms),
        secs(op.completed.ms),
        op.completed.unix_ns as f64 / 1e9,
        op.actor
    )
}

/// A fault on one line: when it began, how long it lasted, what it did.
pub fn describe_fault(fault: &Fault) -> String {
    let took = fault.ended.ms.saturating_sub(fault.started.ms);
    format!("[{} +{}] fault {}: {}", secs(fault.started.ms), secs(took), fault.name, fault.detail)
}

fn show<T>(outcome: &Outcome<T>, ok: impl Fn(&T) -> String) -> String {
    match outcome {
        Outcome::Ok(value) => format!("ok {}", ok(value)),
        Outcome::Refused { status, message } => format!("refused {status} {message:?}"),
        Outcome::Unknown(why) => format!("unknown ({why})"),
    }
}

#[cfg(test)]
mod tests;
