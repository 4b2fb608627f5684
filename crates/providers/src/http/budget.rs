//! Per-provider, per-tenant rate budgets: how many calls may be in flight, and how many may
//! start inside each time window.
//!
//! Owns [`RatePolicy`] (the published limits, with sources) and [`Budget`], a semaphore for
//! concurrency plus one sliding window per limit, with a "blocked until" instant set by a
//! `Retry-After` or by a provider's remaining-budget headers. Windows read time from the
//! [`Clock`] and wait through the [`Sleeper`], so tests run them in no wall time. A budget
//! never sleeps past the caller's deadline: it reports the wait instead.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use roster_domain::{Clock, Provider};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::retry_after::parse_reset_millis;
use crate::Sleeper;

/// Our window count and a provider's may disagree on the boundary instant (one counts
/// `[t, t+w)`, the other `[t, t+w]`); waiting this much longer than the arithmetic says keeps
/// a paced client from ever tripping the provider's limit.
const WINDOW_MARGIN: Duration = Duration::from_millis(1);

/// Which remaining-budget headers a provider sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetHeaders {
    None,
    /// `X-MinLimit-Remaining`, `X-DayLimit-Remaining` (docs/providers.md, Xero "Rate limits",
    /// from <https://developer.xero.com/faq/limits>). Xero gives no reset time: at zero we wait
    /// out the whole window, which over-waits at most one minute (or refuses for a day).
    Xero,
    /// `x-ratelimit-remaining` + `x-ratelimit-reset` in ms (docs/providers.md, Remote "Rate
    /// limits", <https://remote.com/resources/api/rate-limit>): at zero, wait for the reset.
    Remote,
}

/// One provider's published limits, applied per tenant (or per credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePolicy {
    /// Calls in flight at once.
    pub concurrency: usize,
    /// `(calls, window)`: at most `calls` may start in any `window`.
    pub windows: Vec<(u32, Duration)>,
    pub headers: BudgetHeaders,
}

const MINUTE: Duration = Duration::from_secs(60);

impl RatePolicy {
    /// The published limits (docs/providers.md, each provider's "Rate limits").
    pub fn for_provider(provider: Provider) -> Self {
        let (concurrency, windows, headers) = match provider {
            // 5 concurrent, 60/min, 5,000/day per tenant (https://developer.xero.com/faq/limits).
            Provider::Xero => (
                5,
                vec![(60, MINUTE), (5_000, Duration::from_secs(86_400))],
                BudgetHeaders::Xero,
            ),
            // 100 per 10 s and 4,000 per 30 min (https://developer.productive.io/guides/rate-limits);
            // no concurrency limit published, 10 is our own courtesy.
            Provider::Productive => (
                10,
                vec![
                    (100, Duration::from_secs(10)),
                    (4_000, Duration::from_secs(1_800)),
                ],
                BudgetHeaders::None,
            ),
            // 2,400/min per user per project; concurrency is answered with 403 quotaExceeded
            // at an unpublished level, so stay modest
            // (https://developers.google.com/admin-sdk/directory/v1/limits).
            Provider::GoogleWorkspace => (10, vec![(2_400, MINUTE)], BudgetHeaders::None),
            // Tier 3 methods allow 50+/min per workspace (https://api.slack.com/docs/rate-limits).
            Provider::Slack => (4, vec![(50, MINUTE)], BudgetHeaders::None),
            // 20/min per company, the lowest published figure
            // (https://remote.com/resources/api/rate-limit); the headers correct it at run time.
            Provider::Remote => (5, vec![(20, MINUTE)], BudgetHeaders::Remote),
            // "Depends on your subscription"; examples show 500/min (https://docs.scrapin.io/introduction).
            Provider::Scrapin => (5, vec![(500, MINUTE)], BudgetHeaders::None),
        };
        Self {
            concurrency,
            windows,
            headers,
        }
    }
}

/// The shared state of one `(provider, tenant)` pair.
#[derive(Debug)]
pub(crate) struct Budget {
    policy: RatePolicy,
    in_flight: Arc<Semaphore>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Start times of recent calls, one queue per window of the policy, oldest first.
    starts: Vec<VecDeque<DateTime<Utc>>>,
    blocked_until: Option<DateTime<Utc>>,
}

