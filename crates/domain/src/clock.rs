//! Time as a value passed in, never read from the environment.
//!
//! Every rule that depends on "now" takes a [`Clock`]; production wires [`SystemClock`],
//! tests wire [`ManualClock`] and move time by hand, so no test depends on the wall clock.
//! This module must never sleep or block: waiting belongs to the async layers above.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};

/// The source of "now" for the whole process.
pub trait Clock: Send + Sync + Debug {
    /// The current instant, truncated to microseconds (what PostgreSQL stores), so a value
    /// written and read back compares equal on every store.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the wall clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        truncate_micros(Utc::now())
    }
}

/// A clock that only moves when told to. Cloning shares the same instant.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(truncate_micros(start))),
        }
    }

    /// Moves time forward (a negative duration moves it back, for skew tests).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = truncate_micros(to);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        // 2026-03-02T09:00:00Z: a Monday morning, a fixed point so snapshots are stable.
        Self::new(DateTime::from_timestamp(1_772_442_000, 0).unwrap_or_default())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Truncates to whole microseconds.
pub fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::default();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now() - start, Duration::seconds(90));
        let shared = clock.clone();
        shared.advance(Duration::seconds(10));
        assert_eq!(
            clock.now() - start,
            Duration::seconds(100),
            "clones share one instant"
        );
    }

    #[test]
    fn system_clock_has_microsecond_precision() {
        let now = SystemClock.now();
        assert_eq!(now.timestamp_subsec_nanos() % 1000, 0);
    }
}
