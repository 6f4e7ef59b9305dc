pub mod envelope;
pub mod identity;
pub mod messages;
pub mod rpc;
pub mod tls;
