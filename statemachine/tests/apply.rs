#[allow(dead_code)]
mod fixture;

use colonies_statemachine::json::Json;
use colonies_statemachine::model::{Attribute, AttributeType, Colony, Executor, Function, ProcessState, User};
use colonies_statemachine::queries::{LogQuery, ProcessQuery};
use colonies_statemachine::{Event, Op, Reply, State, Time};
use fixture::*;
use serde_json::json;

fn list(w: &World, state: ProcessState) -> Vec<String> {
    let query = ProcessQuery { colonyname: COLONY.into(), count: 100, state: state.code(), ..Default::default() };
    w.state.get_processes(EXEC_A, &query).unwrap().into_iter().map(|p| p.processid).collect()
}

#[test]
fn a_process_goes_from_submit_to_success_with_output_attributes_and_logs() {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.args = vec![Json(json!("hello")), Json(json!(42))];
    spec.env.insert("E1".into(), "v1".into());
    spec.priority = 5;
    let submitted = w.submit(spec);
    assert_eq!(submitted.state, ProcessState::Waiting);
    assert_eq!(submitted.initiatorid, EXEC_A);
    assert_eq!(submitted.initiatorname, "a");
    assert_eq!(submitted.prioritytime, 5 * -86_400 * SECOND + T0);
    // ENV attribute id = SHA3(processid + key + "3") (§2.5).
    assert_eq!(submitted.attributes.len(), 1);
    assert_eq!(submitted.attributes[0].attributetype, AttributeType::Env);

    w.clock = 2;
    let running = w.assign(EXEC_B).unwrap();
    assert_eq!(running.processid, submitted.processid);
    assert_eq!((running.state, running.isassigned), (ProcessState::Running, true));
    assert_eq!(running.assignedexecutorid, EXEC_B);
    assert_eq!(running.starttime, at(2));
    assert!(running.attributes.iter().all(|a| a.state == ProcessState::Running));

    let id = submitted.processid.clone();
    w.ok(EXEC_B, Op::SetOutput { processid: id.clone(), out: vec![Json(json!("partial"))] });
    let attribute = Attribute {
        targetid: id.clone(),
        targetcolonyname: COLONY.into(),
        attributetype: AttributeType::Out,
        key: "out1".into(),
        value: "hello".into(),
        ..Attribute::default()
    };
    let Reply::Attribute(stored) = w.ok(EXEC_B, Op::AddAttribute { attribute }) else { panic!() };
    assert_eq!(w.state.get_attribute(EXEC_A, &stored.attributeid).unwrap().value, "hello");
    w.ok(EXEC_B, Op::AddLog { processid: id.clone(), message: "line 1\n".into() });

    w.clock = 5;
    w.ok(EXEC_B, Op::CloseSuccessful { processid: id.clone(), out: vec![] });
    let done = w.process(&id);
    assert_eq!(done.state, ProcessState::Success);
    assert_eq!(done.out, vec![Json(json!("partial"))], "an empty close keeps the output set before");
    assert_eq!(done.endtime, at(5));
    assert!(done.isassigned, "isassigned stays true after success (§12.13)");
    assert!(done.attributes.iter().all(|a| a.state == ProcessState::Success));
    assert_eq!(list(&w, ProcessState::Success), vec![id.clone()]);

    let logs = w.state.get_logs(EXEC_A, &LogQuery { processid: id.clone(), count: 10, ..Default::default() }).unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!((logs[0].executorname.as_str(), logs[0].message.as_str()), ("b", "line 1\n"));
    assert_eq!(logs[0].timestamp, T0 + 2 * SECOND);
}

#[test]
fn attribute_ids_follow_the_reference_derivation() {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.env.insert("E1".into(), "v1".into());
    let processid = "7994bf93c2d1fca11ea530d68090c67d0ddd6e57fa507899f6e1e7662a45d3d6".to_string();
    let Reply::Process(p) = w.ok(EXEC_A, Op::Submit { spec: spec.into(), processid: processid.clone() }) else {
        panic!()
    };
    assert_eq!(p.attributes[0].attributeid, "3deb19bd6cda1835cba4e0b908652e621cc4765e210a3b080cfca44f28f41339");
    w.assign(EXEC_A).unwrap();
    let attribute = Attribute {
        targetid: processid.clone(),
        attributetype: AttributeType::Out,
        key: "out1".into(),
        ..Attribute::default()
    };
    let Reply::Attribute(a) = w.ok(EXEC_A, Op::AddAttribute { attribute: attribute.clone() }) else { panic!() };
    assert_eq!(a.attributeid, "a0a6f7fdb7780266a38a8f8dfe77e54cc3b2331cdfb32137fcccd0f4d16dbf15");
    assert_eq!(w.refused(EXEC_A, Op::AddAttribute { attribute }).status, 400, "same key and type twice");
}

