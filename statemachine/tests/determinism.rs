//! Replaying the same commands gives the same state, and a snapshot restores it exactly.

// Not every helper of the shared fixture is used by this file.
#[allow(dead_code)]
mod fixture;

use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition};
use colonies_statemachine::json::Json;
use colonies_statemachine::model::ProcessState;
use colonies_statemachine::{Command, Op, State};
use fixture::*;
use proptest::prelude::*;
use serde_json::json;

/// One client or leader action, in terms the generator can pick from.
#[derive(Clone, Debug)]
enum Action {
    Submit {
        kind: usize,
        priority: i64,
        maxexectime: i64,
        maxretries: i64,
        maxwaittime: i64,
    },
    Assign {
        executor: usize,
    },
    Close {
        executor: usize,
        nth: usize,
        ok: bool,
    },
    Tick {
        advance: i64,
    },
    Cancel {
        nth: usize,
    },
    /// The leader runs the cron for the tick `tick` seconds in (often not the due one).
    RunCron {
        tick: i64,
        draw: u64,
    },
    Pack,
    /// The leader runs the generator from argument `head`.
    Fire {
        head: u64,
    },
    /// Blueprint `bp<n>` with spec `{"image": image}`: added, or else updated.
    Blueprint {
        n: u8,
        image: u8,
        force: bool,
    },
    Reconcile {
        n: u8,
        force: bool,
    },
    RemoveBlueprint {
        n: u8,
    },
    /// The leader's periodic reconciliation for the tick `tick` seconds in.
    RunReconcile {
        tick: i64,
    },
}

const EXECUTORS: [&str; 3] = [EXEC_A, EXEC_B, STRANGER];
const KINDS: [&str; 2] = ["cli", "gpu"];

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0..2usize, -3..3i64, -1..4i64, -1..3i64, -1..6i64).prop_map(
            |(kind, priority, maxexectime, maxretries, maxwaittime)| {
                Action::Submit { kind, priority, maxexectime, maxretries, maxwaittime }
            }
        ),
        (0..3usize).prop_map(|executor| Action::Assign { executor }),
        (0..3usize, 0..20usize, any::<bool>()).prop_map(|(executor, nth, ok)| Action::Close { executor, nth, ok }),
        (0..4i64).prop_map(|advance| Action::Tick { advance }),
        (0..20usize).prop_map(|nth| Action::Cancel { nth }),
        (0..12i64, any::<u64>()).prop_map(|(tick, draw)| Action::RunCron { tick, draw }),
        Just(Action::Pack),
        (0..8u64).prop_map(|head| Action::Fire { head }),
        (0..3u8, 0..3u8, any::<bool>()).prop_map(|(n, image, force)| Action::Blueprint { n, image, force }),
        (0..3u8, any::<bool>()).prop_map(|(n, force)| Action::Reconcile { n, force }),
        (0..3u8).prop_map(|n| Action::RemoveBlueprint { n }),
        (0..12i64).prop_map(|tick| Action::RunReconcile { tick }),
    ]
}

