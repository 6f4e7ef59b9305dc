//! How Raft data is written to disk and to peers: a format version byte, then bincode.

use colonies_statemachine::versioned::{self, Writer};
use serde::Serialize;
use serde::de::DeserializeOwned;

const FORMAT: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("stored data has format version {0}, this build reads {FORMAT}")]
    Version(u8),
    #[error("stored data is empty")]
    Empty,
    #[error(transparent)]
    Bincode(#[from] bincode::Error),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    Writer::new(FORMAT).part(value).finish()
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match versioned::open(bytes) {
        None => Err(CodecError::Empty),
        Some((FORMAT, mut parts)) => Ok(parts.part()?),
        Some((version, _)) => Err(CodecError::Version(version)),
    }
}