/// A wait longer than the caller's deadline allows: the caller turns it into `RateLimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget(pub Duration);

impl Budget {
    pub(crate) fn new(policy: RatePolicy) -> Self {
        let starts = vec![VecDeque::new(); policy.windows.len()];
        Self {
            in_flight: Arc::new(Semaphore::new(policy.concurrency.max(1))),
            state: Mutex::new(State {
                starts,
                blocked_until: None,
            }),
            policy,
        }
    }

    /// Waits for a free slot (concurrency) and a free place in every window, then records
    /// the call's start. The permit frees the slot when dropped.
    pub(crate) async fn acquire(
        &self,
        clock: &dyn Clock,
        sleeper: &dyn Sleeper,
        deadline: DateTime<Utc>,
    ) -> Result<OwnedSemaphorePermit, OverBudget> {
        let permit = Arc::clone(&self.in_flight)
            .acquire_owned()
            .await
            // The semaphore is never closed; treat the impossible as "no capacity".
            .map_err(|_| OverBudget(Duration::ZERO))?;
        loop {
            let now = clock.now();
            let wait = self.try_start(now);
            if wait.is_zero() {
                return Ok(permit);
            }
            if now + to_chrono(wait) > deadline {
                return Err(OverBudget(wait));
            }
            tracing::debug!(wait_ms = wait.as_millis(), "waiting for rate budget");
            sleeper.sleep(wait).await;
        }
    }

    /// Records a start at `now` and answers zero, or answers how long until one may start.
    fn try_start(&self, now: DateTime<Utc>) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut wait = Duration::ZERO;
        if let Some(until) = state.blocked_until {
            if until > now {
                wait = wait.max(to_std(until - now));
            } else {
                state.blocked_until = None;
            }
        }
        for ((limit, window), starts) in self.policy.windows.iter().zip(state.starts.iter_mut()) {
            let window = to_chrono(*window);
            while starts.front().is_some_and(|t| *t + window <= now) {
                starts.pop_front();
            }
            if starts.len() >= *limit as usize {
                if let Some(oldest) = starts.front() {
                    wait = wait.max(to_std(*oldest + window - now) + WINDOW_MARGIN);
                }
            }
        }
        if wait.is_zero() {
            for starts in &mut state.starts {
                starts.push_back(now);
            }
        }
        wait
    }

    /// Holds every later call of this budget until `until` (a `Retry-After`, a backoff after
    /// a rate-limit answer, or an exhausted remaining-budget header).
    pub(crate) fn block_until(&self, until: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
    }

    pub(crate) fn is_blocked(&self, now: DateTime<Utc>) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.blocked_until.is_some_and(|b| b > now)
    }

    /// Reads the provider's remaining-budget headers from an answer, so the next call waits
    /// before it is refused rather than after.
    pub(crate) fn observe(&self, headers: &HeaderMap, now: DateTime<Utc>) {
        // An answer with `Retry-After` says exactly how long to wait, and the layer honours
        // it; the remaining counters beside it may describe another window (a minute-limit
        // 429 can carry `X-DayLimit-Remaining: 0` from a fake or a proxy) and must not
        // stretch that wait.
        if headers.contains_key(http::header::RETRY_AFTER) {
            return;
        }
        let number = |name: &str| -> Option<i64> {
            headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok()
        };
        match self.policy.headers {
            BudgetHeaders::None => {}
            BudgetHeaders::Xero => {
                if number("x-daylimit-remaining").is_some_and(|n| n <= 0) {
                    self.block_until(now + chrono::Duration::days(1));
                } else if number("x-minlimit-remaining").is_some_and(|n| n <= 0) {
                    self.block_until(now + to_chrono(MINUTE + WINDOW_MARGIN));
                }
            }
            BudgetHeaders::Remote => {
                if number("x-ratelimit-remaining").is_some_and(|n| n <= 0) {
                    let reset = headers
                        .get("x-ratelimit-reset")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_reset_millis(v, now))
                        .unwrap_or(MINUTE);
                    self.block_until(now + to_chrono(reset + WINDOW_MARGIN));
                }
            }
        }
    }
}

