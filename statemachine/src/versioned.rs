//! The one on-disk and on-the-wire framing of binary data: a format version byte, then one or
//! more bincode values one after the other. The Raft log, votes, peer messages and snapshots
//! all use it; each reader decides which versions it knows and what its errors say.
//!
//! Both ends work on a stream as well as on bytes in memory, so a snapshot (which grows with
//! the state) is written to a file and read back from one without a buffer of its size.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{Read, Write};

/// Bytes being written to `W`: the version byte, then each part in turn.
pub struct Writer<W: Write = Vec<u8>>(W);

impl Writer {
    pub fn new(version: u8) -> Writer {
        Writer(vec![version])
    }

    pub fn part<T: Serialize + ?Sized>(self, value: &T) -> Writer {
        self.write_part(value).expect("serializing into a Vec cannot fail")
    }

    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

impl<W: Write> Writer<W> {
    /// Starts writing to `out`; its first byte is the version.
    pub fn to(mut out: W, version: u8) -> std::io::Result<Writer<W>> {
        out.write_all(&[version])?;
        Ok(Writer(out))
    }

    pub fn write_part<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Writer<W>, bincode::Error> {
        bincode::serialize_into(&mut self.0, value)?;
        Ok(self)
    }

    /// The sink, with everything written to it (not flushed: that is the caller's).
    pub fn into_inner(self) -> W {
        self.0
    }
}

/// The version byte of `bytes` and a reader of the parts after it; `None` for no bytes.
pub fn open(bytes: &[u8]) -> Option<(u8, Reader<&[u8]>)> {
    bytes.split_first().map(|(version, rest)| (*version, Reader(rest)))
}

/// The version byte read from `source` and a reader of the parts after it; `None` if the
/// source is empty.
pub fn open_stream<R: Read>(mut source: R) -> std::io::Result<Option<(u8, Reader<R>)>> {
    let mut version = [0u8];
    match source.read_exact(&mut version) {
        Ok(()) => Ok(Some((version[0], Reader(source)))),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the parts after the version byte, in the order they were written.
pub struct Reader<R: Read>(R);

impl<R: Read> Reader<R> {
    pub fn part<T: DeserializeOwned>(&mut self) -> Result<T, bincode::Error> {
        bincode::deserialize_from(&mut self.0)
    }
}
