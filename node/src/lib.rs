//! The colonies server node: the HTTP API, leader routing, the write path and the
//! leader's own duties.

mod api;
mod blueprints;
mod body;
pub mod build_info;
pub mod config;
pub mod cors;
pub mod dispatch;
mod leader;
mod leadership;
pub mod limits;
mod listen;
mod liveness;
mod membership;
mod proposer;
mod pubsub;
pub mod routing;
mod server;
mod startup;
mod status;
pub mod tls;
mod verify;
mod waiters;
mod webui;

pub use config::ServerConfig;
pub use server::{NodeError, run};