#[test]
fn assignment_order_is_priority_then_submission_time() {
    // TV-9.1: p0a, p0b, p10, pn submitted in that order come out p10, p0a, p0b, pn.
    let mut w = World::new();
    let mut ids = Vec::new();
    for priority in [0, 0, 10, -5] {
        let mut spec = World::spec("cli");
        spec.priority = priority;
        w.clock += 1;
        ids.push(w.submit(spec).processid);
    }
    assert_eq!(list(&w, ProcessState::Waiting), vec![ids[2].clone(), ids[0].clone(), ids[1].clone(), ids[3].clone()]);
    let order: Vec<String> = (0..4).map(|_| w.assign(EXEC_A).unwrap().processid).collect();
    assert_eq!(order, vec![ids[2].clone(), ids[0].clone(), ids[1].clone(), ids[3].clone()]);
    assert_eq!(w.assign(EXEC_A).unwrap_err().message, "No process available for assignment");
}

#[test]
fn conditions_select_the_executor() {
    let mut w = World::new();
    w.add_executor(STRANGER, "gpu-box", "gpu");
    let mut for_b = World::spec("cli");
    for_b.conditions.executornames = Some(vec!["b".into()]);
    let for_b = w.submit(for_b).processid;
    let mut big = World::spec("cli");
    big.conditions.cpu = "4000m".into();
    big.conditions.mem = "8Gi".into();
    let big = w.submit(big).processid;
    let mut located = World::spec("cli");
    located.conditions.locationname = "lab".into();
    w.submit(located);
    let gpu = w.submit(World::spec("gpu")).processid;

    let small_offer =
        Op::Assign { colonyname: COLONY.into(), availablecpu: "1000m".into(), availablemem: "1Gi".into() };
    assert_eq!(w.refused(EXEC_A, small_offer).status, 404, "a may not take b's, big needs more, nobody is in the lab");
    assert_eq!(w.assign(EXEC_A).unwrap().processid, big, "with no limits a takes the big one");
    assert_eq!(w.assign(EXEC_B).unwrap().processid, for_b);
    assert_eq!(w.assign(STRANGER).unwrap().processid, gpu, "the type must match");
    assert_eq!(
        w.assign(EXEC_B).unwrap_err().status,
        404,
        "a process with a location never goes to an executor without one"
    );
    let mut star = World::spec("cli");
    star.conditions.executornames = Some(vec!["*".into()]);
    let star = w.submit(star);
    assert_eq!(star.spec.conditions.executornames, Some(vec![]), "[\"*\"] is stored as []");
    assert_eq!(w.assign(EXEC_A).unwrap().processid, star.processid);
}

#[test]
fn a_spec_for_an_executortype_nobody_serves_is_accepted_and_waits() {
    let mut w = World::new();
    let p = w.submit(World::spec("quantum"));
    assert_eq!(p.state, ProcessState::Waiting);
    assert_eq!(w.assign(EXEC_A).unwrap_err().status, 404);
    assert_eq!(list(&w, ProcessState::Waiting), vec![p.processid]);
}

#[test]
fn submit_validates_priority_resources_and_membership() {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.priority = 50_001;
    let e = w.refused(EXEC_A, Op::Submit { spec: spec.into(), processid: pid(900) });
    assert_eq!(e.status, 400);
    assert_eq!(e.message, "Failed to submit function spec, priority outside range [-50000, 50000]");

    let mut spec = World::spec("cli");
    spec.conditions.mem = "1024".into();
    assert_eq!(w.refused(EXEC_A, Op::Submit { spec: spec.into(), processid: pid(901) }).status, 400);

    let e = w.refused(STRANGER, Op::Submit { spec: World::spec("cli").into(), processid: pid(902) });
    assert_eq!((e.status, e.message.as_str()), (403, "Access denied, not a member of Colony with name <dev>"));

    let mut spec = World::spec("cli");
    spec.conditions.colonyname = "nowhere".into();
    let e = w.refused(EXEC_A, Op::Submit { spec: spec.into(), processid: pid(903) });
    assert_eq!((e.status, e.message.as_str()), (403, "Colony with name <nowhere> does not exists"));

    // Owners are not members (§12.7).
    assert_eq!(
        w.refused(COLONY_OWNER, Op::Submit { spec: World::spec("cli").into(), processid: pid(904) }).status,
        403
    );
    assert_eq!(w.refused(SERVER, Op::Submit { spec: World::spec("cli").into(), processid: pid(905) }).status, 403);
}

