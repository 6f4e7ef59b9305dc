//! When crons fire: pure functions of a cron's settings, its current slot, the command's
//! time and the random draw the proposer stamped, so every replica computes the same
//! next run (design note 1).
//!
//! A cron's *slot* is the schedule point its next run belongs to. Without `random` the run
//! is at the slot; with it (intervals only) the slot starts an interval and the run is at
//! `slot + draw % interval`, a time within that interval chosen by the proposer.
//! Expressions are evaluated in UTC, so the answer does not depend on a node's time zone.

use crate::error::{ApiError, ApiResult};
use crate::texts;
use crate::time::{NANOS_PER_SECOND, Time};
use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};

/// Runs missed by less than this (a failover, a slow commit) are caught up one by one, so
/// every tick fires once; after a longer outage the missed ticks collapse into one run.
pub const CATCH_UP_NANOS: i64 = 60 * NANOS_PER_SECOND;

/// How a cron's points in time are defined.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// Every this many nanoseconds (`interval > 0`, or `@every <duration>`).
    Every(i64),
    /// A 6-field expression with seconds.
    Expression(Box<croner::Cron>),
}

/// robfig/cron's descriptors as 6-field expressions.
const DESCRIPTORS: &[(&str, &str)] = &[
    ("@yearly", "0 0 0 1 1 *"),
    ("@annually", "0 0 0 1 1 *"),
    ("@monthly", "0 0 0 1 * *"),
    ("@weekly", "0 0 0 * * 0"),
    ("@daily", "0 0 0 * * *"),
    ("@midnight", "0 0 0 * * *"),
    ("@hourly", "0 0 * * * *"),
];

/// Go's `time.ParseDuration` units, in nanoseconds; longest names first so `ms` is not `m`.
const UNITS: &[(&str, f64)] =
    &[("ns", 1.0), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)];

/// Parses a Go duration (`10s`, `1h30m`, `1.5m`) into nanoseconds.
pub fn parse_go_duration(text: &str) -> Option<i64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, scale) = UNITS.iter().find(|(unit, _)| rest.starts_with(unit))?;
        total += number * scale;
        rest = &rest[unit.len()..];
    }
    (total.is_finite() && total < i64::MAX as f64).then_some(total as i64)
}

impl Schedule {
    /// The schedule of a cron: `interval > 0` wins; -1 means the expression (§4.10).
    /// Errors are 400s with the reasons the reference gives where it gives them.
    pub fn of(cronexpression: &str, interval: i64, random: bool) -> ApiResult<Schedule> {
        if interval == 0 || interval < -1 {
            return Err(ApiError::bad_request(texts::CRON_BAD_INTERVAL));
        }
        if interval > 0 {
            return Ok(Schedule::Every(interval.saturating_mul(NANOS_PER_SECOND)));
        }
        if random {
            return Err(ApiError::bad_request(texts::CRON_RANDOM_WITHOUT_INTERVAL));
        }
        Self::parse_expression(cronexpression)
    }

