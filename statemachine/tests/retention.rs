//! Retention: what `Op::Retain` removes and keeps, in bounded batches, and who may send it.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::model::{FunctionSpec, ProcessState, WorkflowSpec};
use colonies_statemachine::queries::LogQuery;
use colonies_statemachine::{Op, Reply, State};
use fixture::*;

fn run_to_success(w: &mut World) -> String {
    let p = w.submit(World::spec("cli"));
    w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::AddLog { processid: p.processid.clone(), message: "working\n".into() });
    w.ok(EXEC_A, Op::CloseSuccessful { processid: p.processid.clone(), out: vec![] });
    p.processid
}

fn executor_log_count(state: &State) -> usize {
    let query = LogQuery { colonyname: COLONY.into(), executorname: "a".into(), count: 100, ..Default::default() };
    state.get_logs(EXEC_A, &query).unwrap().len()
}

#[test]
fn history_before_the_cutoff_goes_and_live_or_recent_work_stays() {
    let mut w = World::new();
    let old_success = run_to_success(&mut w);
    let old_failed = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseFailed { processid: old_failed.clone(), errors: vec!["boom".into()] });
    let old_waiting = w.submit(World::spec("gpu")).processid;
    let old_running = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_B).unwrap();
    w.ok(EXEC_A, Op::AddExecutorLog { colonyname: COLONY.into(), executorname: "a".into(), message: "old\n".into() });

    w.clock = 100;
    let recent = run_to_success(&mut w);
    w.ok(EXEC_A, Op::AddExecutorLog { colonyname: COLONY.into(), executorname: "a".into(), message: "new\n".into() });
    assert!(w.state.has_expired(at(50)));
    w.ok("", Op::Retain { cutoff: at(50) });

    let exists = |id: &str| w.state.get_process(EXEC_A, id).is_ok();
    assert!(!exists(&old_success) && !exists(&old_failed), "ended before the cutoff: removed");
    assert!(exists(&old_waiting) && exists(&old_running), "waiting and running work stays, however old");
    assert!(exists(&recent), "ended after the cutoff: kept");
    assert_eq!(w.process(&old_running).state, ProcessState::Running);
    let recent_logs = LogQuery { processid: recent.clone(), count: 100, ..Default::default() };
    assert_eq!(w.state.get_logs(EXEC_A, &recent_logs).unwrap().len(), 1, "the recent process keeps its log");
    assert_eq!(executor_log_count(&w.state), 2, "the recent process's line and the new executor line");
    assert!(!w.state.has_expired(at(50)), "nothing is left to remove");
}

#[test]
fn a_backlog_is_removed_in_bounded_batches() {
    let mut w = World::new();
    let ended: Vec<String> = (0..2500).map(|_| run_to_success(&mut w)).collect();
    w.clock = 100;
    let mut batches = 0;
    while w.state.has_expired(at(50)) {
        let before = ended.iter().filter(|id| w.state.get_process(EXEC_A, id).is_ok()).count();
        w.ok("", Op::Retain { cutoff: at(50) });
        let after = ended.iter().filter(|id| w.state.get_process(EXEC_A, id).is_ok()).count();
        assert!(before - after <= 1000, "one batch removed {} processes", before - after);
        batches += 1;
        assert!(batches < 10, "the backlog never ends");
    }
    assert_eq!(batches, 3);
    assert!(ended.iter().all(|id| w.state.get_process(EXEC_A, id).is_err()));
    assert_eq!(executor_log_count(&w.state), 0, "and their log lines");
}

#[test]
fn a_finished_workflow_goes_with_its_processes_and_a_running_one_stays() {
    let mut w = World::new();
    let mut spec: FunctionSpec = World::spec("cli");
    spec.nodename = "only".into();
    spec.conditions.colonyname = String::new();
    let workflow = |first: u64| Op::SubmitWorkflow {
        spec: Box::new(WorkflowSpec { colonyname: COLONY.into(), functionspecs: vec![spec.clone()] }),
        processgraphid: pid(first + 999),
        processids: vec![pid(first)],
    };
    let Reply::ProcessGraph(done) = w.ok(EXEC_A, workflow(100)) else { panic!() };
    let p = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseSuccessful { processid: p.processid, out: vec![] });
    let Reply::ProcessGraph(running) = w.ok(EXEC_A, workflow(200)) else { panic!() };
    w.assign(EXEC_A).unwrap();

    w.clock = 100;
    w.ok("", Op::Retain { cutoff: at(50) });
    assert!(w.state.get_process_graph(EXEC_A, &done.processgraphid).is_err());
    assert!(w.state.get_process(EXEC_A, &done.processids[0]).is_err(), "the workflow's process went with it");
    assert!(w.state.get_process_graph(EXEC_A, &running.processgraphid).is_ok());
    assert!(w.state.get_process(EXEC_A, &running.processids[0]).is_ok());
}

#[test]
fn only_the_leader_sends_retention() {
    let mut w = World::new();
    run_to_success(&mut w);
    w.clock = 100;
    for caller in [SERVER, COLONY_OWNER, EXEC_A] {
        assert_eq!(w.refused(caller, Op::Retain { cutoff: at(50) }).status, 403);
    }
}