#[test]
fn resources_are_stored_normalised() {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.conditions.cpu = "2".into();
    spec.conditions.mem = "1Gi".into();
    let p = w.submit(spec);
    assert_eq!((p.spec.conditions.cpu.as_str(), p.spec.conditions.mem.as_str()), ("0m", "1024Mi"));
    assert_eq!(p.spec.conditions.storage, "0Mi");
}

#[test]
fn only_the_assigned_executor_may_close_fail_or_write() {
    let mut w = World::new();
    let id = w.submit(World::spec("cli")).processid;
    let e = w.refused(EXEC_A, Op::CloseSuccessful { processid: id.clone(), out: vec![] });
    assert_eq!((e.status, e.message.as_str()), (403, "Failed to close process as successful, process is not assigned"));
    w.assign(EXEC_A).unwrap();
    for op in [
        Op::CloseSuccessful { processid: id.clone(), out: vec![] },
        Op::CloseFailed { processid: id.clone(), errors: vec![] },
        Op::SetOutput { processid: id.clone(), out: vec![Json(json!(1))] },
        Op::AddLog { processid: id.clone(), message: "x".into() },
    ] {
        assert_eq!(w.refused(EXEC_B, op).status, 403);
    }
    let e = w.refused(STRANGER, Op::CloseSuccessful { processid: id.clone(), out: vec![] });
    assert_eq!(e.status, 403);
    let e = w.refused(EXEC_A, Op::CloseSuccessful { processid: pid(12345), out: vec![] });
    assert_eq!((e.status, e.message.as_str()), (500, "Failed to close process as successful, process is nil"));
}

#[test]
fn a_late_close_from_a_requeued_attempt_cannot_overwrite_the_new_one() {
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.maxexectime = 2;
    spec.maxretries = 3;
    let id = w.submit(spec).processid;
    w.assign(EXEC_A).unwrap();
    w.tick(3);
    let requeued = w.process(&id);
    assert_eq!((requeued.state, requeued.retries), (ProcessState::Waiting, 1));
    assert_eq!(requeued.assignedexecutorid, "");
    // The old executor wakes up and reports while nobody holds the process...
    assert_eq!(w.refused(EXEC_A, Op::CloseSuccessful { processid: id.clone(), out: vec![] }).status, 403);
    // ... and again after b took the new attempt.
    w.assign(EXEC_B).unwrap();
    assert_eq!(w.refused(EXEC_A, Op::CloseFailed { processid: id.clone(), errors: vec!["late".into()] }).status, 403);
    assert_eq!(w.refused(EXEC_A, Op::SetOutput { processid: id.clone(), out: vec![Json(json!("stale"))] }).status, 403);
    w.ok(EXEC_B, Op::CloseSuccessful { processid: id.clone(), out: vec![Json(json!("fresh"))] });
    assert_eq!(w.process(&id).out, vec![Json(json!("fresh"))]);
}

#[test]
fn exec_timeouts_requeue_until_maxretries_then_fail() {
    // TV-9.2: maxexectime 3, maxretries 1 runs twice, then fails.
    let mut w = World::new();
    let mut spec = World::spec("cli");
    spec.maxexectime = 3;
    spec.maxretries = 1;
    spec.maxwaittime = 100;
    let id = w.submit(spec).processid;
    w.clock = 1;
    let first = w.assign(EXEC_A).unwrap();
    assert_eq!(first.execdeadline, at(4));
    assert_eq!(w.state.next_deadline(), Some(at(4)));
    w.tick(4);
    assert_eq!(w.process(&id).state, ProcessState::Running, "not past the deadline yet");
    w.tick(5);
    let p = w.process(&id);
    assert_eq!((p.state, p.retries, p.isassigned), (ProcessState::Waiting, 1, false));
    assert_eq!(p.endtime, at(5));
    assert_eq!(p.waitdeadline, at(105), "the wait deadline restarts on re-queue");
    assert_eq!(p.prioritytime, first.prioritytime, "the queue position is kept");
    w.clock = 6;
    w.assign(EXEC_B).unwrap();
    w.tick(10);
    let p = w.process(&id);
    assert_eq!(p.state, ProcessState::Failed);
    assert_eq!(p.errors, vec!["Maximum execution time limit exceeded".to_string()]);
    assert_eq!(w.state.next_deadline(), None);
}

#[test]
fn maxretries_minus_one_requeues_forever_and_maxexectime_zero_expires_at_once() {
    let mut w = World::new();
    let mut forever = World::spec("cli");
    forever.maxexectime = 1;
    forever.maxretries = -1;
    let forever = w.submit(forever).processid;
    for round in 0..5 {
        w.clock = round * 10;
        w.assign(EXEC_A).unwrap();
        w.tick(round * 10 + 2);
    }
    assert_eq!((w.process(&forever).state, w.process(&forever).retries), (ProcessState::Waiting, 5));

    let mut raw = World::spec("cli");
    raw.maxexectime = 0;
    raw.maxretries = 0;
    raw.priority = 10;
    let raw = w.submit(raw).processid;
    w.assign(EXEC_A).unwrap();
    w.tick(w.clock + 1);
    assert_eq!(w.process(&raw).state, ProcessState::Failed, "§5.4: a raw 0/0 spec fails right after assignment");
}

