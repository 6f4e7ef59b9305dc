//! The operators' routes of a node, outside the signed RPC: `/cluster` (a node's view of
//! the cluster) and `/cluster/members` (membership changes). They take the cluster secret in
//! `SECRET_HEADER` instead of a signature, since they concern the nodes, not a colony.

use serde_json::Value;

/// The header the cluster secret travels in, to the operators' routes and between nodes.
pub use colonies_statemachine::wire::SECRET_HEADER;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    #[error("{addr} refused the cluster secret: {message}")]
    WrongSecret { addr: String, message: String },
    /// The node answered, and refused: its status and message.
    #[error("{status}: {message}")]
    Refused { status: u16, message: String },
}

/// Calls the operators' routes of any node with the cluster secret.
#[derive(Clone)]
pub struct Admin {
    http: reqwest::Client,
    scheme: &'static str,
    secret: String,
}

impl Admin {
    /// `http` carries the TLS setup (and the node identity, for mutual TLS) when `tls`.
    pub fn new(http: reqwest::Client, tls: bool, secret: impl Into<String>) -> Admin {
        Admin { http, scheme: crate::tls::scheme(tls), secret: secret.into() }
    }

    /// `/cluster` of the node at `addr`: members, leader, term and indexes as it sees them.
    pub async fn status(&self, addr: &str) -> Result<Value, AdminError> {
        let request = self.http.get(format!("{}://{addr}/cluster", self.scheme));
        self.send(addr, request).await
    }

    /// Asks the node at `addr` (the leader, or a node that forwards) to add node `nodeid`,
    /// listening at `member_addr`. Answers the node's message.
    pub async fn add_member(&self, addr: &str, nodeid: u64, member_addr: &str) -> Result<String, AdminError> {
        let body = serde_json::json!({ "nodeid": nodeid, "addr": member_addr }).to_string();
        let request = self.http.post(format!("{}://{addr}/cluster/members", self.scheme)).body(body);
        Ok(message_of(&self.send(addr, request).await?))
    }

    /// Asks the node at `addr` to remove node `nodeid` from the cluster.
    pub async fn remove_member(&self, addr: &str, nodeid: u64) -> Result<String, AdminError> {
        let request = self.http.delete(format!("{}://{addr}/cluster/members/{nodeid}", self.scheme));
        Ok(message_of(&self.send(addr, request).await?))
    }

    async fn send(&self, addr: &str, request: reqwest::RequestBuilder) -> Result<Value, AdminError> {
        let unreachable = |e: reqwest::Error| AdminError::Unreachable { addr: addr.into(), reason: e.to_string() };
        let answer = request.header(SECRET_HEADER, &self.secret).send().await.map_err(unreachable)?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or_default();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(AdminError::WrongSecret { addr: addr.into(), message: message_of(&body) });
        }
        if !status.is_success() {
            return Err(AdminError::Refused { status: status.as_u16(), message: message_of(&body) });
        }
        Ok(body)
    }
}

fn message_of(body: &Value) -> String {
    body["message"].as_str().unwrap_or_default().to_string()
}
