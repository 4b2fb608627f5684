//! Waiting, as a value passed in.
//!
//! Every pause the HTTP layer takes (a `Retry-After`, a backoff, a full rate window) goes
//! through a [`Sleeper`], so tests swap in [`ManualSleeper`], which moves a
//! [`ManualClock`] forward instead of waiting and records each pause. Nothing in this crate
//! may call `tokio::time::sleep` or `std::thread::sleep` except [`TokioSleeper`].

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use roster_domain::ManualClock;

/// Something that can wait.
pub trait Sleeper: Send + Sync + Debug {
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()>;
}

/// Waits on the tokio timer: production.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// Advances a [`ManualClock`] by each requested pause instead of waiting, and records the
/// pauses, so a test can prove a wait happened (and how long it was) in no wall time.
#[derive(Debug, Clone)]
pub struct ManualSleeper {
    clock: ManualClock,
    sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl ManualSleeper {
    pub fn new(clock: ManualClock) -> Self {
        Self {
            clock,
            sleeps: Arc::default(),
        }
    }

    /// Every pause requested so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The sum of every pause requested so far.
    pub fn total(&self) -> Duration {
        self.sleeps().iter().sum()
    }

    pub fn clear(&self) {
        self.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Sleeper for ManualSleeper {
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        self.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(d);
        let by = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        self.clock.advance(by);
        // Yield once so a test with concurrent callers still interleaves them as a real
        // wait would.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use roster_domain::Clock;

    #[tokio::test]
    async fn manual_sleeper_moves_the_clock_and_records() {
        let clock = ManualClock::default();
        let start = clock.now();
        let sleeper = ManualSleeper::new(clock.clone());
        sleeper.sleep(Duration::from_secs(7)).await;
        sleeper.sleep(Duration::from_millis(500)).await;
        assert_eq!(
            sleeper.sleeps(),
            [Duration::from_secs(7), Duration::from_millis(500)]
        );
        assert_eq!((clock.now() - start).num_milliseconds(), 7_500);
    }
}
