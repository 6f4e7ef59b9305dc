//! What one process may accumulate (issue 13): log lines and attributes are capped, and a
//! refused addition changes nothing.

// Not every helper of the shared fixture is used here.
#[allow(dead_code)]
mod fixture;

use colonies_statemachine::model::{Attribute, AttributeType, WorkflowSpec};
use colonies_statemachine::queries::LogQuery;
use colonies_statemachine::{MAX_ATTRIBUTES_PER_PROCESS, MAX_LOGS_PER_PROCESS, Op, Reply};
use fixture::*;

#[test]
fn a_process_holds_at_most_its_log_lines_and_attributes() {
    let mut w = World::new();
    let id = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_B).unwrap();
    for n in 0..MAX_LOGS_PER_PROCESS {
        w.ok(EXEC_B, Op::AddLog { processid: id.clone(), message: format!("{n}") });
    }
    let digest = w.state.digest();
    let e = w.refused(EXEC_B, Op::AddLog { processid: id.clone(), message: "one too many".into() });
    assert_eq!(e.status, 400);
    assert!(e.message.contains("the most allowed"), "{}", e.message);
    assert_eq!(w.state.digest(), digest, "a refused line changes nothing");
    let query = LogQuery { processid: id.clone(), count: 1, latest: true, ..Default::default() };
    assert_eq!(w.state.get_logs(EXEC_A, &query).unwrap()[0].message, format!("{}", MAX_LOGS_PER_PROCESS - 1));

    let existing = w.process(&id).attributes.len();
    for n in existing..MAX_ATTRIBUTES_PER_PROCESS {
        let attribute = Attribute {
            targetid: id.clone(),
            targetcolonyname: COLONY.into(),
            attributetype: AttributeType::Out,
            key: format!("k{n}"),
            ..Attribute::default()
        };
        w.ok(EXEC_B, Op::AddAttribute { attribute });
    }
    let digest = w.state.digest();
    let attribute = Attribute {
        targetid: id.clone(),
        targetcolonyname: COLONY.into(),
        attributetype: AttributeType::Out,
        key: "extra".into(),
        ..Attribute::default()
    };
    let e = w.refused(EXEC_B, Op::AddAttribute { attribute });
    assert!(e.message.contains("attributes, the most allowed"), "{}", e.message);
    assert_eq!(w.state.digest(), digest);
}

/// A dense workflow (each step depends on every earlier one) is laid out by longest path,
/// following each edge once: the walk that followed every path took nodes × edges steps,
/// under the state lock, for a graph any member may submit.
#[test]
fn a_dense_workflow_is_laid_out_one_row_per_step() {
    let mut w = World::new();
    let steps = 300;
    let specs: Vec<_> = (0..steps)
        .map(|n| {
            let mut spec = World::spec("cli");
            spec.nodename = format!("s{n}");
            spec.conditions.dependencies = (0..n).map(|d| format!("s{d}")).collect();
            spec
        })
        .collect();
    let processids = (0..steps as u64).map(|i| pid(1000 + i)).collect();
    let workflow = WorkflowSpec { colonyname: COLONY.into(), functionspecs: specs };
    let op = Op::SubmitWorkflow { spec: Box::new(workflow), processgraphid: pid(999), processids };
    let Reply::ProcessGraph(graph) = w.ok(EXEC_A, op) else { panic!("a workflow") };
    let laid_out = w.state.get_process_graph(EXEC_A, &graph.processgraphid).unwrap();
    let row_of = |n: u64| laid_out.nodes.iter().find(|node| node.id == pid(1000 + n)).unwrap().position.y;
    assert_eq!((row_of(0), row_of(1), row_of(299)), (0, 80, 299 * 80));
    assert_eq!(laid_out.edges.len(), steps * (steps - 1) / 2);
}
