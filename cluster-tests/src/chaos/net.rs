//! A network the test builds for itself so that it can cut one node off: a namespace per
//! node, a bridge namespace joining them through veth pairs, and one more veth pair from the
//! test's own namespace into the bridge so the test reaches every node.
//!
//! Every address is in 127.0.0.0/8 (`route_localnet` lets it leave `lo`), in a /24 of its
//! own per network, so no test traffic goes to a private or public address and two runs on
//! one machine do not meet. The test's namespace keeps its `lo` as it is: a /24 route in
//! its `local` table, more specific than `lo`'s 127.0.0.0/8, sends the nodes' addresses into
//! the bridge. Dropping the network deletes all of it, also when a test panics.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("network namespaces need root (euid {0})")]
    NotRoot(u32),
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
}

pub struct Netns {
    /// Prefix of every name this network creates (namespaces, links).
    tag: String,
    /// The first three octets of the network's /24, e.g. "127.142.3".
    subnet: String,
    nodes: usize,
    /// Namespaces created so far, deleted on drop.
    namespaces: Vec<String>,
    /// The test side of the veth into the bridge, once created.
    root_link: Option<String>,
}

fn ip(args: &[&str]) -> Result<(), NetError> {
    run("ip", args)
}

fn run(program: &str, args: &[&str]) -> Result<(), NetError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| NetError::Command { command: command.clone(), stderr: e.to_string() })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(NetError::Command { command, stderr: String::from_utf8_lossy(&output.stderr).trim().to_string() })
    }
}

/// `ip netns exec NS ARGS...`
fn in_ns(netns: &str, args: &[&str]) -> Result<(), NetError> {
    let mut all = vec!["netns", "exec", netns];
    all.extend_from_slice(args);
    ip(&all)
}

/// Lets packets with 127.0.0.0/8 addresses use `dev` (in the current namespace).
fn route_localnet(netns: Option<&str>, dev: &str) -> Result<(), NetError> {
    let setting = format!("net.ipv4.conf.{dev}.route_localnet=1");
    match netns {
        Some(netns) => in_ns(netns, &["sysctl", "-qw", &setting]),
        None => run("sysctl", &["-qw", &setting]),
    }
}

fn euid() -> u32 {
    // /proc/self/status has "Uid: real effective saved fs"; no libc call needed for this.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2)?.parse().ok()))
        .unwrap_or(u32::MAX)
}

impl Netns {
    /// Builds the network for `nodes` nodes (at most 250).
    pub fn create(nodes: usize) -> Result<Netns, NetError> {
        static CREATED: AtomicU32 = AtomicU32::new(0);
        assert!((1..=250).contains(&nodes), "a /24 holds at most 250 nodes here");
        let euid = euid();
        if euid != 0 {
            return Err(NetError::NotRoot(euid));
        }
        let pid = std::process::id();
        let serial = CREATED.fetch_add(1, Ordering::Relaxed);
        let mut net = Netns {
            // Link names have 15 characters at most: "cz" + 5 hex digits + "r1a".
            tag: format!("cz{:05x}", (pid.wrapping_mul(16).wrapping_add(serial)) & 0xfffff),
            subnet: format!("127.{}.{}", 100 + pid % 100, (pid / 100 + serial) % 250),
            nodes,
            namespaces: Vec::new(),
            root_link: None,
        };
        // On an error, dropping the half-built network deletes what was created.
        net.build()?;
        Ok(net)
    }

    fn build(&mut self) -> Result<(), NetError> {
        let bridge = self.bridge();
        self.add_namespace(&bridge)?;
        in_ns(&bridge, &["ip", "link", "add", "br0", "type", "bridge"])?;
        in_ns(&bridge, &["ip", "link", "set", "br0", "up"])?;
        for n in 0..self.nodes {
            let (netns, inside, outside) = (self.netns(n), format!("{}n{n}a", self.tag), format!("{}n{n}b", self.tag));
            self.add_namespace(&netns)?;
            ip(&["link", "add", &inside, "type", "veth", "peer", "name", &outside])?;
            ip(&["link", "set", &inside, "netns", &netns])?;
            self.plug_into_bridge(&outside)?;
            in_ns(&netns, &["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"])?;
            route_localnet(Some(&netns), &inside)?;
            // lo's 127.0.0.0/8 would swallow the /24: narrow it to 127.0.0.1 first.
            in_ns(&netns, &["ip", "addr", "del", "127.0.0.1/8", "dev", "lo"])?;
            in_ns(&netns, &["ip", "addr", "add", "127.0.0.1/32", "dev", "lo"])?;
            in_ns(&netns, &["ip", "addr", "add", &format!("{}/24", self.host(n)), "dev", &inside])?;
            in_ns(&netns, &["ip", "link", "set", &inside, "up"])?;
        }
        let (root, root_peer) = (format!("{}ra", self.tag), format!("{}rb", self.tag));
        ip(&["link", "add", &root, "type", "veth", "peer", "name", &root_peer])?;
        self.root_link = Some(root.clone());
        self.plug_into_bridge(&root_peer)?;
        route_localnet(None, &root)?;
        let me = format!("{}.254", self.subnet);
        ip(&["addr", "add", &format!("{me}/32"), "dev", &root])?;
        ip(&["link", "set", &root, "up"])?;
        ip(&["route", "add", &format!("{}.0/24", self.subnet), "dev", &root, "table", "local", "src", &me])
    }

    fn add_namespace(&mut self, name: &str) -> Result<(), NetError> {
        ip(&["netns", "add", name])?;
        self.namespaces.push(name.to_string());
        in_ns(name, &["ip", "link", "set", "lo", "up"])
    }

    /// Moves `link` (in the test's namespace) into the bridge namespace, on `br0`, up.
    fn plug_into_bridge(&self, link: &str) -> Result<(), NetError> {
        let bridge = self.bridge();
        ip(&["link", "set", link, "netns", &bridge])?;
        in_ns(&bridge, &["ip", "link", "set", link, "master", "br0"])?;
        in_ns(&bridge, &["ip", "link", "set", link, "up"])
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    /// The namespace node `n` (0-based) runs in.
    pub fn netns(&self, n: usize) -> String {
        format!("{}n{n}", self.tag)
    }

    /// The address node `n` listens on.
    pub fn host(&self, n: usize) -> String {
        format!("{}.{}", self.subnet, n + 1)
    }

    /// Cuts node `n` off from every other node and from the test.
    pub fn isolate(&self, n: usize) -> Result<(), NetError> {
        in_ns(&self.bridge(), &["ip", "link", "set", &format!("{}n{n}b", self.tag), "down"])
    }

    pub fn heal(&self, n: usize) -> Result<(), NetError> {
        in_ns(&self.bridge(), &["ip", "link", "set", &format!("{}n{n}b", self.tag), "up"])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting a namespace deletes its ends of the veth pairs and so the other ends.
        for name in self.namespaces.iter().rev() {
            if let Err(e) = ip(&["netns", "del", name]) {
                eprintln!("chaos: cleaning up namespace {name}: {e}");
            }
        }
        if let Some(root) = &self.root_link {
            // Normally gone with the bridge namespace already.
            let _ = ip(&["link", "del", root]);
        }
    }
}
