//! Local clusters of real `colonies` node processes on one machine: what `colonies dev`
//! runs for a developer, what the benches measure, and what the cluster tests kill, pause,
//! partition and restart. One runner, so that all three start nodes the same way.
//!
//! Nodes get their own datadir (`node<id>`) under one folder (temporary unless given) and a
//! port (free unless given), and know each other as peers. Every process a `Cluster`
//! started is killed when it is dropped, also when its owner panics. It is not a
//! supervisor: nothing is restarted unless asked. Its HTTP is blocking std I/O: callers on
//! an async runtime use `tokio::task::block_in_place` or the blocking pool.

mod http;
mod node;
mod polls;

pub use http::{http_get, http_get_with, https_get_with, secret_header};
pub use node::{Node, Placement};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// A port that was free a moment ago. Binding port 0 and closing leaves a small window for
/// another process to take it; on a test machine that is rare enough.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// What every node of a cluster is started with.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The `colonies` binary the nodes run.
    pub binary: PathBuf,
    /// The server owner's id (`COLONIES_SERVER_ID`).
    pub serverid: String,
    /// The cluster secret (`COLONIES_CLUSTER_SECRET`).
    pub secret: String,
    /// The nodes' `RUST_LOG`.
    pub log_level: String,
    /// Flags for every node (e.g. `--forward`).
    pub extra_args: Vec<String>,
    /// The certificates when the nodes speak TLS.
    pub tls: Option<TlsFiles>,
    pub output: Output,
}

/// Where the nodes' output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `node<id>.log` in the cluster's folder, for `Node::log` and failure messages.
    Files,
    /// The caller's stderr (stdout is dropped): `colonies dev` in a terminal.
    Stderr,
}

/// A cluster CA and one node certificate (PEM files) that every node shows, for HTTPS to
/// clients and mutual TLS between the nodes.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The node flags that serve TLS with these files.
    pub fn node_args(&self) -> Vec<String> {
        let path = |p: &Path| p.display().to_string();
        let pairs = [("--tls-cert", &self.cert), ("--tls-key", &self.key), ("--tls-cluster-ca", &self.ca)];
        std::iter::once("--tls".to_string()).chain(pairs.into_iter().flat_map(|(f, p)| [f.into(), path(p)])).collect()
    }

    /// A client configuration that trusts the cluster CA (and shows no certificate).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let settings = colonies_client::tls::TlsSettings { ca: Some(self.ca.clone()), ..Default::default() };
        Arc::new(settings.client_config().expect("a TLS client configuration"))
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    pub setup: Setup,
    /// How this harness's polls trust the nodes, made once (it reads the CA file).
    client_config: Option<Arc<rustls::ClientConfig>>,
    /// Holds the nodes' datadirs and logs.
    root: PathBuf,
    /// The temporary folder `root` is, when the caller gave none; removed on drop.
    _temporary: Option<tempfile::TempDir>,
}

impl Cluster {
    /// Starts one node per placement, node ids 1, 2, ... in order, with their datadirs
    /// under `root` (a new temporary folder when `None`).
    pub fn start(setup: Setup, root: Option<PathBuf>, placements: &[Placement]) -> std::io::Result<Cluster> {
        let temporary = match root {
            Some(_) => None,
            None => Some(tempfile::tempdir()?),
        };
        let root = root.unwrap_or_else(|| temporary.as_ref().expect("made above").path().to_path_buf());
        let nodes = (1..).zip(placements).map(|(id, placement)| Self::node(&root, &setup, id, placement)).collect();
        let client_config = setup.tls.as_ref().map(TlsFiles::client_config);
        let mut cluster = Cluster { nodes, setup, client_config, root, _temporary: temporary };
        for i in 0..placements.len() {
            cluster.spawn(i)?;
        }
        Ok(cluster)
    }

    fn node(root: &Path, setup: &Setup, id: u64, placement: &Placement) -> Node {
        Node {
            id,
            port: placement.port.unwrap_or_else(free_port),
            datadir: placement.datadir.clone().unwrap_or_else(|| root.join(format!("node{id}"))),
            host: if placement.host.is_empty() { "127.0.0.1".into() } else { placement.host.clone() },
            netns: placement.netns.clone(),
            metrics_port: placement.metrics_port,
            log: (setup.output == Output::Files).then(|| root.join(format!("node{id}.log"))),
            child: None,
            exit: None,
        }
    }

