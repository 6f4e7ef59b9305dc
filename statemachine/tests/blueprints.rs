//! Blueprints in the state machine: definitions, generations and history, status,
//! reconciliation processes (on change, on request, periodic), bad input and removal.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition, BlueprintHandler, MAX_BLUEPRINT_HISTORY};
use colonies_statemachine::json::Json;
use colonies_statemachine::model::ProcessState;
use colonies_statemachine::{Op, Reply, State};
use fixture::*;
use serde_json::{Value, json};

fn definition(name: &str, kind: &str, interval: i64) -> BlueprintDefinition {
    let mut d: BlueprintDefinition = serde_json::from_value(json!({
        "kind": "BlueprintDefinition",
        "metadata": {"name": name, "colonyname": COLONY},
        "spec": {
            "group": "compute.colonies.io", "version": "v1",
            "names": {"kind": kind, "listKind": format!("{kind}List"), "singular": "x", "plural": "xs"},
            "scope": "Namespaced",
            "schema": {"type": "object", "required": ["image"], "properties": {"image": {"type": "string"}, "replicas": {"type": "integer"}}},
            "handler": {"executorType": "reconciler", "functionName": "reconcile", "reconcileInterval": interval}
        }
    }))
    .unwrap();
    d.blueprintdefinitionid = format!("def-{name}");
    d
}

fn blueprint(name: &str, spec: Value) -> Blueprint {
    let mut b: Blueprint = serde_json::from_value(
        json!({"kind": "Deployment", "metadata": {"name": name, "colonyname": COLONY}, "spec": spec}),
    )
    .unwrap();
    b.blueprintid = format!("bp-{name}");
    b
}

/// A world with the `Deployment` kind defined by the colony owner.
fn world(interval: i64) -> World {
    let mut w = World::new();
    w.add_executor(&pid(900), "rec", "reconciler");
    w.ok(
        COLONY_OWNER,
        Op::AddBlueprintDefinition { definition: Box::new(definition("deployments", "Deployment", interval)) },
    );
    w
}

fn add(w: &mut World, caller: &str, b: Blueprint, n: u64) -> Blueprint {
    let op = Op::AddBlueprint { blueprint: Box::new(b), historyid: format!("h{n}"), processid: pid(100 + n) };
    let Reply::Blueprint(added) = w.ok(caller, op) else { panic!() };
    *added
}

fn update(w: &mut World, b: Blueprint, force: bool, n: u64) -> Blueprint {
    let op = Op::UpdateBlueprint {
        blueprint: Box::new(b),
        forcegeneration: force,
        historyid: format!("h{n}"),
        processid: pid(100 + n),
    };
    let Reply::Blueprint(updated) = w.ok(EXEC_A, op) else { panic!() };
    *updated
}

fn waiting(w: &World) -> Vec<(String, Value)> {
    let query = colonies_statemachine::queries::ProcessQuery {
        colonyname: COLONY.into(),
        count: 100,
        state: ProcessState::Waiting.code(),
        executortype: String::new(),
        label: String::new(),
        initiator: String::new(),
    };
    w.state
        .get_processes(EXEC_A, &query)
        .unwrap()
        .into_iter()
        .map(|p| (p.spec.funcname.clone(), serde_json::to_value(&p.spec.kwargs).unwrap()))
        .collect()
}

