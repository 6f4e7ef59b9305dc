//! The Rust SDK of colonies-rs: what a program needs to talk to a ColonyOS cluster, this
//! one's or the original server.
//!
//! - [`identity`]: secp256k1 keys and the ids derived from them (SHA3-256 of the public key).
//! - [`envelope`]: the signed request envelope and the reply envelope of `POST /api`.
//! - [`messages`]: every RPC message, each naming the type of its reply ([`Request`]).
//! - [`rpc`]: [`Client`], which signs calls, follows a follower's redirect to the leader,
//!   fails over across the cluster's nodes and subscribes over the `/pubsub` websocket.
//! - [`tls`]: HTTPS and `wss` with the system roots, a CA file, or a client identity.
//! - [`admin`]: the operators' routes (`/cluster`, membership) with the cluster secret.
//!
//! It is not a server and holds no state beyond a connection pool and a guess of the leader.
//!
//! ```no_run
//! use colonies_client::{Client, GetProcessMsg, PrivateKey};
//! # async fn example() -> Result<(), colonies_client::ClientError> {
//! let client = Client::new(vec!["127.0.0.1:50080".into(), "127.0.0.1:50081".into()]);
//! let key = PrivateKey::from_hex("ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05").unwrap();
//! let process = client.call(&key, GetProcessMsg { processid: "…".into() }).await?;
//! println!("{:?}", process.state);
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub mod envelope;
pub mod identity;
pub mod messages;
pub mod rpc;
pub mod tls;

pub use identity::PrivateKey;
pub use messages::*;
pub use rpc::{Client, ClientError};
