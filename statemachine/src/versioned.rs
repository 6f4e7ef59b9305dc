//! The one on-disk and on-the-wire framing of binary data: a format version byte, then one or
//! more bincode values one after the other. The Raft log, votes, peer messages and snapshots
//! all use it; each reader decides which versions it knows and what its errors say.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bytes being written: the version byte, then each part in turn.
pub struct Writer(Vec<u8>);

impl Writer {
    pub fn new(version: u8) -> Writer {
        Writer(vec![version])
    }

    pub fn part<T: Serialize + ?Sized>(mut self, value: &T) -> Writer {
        bincode::serialize_into(&mut self.0, value).expect("serializing into a Vec cannot fail");
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// The version byte of `bytes` and a reader of the parts after it; `None` for no bytes.
pub fn open(bytes: &[u8]) -> Option<(u8, Reader<'_>)> {
    bytes.split_first().map(|(version, rest)| (*version, Reader(rest)))
}

/// Reads the parts after the version byte, in the order they were written.
pub struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    pub fn part<T: DeserializeOwned>(&mut self) -> Result<T, bincode::Error> {
        bincode::deserialize_from(&mut self.0)
    }
}
