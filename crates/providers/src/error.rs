//! The one error type every provider call returns.
//!
//! Owns the closed list of failure kinds and their mapping to the contract's error codes
//! (`provider_error`, `rate_limited`, `needs_reauth`). It must never hold a secret: details
//! are short provider codes or messages that have been scrubbed of every credential the
//! call carried (see [`crate::redact`]), and no URL with a query string is ever stored.

use std::fmt;
use std::time::Duration;

use roster_domain::Provider;

/// A provider call failed. Which provider, which operation, the HTTP status if an answer
/// came back, and what kind of failure it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub provider: Provider,
    /// Stable operation name, `provider.thing` (`xero.employees`), the same as the metric label.
    pub operation: &'static str,
    /// The HTTP status of the last answer, when there was one.
    pub status: Option<u16>,
    pub kind: ErrorKind,
}

/// What went wrong. Closed: adding a kind forces a decision about its API code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credential is expired, revoked or was never valid: a person must connect again.
    NeedsReauth { detail: String },
    /// The provider's rate limit held after every retry the time budget allowed.
    RateLimited { retry_after: Option<Duration> },
    /// The provider failed (5xx after retries) or refused the request (another 4xx).
    Upstream { detail: String },
    /// An answer did not parse; `field` is the JSON path of the offending value.
    Malformed { field: String, message: String },
    /// No answer within the per-request timeout or the operation's time budget.
    Timeout,
    /// The connection failed before an answer came back.
    Transport { detail: String },
    /// Our input was unusable (a service-account key that does not parse, a bad URL).
    Invalid { field: String, message: String },
}

impl Error {
    pub(crate) fn new(provider: Provider, operation: &'static str, kind: ErrorKind) -> Self {
        Self {
            provider,
            operation,
            status: None,
            kind,
        }
    }

    #[must_use]
    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn malformed(
        provider: Provider,
        operation: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            provider,
            operation,
            ErrorKind::Malformed {
                field: field.into(),
                message: message.into(),
            },
        )
    }

    pub(crate) fn invalid(
        provider: Provider,
        operation: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            provider,
            operation,
            ErrorKind::Invalid {
                field: field.into(),
                message: message.into(),
            },
        )
    }

    pub fn is_needs_reauth(&self) -> bool {
        matches!(self.kind, ErrorKind::NeedsReauth { .. })
    }

    pub fn is_rate_limited(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited { .. })
    }

    /// An access token past its lifetime (Xero's 401 `TokenExpired: …`, docs/providers.md
    /// Xero "Errors"): refreshing it may be all it takes. Only when the refresh also fails
    /// (`invalid_grant`) is the connection dead.
    pub fn is_access_token_expired(&self) -> bool {
        matches!(&self.kind, ErrorKind::NeedsReauth { detail } if detail.starts_with("TokenExpired"))
    }

    /// The contract's stable code for this failure: `needs_reauth` marks the connection
    /// (the sync itself answers 502), `rate_limited` is a 429, everything else a 502.
    pub fn api_code(&self) -> &'static str {
        match self.kind {
            ErrorKind::NeedsReauth { .. } => "needs_reauth",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Upstream { .. }
            | ErrorKind::Malformed { .. }
            | ErrorKind::Timeout
            | ErrorKind::Transport { .. }
            | ErrorKind::Invalid { .. } => "provider_error",
        }
    }

    /// How long the provider asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }

    /// Whether trying the same call again later could succeed.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            ErrorKind::RateLimited { .. } | ErrorKind::Timeout | ErrorKind::Transport { .. } => {
                true
            }
            ErrorKind::Upstream { .. } => self.status.is_none_or(|s| s >= 500),
            ErrorKind::NeedsReauth { .. }
            | ErrorKind::Malformed { .. }
            | ErrorKind::Invalid { .. } => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.provider, self.operation)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NeedsReauth { detail } => {
                write!(f, "credential rejected, reconnect needed ({detail})")
            }
            Self::RateLimited {
                retry_after: Some(d),
            } => {
                write!(f, "rate limited, retry after {} s", d.as_secs())
            }
            Self::RateLimited { retry_after: None } => f.write_str("rate limited"),
            Self::Upstream { detail } => write!(f, "provider failed ({detail})"),
            Self::Malformed { field, message } => {
                write!(f, "unexpected answer at {field}: {message}")
            }
            Self::Timeout => f.write_str("timed out"),
            Self::Transport { detail } => write!(f, "connection failed ({detail})"),
            Self::Invalid { field, message } => write!(f, "invalid {field}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_codes_follow_the_contract() {
        let p = Provider::Xero;
        for (kind, code) in [
            (
                ErrorKind::NeedsReauth { detail: "x".into() },
                "needs_reauth",
            ),
            (ErrorKind::RateLimited { retry_after: None }, "rate_limited"),
            (ErrorKind::Upstream { detail: "x".into() }, "provider_error"),
            (
                ErrorKind::Malformed {
                    field: "a".into(),
                    message: "b".into(),
                },
                "provider_error",
            ),
            (ErrorKind::Timeout, "provider_error"),
            (
                ErrorKind::Transport { detail: "x".into() },
                "provider_error",
            ),
            (
                ErrorKind::Invalid {
                    field: "a".into(),
                    message: "b".into(),
                },
                "provider_error",
            ),
        ] {
            assert_eq!(
                Error::new(p, "xero.employees", kind.clone()).api_code(),
                code,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn display_names_provider_operation_and_status() {
        let e = Error::new(Provider::Xero, "xero.employees", ErrorKind::Timeout).with_status(504);
        assert_eq!(e.to_string(), "xero xero.employees (HTTP 504): timed out");
    }
}
