//! The faults, one function each. Each runs on a plain thread (the harness blocks), records
//! itself in the history, heals what it broke and waits for the cluster to come back. Every
//! wait is bounded.

use super::env::{ChaosCluster, EnvError, tail};
use super::history::{OpKind, Outcome, Recorder};
use rand::Rng;
use rand::rngs::StdRng;
use std::fmt;
use std::str::FromStr;
use std::thread::sleep;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL one node (the leader half of the time), restart it.
    KillOne,
    /// SIGKILL every node right after an assignment, restart the old leader first.
    KillAll,
    /// SIGSTOP the leader for a few seconds, then SIGCONT.
    PauseLeader,
    /// Cut the leader off from the other nodes and the clients, then heal.
    PartitionLeader,
    /// Fill the disk of one node; it must stop, and come back once there is room.
    DiskFull,
    /// Kill a follower that catches up through a snapshot, twice, while it installs it.
    SnapshotKill,
    /// Several quick restarts of random nodes, one at a time.
    RandomRestarts,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::KillOne,
        Fault::PauseLeader,
        Fault::PartitionLeader,
        Fault::KillAll,
        Fault::DiskFull,
        Fault::SnapshotKill,
        Fault::RandomRestarts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::KillOne => "kill-one",
            Fault::KillAll => "kill-all",
            Fault::PauseLeader => "pause-leader",
            Fault::PartitionLeader => "partition-leader",
            Fault::DiskFull => "disk-full",
            Fault::SnapshotKill => "snapshot-kill",
            Fault::RandomRestarts => "random-restarts",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Fault, String> {
        Fault::ALL.into_iter().find(|f| f.name() == text).ok_or_else(|| {
            let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
            format!("unknown fault {text:?}; the faults are {}", names.join(", "))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error("{0}")]
    Setup(String),
}

/// Injects `fault` and heals it. A fault the machine does not allow is noted and skipped.
pub fn inject(fault: Fault, env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    println!("chaos: {fault}");
    match fault {
        Fault::KillOne => kill_one(env, recorder, rng),
        Fault::KillAll => kill_all(env, recorder, rng),
        Fault::PauseLeader => pause_leader(env, recorder, rng),
        Fault::PartitionLeader => partition_leader(env, recorder, rng),
        Fault::DiskFull => disk_full(env, recorder),
        Fault::SnapshotKill => snapshot_kill(env, recorder, rng),
        Fault::RandomRestarts => random_restarts(env, recorder, rng),
    }
}

fn millis(rng: &mut StdRng, from: u64, to: u64) -> Duration {
    Duration::from_millis(rng.random_range(from..=to))
}

pub fn kill_one(env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    let leader = env.leader()?;
    let victim = if rng.random_bool(0.5) { leader } else { rng.random_range(0..env.cluster.nodes.len()) };
    let started = recorder.now();
    env.cluster.kill(victim);
    let down = millis(rng, 500, 3000);
    sleep(down);
    env.cluster.spawn(victim);
    let role = if victim == leader { "the leader" } else { "a follower" };
    recorder.fault("kill-one", format!("node {} ({role}) down {down:?}", victim + 1), started);
    env.recover(recorder)?;
    Ok(())
}

/// Kills every node a moment after an executor received an assignment (so its close comes
/// to a cluster that must remember it), and brings the old leader back a second before the
/// others: it may lead again at once, with a state that lags what it had committed.
pub fn kill_all(env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    let leader = env.leader()?;
    let fresh_assign =
        recorder.wait_for(Duration::from_secs(10), |op| matches!(op.kind, OpKind::Assign { outcome: Outcome::Ok(_) }));
    let started = recorder.now();
    for i in 0..env.cluster.nodes.len() {
        env.cluster.kill(i);
    }
    sleep(millis(rng, 100, 500));
    env.cluster.spawn(leader);
    let alone = millis(rng, 1000, 2500);
    sleep(alone);
    for i in (0..env.cluster.nodes.len()).filter(|i| *i != leader) {
        env.cluster.spawn(i);
    }
    let after = if fresh_assign { "right after an assignment" } else { "(no assignment seen for 10 s)" };
    recorder.fault("kill-all", format!("all nodes {after}; old leader {} back {alone:?} first", leader + 1), started);
    env.recover(recorder)?;
    Ok(())
}

pub fn pause_leader(env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    let leader = env.leader()?;
    let started = recorder.now();
    env.cluster.signal(leader, "STOP");
    let paused = millis(rng, 2000, 5000);
    sleep(paused);
    env.cluster.signal(leader, "CONT");
    recorder.fault("pause-leader", format!("node {} stopped {paused:?}", leader + 1), started);
    env.recover(recorder)?;
    Ok(())
}

pub fn partition_leader(env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    if env.net.is_none() {
        recorder.note("partition-leader skipped: no namespace network".into());
        return Ok(());
    }
    let leader = env.leader()?;
    let net = env.net.as_ref().expect("checked above");
    let started = recorder.now();
    net.isolate(leader).map_err(|e| NemesisError::Setup(e.to_string()))?;
    let cut = millis(rng, 4000, 8000);
    // The majority elects a new leader meanwhile; the isolated node cannot be asked (the
    // test reaches it through the bridge too), so nothing is read from it until healed.
    sleep(cut);
    net.heal(leader).map_err(|e| NemesisError::Setup(e.to_string()))?;
    recorder.fault("partition-leader", format!("node {} isolated {cut:?}", leader + 1), started);
    env.recover(recorder)?;
    Ok(())
}

/// Fills the tmpfs under one node's datadir while the load writes. The node must end (with
/// a non-zero status); one that keeps running with a full disk is an anomaly. Then the
/// space is freed and the node started again.
pub fn disk_full(env: &mut ChaosCluster, recorder: &Recorder) -> Result<(), NemesisError> {
    let Some(disk) = env.disk.as_ref() else {
        recorder.note("disk-full skipped: no tmpfs".into());
        return Ok(());
    };
    let node = env.disk_node;
    let started = recorder.now();
    let log_before = env.cluster.nodes[node].log().len();
    let filled = disk.fill().map_err(|e| NemesisError::Setup(format!("filling the disk: {e}")))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut exit = None;
    while Instant::now() < deadline {
        exit = env.cluster.nodes[node].exit_status();
        if exit.is_some() {
            break;
        }
        sleep(Duration::from_millis(200));
    }
    let outcome = match exit {
        Some(status) if !status.success() => format!("ended ({status})"),
        Some(status) => {
            recorder.anomaly(format!("node {} ended with success on a full disk ({status})", node + 1));
            format!("ended ({status})")
        }
        None => {
            let log = env.cluster.nodes[node].log();
            // Whether it knew it had to stop tells a zombie from an exit that hangs.
            let said = if log.get(log_before..).is_some_and(|new| new.contains("the node stops")) {
                "logged that it stops but its process did not end"
            } else {
                "kept running"
            };
            recorder.anomaly(format!(
                "node {} {said} within 30 s of its disk filling up; its log ends:\n{}",
                node + 1,
                tail(&log, 20)
            ));
            env.cluster.kill(node);
            format!("{said}, killed")
        }
    };
    let disk = env.disk.as_ref().expect("checked above");
    disk.free().map_err(|e| NemesisError::Setup(format!("freeing the disk: {e}")))?;
    env.cluster.spawn(node);
    recorder.fault("disk-full", format!("node {} disk filled ({filled} MiB), {outcome}", node + 1), started);
    env.recover(recorder)?;
    Ok(())
}

/// A follower misses enough writes that the leader compacts past it, so it must catch up
/// through a snapshot; it is killed twice while it does, then left to finish.
pub fn snapshot_kill(env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    let leader = env.leader()?;
    let nodes = env.cluster.nodes.len();
    let follower = (leader + rng.random_range(1..nodes)) % nodes;
    let behind_from = env.cluster.digest(follower).map(|(applied, _)| applied).unwrap_or(0);
    let started = recorder.now();
    env.cluster.kill(follower);
    // The load keeps writing; wait (bounded) until the leader's log is purged past the
    // follower's last applied entry, so only a snapshot can bring it back.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut purged = 0;
    while Instant::now() < deadline {
        purged = env.cluster.status_number(leader, "purged").unwrap_or(0);
        if purged > behind_from {
            break;
        }
        sleep(Duration::from_millis(500));
    }
    let mut kills = Vec::new();
    for _ in 0..2 {
        env.cluster.spawn(follower);
        let after = millis(rng, 100, 1500);
        sleep(after);
        env.cluster.kill(follower);
        kills.push(format!("{after:?}"));
        sleep(millis(rng, 100, 500));
    }
    env.cluster.spawn(follower);
    let detail = format!(
        "node {} stopped at index {behind_from}, leader purged to {purged}; killed {} after restarts",
        follower + 1,
        kills.join(" and ")
    );
    recorder.fault("snapshot-kill", detail, started);
    env.recover(recorder)?;
    Ok(())
}

pub fn random_restarts(env: &mut ChaosCluster, recorder: &Recorder, rng: &mut StdRng) -> Result<(), NemesisError> {
    let rounds = rng.random_range(3..=6);
    let started = recorder.now();
    let mut victims = Vec::new();
    for _ in 0..rounds {
        let victim = rng.random_range(0..env.cluster.nodes.len());
        env.cluster.kill(victim);
        sleep(millis(rng, 0, 1500));
        env.cluster.spawn(victim);
        victims.push((victim + 1).to_string());
        // One node down at a time: the next waits until this one serves again.
        let within = env.config.recovery;
        if !env.cluster.ready_within(victim, within) {
            return Err(EnvError::NotRecovered { within, what: format!("node {} is not ready", victim + 1) }.into());
        }
        sleep(millis(rng, 200, 2000));
    }
    recorder.fault("random-restarts", format!("nodes {} in turn", victims.join(", ")), started);
    env.recover(recorder)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_named_on_the_command_line_as_they_print() {
        for fault in Fault::ALL {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
        }
        let unknown = "kill-everything".parse::<Fault>().unwrap_err();
        assert!(unknown.contains("kill-one, pause-leader"), "{unknown}");
    }
}
