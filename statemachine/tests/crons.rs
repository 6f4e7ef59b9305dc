//! Crons and generators in the state machine: scheduled runs fire once per tick and per
//! batch, late duplicates are refused, and the snapshot carries them.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::json::Json;
use colonies_statemachine::model::{Cron, Generator, ProcessState, WorkflowSpec};
use colonies_statemachine::{Op, Reply, State, Time};
use fixture::*;
use serde_json::json;

/// A two-step workflow (`first` -> `second`) as the JSON string crons store.
fn workflow_text(colonyname: &str) -> String {
    let first = World::spec("cli");
    let mut second = World::spec("cli");
    second.conditions.dependencies = vec!["first".into()];
    let specs = vec![
        colonies_statemachine::model::FunctionSpec { nodename: "first".into(), ..first },
        colonies_statemachine::model::FunctionSpec { nodename: "second".into(), ..second },
    ];
    serde_json::to_string(&WorkflowSpec { colonyname: colonyname.into(), functionspecs: specs }).unwrap()
}

fn cron(name: &str, interval: i64) -> Cron {
    Cron {
        cronid: format!("cron-{name}"),
        colonyname: COLONY.into(),
        name: name.into(),
        interval,
        workflowspec: workflow_text(COLONY),
        ..Cron::default()
    }
}

fn add_cron(w: &mut World, cron: Cron) -> Cron {
    let Reply::Cron(added) = w.ok(EXEC_A, Op::AddCron { cron: Box::new(cron), draw: 0 }) else { panic!() };
    *added
}

fn run(tick: Time, graph: &str) -> Op {
    Op::RunCron { cronid: "cron-c".into(), tick: Some(tick), processgraphid: graph.into(), draw: 0 }
}

fn graphs(w: &World) -> Vec<String> {
    let mut all = Vec::new();
    for state in ProcessState::ALL {
        let found = w.state.get_process_graphs(EXEC_A, COLONY, 100, state.code()).unwrap();
        all.extend(found.into_iter().map(|g| g.processgraphid));
    }
    all.sort();
    all
}

#[test]
fn a_due_cron_runs_once_per_tick_and_a_late_duplicate_is_refused() {
    let mut w = World::new();
    let added = add_cron(&mut w, cron("c", 10));
    assert_eq!(added.initiatorid, EXEC_A);
    assert_eq!(added.nextrun, at(10), "scheduled one interval after it was added");
    assert!(w.state.due_crons(at(9)).is_empty());
    let due = w.state.due_crons(at(10));
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].tick, at(10));

    w.clock = 10;
    let Reply::Cron(after) = w.ok("", run(at(10), "g1")) else { panic!() };
    assert_eq!((after.nextrun, after.lastrun), (at(20), at(10)));
    assert_eq!(after.prevprocessgraphid, "g1");
    assert_eq!(graphs(&w), vec!["g1".to_string()]);
    assert!(w.state.due_crons(at(11)).is_empty(), "the tick is done");

    // The old leader's proposal for the same tick commits after the new leader's.
    w.clock = 11;
    let e = w.refused("", run(at(10), "g1-again"));
    assert_eq!(e.status, 409, "{}", e.message);
    assert_eq!(graphs(&w), vec!["g1".to_string()]);

    // Only the leader proposes scheduled runs; a client asks with runcronmsg.
    let e = w.refused(EXEC_A, run(at(20), "g2"));
    assert_eq!(e.status, 403);
    // Nor before the tick.
    let e = w.refused("", run(at(20), "g2"));
    assert_eq!(e.status, 409);
}

#[test]
fn ticks_missed_by_a_failover_are_caught_up_one_by_one() {
    let mut w = World::new();
    add_cron(&mut w, cron("c", 1));
    // The leader died at 1 s; its successor runs at 4.5 s.
    w.clock = 4;
    for (n, tick) in [1, 2, 3, 4].into_iter().enumerate() {
        let due = w.state.due_crons(at(4));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].tick, at(tick));
        w.ok("", run(at(tick), &format!("g{n}")));
    }
    assert!(w.state.due_crons(at(4)).is_empty());
    assert_eq!(graphs(&w).len(), 4, "one workflow per tick");
    assert_eq!(w.state.get_cron(EXEC_A, "cron-c").unwrap().nextrun, at(5));
}

#[test]
fn a_cron_waiting_for_its_previous_graph_does_not_start_another() {
    let mut w = World::new();
    add_cron(&mut w, Cron { waitforprevprocessgraph: true, ..cron("c", 1) });
    w.clock = 1;
    w.ok("", run(at(1), "g1"));
    w.clock = 5;
    assert!(w.state.due_crons(at(5)).is_empty(), "g1 has not ended");
    let e = w.refused("", run(at(2), "g2"));
    assert_eq!(e.status, 409);
    let e =
        w.refused(EXEC_A, Op::RunCron { cronid: "cron-c".into(), tick: None, processgraphid: "g2".into(), draw: 0 });
    assert!(e.message.contains("has not ended"), "{}", e.message);

    // Work g1 to the end: the root's output becomes the next run's root input.
    let first = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseSuccessful { processid: first.processid, out: vec![Json(json!("o1"))] });
    let second = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseSuccessful { processid: second.processid, out: vec![Json(json!("leaf-out"))] });
    let due = w.state.due_crons(at(5));
    assert_eq!(due.len(), 1);
    w.ok("", run(due[0].tick, "g2"));
    let root = w.assign(EXEC_A).unwrap();
    assert_eq!(root.processgraphid, "g2");
    assert_eq!(root.input, vec![Json(json!("leaf-out"))], "the leaves' outputs of the previous run");
}

