//! The one HTTP layer every provider client goes through.
//!
//! Owns: the per-request timeout, retries of calls that are safe to repeat (capped
//! exponential backoff with jitter), `Retry-After` and remaining-budget headers, the
//! per-provider, per-tenant concurrency and rate budgets, a total time budget per call,
//! one metric and one tracing span per attempt, and the turning of transport failures into
//! [`Error`]s. Each client says how to read its provider's answers (a classifier); this
//! layer decides whether to wait, retry or give up.
//!
//! It must never: sleep except through the [`Sleeper`], read "now" except from the
//! [`Clock`], put a secret or a query string into a span, log line or error, or retry a
//! call that is not safe to repeat after the provider may have acted on it.

mod backoff;
mod budget;
mod retry_after;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use rand::SeedableRng;
use rand::rngs::StdRng;
use roster_domain::{Clock, Provider};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

pub use budget::{BudgetHeaders, RatePolicy};

use self::backoff::backoff_delay;
use self::budget::{Budget, OverBudget, to_chrono};
use self::retry_after::parse_retry_after;
use crate::error::{Error, ErrorKind};
use crate::redact::{redact_url, scrub};
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

    /// Sends `req` until the classifier accepts an answer, a failure is final, the attempts
    /// run out, or the time budget does.
    pub(crate) async fn send(
        &self,
        req: &Request,
        classify: Classifier,
    ) -> Result<Response, Error> {
        let span = tracing::info_span!(
            "provider_call",
            provider = req.provider.as_str(),
            operation = req.operation,
            method = %req.method,
            url = %redact_url(&req.url),
        );
        self.send_inner(req, classify).instrument(span).await
    }

    async fn send_inner(&self, req: &Request, classify: Classifier) -> Result<Response, Error> {
        let budget = self.budget(req.provider, &req.budget_key);
        let deadline = self.clock.now() + to_chrono(self.config.operation_budget);
        let fail = |kind: ErrorKind, status: Option<u16>| {
            let mut e = Error::new(req.provider, req.operation, req.scrub_kind(kind));
            e.status = status;
            e
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = budget
                .acquire(&*self.clock, &*self.sleeper, deadline)
                .await
                .map_err(|OverBudget(wait)| {
                    fail(
                        ErrorKind::RateLimited {
                            retry_after: Some(wait),
                        },
                        None,
                    )
                })?;
            let started = Instant::now();
            let outcome = self.execute(req).await;
            let elapsed = started.elapsed();
            drop(permit);
            let now = self.clock.now();

            let (label, status, verdict, answer) = match outcome {
                Ok(resp) => {
                    budget.observe(&resp.headers, now);
                    let verdict = classify(&resp);
                    (
                        resp.status.to_string(),
                        Some(resp.status),
                        verdict,
                        Some(resp),
                    )
                }
                Err(Failure::Timeout) => (
                    "timeout".to_owned(),
                    None,
                    Verdict::Transient(ErrorKind::Timeout),
                    None,
                ),
                Err(Failure::Connect(detail)) => (
                    "transport".to_owned(),
                    None,
                    Verdict::NotSent(ErrorKind::Transport { detail }),
                    None,
                ),
                Err(Failure::Transport(detail)) => (
                    "transport".to_owned(),
                    None,
                    Verdict::Transient(ErrorKind::Transport { detail }),
                    None,
                ),
                Err(Failure::TooLarge) => (
                    "too_large".to_owned(),
                    None,
                    Verdict::Fail(ErrorKind::Upstream {
                        detail: "answer larger than the configured limit".into(),
                    }),
                    None,
                ),
            };
            record_metrics(req, &label, elapsed);

            let retryable = match verdict {
                Verdict::Success => {
                    tracing::debug!(status = label, attempt, "provider answered");
                    return answer.ok_or_else(|| fail(ErrorKind::Timeout, status));
                }
                Verdict::Fail(kind) => {
                    tracing::debug!(status = label, attempt, "provider refused");
                    return Err(fail(kind, status));
                }
                Verdict::RateLimited => {
                    let after = answer
                        .as_ref()
                        .and_then(|r| r.headers.get(http::header::RETRY_AFTER))
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, now));
                    Retryable::RateLimited(after)
                }
                Verdict::Transient(kind) if req.retry == Retry::Idempotent => {
                    Retryable::Transient(kind)
                }
                Verdict::Transient(kind) => return Err(fail(kind, status)),
                Verdict::NotSent(kind) => Retryable::Transient(kind),
            };

            if attempt >= self.config.max_attempts.max(1) {
                tracing::warn!(
                    status = label,
                    attempt,
                    "provider call gave up: attempts exhausted"
                );
                return Err(fail(retryable.into_kind(), status));
            }
            match retryable {
                Retryable::RateLimited(after) => {
                    // The wait happens in `acquire`, for every caller of this budget at once.
                    let wait = after.unwrap_or_else(|| {
                        if budget.is_blocked(now) {
                            Duration::ZERO
                        } else {
                            self.backoff(attempt)
                        }
                    });
                    if now + to_chrono(wait) > deadline {
                        return Err(fail(
                            ErrorKind::RateLimited {
                                retry_after: Some(wait),
                            },
                            status,
                        ));
                    }
                    tracing::warn!(
                        status = label,
                        attempt,
                        wait_ms = wait.as_millis(),
                        "rate limited; waiting"
                    );
                    budget.block_until(now + to_chrono(wait));
                }
                Retryable::Transient(kind) => {
                    let wait = self.backoff(attempt);
                    if now + to_chrono(wait) > deadline {
                        return Err(fail(kind, status));
                    }
                    tracing::warn!(
                        status = label,
                        attempt,
                        wait_ms = wait.as_millis(),
                        "transient failure; retrying"
                    );
                    self.sleeper.sleep(wait).await;
                }
            }
        }
    }

    async fn execute(&self, req: &Request) -> Result<Response, Failure> {
        let mut builder = self
            .client
            .request(req.method.clone(), req.url.clone())
            .headers(req.headers.clone())
            .timeout(self.config.request_timeout);
        if let Some((body, content_type)) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, *content_type)
                .body(body.clone());
        }
        let mut resp = builder.send().await.map_err(Failure::from_reqwest)?;
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let limit = self.config.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(Failure::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(Failure::from_reqwest)? {
            if body.len() + chunk.len() > limit {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body: Bytes::from(body),
        })
    }
}

