//! What one process may accumulate (issue 13): log lines and attributes are capped, and a
//! refused addition changes nothing.

// Not every helper of the shared fixture is used here.
#[allow(dead_code)]
mod fixture;

use colonies_statemachine::model::{Attribute, AttributeType};
use colonies_statemachine::queries::LogQuery;
use colonies_statemachine::{MAX_ATTRIBUTES_PER_PROCESS, MAX_LOGS_PER_PROCESS, Op};
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