#[test]
fn run_cron_runs_now_and_leaves_the_schedule_alone() {
    let mut w = World::new();
    let added = add_cron(&mut w, cron("c", 60));
    w.clock = 3;
    let op = Op::RunCron { cronid: "cron-c".into(), tick: None, processgraphid: "manual".into(), draw: 7 };
    let Reply::Cron(after) = w.ok(EXEC_B, op) else { panic!() };
    assert_eq!((after.lastrun, after.nextrun), (at(3), added.nextrun));
    assert_eq!(after.prevprocessgraphid, "manual");
    let e =
        w.refused(STRANGER, Op::RunCron { cronid: "cron-c".into(), tick: None, processgraphid: "x".into(), draw: 0 });
    assert_eq!(e.status, 403);
    let e = w.refused(EXEC_A, Op::RunCron { cronid: "nope".into(), tick: None, processgraphid: "x".into(), draw: 0 });
    assert_eq!((e.status, e.message.as_str()), (400, "cron not found"));
}

#[test]
fn random_crons_run_where_the_proposer_drew_within_the_interval() {
    let mut w = World::new();
    let op = |draw| Op::AddCron { cron: Box::new(Cron { random: true, ..cron("c", 60) }), draw };
    let Reply::Cron(added) = w.ok(EXEC_A, op(30 * SECOND as u64)) else { panic!() };
    assert_eq!(added.nextrun, at(30));
    w.clock = 30;
    let next = Op::RunCron {
        cronid: "cron-c".into(),
        tick: Some(at(30)),
        processgraphid: "g".into(),
        draw: 5 * SECOND as u64,
    };
    let Reply::Cron(after) = w.ok("", next) else { panic!() };
    assert_eq!(after.nextrun, at(65), "the second interval starts at 60 s; the draw puts it 5 s in");
}

