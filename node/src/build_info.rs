//! The version and time of this build, stamped by `build.rs` (`BUILD_VERSION`,
//! `SOURCE_DATE_EPOCH`). `versionmsg`, `getserverinfomsg` and the CLI's `server status`
//! report them.

/// The build's version: `BUILD_VERSION` at build time, else the crate's version.
pub const BUILD_VERSION: &str = env!("COLONIES_BUILD_VERSION");
/// The build's time, RFC 3339 in UTC (`SOURCE_DATE_EPOCH` at build time, else the time
/// the build ran).
pub const BUILD_TIME: &str = env!("COLONIES_BUILD_TIME");

#[cfg(test)]
mod tests {
    use super::*;
    use colonies_statemachine::Time;

    #[test]
    fn the_build_time_is_an_rfc3339_instant_in_the_past() {
        let time: Time = serde_json::from_value(serde_json::json!(BUILD_TIME)).expect("RFC 3339");
        assert!(!time.is_zero(), "{BUILD_TIME}");
        let now = Time::from_unix_nanos(
            i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
                .unwrap(),
        );
        assert!(time <= now, "{BUILD_TIME} is in the future");
        assert!(BUILD_TIME.ends_with('Z'), "{BUILD_TIME} is not UTC");
    }

    #[test]
    fn a_reproducible_build_carries_the_source_date() {
        // Run with SOURCE_DATE_EPOCH set (Cargo gives the build script and the test the
        // same environment) to check the stamp; without it there is nothing to compare.
        let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") else { return };
        let seconds: i64 = epoch.trim().parse().unwrap();
        let time: Time = serde_json::from_value(serde_json::json!(BUILD_TIME)).unwrap();
        assert_eq!(time, Time::from_unix_nanos(seconds * 1_000_000_000), "{BUILD_TIME}");
    }

    #[test]
    fn the_build_version_is_set() {
        assert!(!BUILD_VERSION.trim().is_empty());
        // Cargo gives the test binary the environment it gave the build script.
        match std::env::var("BUILD_VERSION") {
            Ok(version) if !version.trim().is_empty() => assert_eq!(BUILD_VERSION, version),
            _ => assert_eq!(BUILD_VERSION, env!("CARGO_PKG_VERSION")),
        }
    }
}
