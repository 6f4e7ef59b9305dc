//! The colonies server node: the HTTP API, leader routing, the write path and the
//! leader's own duties.

pub mod config;
pub mod dispatch;
pub mod routing;
