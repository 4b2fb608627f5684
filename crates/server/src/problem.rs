//! The one place that writes `application/problem+json` (RFC 9457).
//!
//! Every failure of every layer becomes an [`ApiError`]; its `IntoResponse` chooses the
//! status and the stable `code` listed in docs/api.md and a detail that is safe to show. Internal
//! causes are attached to the response for the trace layer to log with the request id —
//! never put in the body.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` plus the `code` is enough to act on).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable snake_case code: validation_failed, unauthenticated, forbidden, not_found, ...
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemField>>,
}

/// One invalid field of a 422.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub message: String,
}

/// A cause kept for the logs: the error and its `source` chain, never shown to the caller.
pub type CauseError = Arc<dyn std::error::Error + Send + Sync>;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// A conflict with the organization's state that has its own code (`not_connected`,
    /// `needs_reauth`, `not_configured`).
    #[error("{detail}")]
    StateConflict { code: &'static str, detail: String },
    /// A request the contract answers 400 beyond malformed JSON (`invalid_state`).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// A provider's rate limit held past the call's budget.
    #[error("{detail}")]
    RateLimited {
        detail: String,
        retry_after: Option<u64>,
    },
    /// A provider failed or refused; the detail names the provider and the step (no secret:
    /// provider errors are scrubbed where they are made).
    #[error("{0}")]
    ProviderFailed(String),
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Another write held the database past its busy timeout; nothing was written.
    #[error("the database is busy")]
    Busy(CauseError),
    /// The database cannot serve (unreachable, or its schema is not this binary's).
    #[error("not ready")]
    Unavailable(CauseError),
    /// A bug or an outage; the cause is logged, the caller sees a generic 500.
    #[error("internal error")]
    Internal(CauseError),
}

/// How long a caller should wait before retrying a `busy` answer, in seconds.
pub const BUSY_RETRY_AFTER_SECS: u32 = 1;

/// The logged cause of a 5xx, carried in the response extensions.
#[derive(Debug, Clone)]
pub struct Cause(pub CauseError);

impl Cause {
    /// The error and every `source` under it, joined: what the log line shows.
    pub fn chain(&self) -> String {
        let mut text = self.0.to_string();
        let mut next = self.0.source();
        while let Some(e) = next {
            text.push_str(": ");
            text.push_str(&e.to_string());
            next = e.source();
        }
        text
    }
}

impl ApiError {
    /// An internal error from a message (a panic's payload): no typed cause to keep.
    pub fn internal(message: impl Into<String>) -> Self {
        let boxed: Box<dyn std::error::Error + Send + Sync> = message.into().into();
        Self::Internal(Arc::from(boxed))
    }

