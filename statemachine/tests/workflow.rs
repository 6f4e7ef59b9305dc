#[allow(dead_code)]
mod fixture;

use colonies_statemachine::json::Json;
use colonies_statemachine::model::{FunctionSpec, ProcessGraph, ProcessState, WorkflowSpec};
use colonies_statemachine::{Op, Reply};
use fixture::*;
use serde_json::json;

fn node(name: &str, deps: &[&str]) -> FunctionSpec {
    let mut spec = World::spec("cli");
    spec.nodename = name.into();
    spec.conditions.colonyname = String::new(); // the workflow's colony is filled in
    spec.conditions.dependencies = deps.iter().map(|d| d.to_string()).collect();
    spec
}

fn submit_workflow_op(specs: Vec<FunctionSpec>, first_id: u64) -> Op {
    let processids = (0..specs.len() as u64).map(|i| pid(first_id + i)).collect();
    Op::SubmitWorkflow {
        spec: Box::new(WorkflowSpec { colonyname: COLONY.into(), functionspecs: specs }),
        processgraphid: pid(first_id + 999),
        processids,
    }
}

fn submit_workflow(w: &mut World, specs: Vec<FunctionSpec>, first_id: u64) -> ProcessGraph {
    match w.ok(EXEC_A, submit_workflow_op(specs, first_id)) {
        Reply::ProcessGraph(g) => *g,
        other => panic!("{other:?}"),
    }
}

fn diamond() -> Vec<FunctionSpec> {
    vec![node("a", &[]), node("b", &["a"]), node("c", &["a"]), node("d", &["b", "c"])]
}

fn by_name(w: &World, graph: &ProcessGraph, name: &str) -> colonies_statemachine::model::Process {
    graph.processids.iter().map(|id| w.process(id)).find(|p| p.spec.nodename == name).unwrap()
}

#[test]
fn a_diamond_runs_in_dependency_order_and_children_see_parent_output() {
    let mut w = World::new();
    let graph = submit_workflow(&mut w, diamond(), 100);
    assert_eq!(graph.rootprocessids, vec![pid(100)]);
    assert_eq!(graph.processids.len(), 4);
    assert_eq!(by_name(&w, &graph, "d").parents, vec![pid(101), pid(102)]);
    assert!(by_name(&w, &graph, "b").waitforparents);

    let a = w.assign(EXEC_A).unwrap();
    assert_eq!(a.spec.nodename, "a");
    assert_eq!(a.spec.conditions.colonyname, COLONY);
    assert_eq!(w.assign(EXEC_B).unwrap_err().status, 404, "b and c wait for a");
    assert_eq!(w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap().state, ProcessState::Running);
    w.ok(EXEC_A, Op::CloseSuccessful { processid: a.processid, out: vec![Json(json!("x"))] });

    let first = w.assign(EXEC_A).unwrap();
    let second = w.assign(EXEC_B).unwrap();
    for p in [&first, &second] {
        assert_eq!(p.input, vec![Json(json!("x"))], "{} sees a's output", p.spec.nodename);
    }
    w.ok(
        EXEC_A,
        Op::CloseSuccessful { processid: first.processid.clone(), out: vec![Json(json!(first.spec.nodename))] },
    );
    assert_eq!(w.assign(EXEC_A).unwrap_err().status, 404, "d waits for both");
    w.ok(
        EXEC_B,
        Op::CloseSuccessful { processid: second.processid.clone(), out: vec![Json(json!(second.spec.nodename))] },
    );

    let d = w.assign(EXEC_A).unwrap();
    assert_eq!(d.spec.nodename, "d");
    assert_eq!(d.input, vec![Json(json!("b")), Json(json!("c"))], "in the order of d's dependencies");
    w.ok(EXEC_A, Op::CloseSuccessful { processid: d.processid, out: vec![] });
    let done = w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap();
    assert_eq!(done.state, ProcessState::Success);
    assert!(!done.endtime.is_zero() && !done.starttime.is_zero());
    assert_eq!(done.nodes.len(), 4);
    assert_eq!(done.edges.len(), 4);
    assert_eq!(done.nodes.iter().find(|n| n.id == pid(103)).unwrap().position.y, 160);
    assert_eq!(w.state.get_process_graphs(EXEC_A, COLONY, 10, 2).unwrap().len(), 1);
}

