//! Asking the nodes how they are: health, readiness, the leader they name, their state
//! digests. Every wait is bounded by the time given.

use crate::http::{number_after, string_after};
use crate::{Cluster, Node};
use std::time::{Duration, Instant};

/// How often a wait asks again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

impl Cluster {
    /// Whether every running node answers `/health` within `within`.
    pub fn healthy_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        for i in 0..self.nodes.len() {
            while self.nodes[i].is_running()
                && self.get(&self.nodes[i].addr(), "/health", "").is_none_or(|(status, _)| status != 200)
            {
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(POLL_INTERVAL);
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
            std::thread::sleep(POLL_INTERVAL);
        }
        false
    }

    /// The index of the node every running node names as leader, once they agree within
    /// `within`; otherwise what the nodes last named.
    pub fn leader_within(&mut self, within: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + within;
        loop {
            let mut seen = Vec::new();
            for i in 0..self.nodes.len() {
                if self.nodes[i].is_running() {
                    seen.push(self.leader_seen_by(i));
                }
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
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The leader node `i` names in `/cluster`, if it answers and names one.
    pub fn leader_seen_by(&self, i: usize) -> Option<u64> {
        self.status_number(i, "leader")
    }

    /// A number in node `i`'s `/cluster` status (`term`, `last_applied`, ...).
    pub fn status_number(&self, i: usize, field: &str) -> Option<u64> {
        let (_, body) = self.admin_get(&self.nodes[i].addr(), "/cluster")?;
        number_after(&body, field)
    }

    /// Whether every running node reports the same last applied index within `within`:
    /// caught up, without the cost of a digest of the state.
    pub fn applied_alike_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let running: Vec<usize> = (0..self.nodes.len()).filter(|i| self.nodes[*i].is_running()).collect();
            let applied: Vec<Option<u64>> = running.iter().map(|i| self.status_number(*i, "last_applied")).collect();
            if applied.first().is_some_and(Option::is_some) && applied.windows(2).all(|w| w[0] == w[1]) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// (last applied index, state digest) of node `i`, if it answers.
    pub fn digest(&self, i: usize) -> Option<(u64, String)> {
        let (_, body) = self.admin_get(&self.nodes[i].addr(), "/cluster/digest")?;
        Some((number_after(&body, "last_applied")?, string_after(&body, "digest")?))
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
            std::thread::sleep(POLL_INTERVAL * 2);
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
}