#[test]
fn a_new_blueprint_is_generation_one_with_history_and_a_reconcile_process() {
    let mut w = world(0);
    let added = add(&mut w, EXEC_A, blueprint("web", json!({"image": "nginx", "replicas": 2})), 1);
    assert_eq!(added.metadata.generation, 1);
    assert_eq!(added.metadata.created_at, at(0));
    assert_eq!(added.metadata.last_reconciliation_process, pid(101));
    let process = w.process(&pid(101));
    assert_eq!(process.spec.conditions.executortype, "reconciler");
    assert_eq!(process.spec.funcname, "reconcile");
    assert_eq!(
        serde_json::to_value(&process.spec.kwargs).unwrap(),
        json!({"kind": "Deployment", "blueprintName": "web"})
    );
    assert_eq!((process.initiatorid.as_str(), process.initiatorname.as_str()), (EXEC_A, "a"));
    assert_eq!(process.spec.maxexectime, -1, "a reconciler may take its time");

    let got = w.state.get_blueprint(EXEC_B, COLONY, "web").unwrap();
    assert_eq!(got, added);
    let history = w.state.get_blueprint_history(EXEC_B, "bp-web", 0).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].changetype.as_str(), history[0].generation, history[0].changedby.as_str()),
        ("create", 1, EXEC_A)
    );
    let wire = serde_json::to_value(&got).unwrap();
    assert_eq!(wire["metadata"]["lastReconciliationProcess"], json!(pid(101)));
    assert!(wire.get("status").is_none() && wire.get("handler").is_none(), "empty keys are left out: {wire}");
}

#[test]
fn a_new_spec_is_a_new_generation_and_the_same_spec_is_not() {
    let mut w = world(0);
    let added = add(&mut w, EXEC_A, blueprint("web", json!({"image": "nginx"})), 1);
    let same = update(&mut w, added.clone(), false, 2);
    assert_eq!(same.metadata.generation, 1);
    assert!(w.state.get_process(EXEC_A, &pid(102)).is_err(), "no reconciliation without a change");

    let mut changed = added.clone();
    changed.spec = Json(json!({"image": "nginx", "replicas": 3}));
    changed.blueprintid = "ignored".into();
    let updated = update(&mut w, changed, false, 3);
    assert_eq!((updated.metadata.generation, updated.blueprintid.as_str()), (2, "bp-web"));
    assert_eq!(updated.metadata.created_at, added.metadata.created_at);
    assert_eq!(updated.metadata.last_reconciliation_process, pid(103));

    let forced = update(&mut w, updated.clone(), true, 4);
    assert_eq!(forced.metadata.generation, 3);
    let history = w.state.get_blueprint_history(EXEC_A, "bp-web", 0).unwrap();
    let generations: Vec<(i64, &str)> = history.iter().map(|h| (h.generation, h.changetype.as_str())).collect();
    assert_eq!(generations, vec![(3, "update"), (2, "update"), (1, "create")], "newest first");
    assert_eq!(w.state.get_blueprint_history(EXEC_A, "bp-web", 1).unwrap().len(), 1);
}

#[test]
fn history_keeps_only_the_latest_entries() {
    let mut w = world(0);
    let mut b = add(&mut w, EXEC_A, blueprint("web", json!({"image": "v0"})), 1);
    for n in 1..=MAX_BLUEPRINT_HISTORY as u64 + 5 {
        b.spec = Json(json!({"image": format!("v{n}")}));
        b = update(&mut w, b, false, 1 + n);
    }
    let history = w.state.get_blueprint_history(EXEC_A, "bp-web", 0).unwrap();
    assert_eq!(history.len(), MAX_BLUEPRINT_HISTORY);
    assert_eq!(history[0].generation, b.metadata.generation);
}

#[test]
fn status_is_set_by_members_and_kept_by_updates_without_one() {
    let mut w = world(0);
    let added = add(&mut w, EXEC_A, blueprint("web", json!({"image": "nginx"})), 1);
    let status = Json(json!({"ready": 2}));
    let op = |status: Json| Op::UpdateBlueprintStatus { colonyname: COLONY.into(), name: "web".into(), status };
    w.ok(EXEC_B, op(status.clone()));
    assert_eq!(w.state.get_blueprint(EXEC_A, COLONY, "web").unwrap().status, status);
    let e = w.refused(COLONY_OWNER, op(status.clone()));
    assert_eq!(e.status, 403, "status is for members (reconcilers) only");
    let e = w.refused(EXEC_B, op(Json(json!([1]))));
    assert_eq!(e.status, 400);
    let e = w.refused(EXEC_B, Op::UpdateBlueprintStatus { colonyname: COLONY.into(), name: "nope".into(), status });
    assert_eq!((e.status, e.message.as_str()), (404, "Blueprint not found"));

    let mut changed = added;
    changed.spec = Json(json!({"image": "httpd"}));
    assert_eq!(update(&mut w, changed, false, 2).status, Json(json!({"ready": 2})));
}

