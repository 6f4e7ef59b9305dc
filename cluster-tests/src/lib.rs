//! A harness that runs real `colonies` node processes on loopback.
//!
//! Every node gets a free port on 127.0.0.1 and a datadir under one temporary folder. Every
//! process the harness starts is killed when the `Cluster` is dropped, also when a test
//! panics, so a failing test leaves nothing running.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

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

/// A port that was free a moment ago. Binding port 0 and closing leaves a small window for
/// another process to take it; on a test machine that is rare enough.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

pub struct Node {
    pub id: u64,
    pub port: u16,
    pub datadir: PathBuf,
    /// The address the node listens on and its peers call it at.
    pub host: String,
    /// The network namespace the node runs in (`ip netns exec`), if not the test's own.
    pub netns: Option<String>,
    /// The port of its `/metrics` listener (`--metrics-addr`, on loopback), if it has one.
    pub metrics_port: Option<u16>,
    log: PathBuf,
    child: Option<Child>,
    /// How the last process of this node ended, once it did.
    exit: Option<std::process::ExitStatus>,
}

/// Where one node of `Cluster::start_placed` runs: its listen address, namespace and datadir.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// Listen address; 127.0.0.1 when empty.
    pub host: String,
    pub netns: Option<String>,
    /// The datadir, e.g. on a mount of the test's own; under the cluster's temporary folder
    /// when `None`.
    pub datadir: Option<PathBuf>,
}

impl Node {
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none() && self.child.is_some()
    }

    /// How the node's process ended, if it did (`None` while it runs or was never started).
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            self.exit = Some(status);
            self.child = None;
        }
        self.exit
    }

    /// The process id of the running node.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The node's resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// File descriptors the node has open, from /proc.
    pub fn open_fds(&self) -> Option<usize> {
        Some(std::fs::read_dir(format!("/proc/{}/fd", self.pid()?)).ok()?.count())
    }

    /// The node's output so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit code of a node process that has ended by itself.
    pub fn exit_code(&mut self) -> Option<i32> {
        self.exit_status().and_then(|status| status.code())
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    /// Extra flags for every node (e.g. `--forward`).
    pub extra_args: Vec<String>,
    /// The cluster's certificates when its nodes speak TLS (`start_tls`).
    pub tls: Option<TlsFiles>,
    _dir: tempfile::TempDir,
}

