//! The model's JSON against objects written from the spec (§4), and bincode round trips.

use colonies_statemachine::model::{Executor, Function, FunctionSpec, Process, ProcessGraph};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn id(c: char) -> String {
    c.to_string().repeat(64)
}

/// Decodes `value`, re-encodes it, and checks nothing was lost or renamed.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: Value) -> T {
    let decoded: T = serde_json::from_value(value.clone()).expect("decodes");
    assert_eq!(serde_json::to_value(&decoded).unwrap(), value, "JSON round trip");
    let binary = bincode::serialize(&decoded).unwrap();
    assert_eq!(bincode::deserialize::<T>(&binary).unwrap(), decoded, "bincode round trip");
    decoded
}

fn spec_json() -> Value {
    json!({"nodename":"","funcname":"echo","args":["hello",42,{"a":1}],"kwargs":{"k":"v"},
      "priority":5,"maxwaittime":600,"maxexectime":30,"maxretries":2,
      "conditions":{"colonyname":"dev","executornames":null,"executortype":"cli","dependencies":[],
        "nodes":0,"cpu":"500m","processes":0,"processespernode":0,"mem":"1024Mi","storage":"0Mi",
        "gpu":{"name":"","mem":"0Mi","count":0,"nodecount":0},"walltime":0},
      "label":"mylabel","fs":{"mount":"","snapshots":null,"dirs":null},"env":{"E1":"v1"}})
}

#[test]
fn a_process_as_the_spec_shows_it() {
    let process = json!({
      "processid": id('7'), "initiatorid": id('3'), "initiatorname": "dev-cli",
      "assignedexecutorid": "", "isassigned": false, "state": 0,
      "prioritytime": 1794920363820471527i64,
      "submissiontime": "2026-11-22T12:59:23.820472Z", "starttime": "0001-01-01T00:00:00Z",
      "endtime": "0001-01-01T00:00:00Z", "waitdeadline": "2026-11-22T13:09:23.820472Z",
      "execdeadline": "0001-01-01T00:00:00Z", "retries": 0,
      "attributes": [{"attributeid": id('a'), "targetid": id('7'), "targetcolonyname": "dev",
        "targetprocessgraphid": "", "state": 0, "attributetype": 3, "key": "E1", "value": "v1"}],
      "spec": spec_json(), "waitforparents": false, "parents": [], "children": [],
      "processgraphid": "", "in": [], "out": ["r"], "errors": []
    });
    let decoded: Process = round_trip(process);
    assert_eq!(decoded.out.len(), 1);
    assert!(decoded.starttime.is_zero());
}

#[test]
fn go_style_nulls_and_missing_keys_decode_as_zero_values() {
    let spec: FunctionSpec = serde_json::from_value(json!({
        "funcname": "f", "args": null, "kwargs": null, "env": null,
        "conditions": {"executornames": null, "dependencies": null, "gpu": null}, "fs": null,
        "unknownkey": 1
    }))
    .unwrap();
    assert!(spec.args.is_empty() && spec.kwargs.is_empty() && spec.env.is_empty());
    assert_eq!(spec.conditions.executornames, None);
    let out = serde_json::to_value(&spec).unwrap();
    assert_eq!(out["args"], json!([]));
    assert_eq!(out["conditions"]["dependencies"], json!([]));
    assert_eq!(out["conditions"]["executornames"], Value::Null, "null stays null");
    assert!(out.get("channels").is_none(), "omitted when empty");
    assert!(out["conditions"].get("locationname").is_none(), "omitted when empty");
    let named: FunctionSpec = serde_json::from_value(json!({"conditions": {"executornames": []}})).unwrap();
    assert_eq!(serde_json::to_value(&named).unwrap()["conditions"]["executornames"], json!([]));
}

#[test]
fn type_mismatches_are_errors() {
    assert!(serde_json::from_value::<FunctionSpec>(json!({"priority": "high"})).is_err());
    assert!(serde_json::from_value::<Executor>(json!({"capabilities": {"hardware": {"cpu": "x"}}})).is_err());
    assert!(serde_json::from_value::<Process>(json!({"state": 9})).is_err());
}

#[test]
fn an_executor_as_the_reference_sends_it() {
    let executor = json!({"executorid": id('3'), "executortype": "cli", "executorname": "dev-cli",
      "colonyname": "dev", "state": 1, "requirefuncreg": false,
      "commissiontime": "2026-11-22T12:59:20.112187Z", "lastheardfromtime": "0001-01-01T00:00:00Z",
      "capabilities": {"hardware": null, "software": null}, "allocations": {"projects": null}});
    round_trip::<Executor>(executor);
    let located = json!({"executorid": "", "executortype": "", "executorname": "", "colonyname": "",
      "state": 0, "requirefuncreg": false, "commissiontime": "0001-01-01T00:00:00Z",
      "lastheardfromtime": "0001-01-01T00:00:00Z", "locationname": "lab",
      "capabilities": {"hardware": [{"model": "m", "nodes": 1, "cpu": "", "cores": 4, "mem": "", "storage": "",
        "gpu": {"name": "", "mem": "", "count": 0, "nodecount": 0}, "platform": "", "architecture": "",
        "network": null}], "software": [{"name": "s", "type": "t", "version": "1"}]},
      "allocations": {"projects": {"p": {"allocatedcpu": 1, "usedcpu": 0, "allocatedgpu": 0, "usedgpu": 0,
        "allocatedstorage": 0, "usedstorage": 0}}},
      "blueprintid": "b", "blueprintgen": 2});
    round_trip::<Executor>(located);
}

#[test]
fn a_function_and_a_graph() {
    round_trip::<Function>(json!({"functionid": id('9'), "executorname": "dev-cli", "executortype": "",
      "colonyname": "dev", "funcname": "echo", "counter": 0, "minwaittime": 0.0, "maxwaittime": 0.0,
      "minexectime": 0.0, "maxexectime": 0.0, "avgwaittime": 0.0, "avgexectime": 0.5}));
    round_trip::<Function>(json!({"functionid": "", "executorname": "", "executortype": "", "colonyname": "",
      "funcname": "", "description": "d", "args": [{"name": "x", "type": "int", "required": true}],
      "locationname": "lab", "counter": 0, "minwaittime": 0.0, "maxwaittime": 0.0, "minexectime": 0.0,
      "maxexectime": 0.0, "avgwaittime": 0.0, "avgexectime": 0.0}));
    round_trip::<ProcessGraph>(json!({"processgraphid": id('6'), "initiatorid": id('3'),
      "initiatorname": "dev-cli", "colonyname": "dev", "rootprocessids": [id('5')], "state": 0,
      "submissiontime": "0001-01-01T00:00:00Z", "starttime": "0001-01-01T00:00:00Z",
      "endtime": "0001-01-01T00:00:00Z", "processids": [id('5')],
      "nodes": [{"id": id('5'), "data": {"label": "a"}, "position": {"x": -75, "y": 0}, "type": "input",
        "style": {"color": "", "background": "#eee8d8"}}],
      "edges": [{"id": "a-b", "source": "a", "target": "b", "animated": false}]}));
}
