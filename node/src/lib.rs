//! The colonies server node: the HTTP API (`/api`, `/pubsub`, health and readiness), the
//! authentication of every call at the edge, leader routing (redirects, forwarding), the
//! write path that batches commands into the Raft log, the long-poll of assign, and the
//! leader's own duties (timers, crons, generators, retention).
//!
//! It holds no rules of the state: what a command does, and who may send it, is decided by
//! `colonies_statemachine`'s `apply`; this crate decodes, checks limits, proposes and answers.

pub mod action;
mod api;
mod blueprints;
mod body;
pub mod build_info;
mod channel_pubsub;
mod clock;
pub mod cluster_metrics;
pub mod config;
pub mod cors;
mod digest;
pub mod dispatch;
mod files;
mod leader;
mod leadership;
pub mod limits;
mod listen;
mod liveness;
mod membership;
pub mod metrics;
mod node;
mod proposer;
mod pubsub;
pub mod routing;
mod server;
mod startup;
mod status;
mod subscription;
pub mod tls;
mod verify;
mod waiters;
mod webui;

pub use config::ServerConfig;
pub use server::{NodeError, run};
