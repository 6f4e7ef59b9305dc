//! Executors in the shape ColonyOS's web UI reads.
//!
//! The web UI reads `executor.location.long` and `capabilities.hardware.gpu` and shows a
//! blank page when they are missing: it expects `location` and `hardware`/`software` as
//! objects. The original server sends no `location` and, like ColonyOS's Go CLI and its Rust
//! SDK (`colonyos` 1.0.5), treats `hardware` and `software` as arrays: those clients fail to
//! decode objects there (`cluster-tests/tests/colonyos_sdk.rs` shows it). So the web UI's
//! shape goes only to callers that send an `Origin` header, which browsers always do and
//! the CLI and SDKs never do; everyone else gets the protocol's shape.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use colonies_client::envelope::{RpcReply, decode_payload, encode_payload};
use serde_json::{Map, Value, json};

/// Replies whose payload is an executor or a list of them.
const EXECUTOR_REPLIES: &[&str] = &["addexecutormsg", "getexecutorsmsg", "getexecutormsg", "getexecutorbyidmsg"];

/// Whether the call comes from a browser page (which the web UI is).
pub fn from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
}

/// A successful executor reply with its executors in the web UI's shape; any other
/// response as it was.
pub async fn for_browser(response: Response) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Our own reply, already whole in memory: no limit to enforce.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let reshaped = serde_json::from_slice::<RpcReply>(&bytes)
        .ok()
        .filter(|reply| EXECUTOR_REPLIES.contains(&reply.payloadtype.as_str()))
        .and_then(|mut reply| {
            let payload = decode_payload(&reply.payload).ok()?;
            let mut executors: Value = serde_json::from_slice(&payload).ok()?;
            reshape(&mut executors);
            reply.payload = encode_payload(&serde_json::to_vec(&executors).ok()?);
            serde_json::to_vec(&reply).ok()
        });
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(reshaped.unwrap_or_else(|| bytes.to_vec())))
}

/// An executor, or each of a list, in the web UI's shape.
pub fn reshape(executors: &mut Value) {
    match executors {
        Value::Array(list) => list.iter_mut().for_each(reshape_one),
        one => reshape_one(one),
    }
}

fn reshape_one(executor: &mut Value) {
    let Some(executor) = executor.as_object_mut() else { return };
    let desc = executor.get("locationname").cloned().unwrap_or_else(|| json!(""));
    executor.entry("location").or_insert_with(|| json!({"long": 0.0, "lat": 0.0, "desc": desc}));
    let capabilities = executor.entry("capabilities").or_insert(Value::Null);
    if !capabilities.is_object() {
        *capabilities = json!({});
    }
    let Some(capabilities) = capabilities.as_object_mut() else { return };
    let mut hardware = first_of(capabilities.get("hardware")).unwrap_or_default();
    let gpu = hardware.get("gpu").and_then(Value::as_object).cloned();
    hardware.insert("gpu".into(), filled(gpu, &GPU_DEFAULTS));
    capabilities.insert("hardware".into(), filled(Some(hardware), &HARDWARE_DEFAULTS));
    let software = first_of(capabilities.get("software"));
    capabilities.insert("software".into(), filled(software, &SOFTWARE_DEFAULTS));
}

/// The first registered entry of an array (the protocol's shape), or an object as it is.
fn first_of(value: Option<&Value>) -> Option<Map<String, Value>> {
    match value? {
        Value::Array(list) => list.first()?.as_object().cloned(),
        Value::Object(object) => Some(object.clone()),
        _ => None,
    }
}

/// A field the web UI reads and its empty value.
type Field = (&'static str, fn() -> Value);

const HARDWARE_DEFAULTS: [Field; 5] = [
    ("model", || json!("")),
    ("nodes", || json!(0)),
    ("cpu", || json!("")),
    ("mem", || json!("")),
    ("storage", || json!("")),
];
const GPU_DEFAULTS: [Field; 4] =
    [("name", || json!("")), ("mem", || json!("")), ("count", || json!(0)), ("nodecount", || json!(0))];
const SOFTWARE_DEFAULTS: [Field; 3] = [("name", || json!("")), ("type", || json!("")), ("version", || json!(""))];

/// `registered` with every field the web UI reads present (empty where unset or null).
fn filled(registered: Option<Map<String, Value>>, defaults: &[Field]) -> Value {
    let mut object = registered.unwrap_or_default();
    for (field, empty) in defaults {
        let value = object.entry(*field).or_insert_with(empty);
        if value.is_null() {
            *value = empty();
        }
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_executor_without_capabilities_gets_every_field_the_web_ui_reads() {
        let mut executor = json!({"executorid": "e", "locationname": "lab",
            "capabilities": {"hardware": null, "software": null}});
        reshape(&mut executor);
        assert_eq!(executor["location"], json!({"long": 0.0, "lat": 0.0, "desc": "lab"}));
        assert_eq!(
            executor["capabilities"]["hardware"],
            json!({"model": "", "nodes": 0, "cpu": "", "mem": "", "storage": "",
                "gpu": {"name": "", "mem": "", "count": 0, "nodecount": 0}})
        );
        assert_eq!(executor["capabilities"]["software"], json!({"name": "", "type": "", "version": ""}));
    }

    #[test]
    fn what_an_executor_registered_is_kept() {
        let mut executors = json!([{"executorid": "e", "capabilities": {
            "hardware": [{"model": "dgx", "nodes": 2, "cores": 64, "gpu": {"name": "h100", "count": 8, "mem": null}}],
            "software": [{"name": "python", "type": "runtime", "version": "3.12"}]}}]);
        reshape(&mut executors);
        let hardware = &executors[0]["capabilities"]["hardware"];
        assert_eq!(
            (hardware["model"].as_str(), hardware["nodes"].as_i64(), hardware["cores"].as_i64()),
            (Some("dgx"), Some(2), Some(64))
        );
        assert_eq!(hardware["gpu"], json!({"name": "h100", "count": 8, "mem": "", "nodecount": 0}));
        assert_eq!(executors[0]["capabilities"]["software"]["version"], "3.12");
        let again = executors.clone();
        reshape(&mut executors);
        assert_eq!(executors, again, "reshaping twice changes nothing");
    }

    #[test]
    fn a_null_capabilities_and_non_executors_are_handled() {
        let mut executor = json!({"executorid": "e", "capabilities": null});
        reshape(&mut executor);
        assert_eq!(executor["capabilities"]["software"]["name"], "");
        let mut empty = json!([]);
        reshape(&mut empty);
        assert_eq!(empty, json!([]));
    }
}