#[test]
fn wait_timeouts_fail_processes_nobody_takes() {
    let mut w = World::new();
    let mut spec = World::spec("nobody");
    spec.maxwaittime = 2;
    let id = w.submit(spec).processid;
    let mut unlimited = World::spec("nobody");
    unlimited.maxwaittime = 0;
    let unlimited = w.submit(unlimited).processid;
    w.tick(2);
    assert_eq!(w.process(&id).state, ProcessState::Waiting);
    w.tick(3);
    let p = w.process(&id);
    assert_eq!(p.state, ProcessState::Failed);
    assert_eq!(p.errors, vec!["Maximum waiting time limit exceeded".to_string()]);
    assert_eq!(w.process(&unlimited).state, ProcessState::Waiting, "maxwaittime 0 means no limit");
}

#[test]
fn timers_cover_every_process_not_the_first_thousand() {
    let mut w = World::new();
    let mut ids = Vec::new();
    for _ in 0..1500 {
        let mut spec = World::spec("nobody");
        spec.maxwaittime = 1;
        ids.push(w.submit(spec).processid);
    }
    w.tick(5);
    assert!(ids.iter().all(|id| w.process(id).state == ProcessState::Failed));
}

#[test]
fn the_clock_never_goes_backwards() {
    let mut w = World::new();
    let id = w.submit(World::spec("cli")).processid;
    w.clock = 10;
    w.assign(EXEC_A).unwrap();
    w.clock = 3; // a new leader whose clock is behind
    w.ok(EXEC_A, Op::CloseSuccessful { processid: id.clone(), out: vec![] });
    let p = w.process(&id);
    assert!(p.endtime >= p.starttime);
    assert_eq!(w.state.clock(), at(10));
}

#[test]
fn close_rules_follow_the_process_state() {
    let mut w = World::new();
    let id = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseSuccessful { processid: id.clone(), out: vec![Json(json!("r"))] });
    w.clock = 4;
    w.ok(EXEC_A, Op::CloseSuccessful { processid: id.clone(), out: vec![] });
    assert_eq!(w.process(&id).endtime, at(4), "closing a SUCCESS process again is allowed and updates endtime");
    let e = w.refused(EXEC_A, Op::CloseFailed { processid: id.clone(), errors: vec![] });
    assert_eq!((e.status, e.message.as_str()), (400, "Tried to set successful process as failed"));
    assert_eq!(w.refused(EXEC_A, Op::SetOutput { processid: id.clone(), out: vec![Json(json!(1))] }).status, 403);

    let id = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::CloseFailed { processid: id.clone(), errors: vec![] });
    assert_eq!(w.process(&id).errors, Vec::<String>::new(), "errors stay a list");
    let e = w.refused(EXEC_A, Op::CloseSuccessful { processid: id.clone(), out: vec![] });
    assert_eq!((e.status, e.message.as_str()), (400, "Tried to set failed process as successful"));
    let e = w.refused(EXEC_A, Op::CloseFailed { processid: id, errors: vec![] });
    assert_eq!(e.message, "Tried to set failed process as failed");
}

#[test]
fn cancel_and_remove() {
    let mut w = World::new();
    let running = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    let waiting = w.submit(World::spec("cli")).processid;
    assert_eq!(
        w.refused(EXEC_A, Op::RemoveProcess { processid: running.clone() }).message,
        "Failed to remove process, cannot remove a running process"
    );
    w.ok(EXEC_B, Op::CancelProcess { processid: running.clone() });
    let cancelled = w.process(&running);
    assert_eq!((cancelled.state, cancelled.assignedexecutorid.as_str()), (ProcessState::Cancelled, EXEC_A));
    assert_eq!(w.refused(EXEC_A, Op::CancelProcess { processid: running.clone() }).status, 400);
    let e = w.refused(EXEC_A, Op::CloseSuccessful { processid: running.clone(), out: vec![] });
    assert_eq!(e.message, "Tried to set cancelled process as successful");
    w.ok(EXEC_A, Op::RemoveProcess { processid: waiting.clone() });
    assert_eq!(w.state.get_process(EXEC_A, &waiting).unwrap_err().status, 404);
    assert_eq!(w.refused(EXEC_A, Op::RemoveProcess { processid: waiting }).status, 500);
}

