//! Where a call that needs the leader goes when it reaches a follower (design note 7):
//! a 307 redirect to the leader's API (clients re-send the body), a proxied call with
//! `--forward`, or a 503 when no leader is known.

use crate::config::Peers;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use colonies_client::envelope::RpcReply;
use colonies_statemachine::texts;

/// What to do with a call that needs the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Here,
    Leader { id: u64, addr: String },
    NoLeader,
}

pub fn route(me: u64, leader: Option<u64>, peers: &Peers) -> Route {
    match leader {
        Some(id) if id == me => Route::Here,
        Some(id) => match peers.0.get(&id) {
            Some(addr) => Route::Leader { id, addr: addr.clone() },
            None => Route::NoLeader,
        },
        None => Route::NoLeader,
    }
}

/// An RPC error reply with the HTTP status it names (§1.5).
pub fn failure(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply_response(code, &RpcReply::failure(status.into(), message))
}

pub fn reply_response(status: StatusCode, reply: &RpcReply) -> Response {
    let body = serde_json::to_vec(reply).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], body).into_response()
}

pub fn no_leader() -> Response {
    failure(503, texts::NO_LEADER)
}

/// 307 keeps the method and body, so ColonyOS's Go and Python clients re-POST to the leader.
/// The scheme is this node's own: the leader speaks TLS when this node does.
pub fn redirect(scheme: &str, addr: &str) -> Response {
    let location = format!("{scheme}://{addr}/api");
    let mut response = failure(307, &texts::not_the_leader(&location));
    *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A forwarded call that never reached the leader: its connection was refused, so nothing
/// was sent and the call may go to another leader without being applied twice.
#[derive(Debug)]
pub struct Undelivered(pub Response);

/// Sends the request body to the leader and relays its answer.
pub async fn forward(http: &reqwest::Client, scheme: &str, addr: &str, body: Bytes) -> Result<Response, Undelivered> {
    let url = format!("{scheme}://{addr}/api");
    match http.post(&url).body(body).send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            Ok(match answer.bytes().await {
                Ok(bytes) => {
                    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], bytes)
                        .into_response()
                }
                Err(e) => failure(502, &texts::leader_answer_cut(&e.to_string())),
            })
        }
        Err(e) => {
            let unreachable = failure(503, &texts::leader_unreachable(addr, &e.to_string()));
            if e.is_connect() { Err(Undelivered(unreachable)) } else { Ok(unreachable) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn calls_go_here_to_the_leader_or_nowhere() {
        let peers = Peers(BTreeMap::from([(1, "a:1".to_string()), (2, "b:2".to_string())]));
        assert_eq!(route(1, Some(1), &peers), Route::Here);
        assert_eq!(route(1, Some(2), &peers), Route::Leader { id: 2, addr: "b:2".into() });
        assert_eq!(route(1, None, &peers), Route::NoLeader);
        assert_eq!(route(1, Some(9), &peers), Route::NoLeader, "a leader we cannot address is no help");
    }

    /// A leader that died after the follower found it alive refuses the connection: the
    /// follower must be told nothing was sent, so it can try the next leader.
    #[tokio::test]
    async fn a_forward_to_a_closed_port_is_undelivered() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        let http = reqwest::Client::new();
        match forward(&http, "http", &addr, Bytes::from_static(b"{}")).await {
            Err(Undelivered(answer)) => assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE),
            Ok(answer) => panic!("a refused connection was taken as delivered: {}", answer.status()),
        }
    }

    #[test]
    fn a_redirect_names_the_leader_api() {
        let response = redirect("http", "127.0.0.1:5002");
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(response.headers()[header::LOCATION], "http://127.0.0.1:5002/api");
        let over_tls = redirect("https", "127.0.0.1:5002");
        assert_eq!(over_tls.headers()[header::LOCATION], "https://127.0.0.1:5002/api", "the scheme is kept");
    }
}