fn record_metrics(req: &Request, status: &str, elapsed: Duration) {
    let labels = [
        ("provider", req.provider.as_str().to_owned()),
        ("operation", req.operation.to_owned()),
        ("status", status.to_owned()),
    ];
    metrics::counter!("roster_provider_requests_total", &labels).increment(1);
    metrics::histogram!("roster_provider_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
}

/// What went wrong below HTTP. Details come from `without_url()`, so no query string leaks.
enum Failure {
    Timeout,
    /// The connection was never made: the provider cannot have acted on the request.
    Connect(String),
    Transport(String),
    TooLarge,
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            return Self::Timeout;
        }
        let connect = e.is_connect();
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        if connect {
            Self::Connect(detail)
        } else {
            Self::Transport(detail)
        }
    }
}

/// Whether a call may be repeated after the provider might have acted on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, and writes whose repetition is harmless: retried on 5xx, timeouts, 429.
    Idempotent,
    /// Retried only when the provider cannot have acted: a 429, or no connection at all.
    OnlyIfNotProcessed,
}

/// A provider's reading of one answer.
#[derive(Debug)]
pub(crate) enum Verdict {
    Success,
    /// Final: do not retry.
    Fail(ErrorKind),
    /// Throttled: wait (`Retry-After`, else backoff) and retry.
    RateLimited,
    /// May succeed if repeated (5xx); retried for idempotent calls only.
    Transient(ErrorKind),
    /// Never reached the provider; safe to retry whatever the call.
    NotSent(ErrorKind),
}

enum Retryable {
    RateLimited(Option<Duration>),
    Transient(ErrorKind),
}

impl Retryable {
    fn into_kind(self) -> ErrorKind {
        match self {
            Self::RateLimited(after) => ErrorKind::RateLimited { retry_after: after },
            Self::Transient(kind) => kind,
        }
    }
}

pub(crate) type Classifier = fn(&Response) -> Verdict;

