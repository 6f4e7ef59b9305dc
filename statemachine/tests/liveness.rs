//! Executor re-registration, liveness reports and stale removal, and log lines that outlive
//! their processes (issue 15).

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::model::{Executor, ExecutorState, Function, ProcessState};
use colonies_statemachine::queries::LogQuery;
use colonies_statemachine::{HeardFrom, Op};
use fixture::*;

/// A fresh key for executor `a`, as an executor that makes a new key at every start has.
const NEW_KEY_A: &str = "aa05cf3df4b494e95d6a3d297a34f19938f7daa7422ab0d4f794454133341aaa";

fn executor_a(id: &str) -> Box<Executor> {
    Box::new(Executor {
        executorid: id.into(),
        executorname: "a".into(),
        executortype: "cli".into(),
        colonyname: COLONY.into(),
        ..Executor::default()
    })
}

fn stored(w: &World, name: &str) -> Executor {
    w.state.get_executor(EXEC_B, COLONY, name).expect("executor")
}

fn heard(id: &str, seconds: i64) -> HeardFrom {
    HeardFrom { colonyname: COLONY.into(), executorid: id.into(), at: at(seconds) }
}

#[test]
fn a_taken_name_is_refused_without_reregistration() {
    let mut w = World::new();
    let e = w.refused(COLONY_OWNER, Op::AddExecutor { executor: executor_a(NEW_KEY_A) });
    assert_eq!(e.status, 400);
    assert_eq!(stored(&w, "a").executorid, EXEC_A);
}

#[test]
fn reregistration_replaces_the_old_key_and_requeues_its_work() {
    let mut w = World::new();
    let function = Function {
        functionid: pid(900),
        executorname: "a".into(),
        executortype: "cli".into(),
        colonyname: COLONY.into(),
        funcname: "echo".into(),
        ..Function::default()
    };
    w.ok(EXEC_A, Op::AddFunction { function });
    let running = w.submit(World::spec("cli")).processid;
    assert_eq!(w.assign(EXEC_A).unwrap().processid, running);

    w.clock = 5;
    w.ok(COLONY_OWNER, Op::ReregisterExecutor { executor: executor_a(NEW_KEY_A) });
    let executor = stored(&w, "a");
    assert_eq!(executor.executorid, NEW_KEY_A);
    assert_eq!(executor.state, ExecutorState::Pending, "a new registration waits for approval again");
    assert_eq!(executor.commissiontime, at(5));
    assert!(w.state.get_functions(EXEC_B, COLONY, "a").unwrap().is_empty(), "old functions dropped");
    let process = w.process(&running);
    assert_eq!(process.state, ProcessState::Waiting, "the old key can never close it: back in the queue");
    assert_eq!(process.retries, 0);
    // The old key is no member any more; the new one is once approved.
    assert_eq!(w.refused(EXEC_A, Op::CloseSuccessful { processid: running.clone(), out: vec![] }).status, 403);
    w.ok(COLONY_OWNER, Op::ApproveExecutor { colonyname: COLONY.into(), executorname: "a".into() });
    assert_eq!(w.assign(NEW_KEY_A).unwrap().processid, running);
}

#[test]
fn reregistration_of_a_new_name_is_a_plain_add_and_only_the_colony_owner_may() {
    let mut w = World::new();
    let mut executor = executor_a(NEW_KEY_A);
    executor.executorname = "c".into();
    assert_eq!(w.refused(STRANGER, Op::ReregisterExecutor { executor: executor.clone() }).status, 403);
    w.ok(COLONY_OWNER, Op::ReregisterExecutor { executor });
    assert_eq!(stored(&w, "c").executorid, NEW_KEY_A);
    assert_eq!(stored(&w, "a").executorid, EXEC_A, "others untouched");
}

#[test]
fn reports_move_last_heard_forward_only() {
    let mut w = World::new();
    assert!(stored(&w, "a").lastheardfromtime.is_zero());
    w.ok("", Op::Heard { executors: vec![heard(EXEC_A, 10), heard(STRANGER, 10)] });
    assert_eq!(stored(&w, "a").lastheardfromtime, at(10));
    assert!(stored(&w, "b").lastheardfromtime.is_zero(), "b was not reported");
    w.ok("", Op::Heard { executors: vec![heard(EXEC_A, 4)] });
    assert_eq!(stored(&w, "a").lastheardfromtime, at(10), "a late report does not move it back");
}

