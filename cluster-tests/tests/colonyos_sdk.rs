//! ColonyOS's own Rust SDK (the `colonyos` crate, unmodified) against a three-node cluster
//! from our binary, pointed at a follower: every call it makes is redirected to the leader.
//! The SDK parses replies with `unwrap`, so a reply whose shape differs from its types fails
//! this test with a panic.

mod common;

use colonyos::core::{Attribute, Colony, Executor, Function, FunctionSpec, Log, WorkflowSpec};
use common::*;

const WAITING: i32 = 0;
const SUCCESS: i32 = 2;
const FAILED: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_colonyos_rust_sdk_works_against_a_follower() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let leader = cluster.wait_leader(STARTUP);
    let follower = &cluster.nodes[(leader + 1) % cluster.nodes.len()];
    colonyos::set_server_url(&format!("http://{}/api", follower.addr()));

    let colony_key = colonyos::crypto::gen_prvkey();
    let colony_id = colonyos::crypto::gen_id(&colony_key);
    let executor_key = colonyos::crypto::gen_prvkey();
    let executor_id = colonyos::crypto::gen_id(&executor_key);
    assert_eq!(colony_id, key(&colony_key).id(), "the SDK and we derive the same ids");

    // Colonies and executors.
    let colony = colonyos::add_colony(&Colony::new(&colony_id, "sdk"), SERVER_KEY).await.unwrap();
    assert_eq!(colony.name, "sdk");
    assert!(colonyos::get_colonies(SERVER_KEY).await.unwrap().iter().any(|c| c.name == "sdk"));
    let executor = Executor::new("sdk-worker", &executor_id, "sdk-type", "sdk");
    colonyos::add_executor(&executor, &colony_key).await.unwrap();
    colonyos::approve_executor("sdk", "sdk-worker", &colony_key).await.unwrap();
    let fetched = colonyos::get_executor("sdk", "sdk-worker", &executor_key).await.unwrap();
    assert_eq!(fetched.executorid, executor_id);
    assert_eq!(colonyos::get_executors("sdk", &executor_key).await.unwrap().len(), 1);

    // A process: submit, assign, output, attribute, log, close.
    let mut spec = FunctionSpec::new("echo", "sdk-type", "sdk");
    // This SDK types args and outputs as strings.
    spec.args = vec!["hello".into(), "42".into()];
    spec.env.insert("GREETING".into(), "hi".into());
    spec.maxexectime = 60;
    let submitted = colonyos::submit(&spec, &executor_key).await.unwrap();
    assert_eq!(submitted.state, WAITING);
    let waiting = colonyos::get_processes("sdk", 10, WAITING, &executor_key).await.unwrap();
    assert!(waiting.iter().any(|p| p.processid == submitted.processid));
    let assigned = colonyos::assign("sdk", 5, &executor_key).await.unwrap();
    assert_eq!(assigned.processid, submitted.processid);
    assert_eq!(assigned.assignedexecutorid, executor_id);
    colonyos::set_output(&assigned.processid, vec!["r1".into(), "r2".into()], &executor_key).await.unwrap();
    let attribute = Attribute::new("sdk", &assigned.processid, "progress", "50%");
    let added = colonyos::add_attr(&attribute, &executor_key).await.unwrap();
    assert!(!added.attributeid.is_empty());
    let log = Log {
        processid: assigned.processid.clone(),
        colonyname: "sdk".into(),
        executorname: "sdk-worker".into(),
        message: "halfway".into(),
        timestamp: 0,
    };
    colonyos::add_log(&log, &executor_key).await.unwrap();
    let logs = colonyos::get_logs("sdk", &assigned.processid, "", 10, 0, &executor_key).await.unwrap();
    assert_eq!(logs.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(), ["halfway"]);
    colonyos::close(&assigned.processid, &executor_key).await.unwrap();
    let closed = colonyos::get_process(&assigned.processid, &executor_key).await.unwrap();
    assert_eq!(closed.state, SUCCESS);
    assert_eq!(closed.output, ["r1", "r2"]);
    assert_eq!(closed.spec.args, ["hello", "42"]);
    assert_eq!(closed.spec.env.get("GREETING").map(String::as_str), Some("hi"));

    // A second one fails; nothing more is waiting, so assign times out with an error.
    colonyos::submit(&spec, &executor_key).await.unwrap();
    let second = colonyos::assign("sdk", 5, &executor_key).await.unwrap();
    colonyos::fail(&second.processid, &executor_key).await.unwrap();
    let failed = colonyos::get_processes("sdk", 10, FAILED, &executor_key).await.unwrap();
    assert!(failed.iter().any(|p| p.processid == second.processid));
    assert!(colonyos::assign("sdk", 1, &executor_key).await.is_err());
    let stats = colonyos::get_statistics("sdk", &executor_key).await.unwrap();
    assert_eq!((stats.successfulprocesses, stats.failedprocesses), (1, 1));

    // A two-step workflow walked to the end.
    let mut first = FunctionSpec::new("step1", "sdk-type", "sdk");
    first.nodename = "step1".into();
    let mut then = FunctionSpec::new("step2", "sdk-type", "sdk");
    then.nodename = "step2".into();
    then.conditions.dependencies = vec!["step1".into()];
    let workflow = WorkflowSpec { colonyname: "sdk".into(), functionspecs: vec![first, then] };
    let graph = colonyos::submit_workflow(&workflow, &executor_key).await.unwrap();
    assert_eq!(graph.processids.len(), 2);
    for expected in ["step1", "step2"] {
        let step = colonyos::assign("sdk", 5, &executor_key).await.unwrap();
        assert_eq!(step.spec.funcname, expected, "dependencies order the steps");
        colonyos::close(&step.processid, &executor_key).await.unwrap();
    }
    let done = colonyos::get_processgraph(&graph.processgraphid, &executor_key).await.unwrap();
    assert_eq!(done.state, SUCCESS);
    let graphs = colonyos::get_processgraphs("sdk", 10, SUCCESS, &executor_key).await.unwrap();
    assert!(graphs.iter().any(|g| g.processgraphid == graph.processgraphid));

    // Functions.
    let function = Function {
        executorname: "sdk-worker".into(),
        colonyname: "sdk".into(),
        funcname: "echo".into(),
        ..serde_json::from_value(serde_json::json!({ "funcname": "echo" })).unwrap()
    };
    let registered = colonyos::add_function(&function, &executor_key).await.unwrap();
    // (`get_functions_by_executor` sends `getfunctionsbyexecutormsg`, a payload type the
    // reference does not have; `getfunctionsmsg` is the protocol's way.)
    let listed = colonyos::get_functions("sdk", &executor_key).await.unwrap();
    assert!(listed.iter().any(|f| f.functionid == registered.functionid && f.executorname == "sdk-worker"));
    colonyos::remove_function(&registered.functionid, &executor_key).await.unwrap();
    assert!(colonyos::get_functions("sdk", &executor_key).await.unwrap().is_empty());

    // Waiting for a process over the follower's /pubsub websocket.
    let watched = colonyos::submit(&spec, &executor_key).await.unwrap();
    let subscription = tokio::spawn({
        let (watched, executor_key) = (watched.clone(), executor_key.clone());
        async move { colonyos::subscribe_process(&watched, SUCCESS, 20, &executor_key).await }
    });
    let worked = colonyos::assign("sdk", 5, &executor_key).await.unwrap();
    assert_eq!(worked.processid, watched.processid);
    colonyos::close(&worked.processid, &executor_key).await.unwrap();
    let notified = tokio::time::timeout(std::time::Duration::from_secs(30), subscription).await;
    notified.expect("the subscription ended").unwrap().expect("it was told of SUCCESS");

    // Removal, and a stranger's key is refused.
    colonyos::remove_process(&second.processid, &executor_key).await.unwrap();
    assert!(colonyos::get_process(&second.processid, &executor_key).await.is_err());
    let stranger = colonyos::crypto::gen_prvkey();
    assert!(colonyos::submit(&spec, &stranger).await.is_err());
    assert!(colonyos::get_processes("sdk", 10, SUCCESS, &stranger).await.is_err());
}