/// One answer, read in full.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, when it is JSON; classifiers read error bodies through this.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// One logical call: what to send, how to budget it, whether to retry it. Its `Debug` is
/// written by hand: the URL may carry a key (Scrapin) and the body a refresh token or a
/// signed assertion, so it shows the redacted URL, header names and the body's size only.
pub(crate) struct Request {
    pub provider: Provider,
    pub operation: &'static str,
    /// Which budget this call counts against: a tenant id, an org id, or a credential's
    /// fingerprint. Never a secret.
    pub budget_key: String,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<(Bytes, &'static str)>,
    pub retry: Retry,
    /// Credentials this call carries, scrubbed from any text it produces.
    secrets: Vec<SecretString>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("provider", &self.provider)
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("url", &crate::redact::redact_url(&self.url))
            .field(
                "headers",
                &self
                    .headers
                    .keys()
                    .map(HeaderName::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.as_ref().map(|(b, _)| b.len()))
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Request {
    pub(crate) fn new(
        provider: Provider,
        operation: &'static str,
        method: Method,
        url: Url,
    ) -> Self {
        let retry = if method_is_idempotent(&method) {
            Retry::Idempotent
        } else {
            Retry::OnlyIfNotProcessed
        };
        Self {
            provider,
            operation,
            budget_key: String::new(),
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            retry,
            secrets: Vec::new(),
        }
    }

    pub(crate) fn get(provider: Provider, operation: &'static str, url: Url) -> Self {
        Self::new(provider, operation, Method::GET, url)
    }

    pub(crate) fn post(provider: Provider, operation: &'static str, url: Url) -> Self {
        Self::new(provider, operation, Method::POST, url)
    }

    #[must_use]
    pub(crate) fn budget_key(mut self, key: impl Into<String>) -> Self {
        self.budget_key = key.into();
        self
    }

    #[must_use]
    pub(crate) fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    #[must_use]
    pub(crate) fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    /// A header carrying a credential: marked sensitive (hyper and reqwest then keep it out
    /// of their own debug output) and scrubbed from error details.
    #[must_use]
    pub(crate) fn secret_header(
        mut self,
        name: HeaderName,
        prefix: &str,
        secret: &SecretString,
    ) -> Self {
        if let Ok(mut v) = HeaderValue::from_str(&format!("{prefix}{}", secret.expose_secret())) {
            v.set_sensitive(true);
            self.headers.insert(name, v);
        }
        self.secrets.push(secret.clone());
        self
    }

    #[must_use]
    pub(crate) fn bearer(self, token: &SecretString) -> Self {
        self.secret_header(AUTHORIZATION, "Bearer ", token)
    }

    #[must_use]
    pub(crate) fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        self.url.query_pairs_mut().extend_pairs(pairs);
        self
    }

    /// A credential in the query string (Scrapin): spans print [`redact_url`], errors never
    /// carry URLs, and the value is scrubbed from details.
    #[must_use]
    pub(crate) fn secret_query(mut self, name: &str, secret: &SecretString) -> Self {
        self.url
            .query_pairs_mut()
            .append_pair(name, secret.expose_secret());
        self.secrets.push(secret.clone());
        self
    }

    /// Marks values sent in a body (a refresh token, a client secret) for scrubbing.
    #[must_use]
    pub(crate) fn scrubbing(mut self, secret: &SecretString) -> Self {
        self.secrets.push(secret.clone());
        self
    }

    #[must_use]
    pub(crate) fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body = serde_urlencoded::to_string(pairs).unwrap_or_default();
        self.body = Some((Bytes::from(body), "application/x-www-form-urlencoded"));
        self
    }

    #[must_use]
    pub(crate) fn json(mut self, value: &serde_json::Value, content_type: &'static str) -> Self {
        self.body = Some((Bytes::from(value.to_string()), content_type));
        self
    }

    fn scrub_kind(&self, kind: ErrorKind) -> ErrorKind {
        let secrets: Vec<&str> = self
            .secrets
            .iter()
            .map(ExposeSecret::expose_secret)
            .collect();
        let s = |t: String| scrub(&t, &secrets);
        match kind {
            ErrorKind::NeedsReauth { detail } => ErrorKind::NeedsReauth { detail: s(detail) },
            ErrorKind::Upstream { detail } => ErrorKind::Upstream { detail: s(detail) },
            ErrorKind::Transport { detail } => ErrorKind::Transport { detail: s(detail) },
            ErrorKind::Malformed { field, message } => ErrorKind::Malformed {
                field: s(field),
                message: s(message),
            },
            ErrorKind::Invalid { field, message } => ErrorKind::Invalid {
                field: s(field),
                message: s(message),
            },
            kind @ (ErrorKind::RateLimited { .. } | ErrorKind::Timeout) => kind,
        }
    }
}

fn method_is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// The classification most providers share: 2xx succeeds, 429 waits, 5xx is transient,
/// 401 means the credential is dead, any other 4xx is final. `detail` pulls a short,
/// provider-specific message out of an error body.
pub(crate) fn classify_common(resp: &Response, detail: fn(&Response) -> String) -> Verdict {
    match resp.status {
        s if (200..300).contains(&s) => Verdict::Success,
        429 => Verdict::RateLimited,
        401 => Verdict::Fail(ErrorKind::NeedsReauth {
            detail: detail(resp),
        }),
        s if s >= 500 => Verdict::Transient(ErrorKind::Upstream {
            detail: detail(resp),
        }),
        _ => Verdict::Fail(ErrorKind::Upstream {
            detail: detail(resp),
        }),
    }
}

/// Parses a JSON body into a wire type; a mismatch names the JSON path of the field
/// (`Employees[3].DateOfBirth`) and never panics. Values quoted in serde's message are cut:
/// they are provider data (a birth date, a name) that has no place in a log line.
pub(crate) fn parse_json<T: DeserializeOwned>(
    provider: Provider,
    operation: &'static str,
    resp: &Response,
) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(&resp.body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(body)".to_owned()
        } else {
            path
        };
        let message = without_quoted_values(&e.into_inner().to_string());
        Error::malformed(provider, operation, field, message).with_status(resp.status)
    })
}