/// The authorization test saw a refused call "change the state": an assign that got work
/// had set `lastheardfromtime` already, and the leader's report of the same poll, though
/// it moved nothing, still moved the state's clock a moment later. Only news is reported.
#[test]
fn a_poll_that_got_work_is_no_news_for_the_report() {
    let mut w = World::new();
    w.submit(World::spec("cli"));
    w.clock = 7;
    w.assign(EXEC_A).expect("work for a");
    assert_eq!(stored(&w, "a").lastheardfromtime, at(7));
    assert!(!w.state.is_news(&heard(EXEC_A, 6)), "the poll that got the work");
    assert!(!w.state.is_news(&heard(EXEC_A, 7)));
    assert!(w.state.is_news(&heard(EXEC_A, 8)), "a later poll");
    assert!(!w.state.is_news(&heard(STRANGER, 8)), "no such executor");
}

#[test]
fn only_the_leader_reports_and_removes() {
    let mut w = World::new();
    assert_eq!(w.refused(EXEC_A, Op::Heard { executors: vec![heard(EXEC_B, 1)] }).status, 403);
    assert_eq!(w.refused(COLONY_OWNER, Op::RemoveStaleExecutors { cutoff: at(1_000) }).status, 403);
}

#[test]
fn stale_executors_are_removed_as_by_removeexecutor_and_never_heard_ones_stay() {
    let mut w = World::new();
    w.add_executor(STRANGER, "never-polled", "cli");
    let running = w.submit(World::spec("cli")).processid;
    w.clock = 10;
    assert_eq!(w.assign(EXEC_A).unwrap().processid, running, "an assign marks a heard");
    w.clock = 100;
    w.ok("", Op::Heard { executors: vec![heard(EXEC_B, 100)] });

    assert!(!w.state.has_stale_executors(at(10)), "heard at 10 is not before 10");
    assert!(w.state.has_stale_executors(at(50)));
    w.clock = 150;
    w.ok("", Op::RemoveStaleExecutors { cutoff: at(50) });
    assert_eq!(stored(&w, "a").state, ExecutorState::Unregistered);
    assert_eq!(stored(&w, "b").state, ExecutorState::Approved, "heard after the cutoff");
    assert_eq!(stored(&w, "never-polled").state, ExecutorState::Approved, "zero time: never removed");
    let process = w.process(&running);
    assert_eq!((process.state, process.retries), (ProcessState::Waiting, 0), "requeued without a retry");
    assert!(!w.state.has_stale_executors(at(50)), "an unregistered executor is not removed again");
}

fn log_lines(w: &World, query: LogQuery) -> Vec<String> {
    w.state.get_logs(EXEC_B, &query).unwrap().into_iter().map(|l| l.message).collect()
}

#[test]
fn log_lines_outlive_their_process_until_the_colony_goes() {
    let mut w = World::new();
    let processid = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::AddLog { processid: processid.clone(), message: "kept\n".into() });
    w.ok(EXEC_A, Op::CloseSuccessful { processid: processid.clone(), out: vec![] });
    w.ok(COLONY_OWNER, Op::RemoveAllProcesses { colonyname: COLONY.into(), state: -1 });
    assert!(w.state.get_process(EXEC_B, &processid).is_err(), "the process is gone");

    let by_executor = LogQuery { colonyname: COLONY.into(), executorname: "a".into(), count: 10, ..Default::default() };
    assert_eq!(log_lines(&w, by_executor.clone()), ["kept\n"]);
    let found = w.state.search_logs(EXEC_B, COLONY, "kept", 1, 10, at(1)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].processid, processid);

    w.recreate_colony();
    w.add_executor(EXEC_A, "a", "cli");
    w.add_executor(EXEC_B, "b", "cli");
    assert!(log_lines(&w, by_executor).is_empty(), "a removed colony takes its lines along");
}