/// Why nodes send the web UI's executor shape only to browsers (issue 15 item 7): this SDK
/// decodes `capabilities.hardware` and `software` as arrays and fails on the objects the web
/// UI reads, while it reads the protocol's shape (nulls or arrays) that it is sent.
#[test]
fn the_sdk_reads_executors_only_in_the_protocols_shape() {
    let protocol = serde_json::json!({
        "executorid": "e", "executortype": "t", "executorname": "n", "colonyname": "c",
        "capabilities": {"hardware": null, "software": null}, "allocations": {"projects": null},
    });
    serde_json::from_value::<Executor>(protocol.clone()).expect("the protocol's shape");
    let mut registered = protocol.clone();
    registered["capabilities"] = serde_json::json!({"hardware": [{"model": "m"}], "software": [{"name": "s"}]});
    let executor = serde_json::from_value::<Executor>(registered).expect("arrays");
    assert_eq!(executor.capabilities.hardware.len(), 1);

    let mut web_ui = protocol;
    web_ui["location"] = serde_json::json!({"long": 0.0, "lat": 0.0, "desc": ""});
    web_ui["capabilities"] = serde_json::json!({
        "hardware": {"model": "", "nodes": 0, "cpu": "", "mem": "", "storage": "",
            "gpu": {"name": "", "mem": "", "count": 0, "nodecount": 0}},
        "software": {"name": "", "type": "", "version": ""},
    });
    let refused = serde_json::from_value::<Executor>(web_ui).unwrap_err().to_string();
    assert!(refused.contains("expected a sequence"), "{refused}");
}
