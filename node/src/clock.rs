//! Where the server reads the wall clock and draws new ids: stamped into a command by the
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
