//! The one HTTP layer every provider client goes through.
//!
//! Owns: the per-request timeout, retries of calls that are safe to repeat (capped
//! exponential backoff with jitter), `Retry-After` and remaining-budget headers, the
//! per-provider, per-tenant concurrency and rate budgets, a total time budget per call,
//! one metric and one tracing span per attempt, and the turning of transport failures into
//! [`Error`](crate::Error)s. Each client says how to read its provider's answers (a
//! classifier); this layer decides whether to wait, retry or give up. The loop is in
//! `http/send.rs`, the call in `http/request.rs`, reading answers in `http/classify.rs`.
//!
//! It must never: sleep except through the [`Sleeper`], read "now" except from the
//! [`Clock`], put a secret or a query string into a span, log line or error, or retry a
//! call that is not safe to repeat after the provider may have acted on it.

mod backoff;
mod budget;
mod classify;
mod request;
mod retry_after;
mod send;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_domain::{Clock, Provider};

pub use budget::{BudgetHeaders, RatePolicy};
pub(crate) use classify::{Classifier, Response, Verdict, classify_common, parse_json};
pub(crate) use request::{Request, Retry};

use self::backoff::backoff_delay;
use self::budget::Budget;
use crate::sleep::{Sleeper, TokioSleeper};

/// Settings of the shared layer. `Default` is production's.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// One attempt, connect to last byte. Scrapin documents ~30 s live lookups
    /// (<https://docs.scrapin.io/introduction>), so the default leaves room for them.
    pub request_timeout: Duration,
    /// Everything one call may take: attempts, backoffs and rate waits together.
    pub operation_budget: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Bigger answers are refused (a Productive page of 200 people is about 300 KB).
    pub max_body_bytes: usize,
    /// Fixes the jitter sequence (tests, benches); `None` seeds from the OS.
    pub jitter_seed: Option<u64>,
    /// Per-provider limits; a missing provider uses [`RatePolicy::for_provider`].
    pub rate_policies: HashMap<Provider, RatePolicy>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(45),
            operation_budget: Duration::from_secs(180),
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            max_body_bytes: 32 * 1024 * 1024,
            jitter_seed: None,
            rate_policies: HashMap::new(),
        }
    }
}

/// The reqwest client could not be built (TLS roots missing, typically).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct BuildError(String);

/// The shared HTTP layer. Build one per process and hand an `Arc` of it to every client:
/// budgets are per `(provider, tenant)` across all clients sharing it.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    config: HttpConfig,
    budgets: Mutex<HashMap<(Provider, String), Arc<Budget>>>,
    rng: Mutex<StdRng>,
}

impl Http {
    pub fn new(
        config: HttpConfig,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, BuildError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
            // Redirects would carry our Authorization header to wherever they point.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|e| BuildError(e.without_url().to_string()))?;
        let rng = config
            .jitter_seed
            .map_or_else(StdRng::from_entropy, StdRng::seed_from_u64);
        Ok(Self {
            client,
            clock,
            sleeper,
            config,
            budgets: Mutex::default(),
            rng: Mutex::new(rng),
        })
    }

    /// Production wiring: default settings, the tokio timer.
    pub fn production(clock: Arc<dyn Clock>) -> Result<Self, BuildError> {
        Self::new(HttpConfig::default(), clock, Arc::new(TokioSleeper))
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    fn budget(&self, provider: Provider, key: &str) -> Arc<Budget> {
        let mut budgets = self.budgets.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = budgets
            .entry((provider, key.to_owned()))
            .or_insert_with(|| {
                let policy = self
                    .config
                    .rate_policies
                    .get(&provider)
                    .cloned()
                    .unwrap_or_else(|| RatePolicy::for_provider(provider));
                Arc::new(Budget::new(policy))
            });
        Arc::clone(entry)
    }

    fn backoff(&self, retry: u32) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        backoff_delay(
            retry,
            self.config.backoff_base,
            self.config.backoff_cap,
            &mut *rng,
        )
    }
}

/// `now`, for code that needs a wall-clock-free instant (token expiry).
pub(crate) fn now(http: &Http) -> DateTime<Utc> {
    http.clock.now()
}
