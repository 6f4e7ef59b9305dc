//! The colony state machine: ColonyOS's domain model and the deterministic apply of the
//! commands that the Raft log replicates.
//!
//! Nothing here reads a clock, draws a random number or does I/O: the node that proposes a
//! command stamps the time and any new ids into it, so every replica computes the same state.

mod arrivals;
pub mod blueprints;
pub mod counters;
pub mod error;
mod extended;
pub mod json;
pub mod model;
pub mod time;
pub mod wire;
mod workflow;

pub use error::{ApiError, ApiResult};
pub use json::Json;
pub use time::Time;
pub mod auth;
pub mod channels;
pub mod command;
pub mod crons;
pub mod files;
pub mod generators;
mod liveness;
pub mod locations;
mod members;
mod ops;
pub mod queries;
pub mod resources;
mod retention;
pub mod schedule;
mod scheduled;
pub mod state;
pub mod texts;
pub mod versioned;

pub use command::{Command, HeardFrom, Op};
pub use ops::{MAX_ATTRIBUTES_PER_PROCESS, MAX_LOGS_PER_PROCESS};
pub use state::{Event, PointInTime, Reply, State};
