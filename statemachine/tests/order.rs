//! Rows with equal times are listed as the original lists them (issue 15 item 11): the
//! original orders by a time alone (colonies by nothing), so ties come in the order the rows
//! were written, whichever way the list runs. One command stamps one time on all it
//! creates, so here ties are common and an arrival number breaks them, never the random id.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::model::{Colony, FunctionSpec, ProcessGraph, WorkflowSpec};
use colonies_statemachine::queries::ProcessQuery;
use colonies_statemachine::state::Extended;
use colonies_statemachine::{Op, Reply, State};
use fixture::*;

fn node(name: &str, deps: &[&str]) -> FunctionSpec {
    let mut spec = World::spec("cli");
    spec.nodename = name.into();
    spec.conditions.dependencies = deps.iter().map(|d| d.to_string()).collect();
    spec
}

/// Submits the workflow with these process ids (one per spec, in spec order).
fn submit(w: &mut World, specs: Vec<FunctionSpec>, ids: &[u64], graph: u64) -> ProcessGraph {
    let op = Op::SubmitWorkflow {
        spec: Box::new(WorkflowSpec { colonyname: COLONY.into(), functionspecs: specs }),
        processgraphid: pid(graph),
        processids: ids.iter().map(|i| pid(*i)).collect(),
    };
    match w.ok(EXEC_A, op) {
        Reply::ProcessGraph(g) => *g,
        other => panic!("{other:?}"),
    }
}

/// Node names of `getprocessesmsg` for a state.
fn listed(state: &State, code: i64) -> Vec<String> {
    let query = ProcessQuery { colonyname: COLONY.into(), count: 100, state: code, ..ProcessQuery::default() };
    state.get_processes(EXEC_A, &query).unwrap().into_iter().map(|p| p.spec.nodename).collect()
}

fn names(w: &World, ids: &[String]) -> Vec<String> {
    ids.iter().map(|id| w.process(id).spec.nodename).collect()
}

#[test]
fn a_workflows_processes_are_listed_and_assigned_in_the_order_they_were_given() {
    let mut w = World::new();
    // Ids that sort against the spec order, so an order by id would show.
    submit(&mut w, vec![node("first", &[]), node("second", &[]), node("third", &[])], &[9, 5, 1], 100);
    assert_eq!(listed(&w.state, 0), ["first", "second", "third"], "psw");
    let hist = w.state.process_history(EXEC_A, COLONY, "", 60, 0, at(0)).unwrap();
    assert_eq!(hist.iter().map(|p| p.spec.nodename.as_str()).collect::<Vec<_>>(), ["first", "second", "third"]);

    let assigned: Vec<String> = (0..3).map(|_| w.assign(EXEC_A).unwrap().spec.nodename).collect();
    assert_eq!(assigned, ["first", "second", "third"]);
    assert_eq!(listed(&w.state, 1), ["first", "second", "third"], "ps: by start time, then arrival");
    for id in [9, 5] {
        w.ok(EXEC_A, Op::CloseSuccessful { processid: pid(id), out: vec![] });
    }
    w.clock += 1;
    w.ok(EXEC_A, Op::CloseSuccessful { processid: pid(1), out: vec![] });
    // Newest first; the two that ended at one time in the order they were written.
    assert_eq!(listed(&w.state, 2), ["third", "first", "second"], "pss");
}

#[test]
fn processes_failed_with_their_parent_follow_it_in_the_order_they_were_written() {
    let mut w = World::new();
    submit(&mut w, vec![node("a", &[]), node("b", &["a"]), node("c", &["a"])], &[30, 20, 10], 100);
    let a = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseFailed { processid: a.processid, errors: vec!["boom".into()] });
    // The failure of a fails b and c with it, leaving their end time at zero, as the
    // original does: they come after a, in the order they were written.
    assert_eq!(listed(&w.state, 3), ["a", "b", "c"], "psf");
}

#[test]
fn colonies_are_listed_in_the_order_they_were_added() {
    let mut w = World::new();
    for name in ["zeta", "alpha", "mid"] {
        w.ok(SERVER, Op::AddColony { colony: Colony { colonyid: COLONY_OWNER.into(), name: name.into() } });
    }
    let listed = |s: &State| s.get_colonies(SERVER).unwrap().into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(listed(&w.state), ["dev", "zeta", "alpha", "mid"]);
    w.ok(SERVER, Op::RemoveColony { colonyname: "zeta".into() });
    w.ok(SERVER, Op::AddColony { colony: Colony { colonyid: COLONY_OWNER.into(), name: "zeta".into() } });
    assert_eq!(listed(&w.state), ["dev", "alpha", "mid", "zeta"], "a colony added again comes last");
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(listed(&restored), listed(&w.state));
}