#[test]
fn remove_all_processes_by_state_needs_the_colony_owner() {
    let mut w = World::new();
    for _ in 0..3 {
        w.submit(World::spec("cli"));
    }
    let running = w.assign(EXEC_A).unwrap().processid;
    let op = |state| Op::RemoveAllProcesses { colonyname: COLONY.into(), state };
    assert_eq!(w.refused(EXEC_A, op(0)).status, 403);
    assert_eq!(w.refused(COLONY_OWNER, op(1)).message, "Not possible to remove running processes");
    assert_eq!(w.refused(COLONY_OWNER, op(7)).message, "Invalid state when deleting all processes");
    w.ok(COLONY_OWNER, op(0));
    assert!(list(&w, ProcessState::Waiting).is_empty());
    assert_eq!(list(&w, ProcessState::Running), vec![running]);
    w.ok(COLONY_OWNER, op(-1));
    assert!(list(&w, ProcessState::Running).is_empty(), "-1 removes running ones too");
}

#[test]
fn colonies_need_the_server_owner_and_unique_names() {
    let mut w = World::new();
    let colony = |name: &str| Colony { colonyid: COLONY_OWNER.into(), name: name.into() };
    assert_eq!(w.refused(EXEC_A, Op::AddColony { colony: colony("x") }).message, "Access denied, not server owner");
    assert_eq!(
        w.refused(SERVER, Op::AddColony { colony: colony("dev") }).message,
        "A Colony with name <dev> already exists"
    );
    let short = Colony { colonyid: "abc".into(), name: "y".into() };
    assert_eq!(
        w.refused(SERVER, Op::AddColony { colony: short }).message,
        "Failed to add colony, invalid colony Id length"
    );
    w.ok(SERVER, Op::AddColony { colony: colony("second") });
    assert_eq!(w.state.get_colonies(SERVER).unwrap().len(), 2);
    assert_eq!(w.state.get_colonies(EXEC_A).unwrap_err().status, 403);
    assert_eq!(w.state.get_colony(EXEC_A, "dev").unwrap().colonyid, COLONY_OWNER);
    assert_eq!(w.state.get_colony(COLONY_OWNER, "dev").unwrap_err().status, 403, "owners are not members");

    w.submit(World::spec("cli"));
    w.ok(SERVER, Op::RemoveColony { colonyname: "dev".into() });
    assert_eq!(
        w.refused(SERVER, Op::RemoveColony { colonyname: "dev".into() }).message,
        "Colony with name <dev> not found"
    );
    assert_eq!(w.state.statistics(SERVER).unwrap().waitingprocesses, 0);
    assert_eq!(w.state.statistics(SERVER).unwrap().executors, 0);
}

#[test]
fn executor_lifecycle_and_membership() {
    let mut w = World::new();
    let executor = Executor {
        executorid: STRANGER.into(),
        executorname: "new".into(),
        executortype: "cli".into(),
        colonyname: COLONY.into(),
        state: colonies_statemachine::model::ExecutorState::Approved,
        ..Executor::default()
    };
    assert_eq!(
        w.refused(EXEC_A, Op::AddExecutor { executor: executor.clone().into() }).message,
        "Access denied, not colony owner"
    );
    let Reply::Executor(stored) = w.ok(COLONY_OWNER, Op::AddExecutor { executor: executor.clone().into() }) else {
        panic!()
    };
    assert_eq!(stored.state.code(), 0, "always stored PENDING");
    assert_eq!(stored.commissiontime, at(0));
    let e = w.refused(COLONY_OWNER, Op::AddExecutor { executor: executor.into() });
    assert_eq!(e.message, "Executor with name <new> in Colony <dev> already exists");

    // Pending: may list executors (M) but not submit or assign (M+), with the user error text.
    assert_eq!(w.state.get_executors(STRANGER, COLONY).unwrap().len(), 3);
    let e = w.refused(STRANGER, Op::Submit { spec: World::spec("cli").into(), processid: pid(77) });
    assert_eq!(e.message, "Access denied, not a member of Colony with name <dev>");

    let reject = Op::RejectExecutor { colonyname: COLONY.into(), executorname: "new".into() };
    w.ok(COLONY_OWNER, reject);
    let approve = |name: &str| Op::ApproveExecutor { colonyname: COLONY.into(), executorname: name.into() };
    assert_eq!(w.refused(COLONY_OWNER, approve("ghost")).message, "Failed to approve executor, executor is nil");
    w.ok(COLONY_OWNER, approve("new"));
    assert!(w.submit_spec(STRANGER, World::spec("cli")).is_ok());
    assert_eq!(w.state.get_executor_by_id(EXEC_A, STRANGER).unwrap().executorname, "new");
    assert_eq!(w.state.get_executor(EXEC_A, COLONY, "ghost").unwrap_err().status, 500);
}

