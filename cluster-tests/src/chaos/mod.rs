//! A chaos suite (issue 12): a recording load of submitters and executors, a nemesis that
//! kills, pauses, partitions and starves nodes, and a checker that judges the recorded
//! history against what the cluster promises:
//!
//! - every acknowledged submit exists at the end, and every node holds the same state;
//! - a process is closed with an acknowledgement on one attempt only, and never runs again
//!   after that;
//! - only the executor that holds a process can close it, and its close is not refused
//!   while it holds it;
//! - nothing is left waiting, or running past its exec deadline, once the faults are healed
//!   and the executors had time to drain the queue.
//!
//! `run::run` puts them together; `tests/chaos.rs` runs a short schedule in CI and
//! `src/bin/chaos.rs` runs any duration and mix of faults.

pub mod checker;
pub mod disk;
pub mod env;
pub mod history;
pub mod load;
pub mod nemesis;
pub mod net;
pub mod run;