    fn parse_expression(text: &str) -> ApiResult<Schedule> {
        let text = text.trim();
        if let Some(duration) = text.strip_prefix("@every ") {
            let nanos =
                parse_go_duration(duration).ok_or_else(|| ApiError::bad_request(texts::cron_bad_duration(text)))?;
            // robfig/cron rounds delays below a second up to one second, and drops fractions.
            let seconds = (nanos / NANOS_PER_SECOND).max(1);
            return Ok(Schedule::Every(seconds * NANOS_PER_SECOND));
        }
        let expanded = match DESCRIPTORS.iter().find(|(name, _)| *name == text) {
            Some((_, fields)) => *fields,
            None if text.starts_with('@') => {
                return Err(ApiError::bad_request(texts::cron_bad_descriptor(text)));
            }
            None => text,
        };
        let fields = expanded.split_whitespace().count();
        if fields != 6 {
            return Err(ApiError::bad_request(texts::cron_field_count(fields, text)));
        }
        CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Disallowed)
            // robfig/cron accepts `0/5` (from 0, every 5); strict POSIX would refuse it.
            .sloppy_ranges(true)
            .build()
            .parse(expanded)
            .map(|cron| Schedule::Expression(Box::new(cron)))
            .map_err(|e| ApiError::bad_request(texts::cron_bad_expression(text, &e.to_string())))
    }

    /// The first point strictly after `after`; `None` when the expression never matches again.
    pub fn after(&self, after: Time) -> Option<Time> {
        match self {
            Schedule::Every(step) => after.unix_nanos().map(|t| Time::from_unix_nanos(t.saturating_add(*step))),
            Schedule::Expression(cron) => {
                let nanos = after.unix_nanos()?;
                let start: DateTime<Utc> = DateTime::from_timestamp_nanos(nanos);
                let next = cron.find_next_occurrence(&start, false).ok()?;
                next.timestamp_nanos_opt().map(Time::from_unix_nanos)
            }
        }
    }

    /// The slot after `slot` when the run for `slot` happens at `now`. A slot missed by
    /// less than `CATCH_UP_NANOS` still runs (one command per slot, so each tick fires
    /// once); points missed by more are dropped, and the schedule resumes after `now`.
    pub fn following(&self, slot: Time, now: Time) -> Option<Time> {
        let next = self.after(slot)?;
        if next.plus_nanos(CATCH_UP_NANOS) >= now {
            return Some(next);
        }
        match self {
            // Stay on the grid of the interval: the first slot + k * step after `now`.
            Schedule::Every(step) => {
                let (slot, now) = (slot.unix_nanos()?, now.unix_nanos()?);
                let steps = (now - slot) / step + 1;
                Some(Time::from_unix_nanos(slot.saturating_add(steps.saturating_mul(*step))))
            }
            Schedule::Expression(_) => self.after(now),
        }
    }

    /// The length of an interval, for `random`.
    pub fn step(&self) -> Option<i64> {
        match self {
            Schedule::Every(step) => Some(*step),
            Schedule::Expression(_) => None,
        }
    }
}

/// Where the run of `slot` lands: at the slot, or with `random` at the offset the draw picks
/// within the interval that the slot starts.
pub fn run_time(schedule: &Schedule, slot: Time, random: bool, draw: u64) -> Time {
    match schedule.step() {
        Some(step) if random && step > 0 => slot.plus_nanos((draw % step as u64) as i64),
        _ => slot,
    }
}

/// The first slot of a new cron added at `now`: an interval's first run is one interval
/// later (the reference's `now + interval`); a random cron's first interval starts now.
pub fn first_slot(schedule: &Schedule, now: Time, random: bool) -> Option<Time> {
    if random && schedule.step().is_some() { Some(now) } else { schedule.after(now) }
}