#[test]
fn removing_an_executor_requeues_its_work_and_keeps_the_row() {
    let mut w = World::new();
    let id = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    let function = Function {
        functionid: pid(500),
        executorname: "a".into(),
        colonyname: COLONY.into(),
        funcname: "echo".into(),
        ..Function::default()
    };
    w.ok(EXEC_A, Op::AddFunction { function });
    w.ok(COLONY_OWNER, Op::RemoveExecutor { colonyname: COLONY.into(), executorname: "a".into() });
    let p = w.process(&id);
    assert_eq!((p.state, p.retries, p.starttime), (ProcessState::Waiting, 0, Time::ZERO));
    assert_eq!(w.state.get_executors(EXEC_B, COLONY).unwrap().len(), 2, "the row stays, UNREGISTERED");
    assert!(w.state.get_functions(EXEC_B, COLONY, "").unwrap().is_empty());
    assert_eq!(w.assign(EXEC_A).unwrap_err().status, 403, "a removed executor is no longer a member");
    assert_eq!(w.assign(EXEC_B).unwrap().processid, id);
}

#[test]
fn functions_are_registered_by_their_executor_and_count_successful_runs() {
    let mut w = World::new();
    let function = |name: &str, id: u64| Function {
        functionid: pid(id),
        executorname: name.into(),
        colonyname: COLONY.into(),
        funcname: "echo".into(),
        ..Function::default()
    };
    assert_eq!(w.refused(EXEC_A, Op::AddFunction { function: function("b", 1) }).status, 403);
    assert_eq!(w.refused(EXEC_A, Op::AddFunction { function: function("ghost", 1) }).status, 400);
    w.ok(EXEC_A, Op::AddFunction { function: function("a", 1) });
    let id = w.submit(World::spec("cli")).processid;
    w.clock = 2;
    w.assign(EXEC_A).unwrap();
    w.clock = 5;
    w.ok(EXEC_A, Op::CloseSuccessful { processid: id, out: vec![] });
    let stats = &w.state.get_functions(EXEC_B, COLONY, "a").unwrap()[0];
    assert_eq!(stats.counter, 1);
    assert_eq!((stats.minwaittime, stats.maxexectime, stats.avgexectime), (2.0, 3.0, 3.0));
    assert_eq!(w.refused(EXEC_B, Op::RemoveFunction { functionid: pid(1) }).status, 403);
    assert_eq!(w.refused(EXEC_A, Op::RemoveFunction { functionid: pid(2) }).status, 404);
    w.ok(EXEC_A, Op::RemoveFunction { functionid: pid(1) });
}

#[test]
fn users_are_members_without_approval() {
    let mut w = World::new();
    let user = User { colonyname: COLONY.into(), userid: STRANGER.into(), name: "alice".into(), ..User::default() };
    assert_eq!(w.refused(EXEC_A, Op::AddUser { user: user.clone() }).status, 403);
    w.ok(COLONY_OWNER, Op::AddUser { user: user.clone() });
    assert_eq!(w.refused(COLONY_OWNER, Op::AddUser { user }).status, 400);
    let p = w.submit_spec(STRANGER, World::spec("cli")).unwrap();
    assert_eq!(p.initiatorname, "alice");
    let by_alice =
        ProcessQuery { colonyname: COLONY.into(), count: 10, initiator: "alice".into(), ..Default::default() };
    assert_eq!(w.state.get_processes(EXEC_A, &by_alice).unwrap().len(), 1);
    let by_exec = ProcessQuery { initiator: "a".into(), ..by_alice };
    assert_eq!(w.state.get_processes(EXEC_A, &by_exec).unwrap_err().message, "User <a> does not exist");
    assert_eq!(w.assign(STRANGER).unwrap_err().message, "Failed to assign process, executor not found");
    w.ok(COLONY_OWNER, Op::RemoveUser { colonyname: COLONY.into(), name: "alice".into() });
    assert_eq!(w.refused(COLONY_OWNER, Op::RemoveUser { colonyname: COLONY.into(), name: "alice".into() }).status, 400);
}