#[test]
fn a_failed_parent_fails_the_whole_graph() {
    // TV-9.5: a -> {b, c} -> d; a succeeds, b fails: all four FAILED, graph FAILED.
    let mut w = World::new();
    let graph = submit_workflow(&mut w, diamond(), 100);
    let a = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseSuccessful { processid: a.processid, out: vec![] });
    let b = w.assign(EXEC_A).unwrap();
    let c = w.assign(EXEC_B).unwrap();
    w.ok(EXEC_A, Op::CloseFailed { processid: b.processid, errors: vec!["boom".into()] });
    for id in &graph.processids {
        assert_eq!(w.process(id).state, ProcessState::Failed);
    }
    assert_eq!(w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap().state, ProcessState::Failed);
    let e = w.refused(EXEC_B, Op::CloseSuccessful { processid: c.processid, out: vec![] });
    assert_eq!(e.message, "Tried to set failed process as successful");
}

#[test]
fn a_failed_leaf_fails_only_the_graph() {
    let mut w = World::new();
    let graph = submit_workflow(&mut w, vec![node("a", &[]), node("b", &["a"]), node("c", &["a"])], 100);
    let a = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseSuccessful { processid: a.processid.clone(), out: vec![] });
    let b = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseFailed { processid: b.processid, errors: vec![] });
    assert_eq!(w.process(&a.processid).state, ProcessState::Success);
    let c = w.assign(EXEC_B).unwrap();
    w.ok(EXEC_B, Op::CloseSuccessful { processid: c.processid, out: vec![] });
    assert_eq!(w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap().state, ProcessState::Failed);
}

#[test]
fn an_exec_timeout_in_a_graph_fails_it_like_a_close() {
    let mut w = World::new();
    let mut a = node("a", &[]);
    a.maxexectime = 1;
    a.maxretries = 0;
    let graph = submit_workflow(&mut w, vec![a, node("b", &["a"])], 100);
    w.assign(EXEC_A).unwrap();
    w.tick(5);
    assert!(graph.processids.iter().all(|id| w.process(id).state == ProcessState::Failed));
}

#[test]
fn bad_workflows_are_refused_and_create_nothing() {
    let mut w = World::new();
    let cases = [
        (vec![node("a", &["b"]), node("b", &["a"])], "Failed to submit workflow, the dependencies form a cycle"),
        (vec![node("a", &["a"])], "Failed to submit workflow, the dependencies form a cycle"),
        (
            vec![node("a", &[]), node("b", &["ghost"])],
            "Failed to submit workflow, invalid dependencies, are you depending on a nodename that does not exits?",
        ),
        (vec![node("a", &[]), node("a", &[])], "Duplicate nodename: a"),
        (vec![node("", &[])], "Nodename is missing, check function spec for errors"),
    ];
    for (specs, message) in cases {
        let e = w.refused(EXEC_A, submit_workflow_op(specs, 200));
        assert_eq!((e.status, e.message.as_str()), (500, message));
    }
    let mut bad_mem = node("a", &[]);
    bad_mem.conditions.mem = "12".into();
    assert_eq!(w.refused(EXEC_A, submit_workflow_op(vec![node("ok", &[]), bad_mem], 200)).status, 400);
    let e = w.refused(STRANGER, submit_workflow_op(diamond(), 200));
    assert_eq!(e.status, 403);
}

#[test]
fn workflows_turn_an_unset_exec_limit_into_none_and_may_be_empty() {
    let mut w = World::new();
    let mut a = node("a", &[]);
    a.maxexectime = 0;
    let graph = submit_workflow(&mut w, vec![a], 100);
    assert_eq!(w.process(&graph.processids[0]).spec.maxexectime, -1);
    let empty = submit_workflow(&mut w, vec![], 300);
    assert!(empty.processids.is_empty() && empty.rootprocessids.is_empty());
}

#[test]
fn graph_processes_are_cancelled_and_removed_only_with_their_graph() {
    let mut w = World::new();
    let graph = submit_workflow(&mut w, diamond(), 100);
    let e = w.refused(EXEC_A, Op::CancelProcess { processid: pid(100) });
    assert_eq!(e.status, 400);
    assert_eq!(w.refused(EXEC_A, Op::RemoveProcess { processid: pid(100) }).status, 400);
    w.assign(EXEC_A).unwrap();
    let remove = Op::RemoveProcessGraph { processgraphid: graph.processgraphid.clone() };
    assert_eq!(
        w.refused(EXEC_A, remove.clone()).message,
        "Failed to remove processgraph, cannot remove a running processgraph"
    );
    w.ok(EXEC_B, Op::CancelProcessGraph { processgraphid: graph.processgraphid.clone() });
    assert!(graph.processids.iter().all(|id| w.process(id).state == ProcessState::Cancelled));
    w.ok(EXEC_A, remove.clone());
    assert_eq!(w.state.get_process(EXEC_A, &pid(100)).unwrap_err().status, 404);
    assert_eq!(w.refused(EXEC_A, remove).status, 500);

    submit_workflow(&mut w, diamond(), 400);
    let remove_all = |state| Op::RemoveAllProcessGraphs { colonyname: COLONY.into(), state };
    assert_eq!(w.refused(EXEC_A, remove_all(0)).status, 403, "the colony owner only");
    assert_eq!(w.refused(COLONY_OWNER, remove_all(1)).status, 400);
    w.ok(COLONY_OWNER, remove_all(0));
    assert!(w.state.get_process_graphs(EXEC_A, COLONY, 10, 0).unwrap().is_empty());
    assert_eq!(w.state.get_process(EXEC_A, &pid(400)).unwrap_err().status, 404);
}

