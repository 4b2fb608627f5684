//! Extractors: who is calling (bearer token + `x-active-org`), whether they may (a
//! `Can<R>` proof, checked before the body is read), and request bodies and ids parsed
//! into domain types — broken JSON is a 400, wrong values a 422 naming the field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use roster_app::auth::Requirement;
use roster_app::{Caller, Can};
use roster_domain::FieldError;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::ApiError;

/// The name of the header that selects the organization.
pub const ACTIVE_ORG: &str = "x-active-org";

/// The authenticated caller in their active organization.
#[derive(Debug, Clone)]
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(Self(caller.clone()));
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthenticated)?;
        let value = header.to_str().map_err(|_| ApiError::Unauthenticated)?;
        let token = bearer_token(value).ok_or(ApiError::Unauthenticated)?;
        // A header that is not text names no organization the caller belongs to. It must
        // still not hide a bad token: that is a 401 whatever the header says.
        let active = match parts.headers.get(ACTIVE_ORG).map(|v| v.to_str()) {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                state.app.verify_token(token).await?;
                return Err(ApiError::Forbidden("unknown organization".to_owned()));
            }
            None => None,
        };
        let mut caller = state.app.authenticate(token, active).await?;
        caller.request_id = parts
            .extensions
            .get::<tower_http::request_id::RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .map(str::to_owned);
        parts.extensions.insert(caller.clone());
        Ok(Self(caller))
    }
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is case-insensitive
/// (RFC 9110 §11.1) and one or more spaces may follow it.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Proof that the caller meets `R` (403 otherwise); the proof carries the caller.
#[derive(Debug)]
pub struct Allowed<R>(pub Can<R>);

impl<R: Requirement + Send> FromRequestParts<AppState> for Allowed<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authed(caller) = Authed::from_request_parts(parts, state).await?;
        Ok(Self(caller.can::<R>()?))
    }
}

/// A JSON body. Not JSON → 400; JSON of the wrong shape → 422 naming the field; a body
/// that does not arrive within its deadline → 408.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            ref stalled if crate::middleware::is_body_timeout(stalled) => ApiError::RequestTimeout,
            BytesRejection::FailedToBufferBody(ref inner)
                if inner.body_text().contains("length limit") =>
            {
                ApiError::PayloadTooLarge
            }
            other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge
            }
            other => ApiError::Malformed(other.body_text()),
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses a body: syntax errors are 400, type and value errors 422 with the field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Malformed(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = clean_serde_message(&e.into_inner().to_string());
        // A missing field's path is its parent: name the field itself.
        let path = match missing_field(&message) {
            Some(name) if path == "." => name.to_owned(),
            Some(name) => format!("{path}.{name}"),
            None => path,
        };
        // An unknown field's path is the field itself (`acess_level`): the caller's text,
        // echoed only when short.
        let field = if path == "." || path.chars().count() > 200 {
            "body".to_owned()
        } else {
            path
        };
        ApiError::Invalid(vec![FieldError::new(field, message)])
    })
}

/// The field serde's "missing field `name`" message names.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")?
        .split('`')
        .next()
        .filter(|n| !n.is_empty())
}

/// serde's messages end with a position that means nothing for a `Value`; drop it.
/// Messages quote the caller's text (an unknown field's name), so they are also capped.
fn clean_serde_message(msg: &str) -> String {
    const MAX_MESSAGE_CHARS: usize = 300;
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    if msg.chars().count() <= MAX_MESSAGE_CHARS {
        msg.to_owned()
    } else {
        let mut short: String = msg.chars().take(MAX_MESSAGE_CHARS).collect();
        short.push('…');
        short
    }
}

/// A path segment as text. axum's own extractor answers a segment that is not UTF-8
/// (`%FF`) with a plain-text 400; such a segment names nothing, so here it is a 404 problem.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Self(v))
            .map_err(|_| ApiError::NotFound("resource".to_owned()))
    }
}

/// A path id: anything that is not a UUID names nothing, so it is a 404.
pub fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound(what.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_spaces_may_follow_it() {
        for (value, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER abc", Some("abc")),
            ("bEaReR abc", Some("abc")),
            ("Bearer    abc", Some("abc")),
            ("Bearer abc  ", Some("abc")),
            ("Bearer", None),
            ("Bearer ", None),
            ("Bearer    ", None),
            ("Bearerabc", None),
            ("Basic abc", None),
            ("Bear abc", None),
            (" Bearer abc", None),
        ] {
            assert_eq!(bearer_token(value), token, "{value:?}");
        }
    }
}