#[test]
fn listing_limits_and_statistics() {
    let mut w = World::new();
    for i in 0..5 {
        let mut spec = World::spec("cli");
        spec.label = if i % 2 == 0 { "even".into() } else { "odd".into() };
        w.clock = i;
        w.submit(spec);
    }
    let query = |count, state| ProcessQuery { colonyname: COLONY.into(), count, state, ..Default::default() };
    assert_eq!(
        w.state.get_processes(EXEC_A, &query(101, 0)).unwrap_err().message,
        "Count is larger than MaxCount limit <100>"
    );
    assert_eq!(
        w.state.get_processes(EXEC_A, &query(10, 9)).unwrap_err().message,
        "Failed to get processes, invalid msg.State"
    );
    assert!(w.state.get_processes(EXEC_A, &query(0, 0)).unwrap().is_empty());
    assert_eq!(w.state.get_processes(EXEC_A, &query(3, 0)).unwrap().len(), 3);
    let even = ProcessQuery { label: "even".into(), ..query(10, 0) };
    assert_eq!(w.state.get_processes(EXEC_A, &even).unwrap().len(), 3);
    for second in [10, 11] {
        w.clock = second;
        let id = w.assign(EXEC_A).unwrap().processid;
        w.ok(EXEC_A, Op::CloseSuccessful { processid: id, out: vec![] });
    }
    let done = w.state.get_processes(EXEC_A, &query(10, 2)).unwrap();
    assert!(done[0].endtime > done[1].endtime, "ended processes come newest first");
    let stats = w.state.colony_statistics(EXEC_A, COLONY).unwrap();
    assert_eq!((stats.waitingprocesses, stats.successfulprocesses, stats.activeexecutors), (3, 2, 2));
    assert_eq!(w.state.colony_statistics(STRANGER, COLONY).unwrap_err().status, 403);
    assert_eq!(w.state.statistics(SERVER).unwrap().colonies, 1);
}

#[test]
fn pausing_stops_assignment_until_resumed() {
    let mut w = World::new();
    w.submit(World::spec("cli"));
    w.ok(COLONY_OWNER, Op::PauseAssignments { colonyname: COLONY.into() });
    assert!(w.state.is_paused(EXEC_A, COLONY).unwrap());
    assert_eq!(w.assign(EXEC_A).unwrap_err().status, 503);
    w.ok(COLONY_OWNER, Op::ResumeAssignments { colonyname: COLONY.into() });
    assert!(w.assign(EXEC_A).is_ok());
}

#[test]
fn logs_are_read_oldest_first_newest_or_since() {
    let mut w = World::new();
    let id = w.submit(World::spec("cli")).processid;
    w.assign(EXEC_A).unwrap();
    for second in 1..=5 {
        w.clock = second;
        w.ok(EXEC_A, Op::AddLog { processid: id.clone(), message: format!("{second}") });
    }
    let read = |count, since, latest| {
        let q = LogQuery { processid: id.clone(), count, since, latest, ..Default::default() };
        w.state.get_logs(EXEC_B, &q).unwrap().into_iter().map(|l| l.message).collect::<Vec<_>>()
    };
    assert_eq!(read(2, 0, false), ["1", "2"]);
    assert_eq!(read(2, 0, true), ["4", "5"]);
    assert_eq!(read(10, T0 + 3 * SECOND, false), ["4", "5"]);
    let too_many = LogQuery { processid: id.clone(), count: 501, ..Default::default() };
    assert_eq!(w.state.get_logs(EXEC_A, &too_many).unwrap_err().status, 403);
    let by_executor =
        LogQuery { colonyname: COLONY.into(), executorname: "a".into(), count: 100, ..Default::default() };
    assert_eq!(w.state.get_logs(EXEC_B, &by_executor).unwrap().len(), 5);
}

#[test]
fn events_tell_the_node_what_became_ready_or_changed() {
    let mut w = World::new();
    w.state.drain_events();
    let id = w.submit(World::spec("cli")).processid;
    assert_eq!(
        w.state.drain_events(),
        vec![
            Event::Ready { processid: id.clone(), colonyname: COLONY.into(), executortype: "cli".into() },
            Event::Changed { processid: id.clone(), state: ProcessState::Waiting },
        ]
    );
    w.assign(EXEC_A).unwrap();
    assert_eq!(w.state.drain_events(), vec![Event::Changed { processid: id, state: ProcessState::Running }]);
}

#[test]
fn timers_and_server_id_are_leader_only_operations() {
    let mut w = World::new();
    assert_eq!(w.refused(EXEC_A, Op::Tick).status, 403);
    assert_eq!(w.refused("", Op::SetServerId { serverid: STRANGER.into() }).status, 400, "config cannot override");
    assert_eq!(w.refused(EXEC_A, Op::SetServerId { serverid: STRANGER.into() }).status, 403);
    w.ok(SERVER, Op::SetServerId { serverid: STRANGER.into() });
    assert_eq!(w.state.server_id(), STRANGER);
}