#[test]
fn reconcile_submits_a_process_for_the_handler_and_force_moves_the_generation() {
    let mut w = world(0);
    let mut b = blueprint("web", json!({"image": "nginx"}));
    b.handler = Some(BlueprintHandler { executor_type: "edge-reconciler".into() });
    b.metadata.locationname = "lab".into();
    add(&mut w, EXEC_A, b, 1);
    let op = |force: bool, n: u64| Op::ReconcileBlueprint {
        colonyname: COLONY.into(),
        name: "web".into(),
        force,
        processid: pid(n),
    };
    let Reply::Process(p) = w.ok(EXEC_B, op(true, 200)) else { panic!() };
    assert_eq!(p.spec.conditions.executortype, "edge-reconciler", "the blueprint's handler wins");
    assert_eq!(p.spec.conditions.locationname, "lab");
    assert_eq!(
        serde_json::to_value(&p.spec.kwargs).unwrap(),
        json!({"kind": "Deployment", "blueprintName": "web", "force": true})
    );
    let got = w.state.get_blueprint(EXEC_A, COLONY, "web").unwrap();
    assert_eq!((got.metadata.generation, got.metadata.last_reconciliation_process), (2, pid(200)));
    let e = w.refused(COLONY_OWNER, op(false, 201));
    assert_eq!(e.status, 403, "reconciling is for members");
    let e = w.refused(
        EXEC_A,
        Op::ReconcileBlueprint { colonyname: COLONY.into(), name: "x".into(), force: false, processid: pid(202) },
    );
    assert_eq!(e.status, 404);
}