/// The files of a TLS cluster, made by `colonies security certs`: a cluster CA and one node
/// certificate for `localhost` and `127.0.0.1` that every node shows (mutual TLS).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// A new CA and node certificate in `dir`, made with the binary under test.
    pub fn generate(dir: &Path) -> TlsFiles {
        let output = Command::new(colonies_binary())
            .args(["security", "certs", "--node", "node=localhost,127.0.0.1", "--out"])
            .arg(dir)
            .output()
            .expect("running colonies security certs");
        assert!(output.status.success(), "security certs failed: {}", String::from_utf8_lossy(&output.stderr));
        TlsFiles { ca: dir.join("ca.pem"), cert: dir.join("node.pem"), key: dir.join("node-key.pem") }
    }

    /// The node flags that serve TLS with these files.
    pub fn node_args(&self) -> Vec<String> {
        let path = |p: &Path| p.display().to_string();
        vec![
            "--tls".into(),
            "--tls-cert".into(),
            path(&self.cert),
            "--tls-key".into(),
            path(&self.key),
            "--tls-cluster-ca".into(),
            path(&self.ca),
        ]
    }

    /// A client configuration that trusts the cluster CA (and shows no certificate).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let settings = colonies_client::tls::TlsSettings { ca: Some(self.ca.clone()), ..Default::default() };
        Arc::new(settings.client_config().expect("a TLS client configuration"))
    }
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
        Self::start_configured(placements, extra_args, false, false)
    }

    /// Starts `size` nodes, each with a `/metrics` listener on a free loopback port (given
    /// as a bare port, so the node's default host applies).
    pub fn start_with_metrics(size: usize, extra_args: &[&str]) -> Cluster {
        Self::start_configured(&vec![Placement::default(); size], extra_args, false, true)
    }

    /// Starts `size` nodes that serve HTTPS and speak mutual TLS between them, with a
    /// cluster CA made for the test.
    pub fn start_tls(size: usize) -> Cluster {
        Self::start_configured(&vec![Placement::default(); size], &[], true, false)
    }

    fn start_configured(placements: &[Placement], extra_args: &[&str], tls: bool, metrics: bool) -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let tls = tls.then(|| TlsFiles::generate(&dir.path().join("tls")));
        let mut extra_args: Vec<String> = extra_args.iter().map(|s| s.to_string()).collect();
        extra_args.extend(tls.iter().flat_map(TlsFiles::node_args));
        let nodes = (1..)
            .zip(placements)
            .map(|(id, placement)| Node {
                id,
                port: free_port(),
                datadir: placement.datadir.clone().unwrap_or_else(|| dir.path().join(format!("node{id}"))),
                host: if placement.host.is_empty() { "127.0.0.1".into() } else { placement.host.clone() },
                netns: placement.netns.clone(),
                metrics_port: metrics.then(free_port),
                log: dir.path().join(format!("node{id}.log")),
                child: None,
                exit: None,
            })
            .collect();
        let mut cluster = Cluster { nodes, extra_args, tls, _dir: dir };
        for i in 0..placements.len() {
            cluster.spawn(i);
        }
        cluster
    }

    fn peers(&self) -> String {
        self.nodes.iter().map(|n| format!("{}={}", n.id, n.addr())).collect::<Vec<_>>().join(",")
    }

    /// Starts one more node, with `--join` so that it waits to be added; returns its index.
    pub fn start_joining_node(&mut self) -> usize {
        let id = self.nodes.iter().map(|n| n.id).max().unwrap_or(0) + 1;
        let dir = self._dir.path();
        self.nodes.push(Node {
            id,
            port: free_port(),
            datadir: dir.join(format!("node{id}")),
            host: "127.0.0.1".into(),
            netns: None,
            metrics_port: None,
            log: dir.join(format!("node{id}.log")),
            child: None,
            exit: None,
        });
        let index = self.nodes.len() - 1;
        self.spawn_with(index, &["--join"]);
        index
    }

    /// Runs `colonies cluster ...` against node `via`; returns whether it succeeded.
    pub fn cluster_command(&self, via: usize, args: &[&str]) -> bool {
        let mut command = Command::new(colonies_binary());
        command.arg("cluster").args(args).args(["--server", &self.nodes[via].addr()]);
        if let Some(tls) = &self.tls {
            // Membership changes are peer routes: the node certificate is the credential.
            command.env("COLONIES_TLS", "true").env("COLONIES_TLS_CA", &tls.ca);
            command.env("COLONIES_TLSCERT", &tls.cert).env("COLONIES_TLSKEY", &tls.key);
        }
        command.env("COLONIES_CLUSTER_SECRET", CLUSTER_SECRET).status().is_ok_and(|s| s.success())
    }

    /// A GET to `addr` over HTTPS when the cluster speaks TLS, else plain HTTP.
    pub fn get(&self, addr: &str, path: &str, headers: &str) -> Option<(u16, String)> {
        match &self.tls {
            Some(tls) => https_get_with(addr, path, headers, tls.client_config()),
            None => http_get_with(addr, path, headers),
        }
    }

    /// `get` with the cluster secret, which `/cluster` and `/cluster/digest` require.
    pub fn admin_get(&self, addr: &str, path: &str) -> Option<(u16, String)> {
        self.get(addr, path, &secret_header())
    }

    /// Starts node `i` (again) with its datadir.
    pub fn spawn(&mut self, i: usize) {
        self.spawn_with(i, &[]);
    }

    fn spawn_with(&mut self, i: usize, more_args: &[&str]) {
        let peers = self.peers();
        let node = &mut self.nodes[i];
        let metrics: Vec<String> =
            node.metrics_port.iter().flat_map(|port| ["--metrics-addr".to_string(), port.to_string()]).collect();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&node.log).expect("log file");
        let mut command = match &node.netns {
            // `ip netns exec` execs the binary in place, so the child's pid is the node's.
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns]).arg(colonies_binary());
                command
            }
            None => Command::new(colonies_binary()),
        };
        let child = command
            .args(["server", "start", "--nodeid", &node.id.to_string(), "--port", &node.port.to_string()])
            .args(["--host", &node.host, "--datadir"])
            .arg(&node.datadir)
            .args(["--peers", &peers])
            .args(&self.extra_args)
            .args(more_args)
            .args(&metrics)
            .env("COLONIES_SERVER_ID", SERVER_ID)
            .env("COLONIES_CLUSTER_SECRET", CLUSTER_SECRET)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("starting a colonies node");
        node.child = Some(child);
        node.exit = None;
    }

    /// SIGKILL: the node gets no chance to flush or say goodbye.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`) to node `i`.
    pub fn signal(&self, i: usize, signal: &str) {
        if let Some(child) = &self.nodes[i].child {
            let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
            assert!(status.is_ok_and(|s| s.success()), "kill -{signal} failed");
        }
    }

    /// Waits until every running node answers `/health`.
    pub fn wait_healthy(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_running() {
                continue;
            }
            while self.get(&self.nodes[i].addr(), "/health", "").is_none_or(|(status, _)| status != 200) {
                assert!(Instant::now() < deadline, "node {} never became healthy:\n{}", i + 1, self.nodes[i].log());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// The index of the node every running node names as leader, once they agree.
    pub fn wait_leader(&mut self, within: Duration) -> usize {
        self.leader_within(within).unwrap_or_else(|seen| {
            let logs: Vec<String> = self.nodes.iter().map(Node::log).collect();
            panic!("no agreed leader (saw {seen}); logs:\n{}", logs.join("\n----\n"))
        })
    }

    /// `wait_leader` without the panic: the leader's index, or what the nodes last named.
    pub fn leader_within(&mut self, within: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + within;
        loop {
            let mut seen = Vec::new();
            for i in 0..self.nodes.len() {
                if !self.nodes[i].is_running() {
                    continue;
                }
                seen.push(self.leader_seen_by(i));
            }
            if let Some(Some(leader)) = seen.first()
                && seen.iter().all(|s| *s == Some(*leader))
                && let Some(index) = self.nodes.iter().position(|n| n.id == *leader)
                && self.nodes[index].is_running()
            {
                return Ok(index);
            }
            if Instant::now() >= deadline {
                return Err(format!("{seen:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Cluster {
    /// `host:port` of every node, for a client that fails over across them.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(Node::addr).collect()
    }

    /// (last applied index, state digest) of node `i`, if it answers.
    pub fn digest(&self, i: usize) -> Option<(u64, String)> {
        let (_, body) = self.admin_get(&self.nodes[i].addr(), "/cluster/digest")?;
        Some((number_after(&body, "last_applied")?, string_after(&body, "digest")?))
    }

    /// Waits until every running node reports the same state digest at the same index.
    pub fn wait_converged(&mut self, within: Duration) -> String {
        self.converged(within).unwrap_or_else(|digests| {
            panic!("replicas did not converge: {digests:?}\nlast lines of the logs:\n{}", self.log_tails(40))
        })
    }

    /// The digest every running node reports at the same index, once they agree within
    /// `within`; otherwise the last (index, digest) of each running node.
    pub fn converged(&mut self, within: Duration) -> Result<String, Vec<Option<(u64, String)>>> {
        let deadline = Instant::now() + within;
        loop {
            let running: Vec<usize> = (0..self.nodes.len()).filter(|i| self.nodes[*i].is_running()).collect();
            let digests: Vec<Option<(u64, String)>> = running.iter().map(|i| self.digest(*i)).collect();
            if let Some(Some(first)) = digests.first()
                && digests.iter().all(|d| d.as_ref() == Some(first))
            {
                return Ok(first.1.clone());
            }
            if Instant::now() >= deadline {
                return Err(digests);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last `lines` lines of every node's log, for failure messages.
    pub fn log_tails(&self, lines: usize) -> String {
        let tail = |node: &Node| {
            let log = node.log();
            let all: Vec<&str> = log.lines().collect();
            format!("== node {}\n{}", node.id, all[all.len().saturating_sub(lines)..].join("\n"))
        };
        self.nodes.iter().map(tail).collect::<Vec<_>>().join("\n")
    }

    /// Whether every running node answers `/health` within `within` (`wait_healthy`
    /// without the panic, for callers that report rather than assert).
    pub fn healthy_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        for i in 0..self.nodes.len() {
            while self.nodes[i].is_running()
                && self.get(&self.nodes[i].addr(), "/health", "").is_none_or(|(status, _)| status != 200)
            {
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        true
    }

    /// Whether node `i` is running and ready to serve within `within`: `GET /ready` answers
    /// 200, or, on a build without that route (404), `/health` does.
    pub fn ready_within(&mut self, i: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.nodes[i].is_running() {
            let ready = match self.get(&self.nodes[i].addr(), "/ready", "") {
                Some((200, _)) => true,
                Some((404, _)) => {
                    self.get(&self.nodes[i].addr(), "/health", "").is_some_and(|(status, _)| status == 200)
                }
                _ => false,
            };
            if ready {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The text of node `i`'s `/metrics`, if it has a metrics listener and answers.
    pub fn metrics(&self, i: usize) -> Option<String> {
        let port = self.nodes[i].metrics_port?;
        match http_get(&format!("127.0.0.1:{port}"), "/metrics")? {
            (200, body) => Some(body),
            _ => None,
        }
    }

    /// The leader node `i` names in `/cluster`, if it answers and names one.
    pub fn leader_seen_by(&self, i: usize) -> Option<u64> {
        self.admin_get(&self.nodes[i].addr(), "/cluster").and_then(|(_, body)| leader_of(&body))
    }

    /// A field of node `i`'s `/cluster` status.
    pub fn status_number(&self, i: usize, field: &str) -> Option<u64> {
        let (_, body) = self.admin_get(&self.nodes[i].addr(), "/cluster")?;
        number_after(&body, field)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            // A stopped process ignores SIGKILL until continued on some systems' ptrace
            // states; CONT first is harmless otherwise.
            self.signal_quietly(i, "CONT");
            self.kill(i);
        }
    }
}

impl Cluster {
    fn signal_quietly(&self, i: usize, signal: &str) {
        if let Some(child) = &self.nodes[i].child {
            let _ = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
        }
    }
}

/// The text after `"field":` in a flat JSON object, without a JSON dependency in the harness.
fn value_after<'a>(body: &'a str, field: &str) -> Option<&'a str> {
    let key = format!("\"{field}\"");
    let rest = &body[body.find(&key)? + key.len()..];
    Some(rest.trim_start().strip_prefix(':')?.trim_start())
}

fn number_after(body: &str, field: &str) -> Option<u64> {
    let digits: String = value_after(body, field)?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn string_after(body: &str, field: &str) -> Option<String> {
    let rest = value_after(body, field)?.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn leader_of(body: &str) -> Option<u64> {
    number_after(body, "leader")
}

/// A minimal HTTP/1.1 GET; `None` when the node does not answer in time. The read timeout
/// leaves room for `/cluster/digest` to hash a large state in a debug build.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    http_get_with(addr, path, "")
}

/// A GET with the cluster secret, which `/cluster` and `/cluster/digest` require.
pub fn admin_get(addr: &str, path: &str) -> Option<(u16, String)> {
    http_get_with(addr, path, &secret_header())
}

fn secret_header() -> String {
    format!("x-colonies-cluster-secret: {CLUSTER_SECRET}\r\n")
}

fn connect(addr: &str) -> Option<TcpStream> {
    let socket: SocketAddr = addr.parse().ok()?;
    let stream = TcpStream::connect_timeout(&socket, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(15))).ok()?;
    Some(stream)
}

/// A GET with extra header lines (each ending in CRLF).
pub fn http_get_with(addr: &str, path: &str, headers: &str) -> Option<(u16, String)> {
    exchange(connect(addr)?, addr, path, headers)
}

/// `http_get_with` over TLS with `config`; the server name is the address's IP.
pub fn https_get_with(
    addr: &str,
    path: &str,
    headers: &str,
    config: Arc<rustls::ClientConfig>,
) -> Option<(u16, String)> {
    let ip: SocketAddr = addr.parse().ok()?;
    let name = rustls::pki_types::ServerName::IpAddress(ip.ip().into());
    let connection = rustls::ClientConnection::new(config, name).ok()?;
    exchange(rustls::StreamOwned::new(connection, connect(addr)?), addr, path, headers)
}

fn exchange(mut stream: impl Read + Write, addr: &str, path: &str, headers: &str) -> Option<(u16, String)> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n").ok()?;
    let mut bytes = Vec::new();
    // A TLS peer may close without close_notify; what arrived before still counts.
    let read = stream.read_to_end(&mut bytes);
    if bytes.is_empty() {
        read.ok()?;
    }
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_is_read_from_cluster_json() {
        assert_eq!(leader_of(r#"{"nodes":[],"leader": 2,"term":3}"#), Some(2));
        assert_eq!(leader_of(r#"{"leader":null}"#), None);
        assert_eq!(string_after(r#"{"digest": "ab12", "x": 1}"#, "digest").as_deref(), Some("ab12"));
    }

    #[test]
    fn free_ports_are_bindable() {
        let port = free_port();
        assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
    }
}