#[test]
fn has_work_for_predicts_assign() {
    let mut w = World::new();
    assert!(!w.state.has_work_for(EXEC_A, COLONY, "", ""));
    let mut spec = World::spec("cli");
    spec.conditions.executornames = Some(vec!["b".into()]);
    w.submit(spec);
    assert!(!w.state.has_work_for(EXEC_A, COLONY, "", ""), "named for b");
    assert!(w.state.has_work_for(EXEC_B, COLONY, "", ""));
    assert!(!w.state.has_work_for(STRANGER, COLONY, "", ""), "not a member");
    w.ok(COLONY_OWNER, Op::PauseAssignments { colonyname: COLONY.into() });
    assert!(!w.state.has_work_for(EXEC_B, COLONY, "", ""));
}

#[test]
fn process_history_logs_search_and_identity_changes() {
    let mut w = World::new();
    let old = w.submit(World::spec("cli")).processid;
    w.clock = 100;
    let recent = w.submit(World::spec("cli")).processid;
    let history = w.state.process_history(EXEC_A, COLONY, "", 50, 0, at(100)).unwrap();
    assert_eq!(history.iter().map(|p| p.processid.clone()).collect::<Vec<_>>(), vec![recent.clone()]);
    assert_eq!(w.state.process_history(EXEC_A, COLONY, "", 500, 0, at(100)).unwrap()[0].processid, old);
    assert_eq!(w.state.process_history(EXEC_A, COLONY, "", 500, 7, at(100)).unwrap_err().status, 400);

    let log = |name: &str| Op::AddExecutorLog {
        colonyname: COLONY.into(),
        executorname: name.into(),
        message: "disk full".into(),
    };
    assert_eq!(w.refused(EXEC_A, log("b")).status, 403, "only for itself");
    w.ok(EXEC_A, log("a"));
    let found = w.state.search_logs(EXEC_B, COLONY, "disk", 1, 10, at(100)).unwrap();
    assert_eq!((found.len(), found[0].processid.as_str()), (1, ""));
    assert!(w.state.search_logs(EXEC_B, COLONY, "disk", 1, 10, at(3 * 86_400)).unwrap().is_empty(), "too old");
    assert_eq!(w.state.search_logs(EXEC_B, COLONY, "x", 31, 10, at(0)).unwrap_err().status, 400);
    assert_eq!(w.state.search_logs(EXEC_B, COLONY, "x", 1, 101, at(0)).unwrap_err().status, 400);

    let new_id = pid(4242);
    assert_eq!(
        w.refused(EXEC_A, Op::ChangeColonyId { colonyname: COLONY.into(), colonyid: new_id.clone() }).status,
        403
    );
    w.ok(COLONY_OWNER, Op::ChangeColonyId { colonyname: COLONY.into(), colonyid: new_id.clone() });
    assert_eq!(w.state.get_colony(EXEC_A, COLONY).unwrap().colonyid, new_id);
    assert_eq!(
        w.refused(EXEC_A, Op::ChangeExecutorId { colonyname: COLONY.into(), executorid: "short".into() }).status,
        400
    );
    w.ok(EXEC_A, Op::ChangeExecutorId { colonyname: COLONY.into(), executorid: pid(77) });
    assert_eq!(w.state.get_executor(EXEC_B, COLONY, "a").unwrap().executorid, pid(77));
    assert_eq!(w.assign(EXEC_A).unwrap_err().status, 403, "the old key is no longer a member");

    let user = User { colonyname: COLONY.into(), userid: STRANGER.into(), name: "u".into(), ..User::default() };
    w.ok(&new_id, Op::AddUser { user });
    assert_eq!(w.state.get_user_by_id(EXEC_B, COLONY, STRANGER).unwrap().name, "u");
    w.ok(STRANGER, Op::ChangeUserId { colonyname: COLONY.into(), userid: pid(88) });
    assert_eq!(w.state.get_user_by_id(EXEC_B, COLONY, STRANGER).unwrap_err().status, 404);
    assert_eq!(w.state.get_user_by_id(EXEC_B, COLONY, &pid(88)).unwrap().name, "u");
}

/// Snapshots and digests are made from a copy taken under the state lock and serialized
/// after it: the copy must keep its moment while applies go on.
#[test]
fn a_point_in_time_copy_keeps_its_moment_while_the_state_changes() {
    let mut w = World::new();
    w.submit(World::spec("cli"));
    let before = w.state.to_snapshot();
    let moment = w.state.point_in_time();
    let p = w.assign(EXEC_A).unwrap();
    w.ok(EXEC_A, Op::AddLog { processid: p.processid.clone(), message: "later\n".into() });
    w.ok(EXEC_A, Op::CloseSuccessful { processid: p.processid, out: vec![] });
    w.submit(World::spec("cli"));
    assert_eq!(moment.to_snapshot(), before, "the copy did not move");
    assert_ne!(w.state.to_snapshot(), before, "the state did");
    assert_eq!(moment.digest(), State::from_snapshot(&before).unwrap().digest());
}
