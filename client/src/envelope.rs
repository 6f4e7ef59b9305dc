//! The RPC envelopes (§1.2, §1.4): a request carries a payload type, the base64 of the
//! message JSON and a signature over that base64 text; a reply carries the payload type,
//! the base64 of the reply JSON and an error flag.

use crate::identity::PrivateKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RpcRequest {
    pub payloadtype: String,
    pub payload: String,
    pub signature: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RpcReply {
    pub payloadtype: String,
    pub payload: String,
    pub error: bool,
}

/// The payload of an error reply. `status` is a JSON number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(default)]
#[error("{message} (status {status})")]
pub struct Failure {
    pub status: i64,
    pub message: String,
}

/// Standard base64 with padding, as every reference client writes it.
pub fn encode_payload(json: &[u8]) -> String {
    STANDARD.encode(json)
}

/// Decodes a payload like Go's decoder: standard alphabet, padding required, embedded
/// line breaks skipped; unpadded or URL-safe text is an error.
pub fn decode_payload(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if text.contains(['\r', '\n']) {
        let joined: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        STANDARD.decode(joined)
    } else {
        STANDARD.decode(text)
    }
}

impl RpcRequest {
    pub fn signed(payloadtype: &str, payload_json: &[u8], key: &PrivateKey) -> RpcRequest {
        let payload = encode_payload(payload_json);
        let signature = key.sign(&payload);
        RpcRequest { payloadtype: payloadtype.into(), payload, signature }
    }

    /// For the two RPCs the server answers without a signature (`versionmsg`,
    /// `getserverinfomsg`).
    pub fn unsigned(payloadtype: &str, payload_json: &[u8]) -> RpcRequest {
        RpcRequest { payloadtype: payloadtype.into(), payload: encode_payload(payload_json), signature: String::new() }
    }
}

impl RpcReply {
    pub fn ok(payloadtype: &str, payload_json: &[u8]) -> RpcReply {
        RpcReply { payloadtype: payloadtype.into(), payload: encode_payload(payload_json), error: false }
    }

    /// A reply with no data: the payload is `{}`, which every client can parse as JSON.
    pub fn empty(payloadtype: &str) -> RpcReply {
        Self::ok(payloadtype, b"{}")
    }

    pub fn failure(status: i64, message: &str) -> RpcReply {
        let failure = Failure { status, message: message.into() };
        let json = serde_json::to_vec(&failure).expect("a Failure always serializes");
        RpcReply { payloadtype: "error".into(), payload: encode_payload(&json), error: true }
    }

    /// The decoded reply JSON, or the server's failure.
    pub fn into_result(self) -> Result<Vec<u8>, Failure> {
        let payload = decode_payload(&self.payload)
            .map_err(|e| Failure { status: 0, message: format!("reply payload is not base64: {e}") })?;
        if self.error {
            let failure: Failure = serde_json::from_slice(&payload)
                .map_err(|e| Failure { status: 0, message: format!("error reply is not a failure: {e}") })?;
            return Err(failure);
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::recover_id;

    #[test]
    fn failure_replies_have_the_reference_shape() {
        let reply = RpcReply::failure(404, "No process available for assignment");
        assert_eq!(
            reply.payload,
            "eyJzdGF0dXMiOjQwNCwibWVzc2FnZSI6Ik5vIHByb2Nlc3MgYXZhaWxhYmxlIGZvciBhc3NpZ25tZW50In0="
        );
        assert_eq!(
            serde_json::to_string(&reply).unwrap(),
            format!(r#"{{"payloadtype":"error","payload":"{}","error":true}}"#, reply.payload)
        );
        let failure = reply.into_result().unwrap_err();
        assert_eq!((failure.status, failure.message.as_str()), (404, "No process available for assignment"));
    }

    #[test]
    fn empty_replies_carry_an_empty_object() {
        let reply = RpcReply::empty("approveexecutormsg");
        assert_eq!(reply.payload, "e30=");
        assert_eq!(reply.into_result().unwrap(), b"{}");
    }

    #[test]
    fn the_tv4_request_parses_and_verifies() {
        let body = r#"{"signature":"3cf5209e35d24048f67652cb354ded5bed0d56bdce9cab433646942a47760353283e65a2cb764e22d9efa37e67a9ba485ade029f1405e5eed13365a82250a87300","payloadtype":"getcoloniesmsg","payload":"eyJtc2d0eXBlIjoiZ2V0Y29sb25pZXNtc2cifQ=="}"#;
        let request: RpcRequest = serde_json::from_str(body).unwrap();
        assert_eq!(decode_payload(&request.payload).unwrap(), br#"{"msgtype":"getcoloniesmsg"}"#);
        assert_eq!(
            recover_id(&request.payload, &request.signature).unwrap(),
            "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103"
        );
        let key = PrivateKey::from_hex("fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d").unwrap();
        assert_eq!(RpcRequest::signed("getcoloniesmsg", br#"{"msgtype":"getcoloniesmsg"}"#, &key), request);
    }

    #[test]
    fn base64_follows_go() {
        assert_eq!(decode_payload("e30=\n").unwrap(), b"{}");
        assert_eq!(decode_payload("e3\r\n0=").unwrap(), b"{}");
        assert!(decode_payload("e30").is_err(), "unpadded");
        assert!(decode_payload("-_8=").is_err(), "url-safe alphabet");
        assert!(decode_payload("+/8=").is_ok());
    }

    #[test]
    fn missing_envelope_fields_are_empty() {
        let request: RpcRequest = serde_json::from_str(r#"{"payloadtype":"versionmsg"}"#).unwrap();
        assert_eq!((request.payload.as_str(), request.signature.as_str()), ("", ""));
    }
}
