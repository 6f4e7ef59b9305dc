//! Instants as Unix nanoseconds, written on the wire like Go's `time.Time`.
//!
//! Go's zero time (year 1) does not fit in i64 nanoseconds, so it is a sentinel that sorts
//! before every real instant, as the zero time does in the reference.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An instant, or the "unset" zero time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

const ZERO_SENTINEL: i64 = i64::MIN;
const ZERO_TEXT: &str = "0001-01-01T00:00:00Z";
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

impl Time {
    pub const ZERO: Time = Time(ZERO_SENTINEL);

    pub fn from_unix_nanos(nanos: i64) -> Time {
        // The sentinel itself is ~1677 AD, never a real stamp; map it to the nearest real value.
        Time(nanos.max(ZERO_SENTINEL + 1))
    }

    pub fn is_zero(self) -> bool {
        self.0 == ZERO_SENTINEL
    }

    /// A number that orders instants as `Ord` does; the zero time is `i64::MIN`.
    pub fn ordinal(self) -> i64 {
        self.0
    }

    /// Unix nanoseconds; `None` for the zero time.
    pub fn unix_nanos(self) -> Option<i64> {
        (!self.is_zero()).then_some(self.0)
    }

    /// `self + seconds`, saturating; the zero time stays zero.
    pub fn plus_seconds(self, seconds: i64) -> Time {
        match self.unix_nanos() {
            None => self,
            Some(n) => Time::from_unix_nanos(n.saturating_add(seconds.saturating_mul(NANOS_PER_SECOND))),
        }
    }

    /// `self + nanos`, saturating; the zero time stays zero.
    pub fn plus_nanos(self, nanos: i64) -> Time {
        match self.unix_nanos() {
            None => self,
            Some(n) => Time::from_unix_nanos(n.saturating_add(nanos)),
        }
    }

    /// Seconds from `earlier` to `self` as a float, 0 when either is unset.
    pub fn seconds_since(self, earlier: Time) -> f64 {
        match (self.unix_nanos(), earlier.unix_nanos()) {
            (Some(a), Some(b)) => (a as f64 - b as f64) / NANOS_PER_SECOND as f64,
            _ => 0.0,
        }
    }

    /// RFC 3339 in UTC with trailing zeros of the fraction trimmed, as Go prints it.
    pub fn to_rfc3339(self) -> String {
        let Some(nanos) = self.unix_nanos() else {
            return ZERO_TEXT.to_string();
        };
        let dt = DateTime::<Utc>::from_timestamp_nanos(nanos);
        let text = dt.to_rfc3339_opts(SecondsFormat::Nanos, true);
        // "…:SS.nnnnnnnnnZ": drop trailing zeros, and the dot when nothing is left.
        let body = &text[..text.len() - 1];
        let body = if body.contains('.') { body.trim_end_matches('0').trim_end_matches('.') } else { body };
        format!("{body}Z")
    }

    /// Parses RFC 3339 with any offset. Any year-1 instant (however its zone is written) is
    /// the zero time, as clients of the reference treat it.
    pub fn parse_rfc3339(text: &str) -> Result<Time, String> {
        let dt = DateTime::parse_from_rfc3339(text).map_err(|e| format!("invalid time {text:?}: {e}"))?;
        if dt.year() <= 1 {
            return Ok(Time::ZERO);
        }
        dt.timestamp_nanos_opt().map(Time::from_unix_nanos).ok_or_else(|| format!("time {text:?} is out of range"))
    }
}

/// Unset, like Go's zero `time.Time`.
impl Default for Time {
    fn default() -> Self {
        Time::ZERO
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() { s.serialize_str(&self.to_rfc3339()) } else { s.serialize_i64(self.0) }
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            // Go decodes JSON null into a time field as "unchanged", i.e. the zero time.
            match Option::<String>::deserialize(d)? {
                None => Ok(Time::ZERO),
                Some(text) => Time::parse_rfc3339(&text).map_err(serde::de::Error::custom),
            }
        } else {
            i64::deserialize(d).map(Time)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_time_is_written_like_go_and_read_back_from_any_zone() {
        assert_eq!(Time::ZERO.to_rfc3339(), "0001-01-01T00:00:00Z");
        assert_eq!(Time::parse_rfc3339("0001-01-01T00:00:00Z").unwrap(), Time::ZERO);
        assert_eq!(Time::parse_rfc3339("0001-01-01T01:12:12+01:12").unwrap(), Time::ZERO);
        assert!(Time::ZERO < Time::from_unix_nanos(-5));
        assert!(Time::default().is_zero());
    }

    #[test]
    fn fractions_are_trimmed_and_offsets_normalised_to_utc() {
        let t = Time::parse_rfc3339("2026-11-22T13:59:23.820472+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T12:59:23.820472Z");
        assert_eq!(Time::from_unix_nanos(1_500_000_000).to_rfc3339(), "1970-01-01T00:00:01.5Z");
        assert_eq!(Time::from_unix_nanos(2 * NANOS_PER_SECOND).to_rfc3339(), "1970-01-01T00:00:02Z");
    }

    #[test]
    fn bad_text_is_an_error_and_null_is_zero() {
        assert!(Time::parse_rfc3339("yesterday").is_err());
        let t: Time = serde_json::from_str("null").unwrap();
        assert!(t.is_zero());
    }

    #[test]
    fn plus_seconds_keeps_zero_and_saturates() {
        assert!(Time::ZERO.plus_seconds(10).is_zero());
        let t = Time::from_unix_nanos(0).plus_seconds(3);
        assert_eq!(t.unix_nanos(), Some(3 * NANOS_PER_SECOND));
        assert_eq!(Time::from_unix_nanos(i64::MAX - 1).plus_seconds(100).unix_nanos(), Some(i64::MAX));
    }
}