/// Turns actions into commands, as a leader would stamp them.
fn commands(actions: &[Action]) -> Vec<Command> {
    let mut now = 0;
    let mut submitted = Vec::new();
    let mut out = Vec::new();
    let mut graphs = 0u64;
    let mut push = |caller: &str, now: i64, op: Op| out.push(Command { caller: caller.into(), now: at(now), op });
    let nth =
        |submitted: &Vec<String>, n: usize| submitted.get(n % submitted.len().max(1)).cloned().unwrap_or_default();
    // Numbers the actions, for the ids of the blueprint commands.
    let mut seq = 0u64;
    for action in actions {
        seq += 1;
        match action {
            Action::Submit { kind, priority, maxexectime, maxretries, maxwaittime } => {
                let mut spec = World::spec(KINDS[*kind]);
                spec.priority = *priority;
                spec.maxexectime = *maxexectime;
                spec.maxretries = *maxretries;
                spec.maxwaittime = *maxwaittime;
                spec.args = vec![Json(json!({"n": submitted.len(), "f": 1.5}))];
                let processid = pid(submitted.len() as u64 + 1000);
                submitted.push(processid.clone());
                push(EXEC_A, now, Op::Submit { spec: Box::new(spec), processid });
            }
            Action::Assign { executor } => push(
                EXECUTORS[*executor],
                now,
                Op::Assign { colonyname: COLONY.into(), availablecpu: String::new(), availablemem: String::new() },
            ),
            Action::Close { executor, nth: n, ok } => {
                let processid = nth(&submitted, *n);
                let op = if *ok {
                    Op::CloseSuccessful { processid, out: vec![Json(json!(n))] }
                } else {
                    Op::CloseFailed { processid, errors: vec!["boom".into()] }
                };
                push(EXECUTORS[*executor], now, op);
            }
            Action::Tick { advance } => {
                now += advance;
                push("", now, Op::Tick);
            }
            Action::Cancel { nth: n } => push(EXEC_B, now, Op::CancelProcess { processid: nth(&submitted, *n) }),
            Action::RunCron { tick, draw } => {
                graphs += 1;
                let op = Op::RunCron {
                    cronid: "cron".into(),
                    tick: Some(at(*tick)),
                    processgraphid: pid(graphs + 5000),
                    draw: *draw,
                };
                push("", now, op);
            }
            Action::Pack => push(EXEC_A, now, Op::PackGenerator { generatorid: "gen".into(), arg: format!("a{now}") }),
            Action::Fire { head } => {
                graphs += 1;
                let op =
                    Op::FireGenerator { generatorid: "gen".into(), head: *head, processgraphid: pid(graphs + 9000) };
                push("", now, op);
            }
            Action::Blueprint { n, image, force } => {
                let blueprint = serde_json::from_value::<Blueprint>(json!({
                    "kind": "Job", "metadata": {"name": format!("bp{n}"), "colonyname": COLONY}, "spec": {"image": image}
                }))
                .unwrap();
                let ids = |k: u64| (format!("h{seq}"), pid(k * 100_000 + seq));
                let (historyid, processid) = ids(7);
                let op = Op::UpdateBlueprint {
                    blueprint: Box::new(blueprint.clone()),
                    forcegeneration: *force,
                    historyid,
                    processid,
                };
                push(EXEC_A, now, op);
                let (historyid, processid) = ids(8);
                let blueprint = Blueprint { blueprintid: format!("bp{n}-{seq}"), ..blueprint };
                push(EXEC_B, now, Op::AddBlueprint { blueprint: Box::new(blueprint), historyid, processid });
            }
            Action::Reconcile { n, force } => {
                let processid = pid(9 * 100_000 + seq);
                push(
                    EXEC_B,
                    now,
                    Op::ReconcileBlueprint {
                        colonyname: COLONY.into(),
                        name: format!("bp{n}"),
                        force: *force,
                        processid,
                    },
                );
            }
            Action::RemoveBlueprint { n } => {
                let processid = pid(10 * 100_000 + seq);
                push(EXEC_A, now, Op::RemoveBlueprint { colonyname: COLONY.into(), name: format!("bp{n}"), processid });
            }
            Action::RunReconcile { tick } => {
                let processid = pid(11 * 100_000 + seq);
                let op =
                    Op::RunReconcile { colonyname: COLONY.into(), name: "jobs".into(), tick: at(*tick), processid };
                push("", now, op);
            }
        }
    }
    out
}

fn replay(start: &State, commands: &[Command]) -> (State, Vec<String>) {
    let mut state = start.clone();
    let results = commands
        .iter()
        .map(|c| match state.apply(c) {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("{} {}", e.status, e.message),
        })
        .collect();
    (state, results)
}

