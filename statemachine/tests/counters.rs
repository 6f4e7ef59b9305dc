//! The scheduler metrics the state machine keeps (issue 17): event counters move once per
//! transition, tallies follow every state change, and both survive a snapshot.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::model::{ExecutorState, ProcessState};
use colonies_statemachine::{Event, Op, State};
use fixture::*;

fn tally(state: &State, executortype: &str, process_state: ProcessState) -> u64 {
    let key = (COLONY.to_string(), executortype.to_string(), process_state);
    state.scheduler_metrics().tallies.processes.get(&key).copied().unwrap_or(0)
}

#[test]
fn counters_move_once_per_transition_and_tallies_follow_the_states() {
    let mut w = World::new();
    let executors = &w.state.scheduler_metrics().tallies.executors;
    assert_eq!(executors.get(&(COLONY.to_string(), ExecutorState::Approved)), Some(&2));
    assert_eq!(executors.get(&(COLONY.to_string(), ExecutorState::Pending)), None);

    let ok = w.submit(World::spec("cli")).processid;
    let bad = w.submit(World::spec("cli")).processid;
    let mut timed = World::spec("cli");
    timed.maxexectime = 1;
    timed.maxretries = 1;
    timed.priority = -1;
    let timed = w.submit(timed).processid;
    let mut unwanted = World::spec("gpu");
    unwanted.maxwaittime = 1;
    let unwanted = w.submit(unwanted).processid;
    assert_eq!(tally(&w.state, "cli", ProcessState::Waiting), 3);
    assert_eq!(tally(&w.state, "gpu", ProcessState::Waiting), 1);

    w.clock = 2;
    assert_eq!(w.assign(EXEC_A).unwrap().processid, ok);
    assert_eq!(w.assign(EXEC_B).unwrap().processid, bad);
    w.clock = 3;
    assert_eq!(w.assign(EXEC_A).unwrap().processid, timed);
    assert_eq!(tally(&w.state, "cli", ProcessState::Running), 3);
    w.clock = 5;
    w.ok(EXEC_A, Op::CloseSuccessful { processid: ok.clone(), out: vec![] });
    // An executor's retried close changes nothing and counts nothing.
    w.ok(EXEC_A, Op::CloseSuccessful { processid: ok.clone(), out: vec![] });
    w.ok(EXEC_B, Op::CloseFailed { processid: bad.clone(), errors: vec!["no".into()] });
    w.state.drain_events();
    w.tick(5);
    // Each timeout is announced once, for the node's log.
    let timeouts: Vec<Event> =
        w.state.drain_events().into_iter().filter(|e| matches!(e, Event::TimedOut { .. })).collect();
    let timeout = |processid: &str, executortype: &str, retries, waited, requeued| Event::TimedOut {
        processid: processid.into(),
        colonyname: COLONY.into(),
        executortype: executortype.into(),
        retries,
        waited,
        requeued,
    };
    assert_eq!(timeouts, vec![timeout(&timed, "cli", 0, false, true), timeout(&unwanted, "gpu", 0, true, false)]);

    let metrics = w.state.scheduler_metrics();
    let c = &metrics.counters;
    assert_eq!((c.submitted, c.assigned, c.closed_successful, c.closed_failed), (4, 3, 1, 1));
    assert_eq!((c.requeued_maxexectime, c.failed_maxexectime, c.failed_maxwaittime), (1, 0, 1));
    assert_eq!(c.wait_seconds.count, 3);
    assert_eq!(c.wait_seconds.sum_micros, 7_000_000, "2 + 2 + 3 seconds from submit to assign");
    assert_eq!(c.run_seconds.count, 2);
    assert_eq!(c.run_seconds.sum_micros, 6_000_000, "3 + 3 seconds from assign to close");
    assert_eq!(tally(&w.state, "cli", ProcessState::Success), 1);
    assert_eq!(tally(&w.state, "cli", ProcessState::Failed), 1);
    assert_eq!(tally(&w.state, "cli", ProcessState::Waiting), 1, "the requeued one");
    assert_eq!(w.process(&timed).state, ProcessState::Waiting);
    assert_eq!(tally(&w.state, "cli", ProcessState::Running), 0);
    assert!(!metrics.tallies.processes.contains_key(&(COLONY.into(), "cli".into(), ProcessState::Running)));
    assert_eq!(tally(&w.state, "gpu", ProcessState::Failed), 1);

    // A refused command counts nothing.
    assert!(w.submit_spec(STRANGER, World::spec("cli")).is_err());
    assert_eq!(w.state.scheduler_metrics(), metrics);

    // A snapshot carries the counters; the tallies are rebuilt from the data.
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(restored.scheduler_metrics(), metrics);
}

#[test]
fn executor_tallies_follow_approval_rejection_and_removal() {
    let mut w = World::new();
    w.ok(COLONY_OWNER, Op::RejectExecutor { colonyname: COLONY.into(), executorname: "a".into() });
    w.ok(COLONY_OWNER, Op::RemoveExecutor { colonyname: COLONY.into(), executorname: "b".into() });
    let executors = w.state.scheduler_metrics().tallies.executors;
    let count = |state| executors.get(&(COLONY.to_string(), state)).copied();
    assert_eq!(count(ExecutorState::Approved), None);
    assert_eq!(count(ExecutorState::Rejected), Some(1));
    assert_eq!(count(ExecutorState::Unregistered), Some(1));
    // A refused change moves nothing.
    w.refused(COLONY_OWNER, Op::ApproveExecutor { colonyname: COLONY.into(), executorname: "nobody".into() });
    assert_eq!(w.state.scheduler_metrics().tallies.executors, executors);
    w.ok(SERVER, Op::RemoveColony { colonyname: COLONY.into() });
    assert!(w.state.scheduler_metrics().tallies.executors.is_empty());
    assert!(w.state.scheduler_metrics().tallies.processes.is_empty());
}
