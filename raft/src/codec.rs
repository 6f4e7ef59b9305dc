//! How Raft data is written to disk and to peers: a format version byte, then bincode.

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
    let mut bytes = vec![FORMAT];
    bincode::serialize_into(&mut bytes, value).expect("serializing into a Vec cannot fail");
    bytes
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT, rest)) => Ok(bincode::deserialize(rest)?),
        Some((version, _)) => Err(CodecError::Version(*version)),
    }
}