    /// The folder that holds the nodes' datadirs.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn peers(&self) -> String {
        self.nodes.iter().map(|n| format!("{}={}", n.id, n.addr())).collect::<Vec<_>>().join(",")
    }

    /// Starts one more node, with `--join` so that it waits to be added; returns its index.
    pub fn start_joining_node(&mut self) -> std::io::Result<usize> {
        let id = self.nodes.iter().map(|n| n.id).max().unwrap_or(0) + 1;
        self.nodes.push(Self::node(&self.root, &self.setup, id, &Placement::default()));
        let index = self.nodes.len() - 1;
        self.spawn_with(index, &["--join"])?;
        Ok(index)
    }

    /// (Re)starts node `i` with its datadir.
    pub fn spawn(&mut self, i: usize) -> std::io::Result<()> {
        self.spawn_with(i, &[])
    }

    fn spawn_with(&mut self, i: usize, more_args: &[&str]) -> std::io::Result<()> {
        let peers = self.peers();
        let setup = &self.setup;
        let node = &mut self.nodes[i];
        let mut command = match &node.netns {
            // `ip netns exec` execs the binary in place, so the child's pid is the node's.
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns]).arg(&setup.binary);
                command
            }
            None => Command::new(&setup.binary),
        };
        match &node.log {
            Some(log) => {
                let log = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
                command.stdout(log.try_clone()?).stderr(log);
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::inherit());
            }
        }
        let child = command
            .args(["server", "start", "--nodeid", &node.id.to_string(), "--port", &node.port.to_string()])
            .args(["--host", &node.host, "--datadir"])
            .arg(&node.datadir)
            .args(["--peers", &peers])
            .args(node.metrics_port.iter().flat_map(|port| ["--metrics-addr".to_string(), port.to_string()]))
            .args(&setup.extra_args)
            .args(setup.tls.iter().flat_map(TlsFiles::node_args))
            .args(more_args)
            .env("COLONIES_SERVER_ID", &setup.serverid)
            .env("COLONIES_CLUSTER_SECRET", &setup.secret)
            .env("RUST_LOG", &setup.log_level)
            .stdin(Stdio::null())
            .spawn()?;
        node.child = Some(child);
        node.exit = None;
        Ok(())
    }

    /// SIGKILL: the node gets no chance to flush or say goodbye.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`) to node `i`; whether it was delivered.
    pub fn signal(&self, i: usize, signal: &str) -> bool {
        self.nodes[i].pid().is_some_and(|pid| {
            Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().is_ok_and(|s| s.success())
        })
    }

    /// Nodes that have ended since they were started, with how they ended.
    pub fn ended(&mut self) -> Vec<(usize, std::process::ExitStatus)> {
        let mut ended = Vec::new();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            let running = node.child.is_some();
            if let (true, Some(status)) = (running, node.exit_status()) {
                ended.push((i, status));
            }
        }
        ended
    }

    /// `host:port` of every node, for a client that fails over across them.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(Node::addr).collect()
    }

    /// Runs `colonies cluster ...` against node `via`; returns whether it succeeded.
    pub fn cluster_command(&self, via: usize, args: &[&str]) -> bool {
        let mut command = Command::new(&self.setup.binary);
        command.arg("cluster").args(args).args(["--server", &self.nodes[via].addr()]);
        if let Some(tls) = &self.setup.tls {
            // Membership changes are peer routes: the node certificate is the credential.
            command.env("COLONIES_TLS", "true").env("COLONIES_TLS_CA", &tls.ca);
            command.env("COLONIES_TLSCERT", &tls.cert).env("COLONIES_TLSKEY", &tls.key);
        }
        command.env("COLONIES_CLUSTER_SECRET", &self.setup.secret).status().is_ok_and(|s| s.success())
    }

    /// A GET to `addr` over HTTPS when the cluster speaks TLS, else plain HTTP.
    pub fn get(&self, addr: &str, path: &str, headers: &str) -> Option<(u16, String)> {
        match &self.client_config {
            Some(config) => https_get_with(addr, path, headers, config.clone()),
            None => http_get_with(addr, path, headers),
        }
    }

    /// `get` with the cluster secret, which `/cluster` and `/cluster/digest` require.
    pub fn admin_get(&self, addr: &str, path: &str) -> Option<(u16, String)> {
        self.get(addr, path, &secret_header(&self.setup.secret))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            // A stopped process ignores SIGKILL until continued on some systems' ptrace
            // states; CONT first is harmless otherwise.
            self.signal(i, "CONT");
            self.kill(i);
        }
    }
}