#[test]
fn an_executor_can_extend_its_running_graph() {
    let mut w = World::new();
    let graph = submit_workflow(&mut w, vec![node("a", &[]), node("b", &["a"])], 100);
    let a = w.assign(EXEC_A).unwrap();
    let add = |insert, processid: u64| Op::AddChild {
        processgraphid: graph.processgraphid.clone(),
        parentprocessid: a.processid.clone(),
        childprocessid: String::new(),
        spec: Box::new(World::spec("cli")),
        insert,
        processid: pid(processid),
    };
    assert_eq!(w.refused(EXEC_B, add(true, 500)).status, 400, "only the executor running the parent");
    let Reply::Process(child) = w.ok(EXEC_A, add(true, 500)) else { panic!() };
    assert_eq!(child.parents, vec![a.processid.clone()]);
    assert_eq!(child.children, vec![pid(101)], "insert takes over the parent's children");
    assert_eq!(w.process(&pid(101)).parents, vec![pid(500)]);
    w.ok(EXEC_A, Op::CloseSuccessful { processid: a.processid.clone(), out: vec![] });
    assert_eq!(w.assign(EXEC_A).unwrap().processid, pid(500), "the inserted child runs before b");
    w.ok(EXEC_A, Op::CloseSuccessful { processid: pid(500), out: vec![] });
    assert_eq!(w.assign(EXEC_A).unwrap().processid, pid(101));
}

/// The workflow counters of `getcolonystatsmsg`: (waiting, running, successful, failed,
/// cancelled).
fn workflow_counters(w: &World) -> (i64, i64, i64, i64, i64) {
    let s = w.state.colony_statistics(EXEC_A, COLONY).unwrap();
    (s.waitingworkflows, s.runningworkflows, s.successfulworkflows, s.failedworkflows, s.cancelledworkflows)
}

#[test]
fn colony_statistics_count_workflows_by_the_state_of_their_graphs() {
    let mut w = World::new();
    let ok = submit_workflow(&mut w, vec![node("a", &[])], 100);
    let bad = submit_workflow(&mut w, vec![node("a", &[])], 200);
    let stopped = submit_workflow(&mut w, vec![node("a", &[]), node("b", &["a"])], 300);
    assert_eq!(workflow_counters(&w), (3, 0, 0, 0, 0));

    let first = w.assign(EXEC_A).unwrap();
    assert_eq!(first.processid, pid(100), "{first:?}");
    assert_eq!(workflow_counters(&w), (2, 1, 0, 0, 0));
    w.ok(EXEC_A, Op::CloseSuccessful { processid: first.processid, out: vec![] });
    assert_eq!(workflow_counters(&w), (2, 0, 1, 0, 0));

    let second = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseFailed { processid: second.processid, errors: vec!["boom".into()] });
    assert_eq!(workflow_counters(&w), (1, 0, 1, 1, 0));
    w.ok(EXEC_B, Op::CancelProcessGraph { processgraphid: stopped.processgraphid.clone() });
    assert_eq!(workflow_counters(&w), (0, 0, 1, 1, 1));

    // Indexes are rebuilt from a snapshot: the counters come back the same.
    let restored = colonies_statemachine::State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(restored.colony_statistics(EXEC_A, COLONY).unwrap(), w.state.colony_statistics(EXEC_A, COLONY).unwrap());

    w.ok(EXEC_A, Op::RemoveProcessGraph { processgraphid: ok.processgraphid.clone() });
    assert_eq!(workflow_counters(&w), (0, 0, 0, 1, 1));
    w.ok(COLONY_OWNER, Op::RemoveAllProcessGraphs { colonyname: COLONY.into(), state: 3 });
    assert_eq!(workflow_counters(&w), (0, 0, 0, 0, 1), "removeall of the failed ones");
    assert!(w.state.get_process_graph(EXEC_A, &bad.processgraphid).is_err());
    w.ok(COLONY_OWNER, Op::RemoveAllProcessGraphs { colonyname: COLONY.into(), state: -1 });
    assert_eq!(workflow_counters(&w), (0, 0, 0, 0, 0));
}