#[test]
fn the_leader_reconciles_a_kind_periodically_once_per_tick() {
    let mut w = world(30);
    assert!(w.state.due_reconciles(at(29)).is_empty());
    let due = w.state.due_reconciles(at(30));
    assert_eq!(due.len(), 1);
    let run = |tick, n: u64| Op::RunReconcile {
        colonyname: COLONY.into(),
        name: "deployments".into(),
        tick,
        processid: pid(n),
    };
    w.clock = 30;
    w.ok("", run(due[0].tick, 300));
    assert!(waiting(&w).is_empty(), "no blueprints, nothing to reconcile");
    assert_eq!(w.refused("", run(at(30), 301)).status, 409, "a late duplicate of a done tick");
    assert_eq!(w.refused(EXEC_A, run(at(60), 302)).status, 403, "only the leader");

    add(&mut w, EXEC_A, blueprint("web", json!({"image": "nginx"})), 1);
    let mut other = blueprint("db", json!({"image": "pg"}));
    other.metadata.locationname = "lab".into();
    add(&mut w, EXEC_A, other, 2);
    w.clock = 60;
    assert_eq!(w.refused("", run(at(61), 303)).status, 409, "not the next run");
    w.ok("", run(at(60), 304));
    let periodic: Vec<_> = waiting(&w).into_iter().filter(|(_, k)| k.get("blueprintName").is_none()).collect();
    assert_eq!(periodic.len(), 2, "one per location: {periodic:?}");
    assert!(periodic.iter().all(|(f, k)| f == "reconcile" && *k == json!({"kind": "Deployment"})));

    // The previous run's processes still wait: the next tick submits no others.
    w.clock = 90;
    w.ok("", run(at(90), 305));
    assert_eq!(waiting(&w).len(), 4, "two per blueprint, none more");
    assert_eq!(w.state.due_reconciles(at(119)).len(), 0);
    assert_eq!(w.state.due_reconciles(at(120)).len(), 1);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut w = world(0);
    let add_op = |b: Blueprint| Op::AddBlueprint { blueprint: Box::new(b), historyid: "h".into(), processid: pid(50) };
    let e = w.refused(EXEC_A, add_op(blueprint("web", json!({"replicas": 2}))));
    assert_eq!((e.status, e.message.as_str()), (400, "blueprint validation failed: required field 'image' is missing"));
    let e = w.refused(EXEC_A, add_op(blueprint("web", json!({"image": 5}))));
    assert_eq!(e.message, "blueprint validation failed: field 'image' must be a string");
    let e = w.refused(EXEC_A, add_op(blueprint("web", json!("text"))));
    assert_eq!(e.status, 400);
    let mut unknown = blueprint("web", json!({"image": "x"}));
    unknown.kind = "Unknown".into();
    let e = w.refused(EXEC_A, add_op(unknown));
    assert_eq!(e.message, "BlueprintDefinition for kind 'Unknown' not found in namespace 'dev'");
    let mut nameless = blueprint("", json!({"image": "x"}));
    nameless.blueprintid = "bp-x".into();
    assert_eq!(w.refused(EXEC_A, add_op(nameless)).status, 400);
    let e = w.refused(STRANGER, add_op(blueprint("web", json!({"image": "x"}))));
    assert_eq!(e.status, 403);

    add(&mut w, COLONY_OWNER, blueprint("web", json!({"image": "x"})), 1);
    let mut again = blueprint("web", json!({"image": "x"}));
    again.blueprintid = "bp-other".into();
    assert_eq!(w.refused(EXEC_A, add_op(again)).status, 409);
    let mut missing = blueprint("nope", json!({"image": "x"}));
    missing.blueprintid = "bp-nope".into();
    let op = Op::UpdateBlueprint {
        blueprint: Box::new(missing),
        forcegeneration: false,
        historyid: "h".into(),
        processid: pid(51),
    };
    assert_eq!(w.refused(EXEC_A, op).status, 404);

    let add_def = |d: BlueprintDefinition| Op::AddBlueprintDefinition { definition: Box::new(d) };
    let e = w.refused(EXEC_A, add_def(definition("other", "Other", 0)));
    assert_eq!(e.status, 403, "definitions are the colony owner's");
    let mut same_name = definition("deployments", "Other", 0);
    same_name.blueprintdefinitionid = "def-same-name".into();
    assert_eq!(w.refused(COLONY_OWNER, add_def(same_name)).status, 409);
    let mut same_id = definition("other", "Other", 0);
    same_id.blueprintdefinitionid = "def-deployments".into();
    assert_eq!(w.refused(COLONY_OWNER, add_def(same_id)).status, 400);
    assert_eq!(w.refused(COLONY_OWNER, add_def(definition("again", "Deployment", 0))).status, 409);
    assert_eq!(w.refused(COLONY_OWNER, add_def(definition("neg", "Neg", -1))).status, 400);
    let mut kindless = definition("kindless", "", 0);
    kindless.blueprintdefinitionid = "def-k".into();
    assert_eq!(w.refused(COLONY_OWNER, add_def(kindless)).status, 400);
}

