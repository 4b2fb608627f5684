//! Google as an OpenID Connect provider: discovery, JWKS, authorize with PKCE (auto-consent
//! for a chosen sample person) and the code exchange.
//!
//! Owns sign-in only. It must never sign an id_token for someone outside the company's
//! Google accounts, and never mint one without the `hd` claim: Roster checks `hd` from the
//! token, not the email suffix (docs/providers.md §3).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{ACCESS_TOKEN_LIFETIME, GoogleState, Grant, token_error};
use crate::keys::{PROVIDER_JWK_E, PROVIDER_JWK_N, PROVIDER_KID, random_token};
use crate::serve::{basic, first, lock, pairs, says_invalid};

/// A code waiting for its exchange.
#[derive(Debug)]
pub(crate) struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<(String, String)>,
    scopes: Vec<String>,
    nonce: Option<String>,
    person: usize,
    issued_at: DateTime<Utc>,
}

/// Codes live ten minutes at most (inferred; Google does not publish the figure).
const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);

/// `GET /.well-known/openid-configuration`, shaped like Google's (panva/wellknown capture).
pub(crate) async fn discovery(State(state): State<Arc<GoogleState>>) -> Response {
    let base = &state.base_url;
    let body = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/v1/userinfo"),
        "jwks_uri": format!("{base}/oauth2/v3/certs"),
        "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /oauth2/v3/certs`: the public half of the fake's signing key.
pub(crate) async fn jwks() -> Response {
    let body = json!({
        "keys": [{ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": PROVIDER_KID, "n": PROVIDER_JWK_N.trim(), "e": PROVIDER_JWK_E }]
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Google's error page for a client it does not know: "Error 401: invalid_client".
fn invalid_client_page() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><body><h1>Access blocked: Authorization Error</h1><p>The OAuth client was not found.</p><p>Error 401: invalid_client</p></body></html>",
    )
        .into_response()
}

fn bad_request_page(detail: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<html><body><h1>Access blocked: Authorization Error</h1><p>{detail}</p><p>Error 400: invalid_request</p></body></html>"),
    )
        .into_response()
}

fn redirect(url: &url::Url) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, url.as_str().to_owned())],
    )
        .into_response()
}

/// `GET /o/oauth2/v2/auth`: validates, picks the person (`login_hint`, else the one set with
/// `set_signed_in`, else the CEO), consents, and redirects with a code.
pub(crate) async fn authorize(
    State(state): State<Arc<GoogleState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let q = pairs(query.as_deref().unwrap_or_default());
    let client_id = first(&q, "client_id").unwrap_or_default();
    if client_id.is_empty() || says_invalid(client_id) {
        return invalid_client_page();
    }
    let Some(mut target) = first(&q, "redirect_uri").and_then(|u| url::Url::parse(u).ok()) else {
        return bad_request_page("Missing or invalid redirect_uri");
    };
    let loopback = matches!(target.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if target.scheme() != "https" && !(target.scheme() == "http" && loopback) {
        return bad_request_page("redirect_uri must use https");
    }
    if first(&q, "response_type") != Some("code") {
        return bad_request_page("Only response_type=code is supported by the fake");
    }
    let scopes: Vec<String> = first(&q, "scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return bad_request_page("Some requested scopes were invalid: openid is required");
    }
    let challenge = match (
        first(&q, "code_challenge"),
        first(&q, "code_challenge_method").unwrap_or("plain"),
    ) {
        (None, _) => None,
        (Some(c), m @ ("plain" | "S256")) => Some((c.to_owned(), m.to_owned())),
        (Some(_), _) => return bad_request_page("Invalid code_challenge_method"),
    };
    let state_param = first(&q, "state");
    let wanted = first(&q, "login_hint")
        .map(str::to_owned)
        .or_else(|| lock(&state.auth).signed_in.clone());
    let company = &state.company();
    let person = match wanted {
        Some(email) => company
            .person_by_email(&email)
            .filter(|p| p.google_id.is_some() && p.is_active),
        None => Some(company.ceo()),
    };
    let Some(person) = person else {
        target
            .query_pairs_mut()
            .append_pair("error", "access_denied");
        if let Some(s) = state_param {
            target.query_pairs_mut().append_pair("state", s);
        }
        return redirect(&target);
    };
    let code = format!("4/{}", random_token("", 24));
    let now = state.now();
    lock(&state.auth).codes.insert(
        code.clone(),
        Code {
            client_id: client_id.to_owned(),
            redirect_uri: first(&q, "redirect_uri").unwrap_or_default().to_owned(),
            challenge,
            scopes: scopes.clone(),
            nonce: first(&q, "nonce").map(str::to_owned),
            person: person.index,
            issued_at: now,
        },
    );
    {
        let mut pairs = target.query_pairs_mut();
        if let Some(s) = state_param {
            pairs.append_pair("state", s);
        }
        pairs
            .append_pair("code", &code)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("authuser", "0")
            .append_pair("hd", &company.domain)
            .append_pair("prompt", "consent");
    }
    redirect(&target)
}

/// The `authorization_code` grant of `POST /token`.
pub(crate) fn exchange_code(
    state: &GoogleState,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Response {
    let (client_id, secret) = match basic(headers) {
        Some((id, secret)) => (id, Some(secret)),
        None => (
            first(form, "client_id").unwrap_or_default().to_owned(),
            first(form, "client_secret").map(str::to_owned),
        ),
    };
    if client_id.is_empty()
        || says_invalid(&client_id)
        || secret.as_deref().is_some_and(says_invalid)
    {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    let Some(code) = first(form, "code") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: code",
        );
    };
    let now = state.now();
    let pending = lock(&state.auth).codes.remove(code);
    let Some(pending) =
        pending.filter(|c| now - c.issued_at <= CODE_LIFETIME && c.client_id == client_id)
    else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Malformed auth code.",
        );
    };
    if first(form, "redirect_uri") != Some(pending.redirect_uri.as_str()) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "Bad Request",
        );
    }
    if let Some((challenge, method)) = &pending.challenge {
        let verifier = first(form, "code_verifier").unwrap_or_default();
        let computed = if method == "S256" {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_owned()
        };
        if verifier.is_empty() || computed != *challenge {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "Invalid code verifier.",
            );
        }
    } else if secret.is_none() {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_secret is missing.",
        );
    }
    let access_token = lock(&state.auth).issue(
        Grant::User {
            person: pending.person,
        },
        pending.scopes.clone(),
        now,
    );
    let p = &state.company().people[pending.person];
    let digest = Sha256::digest(access_token.as_bytes());
    let id_token = state.signer.sign(&json!({
        "iss": state.base_url,
        "azp": client_id,
        "aud": client_id,
        "sub": p.google_id,
        "hd": state.company().domain,
        "email": p.email,
        "email_verified": true,
        "at_hash": URL_SAFE_NO_PAD.encode(&digest[..16]),
        "nonce": pending.nonce,
        "name": p.display_name(),
        "given_name": p.preferred_name.as_deref().unwrap_or(&p.first_name),
        "family_name": p.last_name,
        "iat": now.timestamp(),
        "exp": now.timestamp() + ACCESS_TOKEN_LIFETIME,
    }));
    let body = json!({
        "access_token": access_token,
        "expires_in": ACCESS_TOKEN_LIFETIME - 1,
        "scope": pending.scopes.join(" "),
        "token_type": "Bearer",
        "id_token": id_token,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}
