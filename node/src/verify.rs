//! The work a node does on an `/api` body before it knows who sent it: parse the envelope,
//! hash the payload and recover the signer, decode and check the message (§1.3). For a
//! large body that is milliseconds of CPU in a release build and far more in a debug one,
//! and anyone can ask for it: eight loops of 1.4 MB requests with made-up signatures cost
//! a debug-build leader eleven elections in ten seconds, its async workers busy hashing
//! while heartbeats waited. Large bodies are therefore verified on the blocking pool, one
//! at a time, which leaves the other core and the async workers to Raft (issue 13).

use crate::limits;
use colonies_client::envelope::{RpcRequest, decode_payload};
use colonies_client::identity::RecentSigners;
use colonies_client::messages::Message;
use colonies_statemachine::{ApiError, texts};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Bodies up to this size are verified on the async worker that read them: that is every
/// call of a usual client (an executor's assign poll is a few hundred bytes).
pub const INLINE_VERIFY_BYTES: usize = 64 << 10;
/// Larger bodies verified at once, on the blocking pool.
pub const LARGE_VERIFY_SLOTS: usize = 1;

/// A request as far as it can be understood without the state.
pub enum Prepared {
    /// `versionmsg` or `getserverinfomsg`: answered without a signature (§1.3 steps 3-4).
    Unsigned(RpcRequest),
    /// A signed message that passed the limits. `json` is its decoded payload.
    Signed { caller: String, json: Vec<u8>, message: Box<Message> },
}

/// Parses, authenticates, decodes and checks `body`; an error is the reply's status and
/// message.
pub fn prepare(signers: &RecentSigners, body: &[u8]) -> Result<Prepared, ApiError> {
    let request: RpcRequest = serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if matches!(request.payloadtype.as_str(), "versionmsg" | "getserverinfomsg") {
        return Ok(Prepared::Unsigned(request));
    }
    let caller = signers.recover(&request.payload, &request.signature).map_err(|e| ApiError::forbidden(e.0))?;
    // An undecodable payload reads as empty, which then fails as invalid JSON (§12.38).
    let json = decode_payload(&request.payload).unwrap_or_default();
    let message = Message::decode(&request.payloadtype, &json).map_err(|e| ApiError::new(e.status(), e.to_string()))?;
    limits::check_message(&message)?;
    Ok(Prepared::Signed { caller, json, message: Box::new(message) })
}

/// Large-body verification slots.
pub struct Verifier(Arc<Semaphore>);

impl Default for Verifier {
    fn default() -> Self {
        Verifier(Arc::new(Semaphore::new(LARGE_VERIFY_SLOTS)))
    }
}

impl Verifier {
    /// `prepare`, inline for a small body, else on the blocking pool once a slot is free.
    pub async fn prepare(&self, signers: &Arc<RecentSigners>, body: axum::body::Bytes) -> Result<Prepared, ApiError> {
        if body.len() <= INLINE_VERIFY_BYTES {
            return prepare(signers, &body);
        }
        let signers = signers.clone();
        let Ok(_slot) = self.0.clone().acquire_owned().await else {
            return Err(ApiError::new(503, texts::SHUTTING_DOWN));
        };
        tokio::task::spawn_blocking(move || prepare(&signers, &body))
            .await
            .unwrap_or_else(|e| Err(ApiError::internal(texts::verify_failed(&e.to_string()))))
    }
}
