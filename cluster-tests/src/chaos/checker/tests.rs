//! Hand-made histories: one that is fine although a process ran twice, and for every rule
//! one that breaks it.

use super::*;

const BASE_NS: i64 = 1_700_000_000_000_000_000;
const SECOND: u64 = 1000;

fn at(ms: u64) -> Stamp {
    Stamp { ms, unix_ns: BASE_NS + ms as i64 * 1_000_000 }
}

fn op(actor: &str, from: u64, to: u64, kind: OpKind) -> Op {
    Op { actor: actor.into(), invoked: at(from), completed: at(to), kind }
}

fn submit(id: &str, from: u64, to: u64) -> Op {
    op("submitter-0", from, to, OpKind::Submit { outcome: Outcome::Ok(id.into()) })
}

/// `actor` receives `id` with an exec deadline `deadline` ms into the history.
fn assign(actor: &str, id: &str, from: u64, to: u64, deadline: u64) -> Op {
    let assigned = Assigned { processid: id.into(), execdeadline_ns: Some(at(deadline).unix_ns), retries: 0 };
    op(actor, from, to, OpKind::Assign { outcome: Outcome::Ok(assigned) })
}

fn close(actor: &str, id: &str, from: u64, to: u64, outcome: Outcome<()>) -> Op {
    op(actor, from, to, OpKind::Close { processid: id.into(), success: true, attempt: 1, outcome })
}

fn refused(status: i64) -> Outcome<()> {
    Outcome::Refused { status, message: "Failed to close process as successful, process is not assigned".into() }
}

fn history(ops: Vec<Op>) -> History {
    History { ops, ..History::default() }
}

/// The cluster at `observed` ms: these processes, three nodes with one digest.
fn end(observed: u64, processes: &[(&str, ProcessState, Option<u64>)]) -> FinalState {
    FinalState {
        observed: at(observed),
        processes: processes
            .iter()
            .map(|(id, state, deadline)| {
                (id.to_string(), FinalProcess { state: *state, execdeadline_ns: deadline.map(|d| at(d).unix_ns) })
            })
            .collect(),
        read_errors: BTreeMap::new(),
        digests: (1..=3).map(|n| (n, Some((42, "d1g3st".to_string())))).collect(),
    }
}

fn verdict(history: &History, end: &FinalState) -> Verdict {
    check(history, end, &CheckOptions::default())
}

#[test]
fn a_process_requeued_after_its_executor_vanished_and_done_once_is_fine() {
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 5, 20, 5 * SECOND),
        op("a", 30, 30, OpKind::Abandon { processid: "p".into() }),
        assign("b", "p", 4_000, 6_000, 11 * SECOND),
        // a's close comes back after its deadline: refusing it is right.
        close("a", "p", 6_500, 6_600, refused(403)),
        close("b", "p", 7_000, 7_100, Outcome::Unknown("timed out".into())),
        op(
            "b",
            7_200,
            7_300,
            OpKind::Close { processid: "p".into(), success: true, attempt: 2, outcome: Outcome::Ok(()) },
        ),
        close("b", "p", 7_400, 7_500, Outcome::Ok(())),
    ]);
    let v = verdict(&h, &end(20 * SECOND, &[("p", ProcessState::Success, Some(11 * SECOND))]));
    assert!(v.ok(), "{v}");
    assert_eq!((v.operations, v.acknowledged_submits, v.assignments, v.requeued), (8, 1, 2, 1));
    assert_eq!(v.acknowledged_closes, 2, "the retried close of one attempt counts twice, as a close, not a double");
}

#[test]
fn an_acknowledged_submit_missing_at_the_end_is_lost_and_an_unknown_one_is_not() {
    let h = history(vec![
        submit("kept", 0, 10),
        submit("gone", 20, 30),
        op("submitter-0", 40, 15_040, OpKind::Submit { outcome: Outcome::Unknown("no node answered".into()) }),
    ]);
    let mut final_state = end(SECOND, &[("kept", ProcessState::Waiting, None)]);
    final_state.processes.get_mut("kept").unwrap().state = ProcessState::Success;
    let v = verdict(&h, &final_state);
    assert_eq!((v.lost, v.acknowledged_submits), (1, 2));
    assert!(v.violations[0].starts_with("lost: the acknowledged submit gone"), "{v}");
}

#[test]
fn a_process_that_cannot_be_read_at_the_end_is_unverified_not_ok() {
    let h = history(vec![submit("p", 0, 10)]);
    let mut final_state = end(SECOND, &[]);
    final_state.read_errors.insert("p".into(), "no node answered".into());
    let v = verdict(&h, &final_state);
    assert_eq!((v.lost, v.unverified, v.ok()), (0, 1, false));
}

#[test]
fn two_attempts_each_closed_with_an_acknowledgement_are_a_double() {
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 10, 20, 5 * SECOND),
        close("a", "p", 100, 200, Outcome::Ok(())),
        assign("b", "p", 6_000, 6_100, 11 * SECOND),
        close("b", "p", 6_200, 6_300, Outcome::Ok(())),
    ]);
    let v = verdict(&h, &end(20 * SECOND, &[("p", ProcessState::Success, None)]));
    assert_eq!((v.double, v.non_assignee_closes), (1, 0), "{v}");
    assert!(v.violations[0].contains("2 attempts of p"), "{v}");
}