/// Drops serde_json's " at line L column C" (the path already says where) and cuts the
/// provider's values from the message: serde quotes strings in `"…"` and other values in
/// `` `…` `` (an account number sent as a number: "invalid type: integer `12345678`").
/// What follows ", expected" is Roster's own vocabulary (variant names) and stays.
fn without_quoted_values(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or("invalid value");
    // Field names are the provider's vocabulary, not its data.
    if ["missing field ", "unknown field ", "duplicate field "]
        .iter()
        .any(|p| message.starts_with(p))
    {
        return message.to_owned();
    }
    let (head, tail) = match message.find(", expected") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    let mut out = String::with_capacity(message.len());
    let mut inside: Option<char> = None;
    for c in head.chars() {
        match inside {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                inside = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                inside = Some(c);
            }
            None => out.push(c),
        }
    }
    out.push_str(tail);
    out
}

impl Http {
    /// [`Http::send`], then [`parse_json`], with the call's secrets scrubbed from any error.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        req: &Request,
        classify: Classifier,
    ) -> Result<T, Error> {
        let resp = self.send(req, classify).await?;
        parse_json(req.provider, req.operation, &resp).map_err(|mut e| {
            e.kind = req.scrub_kind(e.kind);
            e
        })
    }
}

/// `now`, for code that needs a wall-clock-free instant (token expiry).
pub(crate) fn now(http: &Http) -> DateTime<Utc> {
    http.clock.now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_keep_the_shape_and_drop_the_values() {
        for (message, want) in [
            (
                "invalid type: integer `12345678`, expected a string at line 1 column 20",
                "invalid type: integer `…`, expected a string",
            ),
            (
                "invalid value: string \"1990-13-45\", expected a date",
                "invalid value: string \"…\", expected a date",
            ),
            (
                "unknown variant `SECRETCODE`, expected one of `FULLTIME`, `PARTTIME`",
                "unknown variant `…`, expected one of `FULLTIME`, `PARTTIME`",
            ),
            ("missing field `EmployeeID`", "missing field `EmployeeID`"),
        ] {
            assert_eq!(without_quoted_values(message), want, "{message}");
        }
    }

    #[test]
    fn a_request_debug_shows_no_credential_wherever_it_rides() {
        let canary = SecretString::from("canary-9f2c7e1d".to_owned());
        let url = Url::parse("https://api.example.test/v1/profile?linkedInUrl=x").unwrap();
        let req = Request::post(Provider::Scrapin, "scrapin.profile", url)
            .secret_query("apikey", &canary)
            .bearer(&canary)
            .form(&[("refresh_token", canary.expose_secret())]);
        let shown = format!("{req:?}");
        assert!(!shown.contains("canary-9f2c7e1d"), "{shown}");
        assert!(
            shown.contains("scrapin.profile") && shown.contains("authorization"),
            "{shown}"
        );
    }
}
