//! Sending signed RPCs to a cluster: any node will do; followers redirect to the leader
//! (reqwest follows the 307 and re-sends the body), and a node that is down or has no
//! leader yet is skipped for the next one.

use crate::envelope::{Failure, RpcReply, RpcRequest};
use crate::identity::PrivateKey;
use crate::messages::{AddExecutorMsg, ApproveExecutorMsg, Message, Request, SubscribeProcessMsg};
use crate::tls::{TlsError, TlsSettings};
use colonies_statemachine::model::{Executor, Process};
use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a call keeps trying other nodes before giving up.
const FAILOVER_WINDOW: Duration = Duration::from_secs(15);
const RETRY_PAUSE: Duration = Duration::from_millis(100);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error reply.
    #[error("{}", .0.message)]
    Server(Failure),
    #[error("no node answered within {FAILOVER_WINDOW:?}: {0}")]
    Unreachable(String),
    #[error("the reply could not be read: {0}")]
    Decode(String),
    /// The TLS handshake failed (an unknown CA, a name the certificate does not carry): no
    /// retry can change that, so the call ends at once.
    #[error("TLS with {server} failed: {reason}")]
    Tls { server: String, reason: String },
    /// An earlier try may have reached the leader before its connection broke, and the
    /// retry was refused: the refusal may be that try's own effect (a close retried after
    /// it was applied finds the process closed), so whether the call took effect is unknown.
    #[error("the outcome is unknown: an earlier try may have been applied ({earlier}), and the retry was refused: {}", .refusal.message)]
    OutcomeUnknown { earlier: String, refusal: Failure },
}

/// An error with its causes on one line: reqwest's own text names only the URL, the cause
/// (a refused connection, an unknown certificate) is further down.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Whether rustls refused the handshake somewhere in `error`'s causes (an io::Error hides
/// its inner error from `source`, so it is looked into).
fn is_tls_refusal(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        let inner =
            e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|inner| inner as &dyn std::error::Error);
        if e.is::<rustls::Error>() || inner.is_some_and(|inner| inner.is::<rustls::Error>()) {
            return true;
        }
        cause = e.source();
    }
    false
}

impl ClientError {
    /// The HTTP status of a server error reply.
    pub fn status(&self) -> Option<i64> {
        match self {
            ClientError::Server(failure) => Some(failure.status),
            _ => None,
        }
    }
}

pub struct Client {
    servers: Vec<String>,
    http: reqwest::Client,
    /// The rustls configuration of `wss://` subscriptions; `None`: plain `http` and `ws`.
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The address that answered last, after following redirects: the leader, as far as
    /// we know. Tried before the list, which saves a redirect per call.
    leader_hint: RwLock<Option<String>>,
}

impl Client {
    /// `servers` are `host:port` of the cluster's nodes (one is enough, more give failover).
    pub fn new(servers: Vec<String>) -> Client {
        Self::with_tls(servers, None).expect("an HTTP client")
    }

    /// A client that speaks HTTPS and `wss` to the servers when `tls` is given.
    pub fn with_tls(servers: Vec<String>, tls: Option<&TlsSettings>) -> Result<Client, TlsError> {
        assert!(!servers.is_empty(), "a client needs at least one server");
        // A node that is down must cost a failed connect, not a hung call.
        let builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
        let (http, tls) = match tls {
            Some(settings) => {
                let config = settings.client_config()?;
                let http = builder.use_preconfigured_tls(config.clone()).build();
                (http.map_err(|e| TlsError::Http(e.to_string()))?, Some(Arc::new(config)))
            }
            None => (builder.build().map_err(|e| TlsError::Http(e.to_string()))?, None),
        };
        Ok(Client { servers, http, tls, leader_hint: RwLock::new(None) })
    }