#[test]
fn an_assignment_after_an_acknowledged_close_is_a_double_even_if_its_close_fails() {
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 10, 20, 5 * SECOND),
        close("a", "p", 100, 200, Outcome::Ok(())),
        assign("b", "p", 300, 400, 5_300),
        close("b", "p", 500, 600, refused(403)),
    ]);
    let v = verdict(&h, &end(20 * SECOND, &[("p", ProcessState::Success, None)]));
    assert_eq!(v.double, 1, "{v}");
    assert!(v.violations.iter().any(|x| x.contains("assigned to b after its close was acknowledged")), "{v}");
}

#[test]
fn an_acknowledged_close_without_an_assignment_is_by_a_non_assignee() {
    let h = history(vec![submit("p", 0, 10), close("intruder", "p", 100, 200, Outcome::Ok(()))]);
    let v = verdict(&h, &end(SECOND, &[("p", ProcessState::Success, None)]));
    assert_eq!(v.non_assignee_closes, 1, "{v}");
}

#[test]
fn a_close_acknowledged_after_another_executor_took_the_process_is_by_a_non_assignee() {
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 10, 20, 2 * SECOND),
        assign("b", "p", 2_500, 2_600, 7_600),
        // a wakes up late, and its close is accepted although b holds p: the fence failed.
        close("a", "p", 3_000, 3_100, Outcome::Ok(())),
        close("b", "p", 3_200, 3_300, refused(400)),
    ]);
    let v = verdict(&h, &end(20 * SECOND, &[("p", ProcessState::Success, None)]));
    assert_eq!((v.non_assignee_closes, v.double), (1, 0), "{v}");
}

#[test]
fn overlapping_calls_prove_no_order_and_convict_nobody() {
    // b's assignment was still in flight when a sent its close: either order is possible.
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 10, 20, 2 * SECOND),
        assign("b", "p", 2_500, 3_200, 7_600),
        close("a", "p", 3_000, 3_100, Outcome::Ok(())),
    ]);
    let v = verdict(&h, &end(20 * SECOND, &[("p", ProcessState::Success, None)]));
    assert_eq!(v.non_assignee_closes, 0, "{v}");
}

#[test]
fn the_holders_close_refused_before_its_deadline_is_a_wrongful_refusal() {
    // Known bug 1: after a full restart the leader judged the close on a lagging state.
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 10, 20, 10 * SECOND),
        close("a", "p", 100, 3_000, refused(403)),
        assign("b", "p", 11_000, 11_100, 21 * SECOND),
        close("b", "p", 11_200, 11_300, Outcome::Ok(())),
    ]);
    let v = verdict(&h, &end(30 * SECOND, &[("p", ProcessState::Success, None)]));
    assert_eq!((v.wrongful_refusals, v.double), (1, 0), "{v}");
    assert!(v.violations[0].contains("7.0 s before its exec deadline"), "{v}");
}

#[test]
fn a_retried_failed_close_refused_as_already_failed_is_no_wrongful_refusal() {
    let failed = |attempt, from, to, outcome| {
        op("a", from, to, OpKind::Close { processid: "p".into(), success: false, attempt, outcome })
    };
    let h = history(vec![
        submit("p", 0, 10),
        assign("a", "p", 10, 20, 10 * SECOND),
        failed(1, 100, 2_100, Outcome::Unknown("timed out".into())),
        failed(
            2,
            2_200,
            2_300,
            Outcome::Refused { status: 400, message: "Tried to set failed process as failed".into() },
        ),
    ]);
    let v = verdict(&h, &end(30 * SECOND, &[("p", ProcessState::Failed, None)]));
    assert!(v.ok(), "{v}");
}

#[test]
fn waiting_at_the_end_or_running_past_the_deadline_is_stuck() {
    let h = history(vec![submit("w", 0, 10), submit("r", 0, 10), submit("fine", 0, 10)]);
    let observed = 60 * SECOND;
    let v = verdict(
        &h,
        &end(
            observed,
            &[
                ("w", ProcessState::Waiting, None),
                ("r", ProcessState::Running, Some(observed - 11 * SECOND)),
                ("fine", ProcessState::Running, Some(observed - 2 * SECOND)),
            ],
        ),
    );
    assert_eq!(v.stuck, 2, "{v}");
}

#[test]
fn unequal_or_missing_digests_fail_the_run() {
    let h = history(vec![]);
    let mut differ = end(SECOND, &[]);
    differ.digests[2].1 = Some((42, "other".into()));
    assert!(!verdict(&h, &differ).digests_equal);
    let mut silent = end(SECOND, &[]);
    silent.digests[1].1 = None;
    let v = verdict(&h, &silent);
    assert!(!v.digests_equal && !v.ok());
    assert!(verdict(&h, &end(SECOND, &[])).digests_equal);
}

#[test]
fn an_excerpt_names_the_operations_on_the_process_and_the_faults_around_them() {
    let mut h = history(vec![
        submit("p", 0, 10),
        submit("other", 0, 10),
        assign("a", "p", 1_000, 1_200, 6_000),
        close("a", "p", 1_300, 1_400, refused(403)),
    ]);
    h.faults.push(Fault { name: "kill-all".into(), detail: "nodes 1-3".into(), started: at(1_250), ended: at(3_000) });
    h.faults.push(Fault { name: "pause-leader".into(), detail: "later".into(), started: at(9_000), ended: at(9_500) });
    let text = excerpt(&h, "p");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("fault kill-all") && !text.contains("pause-leader") && !text.contains("other"), "{text}");
    assert!(text.contains("a: close successful p (attempt 1) -> refused 403"), "{text}");
}
