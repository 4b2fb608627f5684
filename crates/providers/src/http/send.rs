//! The send loop: one logical call becomes attempts under the budget, each answer is read in
//! full (up to the size limit) and classified, and the loop waits, retries or gives up.
//!
//! Owns the per-attempt metric and span, the turning of transport failures into [`Error`]s,
//! and the rule that only a call safe to repeat is repeated after the provider may have acted.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::budget::{OverBudget, to_chrono};
use super::retry_after::parse_retry_after;
use super::{Classifier, Http, Request, Response, Retry, Verdict, parse_json};
use crate::error::{Error, ErrorKind};
use crate::redact::redact_url;

impl Http {
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

/// What a failed attempt leaves to retry, once the verdict allows it.
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
