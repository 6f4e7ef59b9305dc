//! One node process of a local cluster: where it listens, its datadir, its output, and how
//! its process is doing.

use std::path::PathBuf;
use std::process::{Child, ExitStatus};

pub struct Node {
    pub id: u64,
    pub port: u16,
    pub datadir: PathBuf,
    /// The address the node listens on and its peers call it at.
    pub host: String,
    /// The network namespace the node runs in (`ip netns exec`), if not the caller's own.
    pub netns: Option<String>,
    /// The file its output goes to, when the cluster keeps logs (`Output::Files`).
    pub(crate) log: Option<PathBuf>,
    pub(crate) child: Option<Child>,
    /// How the last process of this node ended, once it did.
    pub(crate) exit: Option<ExitStatus>,
}

/// Where one node runs: its listen address and port, namespace and datadir.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// Listen address; 127.0.0.1 when empty.
    pub host: String,
    /// A free port when `None`.
    pub port: Option<u16>,
    pub netns: Option<String>,
    /// `node<id>` under the cluster's folder when `None` (e.g. a mount of the caller's own).
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
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if let Some(child) = self.child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            self.exit = Some(status);
            self.child = None;
        }
        self.exit
    }

    /// The exit code of a node process that has ended by itself.
    pub fn exit_code(&mut self) -> Option<i32> {
        self.exit_status().and_then(|status| status.code())
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

    /// The node's output so far, for failure messages (empty when it is not kept).
    pub fn log(&self) -> String {
        self.log.as_ref().and_then(|log| std::fs::read_to_string(log).ok()).unwrap_or_default()
    }
}