#[test]
fn a_graph_lists_its_processes_depth_first_from_its_roots() {
    let mut w = World::new();
    // a -> b -> d and a -> c: depth first is a, b, d, c (the spec order is a, b, c, d).
    let specs = vec![node("a", &[]), node("b", &["a"]), node("c", &["a"]), node("d", &["b"])];
    let graph = submit(&mut w, specs, &[1, 2, 3, 4], 100);
    assert_eq!(names(&w, &graph.processids), ["a", "b", "d", "c"]);
    let fetched = w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap();
    assert_eq!(fetched.processids, graph.processids);
    let nodes: Vec<&str> = fetched.nodes.iter().map(|n| n.data.label.as_str()).collect();
    assert_eq!(nodes, ["a", "b", "c", "d"], "rows by depth, each in the graph's order");

    // A child added while a runs is listed where a depth-first walk meets it.
    let a = w.assign(EXEC_A).unwrap();
    let add = Op::AddChild {
        processgraphid: graph.processgraphid.clone(),
        parentprocessid: a.processid.clone(),
        childprocessid: String::new(),
        spec: Box::new(node("e", &[])),
        insert: false,
        processid: pid(5),
    };
    w.ok(EXEC_A, add);
    let grown = w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap();
    assert_eq!(names(&w, &grown.processids), ["a", "b", "d", "c", "e"]);
}

#[test]
fn arrival_order_survives_a_snapshot_and_old_snapshots_are_migrated() {
    let mut w = World::new();
    submit(&mut w, vec![node("first", &[]), node("second", &[]), node("third", &[])], &[9, 5, 1], 100);
    w.state.drain_events();
    let snapshot = w.state.to_snapshot();
    assert_eq!(snapshot[0], 4, "format 4 holds the arrival numbers, then the extended data");
    let restored = State::from_snapshot(&snapshot).unwrap();
    assert_eq!(restored, w.state);
    assert_eq!(listed(&restored, 0), ["first", "second", "third"]);

    // Format 3 had no extended data: it loads, with none (the scheduler counters at zero,
    // which take as many bytes as these: nothing was assigned, no histogram has buckets).
    let extended = bincode::serialized_size(&Extended::default()).unwrap() as usize;
    let mut format_3 = snapshot.clone();
    format_3[0] = 3;
    format_3.truncate(snapshot.len() - extended);
    let loaded = State::from_snapshot(&format_3).unwrap();
    assert_eq!(loaded.scheduler_metrics().counters, Default::default());
    let mut again = loaded.to_snapshot();
    again[0] = 3;
    again.truncate(again.len() - extended);
    assert_eq!(again, format_3, "all but the extended data is kept");

    // Formats 1 and 2 had no arrival numbers: they load, ties ordered by id, the same on
    // every node. Made from this snapshot by cutting its trailing parts off.
    let arrivals = bincode_len_of_arrivals(&w.state);
    let mut format_2 = format_3.clone();
    format_2[0] = 2;
    format_2.truncate(format_3.len() - arrivals);
    let migrated = State::from_snapshot(&format_2).unwrap();
    assert_eq!(listed(&migrated, 0), ["third", "second", "first"], "ids 1, 5, 9");
    assert_eq!(State::from_snapshot(&format_2).unwrap(), migrated, "deterministic");
    let unknown = State::from_snapshot(&[5, 0, 0]).unwrap_err().to_string();
    assert_eq!(unknown, "snapshot format version 5 is not supported");
}

/// The bytes the arrival numbers take at the end of a format 3 snapshot (bincode): the next
/// number, then three maps (processes, graphs, colonies), each a length and its entries, an
/// entry a string (length and bytes) and a number.
fn bincode_len_of_arrivals(state: &State) -> usize {
    const ID_ENTRY: usize = 8 + 64 + 8;
    let (processes, graphs) = (3, 1);
    let colonies: usize = state.get_colonies(SERVER).unwrap().iter().map(|c| 8 + c.name.len() + 8).sum();
    8 + (8 + processes * ID_ENTRY) + (8 + graphs * ID_ENTRY) + (8 + colonies)
}
