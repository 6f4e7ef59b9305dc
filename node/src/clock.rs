//! Where the server reads the wall clock and draws new ids and random numbers: stamped into a command by the
//! node that proposes it, so that `apply` reads neither and every replica agrees.

use colonies_statemachine::Time;

/// The wall clock, as the state's time type.
pub fn now() -> Time {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default();
    Time::from_unix_nanos(nanos)
}

/// A new id: 32 random bytes as hex, the form of ColonyOS's ids.
pub fn new_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A random number for a proposal, from a fresh id (256 random bits) of the proposer: ids
/// are drawn through the caller's source, so a test that fixes the ids fixes the draws.
pub fn draw_from(id: &str) -> u64 {
    id.get(..16).and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or_default()
}
