//! Reading `/api` bodies with bounded memory (issue 13). A body is read before its
//! signature can be checked, so whatever a stranger sends is buffered: each body is held
//! to `--max-body`, must arrive within `BODY_READ_TIMEOUT`, and all bodies being read or
//! handled at once share one budget, so ten thousand connections each sending 2 MiB cannot
//! take 20 GB.

use crate::routing::failure;
use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use colonies_statemachine::texts;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Time a client has to send a request body once its headers are in.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of `/api` bodies held at once, across all connections (raised to `--max-body` if
/// that is larger, so one request of the largest size always fits). A body waits for its
/// share as it arrives.
pub const MAX_BODY_BYTES_IN_FLIGHT: usize = 256 << 20;
/// A body found too large is still read (and thrown away) up to this size, within
/// `DRAIN_TIMEOUT`, before the 413 is sent: hyper closes a connection whose body was left
/// unread, and a client still writing then sees a broken pipe instead of the answer. A
/// larger body is refused without reading it.
pub const DRAIN_MAX: u64 = 8 << 20;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The budget is counted in KiB: `Semaphore` permits are `u32` per acquisition.
const UNIT: usize = 1024;

/// The memory budget of the bodies in flight.
pub struct BodyBudget(Arc<Semaphore>);

impl BodyBudget {
    pub fn new(bytes: usize) -> BodyBudget {
        BodyBudget(Arc::new(Semaphore::new(bytes.div_ceil(UNIT))))
    }
}

/// A body's share of the budget, given back when the request is answered.
pub struct Held {
    _permit: Option<OwnedSemaphorePermit>,
}

/// Reads a body of at most `limit` bytes within `timeout`. A body declared larger is
/// refused before any of it is read; one that turns out larger (chunked) is refused at the
/// limit. Either way the answer is a 413 in the ColonyOS error envelope, which every client
/// can read.
pub async fn read_body(
    body: Body,
    limit: usize,
    budget: &BodyBudget,
    timeout: Duration,
) -> Result<(Bytes, Held), Response> {
    let too_large = || failure(413, &texts::body_too_large(limit));
    let declared = body.size_hint().lower();
    if declared > limit as u64 {
        if declared <= DRAIN_MAX {
            drain(body, DRAIN_MAX).await;
        }
        return Err(too_large());
    }
    let read = async {
        let mut body = body;
        let mut bytes = Vec::new();
        let mut held: Option<OwnedSemaphorePermit> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| failure(400, &texts::body_unreadable(&e.to_string())))?;
            let Ok(data) = frame.into_data() else { continue };
            if bytes.len() + data.len() > limit {
                drain(body, DRAIN_MAX.saturating_sub((bytes.len() + data.len()) as u64)).await;
                return Err(too_large());
            }
            let units = u32::try_from(data.len().div_ceil(UNIT)).unwrap_or(u32::MAX);
            let Ok(permit) = budget.0.clone().acquire_many_owned(units).await else {
                return Err(failure(503, texts::SHUTTING_DOWN));
            };
            match &mut held {
                Some(held) => held.merge(permit),
                None => held = Some(permit),
            }
            bytes.extend_from_slice(&data);
        }
        Ok((Bytes::from(bytes), Held { _permit: held }))
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(result) => result,
        Err(_) => Err(failure(408, &texts::body_too_slow(timeout.as_secs_f32()))),
    }
}

/// Reads and discards up to `at_most` more bytes of `body`, for at most `DRAIN_TIMEOUT`.
async fn drain(mut body: Body, at_most: u64) {
    let discard = async {
        let mut seen = 0u64;
        while seen <= at_most
            && let Some(Ok(frame)) = body.frame().await
        {
            seen += frame.data_ref().map_or(0, |data| data.len() as u64);
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, discard).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `/api` body: its status, and the error envelope's status and message.
    async fn read(body: Body, limit: usize, budget: &BodyBudget) -> Result<(Bytes, Held), (u16, i64, String)> {
        let response = match read_body(body, limit, budget, Duration::from_millis(300)).await {
            Ok(read) => return Ok(read),
            Err(response) => response,
        };
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let reply: colonies_client::envelope::RpcReply = serde_json::from_slice(&bytes).unwrap();
        let failure = reply.into_result().unwrap_err();
        Err((status, failure.status, failure.message))
    }

    /// A body sent in chunks, with no length declared up front.
    fn chunked(chunks: usize, size: usize) -> Body {
        let (mut sender, body) = http_body_util::Channel::<Bytes, std::convert::Infallible>::new(1);
        tokio::spawn(async move {
            for _ in 0..chunks {
                if sender.send_data(Bytes::from(vec![b'x'; size])).await.is_err() {
                    return;
                }
            }
        });
        Body::new(body)
    }

    #[tokio::test]
    async fn bodies_over_the_limit_get_a_413_envelope_declared_or_not() {
        let budget = BodyBudget::new(1 << 20);
        assert_eq!(read(Body::from(vec![b'x'; 100]), 100, &budget).await.ok().unwrap().0.len(), 100);
        assert_eq!(read(chunked(4, 25), 100, &budget).await.ok().unwrap().0.len(), 100);
        for body in [Body::from(vec![b'x'; 101]), chunked(5, 25), chunked(1_000_000, 1024)] {
            let (status, envelope_status, message) = read(body, 100, &budget).await.err().unwrap();
            assert_eq!((status, envelope_status), (413, 413));
            assert!(message.contains("at most 100 bytes"), "{message}");
        }
    }

    #[tokio::test]
    async fn bodies_in_flight_share_one_budget() {
        let budget = BodyBudget::new(8 * UNIT);
        let first = read(Body::from(vec![b'x'; 6 * UNIT]), 1 << 20, &budget).await.ok().unwrap();
        // While the first is held, a second that does not fit waits, until its time is up.
        let (status, _, message) = read(Body::from(vec![b'x'; 6 * UNIT]), 1 << 20, &budget).await.err().unwrap();
        assert_eq!(status, 408, "{message}");
        // Small ones still fit beside it.
        assert!(read(Body::from(vec![b'x'; UNIT]), 1 << 20, &budget).await.is_ok());
        drop(first);
        assert!(read(Body::from(vec![b'x'; 6 * UNIT]), 1 << 20, &budget).await.is_ok());
    }

    #[tokio::test]
    async fn a_silent_body_times_out_with_a_408() {
        let (_sender, body) = http_body_util::Channel::<Bytes, std::convert::Infallible>::new(1);
        let (status, _, message) = read(Body::new(body), 100, &BodyBudget::new(1 << 20)).await.err().unwrap();
        assert_eq!(status, 408);
        assert!(message.contains("did not arrive"), "{message}");
    }
}