/// A cron every second (ticks land on whole seconds, which the actions name), a generator of two with a 3 s timeout, running `cli` work, and a blueprint kind reconciled by `cli` executors.
fn add_schedules(w: &mut World) {
    let spec = colonies_statemachine::model::FunctionSpec { nodename: "n".into(), ..World::spec("cli") };
    let workflow = serde_json::json!({"colonyname": COLONY, "functionspecs": [spec]}).to_string();
    let cron = colonies_statemachine::model::Cron {
        cronid: "cron".into(),
        colonyname: COLONY.into(),
        name: "c".into(),
        interval: 1,
        workflowspec: workflow.clone(),
        ..Default::default()
    };
    w.ok(EXEC_A, Op::AddCron { cron: Box::new(cron), draw: 7 });
    let generator = colonies_statemachine::model::Generator {
        generatorid: "gen".into(),
        colonyname: COLONY.into(),
        name: "g".into(),
        workflowspec: workflow,
        trigger: 2,
        timeout: 3,
        ..Default::default()
    };
    w.ok(EXEC_A, Op::AddGenerator { generator: Box::new(generator) });
    // Blueprints of kind Job, reconciled by `cli` executors every 2 s.
    let definition = serde_json::from_value::<BlueprintDefinition>(json!({
        "blueprintdefinitionid": "def", "metadata": {"name": "jobs", "colonyname": COLONY},
        "spec": {"names": {"kind": "Job"}, "handler": {"executorType": "cli", "reconcileInterval": 2}}
    }))
    .unwrap();
    w.ok(COLONY_OWNER, Op::AddBlueprintDefinition { definition: Box::new(definition) });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_same_commands_give_the_same_state(actions in prop::collection::vec(action(), 1..80)) {
        // STRANGER is a third executor, of type gpu, here.
        let mut w = World::new();
        w.add_executor(STRANGER, "g", "gpu");
        add_schedules(&mut w);
        let start = w.state.clone();
        let commands = commands(&actions);
        let (first, first_results) = replay(&start, &commands);
        let (second, second_results) = replay(&start, &commands);
        prop_assert_eq!(&first_results, &second_results);
        prop_assert_eq!(first.digest(), second.digest());
        prop_assert_eq!(&first, &second);

        // A snapshot at any point, then the rest of the log, ends in the same state.
        let cut = commands.len() / 2;
        let (middle, _) = replay(&start, &commands[..cut]);
        let restored = State::from_snapshot(&middle.to_snapshot()).unwrap();
        let (resumed, _) = replay(&restored, &commands[cut..]);
        prop_assert_eq!(resumed.digest(), first.digest());

        // Invariants: a RUNNING process is always held by someone; nothing WAITING is.
        for state in ProcessState::ALL {
            let query = colonies_statemachine::queries::ProcessQuery {
                colonyname: COLONY.into(), count: 100, state: state.code(), ..Default::default()
            };
            for p in first.get_processes(EXEC_A, &query).unwrap() {
                prop_assert_eq!(p.state, *state);
                match p.state {
                    ProcessState::Running => prop_assert!(!p.assignedexecutorid.is_empty()),
                    ProcessState::Waiting => prop_assert!(p.assignedexecutorid.is_empty()),
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn a_snapshot_restores_data_and_indexes() {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.maxexectime = 5;
    spec.env.insert("K".into(), "V".into());
    spec.kwargs.insert("nested".into(), Json(json!({"a": [1, null, "x"]})));
    let id = w.submit(spec).processid;
    w.submit(World::spec("cli"));
    w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::AddLog { processid: id.clone(), message: "hello".into() });
    w.state.drain_events();
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(restored, w.state, "indexes rebuilt from the data equal the ones kept up to date");
    assert_eq!(restored.next_deadline(), w.state.next_deadline());
}

#[test]
fn a_bad_snapshot_is_an_error_not_a_panic() {
    assert!(State::from_snapshot(&[]).is_err());
    assert!(State::from_snapshot(&[99, 1, 2]).is_err());
    assert!(State::from_snapshot(&[1, 1, 2, 3]).is_err());
}
