//! Stamps the build's version and time into the node (`versionmsg`, `getserverinfomsg`,
//! `server status`), so they describe the binary, not the moment a node started.
//!
//! - `BUILD_VERSION` (at build time) names the version; without it, the crate's version.
//! - `SOURCE_DATE_EPOCH` (seconds, the reproducible-builds convention) fixes the time, so
//!   two builds of the same source give the same binary; without it, the time of the build.
//!
//! The time is written as RFC 3339 in UTC, whole seconds (`2026-12-02T01:14:13Z`), the
//! form the original's release builds carry and the web UI parses.

fn main() {
    println!("cargo:rerun-if-env-changed=BUILD_VERSION");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // Any change to the sources is a new build, so it gets a new time.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");

    let version = std::env::var("BUILD_VERSION")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION"));
    let time = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => {
            let seconds: i64 = epoch
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch:?}"));
            chrono::DateTime::from_timestamp(seconds, 0)
                .unwrap_or_else(|| panic!("SOURCE_DATE_EPOCH {seconds} is out of range"))
        }
        Err(_) => chrono::Utc::now(),
    };
    println!("cargo:rustc-env=COLONIES_BUILD_VERSION={version}");
    println!("cargo:rustc-env=COLONIES_BUILD_TIME={}", time.format("%Y-%m-%dT%H:%M:%SZ"));
}