/// The longest wait Roster ever plans with. A provider's header asking for more (a hostile or
/// broken `Retry-After: 99999999999999`) is read as this, which outlasts every time budget,
/// so the call fails as rate-limited instead of overflowing the clock arithmetic.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A wait as a chrono duration, capped at [`MAX_WAIT`] so `now + wait` cannot overflow.
pub(crate) fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d.min(MAX_WAIT)).unwrap_or(chrono::Duration::days(7))
}

pub(crate) fn to_std(d: chrono::Duration) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualSleeper;
    use roster_domain::ManualClock;

    fn policy(limit: u32, window_secs: u64) -> RatePolicy {
        RatePolicy {
            concurrency: 2,
            windows: vec![(limit, Duration::from_secs(window_secs))],
            headers: BudgetHeaders::None,
        }
    }

    #[tokio::test]
    async fn a_full_window_waits_for_its_oldest_call_to_age_out() {
        let clock = ManualClock::default();
        let sleeper = ManualSleeper::new(clock.clone());
        let budget = Budget::new(policy(3, 10));
        let deadline = clock.now() + chrono::Duration::hours(1);
        for _ in 0..7 {
            drop(budget.acquire(&clock, &sleeper, deadline).await.unwrap());
        }
        // Calls 1-3 at t=0, 4-6 after one window, 7 after two.
        assert_eq!(
            sleeper.sleeps(),
            [Duration::from_secs(10) + WINDOW_MARGIN; 2]
        );
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_is_reported_not_slept() {
        let clock = ManualClock::default();
        let sleeper = ManualSleeper::new(clock.clone());
        let budget = Budget::new(policy(1, 60));
        let deadline = clock.now() + chrono::Duration::seconds(30);
        drop(budget.acquire(&clock, &sleeper, deadline).await.unwrap());
        let err = budget
            .acquire(&clock, &sleeper, deadline)
            .await
            .unwrap_err();
        assert_eq!(err, OverBudget(Duration::from_secs(60) + WINDOW_MARGIN));
        assert!(sleeper.sleeps().is_empty());
    }

    #[test]
    fn remaining_budget_headers_block_the_next_call() {
        let clock = ManualClock::default();
        let now = clock.now();
        for (headers, provider, blocked) in [
            (
                vec![
                    ("x-minlimit-remaining", "0"),
                    ("x-daylimit-remaining", "4000"),
                ],
                BudgetHeaders::Xero,
                true,
            ),
            (
                vec![("x-minlimit-remaining", "12")],
                BudgetHeaders::Xero,
                false,
            ),
            (
                vec![
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1500"),
                ],
                BudgetHeaders::Remote,
                true,
            ),
            (
                vec![("x-ratelimit-remaining", "3")],
                BudgetHeaders::Remote,
                false,
            ),
            (
                vec![("x-ratelimit-remaining", "0")],
                BudgetHeaders::None,
                false,
            ),
        ] {
            let budget = Budget::new(RatePolicy {
                headers: provider,
                ..policy(100, 60)
            });
            let mut map = HeaderMap::new();
            for (k, v) in &headers {
                map.insert(*k, v.parse().unwrap());
            }
            budget.observe(&map, now);
            assert_eq!(budget.is_blocked(now), blocked, "{headers:?}");
        }
    }

    #[test]
    fn remote_reset_sets_the_exact_wait() {
        let now = ManualClock::default().now();
        let budget = Budget::new(RatePolicy {
            headers: BudgetHeaders::Remote,
            ..policy(100, 60)
        });
        let mut map = HeaderMap::new();
        map.insert("x-ratelimit-remaining", "0".parse().unwrap());
        map.insert("x-ratelimit-reset", "1500".parse().unwrap());
        budget.observe(&map, now);
        assert_eq!(
            budget.try_start(now),
            Duration::from_millis(1500) + WINDOW_MARGIN
        );
    }
}