    fn scheme(&self) -> &'static str {
        crate::tls::scheme(self.tls.is_some())
    }

    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    pub async fn send(&self, key: &PrivateKey, message: &Message) -> Result<Vec<u8>, ClientError> {
        let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
        let body = serde_json::to_vec(&request).map_err(|e| ClientError::Decode(e.to_string()))?;
        let started = Instant::now();
        let mut attempt = 0usize;
        let mut hint = self.leader_hint.read().map(|hint| hint.clone()).unwrap_or_default();
        // Set once a try failed after its request may have been sent (not at connecting).
        let mut maybe_applied: Option<String> = None;
        loop {
            let server = match hint.take() {
                Some(hint) => hint,
                None => {
                    // Every node tried once: give an election time before the next round.
                    if attempt > 0 && attempt.is_multiple_of(self.servers.len()) {
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                    attempt += 1;
                    self.servers[(attempt - 1) % self.servers.len()].clone()
                }
            };
            let reason =
                match self.http.post(format!("{}://{server}/api", self.scheme())).body(body.clone()).send().await {
                    Err(e) if is_tls_refusal(&e) => return Err(ClientError::Tls { server, reason: describe(&e) }),
                    Err(e) => {
                        self.forget_leader(&server);
                        let reason = describe(&e);
                        if !e.is_connect() {
                            maybe_applied = Some(reason.clone());
                        }
                        reason
                    }
                    Ok(answer) => {
                        let answered_by = answer.url().authority().to_string();
                        let status = answer.status().as_u16();
                        let bytes = answer.bytes().await.map_err(|e| ClientError::Decode(e.to_string()))?;
                        let reply: RpcReply = serde_json::from_slice(&bytes)
                            .map_err(|_| ClientError::Decode(String::from_utf8_lossy(&bytes).into_owned()))?;
                        match reply.into_result() {
                            // No leader yet (an election is on): another node may know one.
                            Err(failure) if status == 503 && failure.status == 503 => {
                                self.forget_leader(&server);
                                failure.message
                            }
                            result => {
                                if let Ok(mut hint) = self.leader_hint.write() {
                                    *hint = Some(answered_by);
                                }
                                return match (result, maybe_applied) {
                                    (Err(refusal), Some(earlier)) => {
                                        Err(ClientError::OutcomeUnknown { earlier, refusal })
                                    }
                                    (result, _) => result.map_err(ClientError::Server),
                                };
                            }
                        }
                    }
                };
            if started.elapsed() > FAILOVER_WINDOW {
                return Err(ClientError::Unreachable(reason));
            }
        }
    }

    fn forget_leader(&self, server: &str) {
        if let Ok(mut hint) = self.leader_hint.write()
            && hint.as_deref() == Some(server)
        {
            *hint = None;
        }
    }

    /// Waits over a node's `/pubsub` websocket (spec §7) until the process enters
    /// `message.state`: its state then, or `None` when the subscription's timeout ran out
    /// or the node went away. Any node will do (each serves its applied state); the first
    /// that accepts the connection is used.
    pub async fn subscribe_process(
        &self,
        key: &PrivateKey,
        message: SubscribeProcessMsg,
    ) -> Result<Option<Process>, ClientError> {
        use tokio_tungstenite::tungstenite::Message as Frame;
        let message = Message::from(message);
        let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), key);
        let text = serde_json::to_string(&request).map_err(|e| ClientError::Decode(e.to_string()))?;
        let mut unreachable = String::new();
        for server in &self.servers {
            let mut socket = match tokio::time::timeout(CONNECT_TIMEOUT, self.websocket(server)).await {
                Ok(Ok(socket)) => socket,
                Ok(Err(e)) => {
                    unreachable = e.to_string();
                    continue;
                }
                Err(_) => {
                    unreachable = format!("{server}: no websocket within {CONNECT_TIMEOUT:?}");
                    continue;
                }
            };
            if socket.send(Frame::text(text.clone())).await.is_err() {
                return Ok(None);
            }
            while let Some(Ok(frame)) = socket.next().await {
                let Frame::Text(reply) = frame else { continue };
                let reply: RpcReply =
                    serde_json::from_str(reply.as_str()).map_err(|e| ClientError::Decode(e.to_string()))?;
                let json = reply.into_result().map_err(ClientError::Server)?;
                return serde_json::from_slice(&json).map(Some).map_err(|e| ClientError::Decode(e.to_string()));
            }
            return Ok(None);
        }
        Err(ClientError::Unreachable(unreachable))
    }

    /// A `/pubsub` websocket to `server`: `wss` over rustls when the client speaks TLS.
    async fn websocket(&self, server: &str) -> Result<Socket, String> {
        let Some(config) = &self.tls else {
            let (socket, _) =
                tokio_tungstenite::connect_async(format!("ws://{server}/pubsub")).await.map_err(|e| e.to_string())?;
            return Ok(socket);
        };
        let host = server.rsplit_once(':').map_or(server, |(host, _)| host);
        let name = rustls::pki_types::ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .map_err(|e| format!("{server}: {e}"))?
            .to_owned();
        let tcp = tokio::net::TcpStream::connect(server).await.map_err(|e| format!("{server}: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("{server}: {e}"))?;
        let stream = tokio_tungstenite::MaybeTlsStream::Rustls(tls);
        let (socket, _) = tokio_tungstenite::client_async(format!("wss://{server}/pubsub"), stream)
            .await
            .map_err(|e| e.to_string())?;
        Ok(socket)
    }

    /// Registers `executor` and approves it, both signed by its colony's owner: what a new
    /// executor needs before it may take work. Answers the executor as registered.
    pub async fn add_approved_executor(
        &self,
        colony_owner: &PrivateKey,
        executor: Executor,
    ) -> Result<Executor, ClientError> {
        let approve =
            ApproveExecutorMsg { colonyname: executor.colonyname.clone(), executorname: executor.executorname.clone() };
        let added = self.call(colony_owner, AddExecutorMsg { executor: Some(executor) }).await?;
        self.call(colony_owner, approve).await?;
        Ok(added)
    }

    /// Sends `message` and decodes the reply as the type the server answers it with.
    pub async fn call<M: Request>(&self, key: &PrivateKey, message: M) -> Result<M::Reply, ClientError> {
        let json = self.send(key, &message.into()).await?;
        serde_json::from_slice(&json).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_tls_refusal_is_found_below_the_io_error_and_described() {
        let refused =
            Outer(std::io::Error::other(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)));
        assert!(is_tls_refusal(&refused));
        assert!(describe(&refused).contains("invalid peer certificate"), "{}", describe(&refused));
        let down = Outer(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!is_tls_refusal(&down));
        assert!(describe(&down).starts_with("error sending request: "), "{}", describe(&down));
    }

    /// The 30-minute chaos run: a close reached the leader, which applied it and died
    /// before answering; the client's retry on the next leader was refused ("Tried to set
    /// failed process as failed") and that refusal was returned as the call's answer,
    /// though the call had taken effect. A refusal after a try that may have been applied
    /// is no final answer.
    #[tokio::test]
    async fn a_refusal_after_a_try_that_may_have_been_applied_is_an_unknown_outcome() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            // The first try is read, then its connection dropped without an answer.
            let (mut first, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0u8; 64 * 1024];
            let _ = first.read(&mut buffer).await.unwrap();
            drop(first);
            // The retry is refused.
            let (mut retry, _) = listener.accept().await.unwrap();
            let _ = retry.read(&mut buffer).await.unwrap();
            let body = serde_json::to_vec(&RpcReply::failure(400, "Tried to set failed process as failed")).unwrap();
            let head =
                format!("HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
            retry.write_all(head.as_bytes()).await.unwrap();
            retry.write_all(&body).await.unwrap();
        });
        let client = Client::new(vec![addr]);
        let key = PrivateKey::generate();
        let message = Message::GetServerInfo(Default::default());
        match client.send(&key, &message).await {
            Err(ClientError::OutcomeUnknown { refusal, .. }) => assert_eq!(refusal.status, 400),
            other => panic!("the retry's refusal was taken as the answer: {other:?}"),
        }
        server.await.unwrap();
    }
}
