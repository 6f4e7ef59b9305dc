//! A node listens before it has loaded its state. Opening the store and re-applying the log
//! since the last snapshot take seconds on a long log; until then the node answers: `/health`
//! says the process is alive, `/ready` and every other call say it is starting (a retryable
//! 503, so clients try another node). Each request looks at the gate anew, so a connection
//! opened during the start is served fully once the node is ready.

use crate::routing::failure;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

/// The full router, once the node has one.
#[derive(Clone, Default)]
pub struct Gate(Arc<OnceLock<Router>>);

impl Gate {
    /// From now on, requests go to `app`.
    pub fn open(&self, app: Router) {
        if self.0.set(app).is_err() {
            tracing::warn!("the node's router was set twice; the first one stays");
        }
    }

    /// The router to serve from the start: it hands each request to the full router once
    /// the gate is open.
    pub fn router(&self) -> Router {
        Router::new().fallback(pass).with_state(self.clone())
    }
}

async fn pass(State(gate): State<Gate>, request: Request) -> Response {
    match gate.0.get() {
        Some(app) => match app.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        None if request.uri().path() == "/health" => StatusCode::OK.into_response(),
        None => failure(503, "This node is starting: it is loading its state; retry shortly or call another node"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;

    async fn status(router: &Router, path: &str) -> StatusCode {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        router.clone().oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_starting_node_is_alive_but_serves_nothing_until_the_gate_opens() {
        let gate = Gate::default();
        let served = gate.router();
        assert_eq!(status(&served, "/health").await, StatusCode::OK);
        assert_eq!(status(&served, "/ready").await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(&served, "/api").await, StatusCode::SERVICE_UNAVAILABLE);
        gate.open(Router::new().route("/ready", get(|| async { StatusCode::NO_CONTENT })));
        assert_eq!(status(&served, "/ready").await, StatusCode::NO_CONTENT, "the same router now passes calls on");
    }
}