    pub const fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::StateConflict { .. } => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::ProviderFailed(_) => StatusCode::BAD_GATEWAY,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Busy(_) | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub const fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_request",
            Self::Invalid(_) => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::StateConflict { code, .. } | Self::BadRequest { code, .. } => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::ProviderFailed(_) => "provider_error",
            Self::RequestTimeout => "request_timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Busy(_) => "busy",
            Self::Unavailable(_) => "not_ready",
            Self::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Internal(_) => {
                "something went wrong on our side; the request id is in the x-request-id header"
                    .to_owned()
            }
            Self::Unavailable(_) => "the service is not ready; try again shortly".to_owned(),
            Self::Busy(_) => format!(
                "another change is being written; nothing was changed, try again in {BUSY_RETRY_AFTER_SECS} s"
            ),
            Self::Invalid(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid value for: {}", fields.join(", "))
            }
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        Problem {
            kind: format!("https://roster.invalid/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code().to_owned(),
            errors: match self {
                Self::Invalid(errors) => Some(
                    errors
                        .iter()
                        .map(|e| ProblemField {
                            field: e.field.clone(),
                            message: e.message.clone(),
                        })
                        .collect(),
                ),
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (self.status(), body).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            Self::Unauthenticated => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::Busy(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(BUSY_RETRY_AFTER_SECS),
                );
            }
            Self::RateLimited {
                retry_after: Some(secs),
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            // The rest of the body may still come; it must not be read as the next request
            // (RFC 9110 §15.5.9: the server closes the connection).
            Self::RequestTimeout => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        if let Self::Internal(cause) | Self::Unavailable(cause) | Self::Busy(cause) = self {
            res.extensions_mut().insert(Cause(cause));
        }
        res
    }
}

/// The one mapping of the operations' errors to HTTP: each business rule and each store
/// outcome gets its status here and nowhere else.
impl From<roster_app::Error> for ApiError {
    fn from(e: roster_app::Error) -> Self {
        use roster_app::Error as A;
        use roster_domain::Error as Rule;
        match e {
            A::Unauthenticated => Self::Unauthenticated,
            A::Forbidden(m) => Self::Forbidden(m.to_owned()),
            A::Invalid(errors) | A::Rule(Rule::Invalid(errors)) => Self::Invalid(errors),
            A::Rule(rule @ (Rule::LastExecutive | Rule::DeleteSelf)) => {
                Self::Conflict(rule.to_string())
            }
            A::Rule(Rule::NoLinkedPerson) => Self::Invalid(vec![FieldError::new(
                "user",
                "has no linked person to hold employment fields",
            )]),
            A::Rule(Rule::ExecutiveKeepsEveryRight(m)) => {
                Self::Invalid(vec![FieldError::new("permissions", m)])
            }
            A::Store(s) => s.into(),
            A::Provider(e) if e.is_rate_limited() => Self::RateLimited {
                detail: e.to_string(),
                retry_after: e.retry_after().map(|d| d.as_secs().max(1)),
            },
            A::Provider(e) => Self::ProviderFailed(e.to_string()),
            e @ A::NotConnected(_) => Self::StateConflict {
                code: "not_connected",
                detail: e.to_string(),
            },
            e @ A::NeedsReauth(_) => Self::StateConflict {
                code: "needs_reauth",
                detail: e.to_string(),
            },
            e @ A::NotConfigured(_) => Self::StateConflict {
                code: "not_configured",
                detail: e.to_string(),
            },
            e @ A::InvalidState => Self::BadRequest {
                code: "invalid_state",
                detail: e.to_string(),
            },
            e @ A::RefreshInProgress => Self::Busy(Arc::new(e)),
            e @ A::SyncInProgress(_) => Self::StateConflict {
                code: "sync_in_progress",
                detail: e.to_string(),
            },
            e @ A::MassRemovalBlocked { .. } => Self::StateConflict {
                code: "mass_removal_blocked",
                detail: e.to_string(),
            },
            e @ A::SyncData { .. } => Self::ProviderFailed(e.to_string()),
            e @ A::NotLinked(_) => Self::BadRequest {
                code: "not_linked",
                detail: e.to_string(),
            },
            e @ (A::TokenSigning(_) | A::Vault(_)) => Self::Internal(Arc::new(e)),
        }
    }
}

impl From<roster_store::Error> for ApiError {
    fn from(e: roster_store::Error) -> Self {
        use roster_store::Error as S;
        match e {
            S::NotFound(what) => Self::NotFound(what.to_owned()),
            S::Conflict(what) => Self::Conflict(what.to_owned()),
            e @ S::Busy(_) => Self::Busy(Arc::new(e)),
            e @ (S::Unavailable(_) | S::Schema(_)) => Self::Unavailable(Arc::new(e)),
            e @ (S::Config(_) | S::Corrupt { .. } | S::Internal(_)) => Self::Internal(Arc::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status_and_code() {
        let cases = [
            (ApiError::Malformed("x".into()), 400, "malformed_request"),
            (
                ApiError::Invalid(vec![FieldError::new("f", "m")]),
                422,
                "validation_failed",
            ),
            (ApiError::Unauthenticated, 401, "unauthenticated"),
            (ApiError::Forbidden("x".into()), 403, "forbidden"),
            (ApiError::NotFound("user".into()), 404, "not_found"),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (ApiError::RequestTimeout, 408, "request_timeout"),
            (ApiError::PayloadTooLarge, 413, "payload_too_large"),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (
                ApiError::Unavailable(Arc::new(std::io::Error::other("db down"))),
                503,
                "not_ready",
            ),
            (
                ApiError::Busy(Arc::new(std::io::Error::other("db down"))),
                503,
                "busy",
            ),
            (ApiError::internal("secret cause"), 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            let p = err.problem();
            assert_eq!((p.status, p.code.as_str()), (status, code), "{err:?}");
            assert!(
                !p.detail.contains("secret cause") && !p.detail.contains("db down"),
                "internals never shown"
            );
            assert_eq!(p.errors.is_some(), status == 422);
        }
    }

    #[test]
    fn every_operation_error_gets_its_status_here() {
        use roster_app::Error as A;
        use roster_domain::Error as Rule;
        let sqlite_busy = || roster_store::Error::Busy(sqlx_error("database is locked"));
        let cases: Vec<(A, u16, &str)> = vec![
            (A::Unauthenticated, 401, "unauthenticated"),
            (A::Forbidden("no"), 403, "forbidden"),
            (
                A::Invalid(vec![FieldError::new("f", "m")]),
                422,
                "validation_failed",
            ),
            (A::Rule(Rule::LastExecutive), 409, "conflict"),
            (
                A::NotLinked(roster_domain::Provider::Xero),
                400,
                "not_linked",
            ),
            (A::Rule(Rule::DeleteSelf), 409, "conflict"),
            (A::Rule(Rule::NoLinkedPerson), 422, "validation_failed"),
            (
                A::Rule(Rule::ExecutiveKeepsEveryRight("x".into())),
                422,
                "validation_failed",
            ),
            (
                A::Store(roster_store::Error::NotFound("user")),
                404,
                "not_found",
            ),
            (
                A::Store(roster_store::Error::Conflict("taken")),
                409,
                "conflict",
            ),
            (A::Store(sqlite_busy()), 503, "busy"),
            (
                A::Store(roster_store::Error::Unavailable(sqlx_error("gone"))),
                503,
                "not_ready",
            ),
            (
                A::Store(roster_store::Error::Schema("newer".into())),
                503,
                "not_ready",
            ),
            (
                A::Store(roster_store::Error::Internal(sqlx_error("syntax"))),
                500,
                "internal_error",
            ),
        ];
        for (err, status, code) in cases {
            let shown = format!("{err:?}");
            let api = ApiError::from(err);
            assert_eq!(
                (api.status().as_u16(), api.code()),
                (status, code),
                "{shown}"
            );
        }
        let fields = |e: ApiError| match e {
            ApiError::Invalid(errors) => errors.into_iter().map(|f| f.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields(A::Rule(Rule::NoLinkedPerson).into()), ["user"]);
        assert_eq!(
            fields(A::Rule(Rule::ExecutiveKeepsEveryRight("x".into())).into()),
            ["permissions"]
        );
    }

    #[test]
    fn a_busy_answer_says_when_to_retry_and_logs_its_cause() {
        let res = ApiError::from(roster_store::Error::Busy(sqlx_error("database is locked")))
            .into_response();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        let cause = res
            .extensions()
            .get::<Cause>()
            .expect("the cause rides along");
        assert!(
            cause.chain().contains("database is locked"),
            "{}",
            cause.chain()
        );
    }

    fn sqlx_error(message: &str) -> sqlx::Error {
        sqlx::Error::Protocol(message.to_owned())
    }
}