#[test]
fn removal_cleans_up_and_a_used_definition_stays() {
    let mut w = world(0);
    add(&mut w, EXEC_A, blueprint("web", json!({"image": "x"})), 1);
    let remove_def = || Op::RemoveBlueprintDefinition { colonyname: COLONY.into(), name: "deployments".into() };
    let e = w.refused(COLONY_OWNER, remove_def());
    assert_eq!(
        (e.status, e.message.as_str()),
        (409, "cannot remove BlueprintDefinition 'deployments': 1 blueprint(s) of kind 'Deployment' still exist")
    );

    w.ok(EXEC_B, Op::RemoveBlueprint { colonyname: COLONY.into(), name: "web".into(), processid: pid(60) });
    let cleanup = w.process(&pid(60));
    assert_eq!(
        (cleanup.spec.funcname.as_str(), cleanup.spec.conditions.executortype.as_str()),
        ("cleanup", "reconciler")
    );
    assert_eq!(serde_json::to_value(&cleanup.spec.kwargs).unwrap(), json!({"blueprintName": "web"}));
    assert_eq!(w.state.get_blueprint(EXEC_A, COLONY, "web").unwrap_err().status, 404);
    assert_eq!(w.state.get_blueprint_history(EXEC_A, "bp-web", 0).unwrap_err().status, 404);
    assert_eq!(
        w.refused(EXEC_A, Op::RemoveBlueprint { colonyname: COLONY.into(), name: "web".into(), processid: pid(61) })
            .status,
        404
    );

    w.ok(COLONY_OWNER, remove_def());
    assert!(w.state.get_blueprint_definitions(EXEC_A, COLONY).unwrap().is_empty());
    assert_eq!(w.refused(COLONY_OWNER, remove_def()).status, 404);
}

#[test]
fn a_removed_colony_takes_its_blueprints_and_snapshots_carry_them() {
    let mut w = world(10);
    add(&mut w, EXEC_A, blueprint("web", json!({"image": "x"})), 1);
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(
        restored.get_blueprint(EXEC_A, COLONY, "web").unwrap(),
        w.state.get_blueprint(EXEC_A, COLONY, "web").unwrap()
    );
    assert_eq!(restored.digest(), w.state.digest());
    assert_eq!(restored.due_reconciles(at(10)).len(), 1);

    w.recreate_colony();
    assert!(w.state.get_blueprint_definitions(COLONY_OWNER, COLONY).unwrap().is_empty());
    assert!(w.state.get_blueprints(COLONY_OWNER, COLONY, "", "").unwrap().is_empty());
    assert!(w.state.due_reconciles(at(100)).is_empty());
}

#[test]
fn lists_filter_by_kind_and_location_and_reads_need_membership_or_ownership() {
    let mut w = world(0);
    w.ok(COLONY_OWNER, Op::AddBlueprintDefinition { definition: Box::new(definition("caches", "Cache", 0)) });
    add(&mut w, EXEC_A, blueprint("web", json!({"image": "x"})), 1);
    let mut lab = blueprint("lab-web", json!({"image": "x"}));
    lab.metadata.locationname = "lab".into();
    add(&mut w, EXEC_A, lab, 2);
    let mut cache = blueprint("redis", json!({"image": "redis"}));
    cache.kind = "Cache".into();
    add(&mut w, EXEC_A, cache, 3);
    let names = |list: Vec<Blueprint>| list.into_iter().map(|b| b.metadata.name).collect::<Vec<_>>();
    assert_eq!(names(w.state.get_blueprints(EXEC_A, COLONY, "", "").unwrap()), ["lab-web", "redis", "web"]);
    assert_eq!(names(w.state.get_blueprints(EXEC_A, COLONY, "Deployment", "").unwrap()), ["lab-web", "web"]);
    assert_eq!(names(w.state.get_blueprints(COLONY_OWNER, COLONY, "Deployment", "lab").unwrap()), ["lab-web"]);
    assert_eq!(w.state.get_blueprint_definitions(EXEC_A, COLONY).unwrap().len(), 2);
    assert_eq!(w.state.get_blueprint_definition(EXEC_A, COLONY, "nope").unwrap_err().status, 404);
    assert_eq!(w.state.get_blueprints(STRANGER, COLONY, "", "").unwrap_err().status, 403);
    assert_eq!(w.state.get_blueprint_history(STRANGER, "bp-web", 0).unwrap_err().status, 403);
    assert_eq!(w.state.get_blueprint_definition(STRANGER, COLONY, "caches").unwrap_err().status, 403);
}
