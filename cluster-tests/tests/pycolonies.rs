//! ColonyOS's own Python SDK, unmodified, against a three-node cluster started from our
//! binary, pointed at a follower (so every call is redirected, and `wait()` subscribes on
//! the follower's `/pubsub`). The flows are in `conformance/pycolonies_flows.py`.

mod common;

use colonies_cluster_tests::python::{PYCOLONIES_FLOWS, conformance_script, python_with_pycolonies};
use common::*;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycolonies_flows_pass_against_a_follower() {
    let python = python_with_pycolonies();
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let leader = cluster.wait_leader(STARTUP);
    let follower = (leader + 1) % cluster.nodes.len();
    let script = conformance_script("pycolonies_flows.py");
    let port = cluster.nodes[follower].port.to_string();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).args(["127.0.0.1", &port]).output().expect("running python")
    });
    let output = tokio::time::timeout(std::time::Duration::from_secs(180), run)
        .await
        .expect("the flows ended within 3 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("ok: {PYCOLONIES_FLOWS} flows")),
        "pycolonies flows failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
