//! The cluster a chaos run works on: three nodes, in namespaces of their own when the
//! machine allows (for partitions), one of them with its datadir on a small tmpfs (for a
//! full disk), all with a low `--snapshot-logs` so that snapshots are taken and installed
//! during the run.

use super::disk::Tmpfs;
use super::history::Recorder;
use super::net::Netns;
use crate::{Cluster, Placement};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct EnvConfig {
    pub nodes: usize,
    /// Log entries between snapshots (`--snapshot-logs`).
    pub snapshot_logs: u64,
    /// Build the namespace network (needed by the partition fault).
    pub network: bool,
    /// Put one node's datadir on a tmpfs of this many MiB (needed by the full-disk fault).
    pub disk_mib: Option<u64>,
    /// How long the cluster may take to come back after a fault is healed.
    pub recovery: Duration,
}

impl Default for EnvConfig {
    fn default() -> Self {
        EnvConfig {
            nodes: 3,
            snapshot_logs: 200,
            network: true,
            disk_mib: Some(128),
            recovery: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("the cluster did not come back within {within:?}: {what}")]
    NotRecovered { within: Duration, what: String },
}

/// The cluster and what it runs on. Fields drop in order: the nodes die first, then the
/// tmpfs is unmounted and the namespaces are deleted.
pub struct ChaosCluster {
    pub cluster: Cluster,
    pub disk: Option<Tmpfs>,
    /// The node whose datadir is on `disk`.
    pub disk_node: usize,
    pub net: Option<Netns>,
    pub config: EnvConfig,
}

impl ChaosCluster {
    /// Starts the nodes; a network or disk the machine does not allow is left out, with a
    /// note saying why (the faults that need it are then skipped).
    pub fn start(config: &EnvConfig, recorder: &Recorder) -> ChaosCluster {
        let net = if config.network {
            Netns::create(config.nodes)
                .inspect_err(|e| recorder.note(format!("no namespace network, partitions are skipped: {e}")))
                .ok()
        } else {
            None
        };
        let disk = match config.disk_mib {
            Some(mib) => Tmpfs::mount(mib)
                .inspect_err(|e| recorder.note(format!("no tmpfs, the full-disk fault is skipped: {e}")))
                .ok(),
            None => None,
        };
        let disk_node = config.nodes - 1;
        let placements: Vec<Placement> = (0..config.nodes)
            .map(|n| Placement {
                host: net.as_ref().map(|net| net.host(n)).unwrap_or_default(),
                netns: net.as_ref().map(|net| net.netns(n)),
                datadir: disk
                    .as_ref()
                    .filter(|_| n == disk_node)
                    .map(|disk| disk.path().join(format!("node{}", n + 1))),
                ..Placement::default()
            })
            .collect();
        let snapshot_logs = config.snapshot_logs.to_string();
        let cluster = Cluster::start_placed(&placements, &["--snapshot-logs", &snapshot_logs]);
        ChaosCluster { cluster, disk, disk_node, net, config: config.clone() }
    }

    pub fn addrs(&self) -> Vec<String> {
        self.cluster.addrs()
    }

    /// The leader's index once the running nodes agree on one.
    pub fn leader(&mut self) -> Result<usize, EnvError> {
        let within = self.config.recovery;
        self.cluster
            .leader_within(within)
            .map_err(|seen| EnvError::NotRecovered { within, what: format!("no agreed leader, saw {seen}") })
    }

    /// Brings the cluster back after a fault: a node that ended although no fault left it
    /// down is an anomaly (it is started again so the run can go on); then every node must
    /// be ready and agree on a leader.
    pub fn recover(&mut self, recorder: &Recorder) -> Result<usize, EnvError> {
        for i in 0..self.cluster.nodes.len() {
            if let Some(status) = self.cluster.nodes[i].exit_status() {
                recorder.anomaly(format!(
                    "node {} ended on its own ({status}); its log ends:\n{}",
                    i + 1,
                    tail(&self.cluster.nodes[i].log(), 30)
                ));
                self.cluster.spawn(i);
            }
        }
        let within = self.config.recovery;
        for i in 0..self.cluster.nodes.len() {
            if !self.cluster.ready_within(i, within) {
                return Err(EnvError::NotRecovered { within, what: format!("node {} is not ready", i + 1) });
            }
        }
        self.leader()
    }
}

/// The last `lines` lines of a node log, without the terminal colours of its logger and
/// with each line cut at 400 characters (a rejected append names every entry it carried).
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|line| strip_colours(line).chars().take(400).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Drops ANSI escape sequences (ESC '[' ... final letter).
fn strip_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tail_is_the_last_lines_without_colours() {
        let log = "one\n\u{1b}[2m2026\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m two\nthree";
        assert_eq!(super::tail(log, 2), "2026 ERROR two\nthree");
        assert_eq!(super::tail(log, 9).lines().count(), 3);
    }
}