#[test]
fn bad_crons_are_refused_with_reasons() {
    let mut w = World::new();
    let cases = [
        (Cron { interval: 0, ..cron("a", 0) }, "Cron interval must be -1 (disabled) or larger than 0"),
        (Cron { interval: -1, cronexpression: "* * *".into(), ..cron("a", 0) }, "expected exactly 6 fields"),
        (Cron { random: true, interval: -1, cronexpression: "@daily".into(), ..cron("a", 0) }, "Random cron"),
        (Cron { workflowspec: "{not json".into(), ..cron("a", 5) }, "key must be a string"),
        (Cron { workflowspec: workflow_text("other"), ..cron("a", 5) }, "is for colony other"),
        (Cron { workflowspec: r#"{"functionspecs":[]}"#.into(), ..cron("a", 5) }, "no function specs"),
        (
            Cron {
                workflowspec:
                    r#"{"functionspecs":[{"nodename":"x","funcname":"f","conditions":{"dependencies":["y"]}}]}"#.into(),
                ..cron("a", 5)
            },
            "invalid dependencies",
        ),
    ];
    for (bad, reason) in cases {
        let e = w.refused(EXEC_A, Op::AddCron { cron: Box::new(bad), draw: 0 });
        assert_eq!(e.status, 400, "{reason}: {}", e.message);
        assert!(e.message.contains(reason), "{reason}: {}", e.message);
    }
    add_cron(&mut w, cron("c", 5));
    let e =
        w.refused(EXEC_B, Op::AddCron { cron: Box::new(Cron { cronid: "other-id".into(), ..cron("c", 5) }), draw: 0 });
    assert!(e.message.contains("already exists"), "{}", e.message);
    let e = w.refused(STRANGER, Op::AddCron { cron: Box::new(cron("s", 5)), draw: 0 });
    assert_eq!(e.status, 403);
}

#[test]
fn only_the_creator_or_the_colony_owner_removes() {
    let mut w = World::new();
    add_cron(&mut w, cron("c", 5));
    let e = w.refused(EXEC_B, Op::RemoveCron { cronid: "cron-c".into() });
    assert_eq!(e.status, 403, "a member who did not create it");
    w.ok(COLONY_OWNER, Op::RemoveCron { cronid: "cron-c".into() });
    let e = w.refused(EXEC_A, Op::RemoveCron { cronid: "cron-c".into() });
    assert_eq!((e.status, e.message.as_str()), (500, "Failed to remove cron, cron is nil"));
    add_cron(&mut w, cron("c", 5));
    w.ok(EXEC_A, Op::RemoveCron { cronid: "cron-c".into() });
    assert!(w.state.get_crons(EXEC_B, COLONY, 10).unwrap().is_empty());
}

fn generator(trigger: i64, timeout: i64) -> Generator {
    Generator {
        generatorid: "gen".into(),
        colonyname: COLONY.into(),
        name: "g".into(),
        workflowspec: workflow_text(COLONY),
        trigger,
        timeout,
        ..Generator::default()
    }
}

fn pack(w: &mut World, arg: &str) {
    w.ok(EXEC_B, Op::PackGenerator { generatorid: "gen".into(), arg: arg.into() });
}

fn fire(head: u64, graph: &str) -> Op {
    Op::FireGenerator { generatorid: "gen".into(), head, processgraphid: graph.into() }
}

fn root_args(w: &World, graph: &str) -> Vec<String> {
    let graph = w.state.get_process_graph(EXEC_A, graph).unwrap();
    let root = w.process(&graph.rootprocessids[0]);
    root.spec.args.iter().map(|a| a.0.as_str().unwrap().to_string()).collect()
}

#[test]
fn a_generator_runs_per_trigger_then_on_timeout_and_never_twice() {
    let mut w = World::new();
    let e = w.refused(EXEC_A, Op::AddGenerator { generator: Box::new(generator(0, 5)) });
    assert!(e.message.contains("trigger must be larger than 0"), "{}", e.message);
    w.ok(EXEC_A, Op::AddGenerator { generator: Box::new(generator(3, 5)) });
    for n in 0..7 {
        pack(&mut w, &format!("a{n}"));
    }
    assert_eq!(w.state.get_generator(EXEC_A, "gen").unwrap().queuesize, 7);
    let due = w.state.due_generators(at(0));
    assert_eq!((due.len(), due[0].head), (1, 0));
    w.ok("", fire(0, "b1"));
    let e = w.refused("", fire(0, "b1-again"));
    assert_eq!(e.status, 409, "a late duplicate finds its arguments used");
    w.ok("", fire(3, "b2"));
    assert_eq!(root_args(&w, "b1"), ["a0", "a1", "a2"]);
    assert_eq!(root_args(&w, "b2"), ["a3", "a4", "a5"]);
    let second = w.process(&w.state.get_process_graph(EXEC_A, "b1").unwrap().processids[1]);
    assert!(second.spec.args.is_empty(), "only the roots get the arguments");

    // One argument left: not due until 5 s after the last pack.
    assert!(w.state.due_generators(at(4)).is_empty());
    let e = w.refused("", fire(6, "early"));
    assert_eq!(e.status, 409);
    w.clock = 5;
    assert_eq!(w.state.due_generators(at(5))[0].head, 6);
    w.ok("", fire(6, "b3"));
    assert_eq!(root_args(&w, "b3"), ["a6"]);
    assert!(w.state.due_generators(at(100)).is_empty());
    let shown = w.state.get_generator(EXEC_A, "gen").unwrap();
    assert_eq!((shown.queuesize, shown.lastrun, shown.firstpack), (0, at(5), at(0)));
    assert_eq!(w.state.resolve_generator(EXEC_B, COLONY, "g").unwrap().generatorid, "gen");
    let e = w.refused(STRANGER, Op::PackGenerator { generatorid: "gen".into(), arg: "x".into() });
    assert_eq!(e.status, 403);
}

#[test]
fn crons_and_generators_are_in_the_snapshot_and_the_digest() {
    let mut w = World::new();
    let before = w.state.digest();
    add_cron(&mut w, cron("c", 5));
    w.ok(EXEC_A, Op::AddGenerator { generator: Box::new(generator(3, 5)) });
    pack(&mut w, "queued");
    assert_ne!(w.state.digest(), before);
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(restored, w.state);
    assert_eq!(restored.get_generator(EXEC_A, "gen").unwrap().queuesize, 1);
    assert_eq!(restored.due_crons(at(5)).len(), 1);

    // A format 1 snapshot (before crons and arrival numbers existed) still loads, with no
    // crons and the colony's arrival number made up.
    let empty = World::new();
    let mut old = empty.state.to_snapshot();
    old[0] = 1;
    let empty_schedules = bincode::serialize(&(0u64, 0u64)).unwrap();
    // next number, no processes, no graphs, colony dev first
    let arrivals = bincode::serialize(&(1u64, 0u64, 0u64, std::collections::BTreeMap::from([("dev", 0u64)]))).unwrap();
    old.truncate(old.len() - empty_schedules.len() - arrivals.len());
    assert_eq!(State::from_snapshot(&old).unwrap(), empty.state);
}

#[test]
fn removing_the_colony_removes_its_crons_and_generators() {
    let mut w = World::new();
    add_cron(&mut w, cron("c", 5));
    w.ok(EXEC_A, Op::AddGenerator { generator: Box::new(generator(3, 5)) });
    w.ok(SERVER, Op::RemoveColony { colonyname: COLONY.into() });
    assert!(w.state.due_crons(at(1000)).is_empty());
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(restored, w.state);
    assert_eq!(State::default().due_generators(at(0)), vec![]);
}