/// Whether a generator with `queued` arguments should run at `now`, and with how many:
/// a full batch of `trigger` as soon as there is one, or whatever waits once `timeout`
/// seconds (if > 0) have passed since the last pack.
pub fn generator_batch(queued: usize, trigger: i64, timeout: i64, lastpack: Time, now: Time) -> Option<usize> {
    let trigger = usize::try_from(trigger).ok().filter(|t| *t > 0)?;
    if queued >= trigger {
        return Some(trigger);
    }
    let timed_out = timeout > 0 && !lastpack.is_zero() && now >= lastpack.plus_seconds(timeout);
    (queued > 0 && timed_out).then_some(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Time {
        Time::parse_rfc3339(text).unwrap()
    }

    fn expression(text: &str) -> Schedule {
        Schedule::of(text, -1, false).unwrap()
    }

    #[test]
    fn expressions_have_seconds_and_fire_strictly_after() {
        let every5 = expression("0/5 * * * * *");
        assert_eq!(every5.after(t("2026-11-22T14:02:25Z")), Some(t("2026-11-22T14:02:30Z")));
        assert_eq!(every5.after(t("2026-11-22T14:02:25.6Z")), Some(t("2026-11-22T14:02:30Z")));
        let at = expression("30 15 10 * * *");
        assert_eq!(at.after(t("2026-11-22T14:02:25Z")), Some(t("2026-11-23T10:15:30Z")));
        // Day of week 0 is Sunday; 2026-11-22 is a Sunday.
        let sundays = expression("0 0 12 * * 0");
        assert_eq!(sundays.after(t("2026-11-21T00:00:00Z")), Some(t("2026-11-22T12:00:00Z")));
    }

    #[test]
    fn descriptors_and_every_are_understood() {
        assert_eq!(expression("@daily").after(t("2026-11-22T14:02:25Z")), Some(t("2026-11-23T00:00:00Z")));
        assert_eq!(expression("@hourly").after(t("2026-11-22T14:02:25Z")), Some(t("2026-11-22T15:00:00Z")));
        assert_eq!(expression("@weekly").after(t("2026-11-23T00:00:00Z")), Some(t("2026-11-29T00:00:00Z")));
        assert_eq!(expression("@every 10s").after(t("2026-11-22T14:02:25.5Z")), Some(t("2026-11-22T14:02:35.5Z")));
        assert_eq!(expression("@every 1m30s").step(), Some(90 * NANOS_PER_SECOND));
        assert_eq!(expression("@every 200ms").step(), Some(NANOS_PER_SECOND), "rounded up to a second");
        assert_eq!(parse_go_duration("1.5h"), Some(5400 * NANOS_PER_SECOND));
        assert_eq!(parse_go_duration("10"), None, "a unit is required");
    }

    #[test]
    fn bad_settings_are_400s_with_reasons() {
        for (expr, interval, random, text) in [
            ("* * * * *", -1, false, "expected exactly 6 fields, found 5"),
            ("61 * * * * *", -1, false, "invalid cron expression"),
            ("@sometimes", -1, false, "unrecognized descriptor"),
            ("@every soon", -1, false, "failed to parse duration"),
            ("* * * * * *", 0, false, "Cron interval must be -1 (disabled) or larger than 0"),
            ("* * * * * *", -1, true, "Random cron is only supported when specifying intervals"),
        ] {
            let e = Schedule::of(expr, interval, random).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.message.contains(text), "{expr}: {}", e.message);
        }
    }

    #[test]
    fn intervals_step_from_the_slot_not_from_when_the_run_happened() {
        let every = Schedule::of("", 10, false).unwrap();
        let slot = t("2026-11-22T14:00:00Z");
        assert_eq!(first_slot(&every, slot, false), Some(t("2026-11-22T14:00:10Z")));
        // Fired 0.4 s late: the next slot does not drift.
        assert_eq!(every.following(slot, t("2026-11-22T14:00:00.4Z")), Some(t("2026-11-22T14:00:10Z")));
    }

    #[test]
    fn missed_slots_are_caught_up_within_the_window_and_dropped_beyond() {
        let every = Schedule::of("", 1, false).unwrap();
        let slot = t("2026-11-22T14:00:00Z");
        // A 3 s failover: the next slot is the one right after, although it has passed too.
        assert_eq!(every.following(slot, t("2026-11-22T14:00:03Z")), Some(t("2026-11-22T14:00:01Z")));
        // Down for an hour: resume on the grid just after now.
        assert_eq!(every.following(slot, t("2026-11-22T15:00:00.5Z")), Some(t("2026-11-22T15:00:01Z")));
        let minutely = expression("0 * * * * *");
        assert_eq!(minutely.following(slot, t("2026-11-22T17:30:10Z")), Some(t("2026-11-22T17:31:00Z")));
    }

    #[test]
    fn random_runs_land_within_their_interval_and_only_depend_on_the_draw() {
        let every = Schedule::of("", 60, true).unwrap();
        let now = t("2026-11-22T14:00:00Z");
        let slot = first_slot(&every, now, true).unwrap();
        assert_eq!(slot, now, "a random cron's first interval starts at once");
        let mut seen = std::collections::BTreeSet::new();
        for draw in [0u64, 1, 59_999_999_999, 60_000_000_000, u64::MAX, 123_456_789_012_345] {
            let run = run_time(&every, slot, true, draw);
            assert!(run >= slot && run < slot.plus_seconds(60), "{draw}: {run:?}");
            assert_eq!(run, run_time(&every, slot, true, draw), "the same draw, the same time");
            seen.insert(run);
        }
        assert!(seen.len() > 3, "different draws spread the runs");
        assert_eq!(run_time(&every, slot, false, 12345), slot, "without random the draw is ignored");
    }

    #[test]
    fn generators_fire_on_a_full_batch_or_after_the_timeout() {
        let packed = t("2026-11-22T14:00:00Z");
        assert_eq!(generator_batch(10, 10, 5, packed, packed), Some(10));
        assert_eq!(generator_batch(23, 10, 0, packed, packed), Some(10), "one batch per command");
        assert_eq!(generator_batch(5, 10, 5, packed, packed.plus_seconds(4)), None);
        assert_eq!(generator_batch(5, 10, 5, packed, packed.plus_seconds(5)), Some(5));
        assert_eq!(generator_batch(0, 10, 5, packed, packed.plus_seconds(50)), None);
        assert_eq!(generator_batch(5, 10, 0, packed, packed.plus_seconds(500)), None, "no timeout set");
        assert_eq!(generator_batch(5, 0, 5, packed, packed.plus_seconds(50)), None, "a bad trigger never fires");
    }
}
