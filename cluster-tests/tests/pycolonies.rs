//! ColonyOS's own Python SDK, unmodified, against a three-node cluster started from our
//! binary, pointed at a follower (so every call is redirected, and `wait()` subscribes on
//! the follower's `/pubsub`). The flows are in `conformance/pycolonies_flows.py`.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The virtualenv `.ci/run` creates with the pinned requirements; created here the same way
/// when absent, so `cargo test --workspace` alone works on a fresh machine.
fn python_with_pycolonies() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let venv = target.join("pycolonies-venv");
    let python = venv.join("bin/python");
    let importable = |python: &Path| {
        Command::new(python).args(["-c", "import pycolonies"]).output().is_ok_and(|o| o.status.success())
    };
    if !importable(&python) {
        let created = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3 -m venv");
        assert!(created.success(), "creating {}", venv.display());
        let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/requirements.txt");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(&requirements)
            .status()
            .expect("pip install");
        assert!(installed.success() && importable(&python), "installing pycolonies into {}", venv.display());
    }
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycolonies_flows_pass_against_a_follower() {
    let python = python_with_pycolonies();
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let leader = cluster.wait_leader(STARTUP);
    let follower = (leader + 1) % cluster.nodes.len();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/pycolonies_flows.py");
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
        output.status.success() && stdout.contains("ok: 12 flows"),
        "pycolonies flows failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
