//! The one place that writes `application/problem+json` (RFC 9457).
//!
//! Every failure of every layer becomes an [`ApiError`]; its `IntoResponse` chooses the
//! status and the stable `code` from API.md and a detail that is safe to show. Internal
//! causes are attached to the response for the trace layer to log with the request id —
//! never put in the body.

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
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("not ready: {0}")]
    Unavailable(String),
    /// A bug or an outage; the cause is logged, the caller sees a generic 500.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The logged cause of a 500, carried in the response extensions.
#[derive(Debug, Clone)]
pub struct Cause(pub String);

impl ApiError {
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::RequestTimeout => "request_timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
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
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, Self::RequestTimeout) {
            // The rest of the body may still come; it must not be read as the next request
            // (RFC 9110 §15.5.9: the server closes the connection).
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if matches!(self, Self::Unauthenticated) {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Self::Internal(cause) | Self::Unavailable(cause) = self {
            res.extensions_mut().insert(Cause(cause));
        }
        res
    }
}

impl From<roster_app::Error> for ApiError {
    fn from(e: roster_app::Error) -> Self {
        use roster_app::Error as A;
        match e {
            A::Unauthenticated => Self::Unauthenticated,
            A::Forbidden(m) => Self::Forbidden(m.to_owned()),
            A::NotFound(what) => Self::NotFound(what.to_owned()),
            A::Conflict(m) => Self::Conflict(m),
            A::Invalid(errors) => Self::Invalid(errors),
            A::BadRequest(m) => Self::Malformed(m),
            A::Store(s) => s.into(),
        }
    }
}

impl From<roster_store::Error> for ApiError {
    fn from(e: roster_store::Error) -> Self {
        use roster_store::Error as S;
        match e {
            S::NotFound(what) => Self::NotFound(what.to_owned()),
            S::Conflict(what) => Self::Conflict(what.to_owned()),
            S::Unavailable(cause) | S::Schema(cause) => Self::Unavailable(cause),
            S::Config(cause) | S::Internal(cause) => Self::Internal(cause),
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
            (ApiError::Unavailable("db down".into()), 503, "not_ready"),
            (
                ApiError::Internal("secret cause".into()),
                500,
                "internal_error",
            ),
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
}
