//! [`Request`]: one logical call (what to send, which budget it counts against, whether it
//! may be repeated) and the credentials it carries, which are scrubbed from any text it
//! produces and never shown by its `Debug`.

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use roster_domain::Provider;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::ErrorKind;
use crate::redact::scrub;

/// Whether a call may be repeated after the provider might have acted on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, and writes whose repetition is harmless: retried on 5xx, timeouts, 429.
    Idempotent,
    /// Retried only when the provider cannot have acted: a 429, or no connection at all.
    OnlyIfNotProcessed,
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

    /// A credential in the query string (Scrapin): spans print
    /// [`redact_url`](crate::redact::redact_url), errors never carry URLs, and the value is
    /// scrubbed from details.
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

    pub(super) fn scrub_kind(&self, kind: ErrorKind) -> ErrorKind {
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

#[cfg(test)]
mod tests {
    use super::*;

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
