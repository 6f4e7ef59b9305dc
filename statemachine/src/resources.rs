//! The resource strings of `conditions` and of `assignprocessmsg` (§4.3, §5.2).

use crate::error::{ApiError, ApiResult};
use crate::texts;

const MIB: i64 = 1024 * 1024;

/// Millicores from `"<n>m"`. The reference reads anything without the `m` suffix as 0.
pub fn parse_cpu(text: &str) -> ApiResult<i64> {
    let Some(number) = text.strip_suffix('m') else {
        return Ok(0);
    };
    number.parse::<i64>().map_err(|e| ApiError::bad_request(texts::cpu_not_a_number(&e.to_string())))
}

/// Bytes from a memory string with a unit. Suffixes are matched exactly, longest first,
/// which makes `MB` and `Mb` both work (the reference picks among them at random, §12.21).
pub fn parse_memory(text: &str) -> ApiResult<i64> {
    if text.is_empty() {
        return Ok(0);
    }
    const UNITS: &[(&str, i64)] = &[
        ("KiB", 1 << 10),
        ("MiB", 1 << 20),
        ("GiB", 1 << 30),
        ("TiB", 1 << 40),
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("KB", 1_000),
        ("Kb", 1_000),
        ("MB", 1_000_000),
        ("Mb", 1_000_000),
        ("GB", 1_000_000_000),
        ("Gb", 1_000_000_000),
        ("TB", 1_000_000_000_000),
        ("Tb", 1_000_000_000_000),
        ("K", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    let (number, factor) = UNITS
        .iter()
        .find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor)))
        .ok_or_else(|| ApiError::bad_request(texts::memory_not_a_number(&format!("{text:?} has no unit"))))?;
    let value = number
        .parse::<i64>()
        .map_err(|e| ApiError::bad_request(texts::memory_not_a_number(&format!("{text:?}: {e}"))))?;
    value
        .checked_mul(factor)
        .ok_or_else(|| ApiError::bad_request(texts::memory_not_a_number(&format!("{text:?} is too large"))))
}

/// An executor's offer in `assignprocessmsg`: empty means no limit.
pub fn parse_available(cpu: &str, mem: &str) -> ApiResult<(i64, i64)> {
    let cpu = if cpu.is_empty() { i64::MAX } else { parse_cpu(cpu)? };
    let mem = if mem.is_empty() { i64::MAX } else { parse_memory(mem)? };
    Ok((cpu, mem))
}

/// How a stored spec shows a cpu amount.
pub fn format_cpu(millicores: i64) -> String {
    format!("{millicores}m")
}

/// How a stored spec shows a memory amount: whole MiB, rounded down, as the reference does.
pub fn format_memory(bytes: i64) -> String {
    format!("{}Mi", bytes / MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_needs_the_m_suffix() {
        assert_eq!(parse_cpu("500m").unwrap(), 500);
        assert_eq!(parse_cpu("2").unwrap(), 0);
        assert_eq!(parse_cpu("").unwrap(), 0);
        assert_eq!(parse_cpu("xm").unwrap_err().status, 400);
    }

    #[test]
    fn memory_units_follow_the_table() {
        assert_eq!(parse_memory("1Gi").unwrap(), 1 << 30);
        assert_eq!(parse_memory("1024Mi").unwrap(), 1 << 30);
        assert_eq!(parse_memory("1000MB").unwrap(), 1_000_000_000);
        assert_eq!(parse_memory("1000Mb").unwrap(), 1_000_000_000);
        assert_eq!(parse_memory("3K").unwrap(), 3000);
        assert_eq!(parse_memory("").unwrap(), 0);
        assert_eq!(format_memory(parse_memory("1Gi").unwrap()), "1024Mi");
        assert_eq!(format_memory(0), "0Mi");
    }

    #[test]
    fn memory_without_unit_or_number_is_rejected() {
        assert_eq!(parse_memory("1024").unwrap_err().status, 400);
        assert_eq!(parse_memory("Mi").unwrap_err().status, 400);
        assert_eq!(parse_memory("99999999999999TiB").unwrap_err().status, 400);
    }

    #[test]
    fn empty_offer_means_unlimited() {
        assert_eq!(parse_available("", "").unwrap(), (i64::MAX, i64::MAX));
        assert_eq!(parse_available("1000m", "1Gi").unwrap(), (1000, 1 << 30));
    }
}
