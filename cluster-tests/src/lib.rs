//! The cluster tests' side of the local-cluster runner (`colonies_localcluster`): clusters
//! of the binary under test, built once per test process, with the harness's server id and
//! secret and the nodes' logs kept for failure messages. Every node gets a free port on
//! 127.0.0.1 and a datadir under one temporary folder; every process is killed when the
//! `Cluster` is dropped, also when a test panics, so a failing test leaves nothing running.

pub use colonies_localcluster::{
    Node, Output, Placement, Setup, TlsFiles, free_port, http_get, http_get_with, https_get_with, secret_header,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The dev server key's id (§8.1 of the spec), owner of every test cluster.
pub const SERVER_ID: &str = "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103";
pub const CLUSTER_SECRET: &str = "cluster-tests-secret";
/// The private key of `SERVER_ID`, for harness code that adds colonies itself.
pub const SERVER_PRVKEY: &str = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d";
/// Names a prebuilt `colonies` binary (e.g. a release build) to run instead of building one.
pub const BINARY_ENV: &str = "COLONIES_TEST_BINARY";

pub mod chaos;
pub mod python;

static BINARY: OnceLock<PathBuf> = OnceLock::new();

/// Makes every node of this process run `binary` (e.g. a release build); refused, with the
/// binary in use, once a node has started.
pub fn use_colonies_binary(binary: PathBuf) -> Result<(), PathBuf> {
    BINARY.set(binary).map_err(|_| colonies_binary().to_path_buf())
}

/// Builds the `colonies` binary once per test process and returns its path, or the binary
/// that `COLONIES_TEST_BINARY` or `use_colonies_binary` names.
pub fn colonies_binary() -> &'static Path {
    BINARY.get_or_init(|| {
        if let Some(binary) = std::env::var_os(BINARY_ENV) {
            let binary = PathBuf::from(binary);
            assert!(binary.is_file(), "{BINARY_ENV}={} is not a file", binary.display());
            return binary;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf();
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "colonies-cli", "--bin", "colonies"])
            .current_dir(&workspace)
            .status()
            .expect("running cargo build");
        assert!(status.success(), "cargo build of the colonies binary failed");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
        target.join("debug").join("colonies")
    })
}

/// A cluster of the binary under test with the harness's server id and secret, its logs in
/// files; the runner itself is `colonies_localcluster::Cluster`, which this derefs to.
pub struct Cluster {
    runner: colonies_localcluster::Cluster,
    /// Holds the datadirs, logs and certificates; removed when the test ends.
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Cluster {
    type Target = colonies_localcluster::Cluster;
    fn deref(&self) -> &Self::Target {
        &self.runner
    }
}

impl std::ops::DerefMut for Cluster {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.runner
    }
}

/// A new CA and node certificate for `localhost` and `127.0.0.1` in `dir`, made with the
/// binary under test (`colonies security certs`).
pub fn generate_tls_files(dir: &Path) -> TlsFiles {
    let output = Command::new(colonies_binary())
        .args(["security", "certs", "--node", "node=localhost,127.0.0.1", "--out"])
        .arg(dir)
        .output()
        .expect("running colonies security certs");
    assert!(output.status.success(), "security certs failed: {}", String::from_utf8_lossy(&output.stderr));
    TlsFiles { ca: dir.join("ca.pem"), cert: dir.join("node.pem"), key: dir.join("node-key.pem") }
}

impl Cluster {
    /// Starts `size` nodes that know each other as peers.
    pub fn start(size: usize) -> Cluster {
        Self::start_with(size, &[])
    }

    pub fn start_with(size: usize, extra_args: &[&str]) -> Cluster {
        Self::start_placed(&vec![Placement::default(); size], extra_args)
    }

    /// Starts one node per placement, node ids 1, 2, ... in order.
    pub fn start_placed(placements: &[Placement], extra_args: &[&str]) -> Cluster {
        Self::start_configured(placements, extra_args, false)
    }

    /// Starts `size` nodes that serve HTTPS and speak mutual TLS between them, with a
    /// cluster CA made for the test.
    pub fn start_tls(size: usize) -> Cluster {
        Self::start_configured(&vec![Placement::default(); size], &[], true)
    }

    fn start_configured(placements: &[Placement], extra_args: &[&str], tls: bool) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let setup = Setup {
            binary: colonies_binary().to_path_buf(),
            serverid: SERVER_ID.into(),
            secret: CLUSTER_SECRET.into(),
            log_level: "info".into(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            tls: tls.then(|| generate_tls_files(&dir.path().join("tls"))),
            output: Output::Files,
        };
        let runner = colonies_localcluster::Cluster::start(setup, Some(dir.path().to_path_buf()), placements)
            .expect("starting the nodes");
        Cluster { runner, _dir: dir }
    }

    /// The cluster's certificates when its nodes speak TLS (`start_tls`).
    pub fn tls(&self) -> Option<TlsFiles> {
        self.setup.tls.clone()
    }

    /// Starts node `i` (again) with its datadir.
    pub fn spawn(&mut self, i: usize) {
        self.runner.spawn(i).expect("starting a colonies node");
    }

    /// Starts one more node, with `--join` so that it waits to be added; returns its index.
    pub fn start_joining_node(&mut self) -> usize {
        self.runner.start_joining_node().expect("starting a colonies node")
    }

    /// Sends a signal by name (`STOP`, `CONT`) to node `i`, which must be running.
    pub fn signal(&self, i: usize, signal: &str) {
        assert!(self.runner.signal(i, signal), "kill -{signal} failed");
    }

    /// Waits until every running node answers `/health`.
    pub fn wait_healthy(&mut self, within: Duration) {
        assert!(self.healthy_within(within), "a node never became healthy:\n{}", self.log_tails(40));
    }

    /// The index of the node every running node names as leader, once they agree.
    pub fn wait_leader(&mut self, within: Duration) -> usize {
        self.leader_within(within).unwrap_or_else(|seen| {
            let logs: Vec<String> = self.nodes.iter().map(Node::log).collect();
            panic!("no agreed leader (saw {seen}); logs:\n{}", logs.join("\n----\n"))
        })
    }

    /// Waits until every running node reports the same state digest at the same index.
    pub fn wait_converged(&mut self, within: Duration) -> String {
        self.converged(within).unwrap_or_else(|digests| {
            panic!("replicas did not converge: {digests:?}\nlast lines of the logs:\n{}", self.log_tails(40))
        })
    }
}

/// A GET with the harness's cluster secret, which `/cluster` and `/cluster/digest` require.
pub fn admin_get(addr: &str, path: &str) -> Option<(u16, String)> {
    http_get_with(addr, path, &secret_header(CLUSTER_SECRET))
}
