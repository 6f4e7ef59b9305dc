//! Browsers calling a node, as ColonyOS's web UI does from a page served elsewhere: CORS
//! preflights and headers on `/api`, and the origin check of the `/pubsub` websocket, with
//! any origin allowed (the default, as the original) and with `--cors-origins`.

mod common;

use colonies_client::envelope::{RpcReply, RpcRequest, decode_payload};
use colonies_client::rpc::Client;
use colonies_cluster_tests::Cluster;
use common::*;
use reqwest::Method;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const PAGE: &str = "http://ui.example.org:3000";
const OTHER_PAGE: &str = "http://evil.example.org";

fn one_node(args: &[&str]) -> Cluster {
    let mut cluster = Cluster::start_with(1, args);
    cluster.wait_healthy(STARTUP);
    cluster.wait_leader(STARTUP);
    cluster
}

/// The preflight a browser sends before a cross-origin `POST /api` with a JSON body.
async fn preflight(addr: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, format!("http://{addr}/api"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap()
}

/// A `versionmsg` call as a page at `origin` makes it.
async fn post_from(addr: &str, origin: &str) -> reqwest::Response {
    let request = RpcRequest::unsigned("versionmsg", br#"{"msgtype":"versionmsg","buildversion":"","buildtime":""}"#);
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api"))
        .header("Origin", origin)
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&request).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the call itself is served");
    response
}

fn allow_origin(response: &reqwest::Response) -> Option<String> {
    response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_string())
}

/// The status of a websocket upgrade of `/pubsub`, with this `Origin` header if any.
fn upgrade_status(addr: &str, origin: Option<&str>) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
    write!(
        stream,
        "GET /pubsub HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
    )
    .unwrap();
    // The status line is all that is needed; an accepted socket then waits for a frame.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") && head.len() < 200 {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_gets_the_cors_answer_by_default() {
    let _serial = SERIAL.lock().await;
    let cluster = one_node(&[]);
    let addr = cluster.addrs()[0].clone();

    let answer = preflight(&addr, PAGE).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(allow_origin(&answer).as_deref(), Some("*"));
    let methods = answer.headers()["access-control-allow-methods"].to_str().unwrap().to_uppercase();
    assert!(methods.contains("POST") && methods.contains("OPTIONS"), "{methods}");
    let headers = answer.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(headers.contains("content-type"), "{headers}");
    assert_eq!(answer.headers()["access-control-max-age"], "43200");

    let call = post_from(&addr, PAGE).await;
    assert_eq!(allow_origin(&call).as_deref(), Some("*"));
    let version: serde_json::Value = call.json().await.unwrap();
    assert_eq!(version["payloadtype"], "versionmsg");

    assert_eq!(upgrade_status(&addr, Some(OTHER_PAGE)), 101, "any page may subscribe");
    assert_eq!(upgrade_status(&addr, None), 101);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origins_restricts_browsers_to_the_listed_pages() {
    let _serial = SERIAL.lock().await;
    let listed = format!("--cors-origins={PAGE},https://other.example.org");
    let cluster = one_node(&[&listed]);
    let addr = cluster.addrs()[0].clone();

    let answer = preflight(&addr, PAGE).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(allow_origin(&answer).as_deref(), Some(PAGE));
    assert_eq!(allow_origin(&post_from(&addr, PAGE).await).as_deref(), Some(PAGE));

    // A page not listed gets no allow header, so its browser withholds the answer.
    assert_eq!(allow_origin(&preflight(&addr, OTHER_PAGE).await), None);
    assert_eq!(allow_origin(&post_from(&addr, OTHER_PAGE).await), None);

    // Websockets get no preflight: the node refuses the upgrade itself.
    assert_eq!(upgrade_status(&addr, Some(OTHER_PAGE)), 403);
    assert_eq!(upgrade_status(&addr, Some(PAGE)), 101);
    assert_eq!(upgrade_status(&addr, None), 101, "the CLI and SDKs send no Origin");
}

/// The executors of `dev` as `getexecutorsmsg` answers them, asked with this `Origin`.
async fn executors_as_seen_from(addr: &str, origin: Option<&str>) -> serde_json::Value {
    let payload = br#"{"msgtype":"getexecutorsmsg","colonyname":"dev"}"#;
    let request = RpcRequest::signed("getexecutorsmsg", payload, &key(EXECUTOR_KEY));
    let mut call = reqwest::Client::new().post(format!("http://{addr}/api")).json(&request);
    if let Some(origin) = origin {
        call = call.header("Origin", origin);
    }
    let reply: RpcReply = call.send().await.unwrap().json().await.unwrap();
    assert_eq!(reply.payloadtype, "getexecutorsmsg", "{reply:?}");
    serde_json::from_slice(&decode_payload(&reply.payload).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_executors_in_the_shape_the_web_ui_reads() {
    let _serial = SERIAL.lock().await;
    let cluster = one_node(&[]);
    let addr = cluster.addrs()[0].clone();
    add_dev_colony(&Client::new(cluster.addrs())).await;

    let seen = executors_as_seen_from(&addr, Some(PAGE)).await;
    let executor = &seen[0];
    assert_eq!(executor["executorname"], "dev-cli");
    assert_eq!(executor["location"], serde_json::json!({"long": 0.0, "lat": 0.0, "desc": ""}));
    assert_eq!(executor["capabilities"]["hardware"]["gpu"]["nodecount"], 0, "{executor}");
    assert_eq!(executor["capabilities"]["hardware"]["model"], "");
    assert_eq!(executor["capabilities"]["software"]["version"], "");

    // Without an Origin (the CLI, the SDKs): the protocol's shape, which they decode.
    let plain = executors_as_seen_from(&addr, None).await;
    assert!(plain[0].get("location").is_none(), "{plain}");
    assert_eq!(plain[0]["capabilities"], serde_json::json!({"hardware": null, "software": null}));
}

#[test]
fn a_bad_origin_is_refused_at_start_with_the_reason() {
    let output = std::process::Command::new(colonies_cluster_tests::colonies_binary())
        .args(["server", "start", "--nodeid", "1", "--datadir", "/nonexistent", "--peers", "1=127.0.0.1:1"])
        .args(["--cluster-secret", "a-long-enough-cluster-secret", "--cors-origins", "ui.example.org"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not start with http:// or https://"), "{stderr}");
}
