//! OAuth 2 pieces shared by Xero and OpenID Connect sign-in: PKCE, random state and nonce
//! values, token answers and token-endpoint errors.
//!
//! Owns the PKCE S256 arithmetic (RFC 7636 §4.2) and the reading of RFC 6749 §5.2 error
//! bodies. Tokens leave this module only as [`SecretString`]s; it never logs or formats one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ErrorKind;
use crate::http::{Response, Verdict, classify_common};

/// A PKCE pair. The verifier is a secret until the code exchange; the challenge goes in the
/// authorize URL.
#[derive(Debug, Clone)]
pub struct Pkce {
    verifier: SecretString,
    challenge: String,
}

impl Pkce {
    /// 32 random bytes, base64url: a 43-character verifier (RFC 7636 §4.1 allows 43–128).
    pub fn generate() -> Self {
        Self::from_verifier(SecretString::from(random_token()))
    }

    /// Rebuilds the pair from a stored verifier (the callback only has the verifier).
    pub fn from_verifier(verifier: SecretString) -> Self {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose_secret().as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }

    pub fn verifier(&self) -> &SecretString {
        &self.verifier
    }

    /// `BASE64URL(SHA256(verifier))`, sent with `code_challenge_method=S256`.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// 256 random bits, base64url: for `state`, `nonce` and PKCE verifiers.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a token endpoint granted.
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    /// Present on code exchange with `offline_access`, and on every Xero refresh: Xero's
    /// refresh tokens are single use, so the new one must replace the old
    /// (<https://developer.xero.com/faq/oauth2>).
    pub refresh_token: Option<SecretString>,
    pub id_token: Option<SecretString>,
    pub expires_at: DateTime<Utc>,
    pub scope: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TokenWire {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

impl TokenWire {
    /// `expires_in` is missing from some answers; an hour is the common lifetime (Google's
    /// and, halved, Xero's — the caller refreshes ahead anyway).
    pub(crate) fn into_tokens(self, now: DateTime<Utc>) -> OAuthTokens {
        let lifetime = self.expires_in.unwrap_or(3_600).clamp(0, 86_400 * 365);
        OAuthTokens {
            access_token: SecretString::from(self.access_token),
            refresh_token: self.refresh_token.map(SecretString::from),
            id_token: self.id_token.map(SecretString::from),
            expires_at: now + chrono::Duration::seconds(lifetime),
            scope: self.scope,
        }
    }
}

/// A token endpoint's answer (RFC 6749 §5.2): `invalid_grant` (a refresh token used after
/// rotation, expired or revoked — <https://nango.dev/blog/xero-oauth-refresh-token-invalid-grant>;
/// a bad service-account JWT at Google) and `unauthorized_client` (Google: delegation
/// missing) mean a person must connect again. They are final: retrying a dead grant only
/// burns rate budget.
pub(crate) fn classify_token_endpoint(resp: &Response) -> Verdict {
    let code = token_error_code(resp);
    match code.as_deref() {
        Some("invalid_grant" | "unauthorized_client") if !resp.is_success() => {
            Verdict::Fail(ErrorKind::NeedsReauth {
                detail: token_error_detail(resp),
            })
        }
        _ => classify_common(resp, token_error_detail),
    }
    .non_auth_401()
}

fn token_error_code(resp: &Response) -> Option<String> {
    resp.json()?.get("error")?.as_str().map(str::to_owned)
}

/// `error` plus `error_description` when given, else the status.
pub(crate) fn token_error_detail(resp: &Response) -> String {
    let Some(body) = resp.json() else {
        return format!("HTTP {}", resp.status);
    };
    let code = body
        .get("error")
        .and_then(|v| v.as_str())
        .unwrap_or("error");
    match body.get("error_description").and_then(|v| v.as_str()) {
        Some(description) => format!("{code}: {description}"),
        None => code.to_owned(),
    }
}

impl Verdict {
    /// At a token endpoint, a 401 other than `unauthorized_client` is `invalid_client`: our
    /// app's own credentials are wrong, which no user can fix by reconnecting.
    fn non_auth_401(self) -> Self {
        match self {
            Self::Fail(ErrorKind::NeedsReauth { detail })
                if detail.starts_with("invalid_client") =>
            {
                Self::Fail(ErrorKind::Upstream { detail })
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_base64url_of_sha256() {
        // Expected value computed independently (Python hashlib + base64.urlsafe_b64encode).
        let pkce = Pkce::from_verifier(SecretString::from(
            "dBjftJeZ4CVP-mJ92IZYmavkrVWtX8HRSfjDSuoHmyI",
        ));
        assert_eq!(
            pkce.challenge(),
            "f7vEFDuzrurnZwSM6sBYzJQKsmHDzN-2t74BGlRqvNg"
        );
    }

    #[test]
    fn generated_verifiers_are_43_url_safe_characters() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_eq!(a.verifier().expose_secret().len(), 43);
        assert!(
            a.verifier()
                .expose_secret()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a.verifier().expose_secret(), b.verifier().expose_secret());
    }

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn token_endpoint_errors() {
        for (status, body, reauth, final_) in [
            (400, r#"{"error":"invalid_grant"}"#, true, true),
            (
                401,
                r#"{"error":"unauthorized_client","error_description":"no"}"#,
                true,
                true,
            ),
            (401, r#"{"error":"invalid_client"}"#, false, true),
            (400, r#"{"error":"unsupported_grant_type"}"#, false, true),
            (503, "oops", false, false),
        ] {
            let v = classify_token_endpoint(&answer(status, body));
            let is_reauth = matches!(v, Verdict::Fail(ErrorKind::NeedsReauth { .. }));
            let is_final = matches!(v, Verdict::Fail(_));
            assert_eq!((is_reauth, is_final), (reauth, final_), "{status} {body}");
        }
    }
}
