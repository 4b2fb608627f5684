//! Xero's identity side: authorize (auto-consent), token (code + PKCE, rotating refresh),
//! revocation, and the `/connections` list of a grant's tenants.
//!
//! Owns grants and tokens. It must never accept a refresh token outside the rules of
//! <https://developer.xero.com/faq/oauth2> : single use, 30-minute grace for a retry after
//! rotation, 60 days idle; nor an access token after 30 minutes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    ACCESS_TOKEN_LIFETIME, CODE_LIFETIME, REFRESH_GRACE, REFRESH_IDLE_EXPIRY, TokenSet, XeroState,
    connection_date, json_response, problem,
};
use crate::keys::random_token;
use crate::serve::{basic, bearer, first, lock, pairs, says_invalid};

/// Every grant, code and token the fake has handed out.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    codes: HashMap<String, Code>,
    grants: Vec<Grant>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
}

#[derive(Debug)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scopes: Vec<String>,
    nonce: Option<String>,
    issued_at: DateTime<Utc>,
}

/// One user consent: a client, its scopes, and the tenant connection it made.
#[derive(Debug)]
pub(crate) struct Grant {
    client_id: String,
    scopes: Vec<String>,
    auth_event_id: Uuid,
    connection_id: Uuid,
    created_at: DateTime<Utc>,
    revoked: bool,
    connected: bool,
}

#[derive(Debug)]
struct Access {
    grant: usize,
    expires_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Refresh {
    grant: usize,
    issued_at: DateTime<Utc>,
    /// When it was first exchanged; it keeps working for the grace period after that.
    used_at: Option<DateTime<Utc>>,
}

/// What an API call's bearer token resolved to.
pub(crate) enum Caller<'a> {
    Valid(&'a Grant),
    Expired(DateTime<Utc>),
    Unknown,
}

impl Grant {
    pub(crate) fn has_scope(&self, any_of: &[&str]) -> bool {
        self.scopes.iter().any(|s| any_of.contains(&s.as_str()))
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected && !self.revoked
    }
}

impl AuthState {
    pub(crate) fn caller(&self, token: &str, now: DateTime<Utc>) -> Caller<'_> {
        let Some(access) = self.access.get(token) else {
            return Caller::Unknown;
        };
        let grant = &self.grants[access.grant];
        if grant.revoked {
            Caller::Unknown
        } else if now >= access.expires_at {
            Caller::Expired(access.expires_at)
        } else {
            Caller::Valid(grant)
        }
    }

    pub(crate) fn revoke(&mut self, token: &str) {
        let grant = self
            .access
            .get(token)
            .map(|a| a.grant)
            .or_else(|| self.refresh.get(token).map(|r| r.grant));
        if let Some(g) = grant {
            self.grants[g].revoked = true;
        }
    }

    pub(crate) fn disconnect_all(&mut self) {
        for g in &mut self.grants {
            g.connected = false;
        }
    }

    fn issue(
        &mut self,
        grant: usize,
        now: DateTime<Utc>,
        state: &XeroState,
        nonce: Option<&str>,
    ) -> TokenSet {
        let g = &self.grants[grant];
        let (client_id, scopes, auth_event_id, created_at) = (
            g.client_id.clone(),
            g.scopes.clone(),
            g.auth_event_id,
            g.created_at,
        );
        let expires_at = now + ACCESS_TOKEN_LIFETIME;
        let company = state.company();
        let ceo = company.ceo();
        // Xero's access tokens are RS256 JWTs that clients sometimes decode (for
        // `authentication_event_id`), so the fake's are too.
        let access_token = state.signer.sign(&json!({
            "nbf": now.timestamp(),
            "exp": expires_at.timestamp(),
            "iss": state.base_url,
            "aud": format!("{}/resources", state.base_url),
            "client_id": client_id,
            "sub": ceo.index.to_string(),
            "auth_time": created_at.timestamp(),
            "xero_userid": xero_user_id(state),
            "global_session_id": auth_event_id.simple().to_string(),
            "jti": random_token("", 16),
            "authentication_event_id": auth_event_id,
            "scope": scopes,
        }));
        let id_token = scopes.iter().any(|s| s == "openid").then(|| {
            state.signer.sign(&json!({
                "nbf": now.timestamp(),
                "exp": (now + chrono::TimeDelta::minutes(5)).timestamp(),
                "iss": state.base_url,
                "aud": client_id,
                "iat": now.timestamp(),
                "at_hash": at_hash(&access_token),
                "sid": auth_event_id.simple().to_string(),
                "sub": ceo.index.to_string(),
                "auth_time": created_at.timestamp(),
                "xero_userid": xero_user_id(state),
                "global_session_id": auth_event_id.simple().to_string(),
                "preferred_username": ceo.email,
                "email": ceo.email,
                "given_name": ceo.first_name,
                "family_name": ceo.last_name,
                "nonce": nonce,
            }))
        });
        let refresh_token = scopes.iter().any(|s| s == "offline_access").then(|| {
            let token = random_token("", 32);
            self.refresh.insert(
                token.clone(),
                Refresh {
                    grant,
                    issued_at: now,
                    used_at: None,
                },
            );
            token
        });
        let scope = scopes.join(" ");
        self.access
            .insert(access_token.clone(), Access { grant, expires_at });
        TokenSet {
            access_token,
            refresh_token,
            id_token,
            expires_in: ACCESS_TOKEN_LIFETIME.num_seconds(),
            scope,
        }
    }

    fn new_grant(&mut self, client_id: &str, scopes: Vec<String>, now: DateTime<Utc>) -> usize {
        self.grants.push(Grant {
            client_id: client_id.to_owned(),
            scopes,
            auth_event_id: Uuid::new_v4(),
            connection_id: Uuid::new_v4(),
            created_at: now,
            revoked: false,
            connected: true,
        });
        self.grants.len() - 1
    }
}

impl XeroState {
    pub(crate) fn grant_and_issue(
        &self,
        client_id: &str,
        scopes: Vec<String>,
        nonce: Option<&str>,
    ) -> TokenSet {
        let now = self.now();
        let mut auth = lock(&self.auth);
        let grant = auth.new_grant(client_id, scopes, now);
        auth.issue(grant, now, self, nonce)
    }
}

/// The id of the Xero user who consented: stable per company.
fn xero_user_id(state: &XeroState) -> Uuid {
    crate::serve::derived_uuid(&format!("{}:user", state.company().xero_tenant_id))
}

fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Scopes Xero knows; anything else is `invalid_scope` at authorize.
fn is_known_scope(scope: &str) -> bool {
    matches!(scope, "openid" | "profile" | "email" | "offline_access")
        || scope.starts_with("payroll.")
        || scope.starts_with("accounting.")
        || scope.starts_with("files")
        || scope.starts_with("assets")
        || scope.starts_with("projects")
}

/// A client id is well formed if it is non-empty visible ASCII; the demo rule rejects any
/// that says "invalid".
fn client_id_ok(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic()) && !says_invalid(id)
}

/// RFC 8252 §7.3 and Xero's app settings: https redirect URIs, except loopback for dev.
fn parse_redirect_uri(uri: &str) -> Option<url::Url> {
    let url = url::Url::parse(uri).ok()?;
    match url.scheme() {
        "https" => Some(url),
        "http" if matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) => Some(url),
        _ => None,
    }
}

/// Error page for problems Xero cannot safely redirect (RFC 6749 §4.1.2.1: never redirect
/// to an unverified client or URI). Xero shows an HTML page; the wording is not documented.
fn error_page(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<html><body><h1>Sorry, something went wrong</h1><p>Error: {error}</p><p>{description}</p></body></html>"),
    )
        .into_response()
}

fn redirect_error(redirect_uri: &url::Url, error: &str, state: Option<&str>) -> Response {
    let mut url = redirect_uri.clone();
    url.query_pairs_mut().append_pair("error", error);
    if let Some(s) = state {
        url.query_pairs_mut().append_pair("state", s);
    }
    found(url.as_str())
}

fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// `GET /identity/connect/authorize`: validates like Xero, then consents at once.
pub(crate) async fn authorize(
    State(state): State<Arc<XeroState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let q = pairs(query.as_deref().unwrap_or_default());
    let client_id = first(&q, "client_id").unwrap_or_default();
    if !client_id_ok(client_id) {
        return error_page(
            "unauthorized_client",
            "Unknown client or client not enabled",
        );
    }
    let Some(raw_redirect_uri) = first(&q, "redirect_uri") else {
        return error_page("invalid_request", "Invalid redirect_uri");
    };
    let Some(redirect_uri) = parse_redirect_uri(raw_redirect_uri) else {
        return error_page("invalid_request", "Invalid redirect_uri");
    };
    let redirect_uri = &redirect_uri;
    let st = first(&q, "state");
    if first(&q, "response_type") != Some("code") {
        return redirect_error(redirect_uri, "unsupported_response_type", st);
    }
    let scopes: Vec<String> = first(&q, "scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() || !scopes.iter().all(|s| is_known_scope(s)) {
        return redirect_error(redirect_uri, "invalid_scope", st);
    }
    let challenge = first(&q, "code_challenge");
    // Xero's PKCE flow takes S256 only (https://developer.xero.com/documentation/oauth2/pkce-flow).
    if challenge.is_some() && first(&q, "code_challenge_method") != Some("S256") {
        return redirect_error(redirect_uri, "invalid_request", st);
    }
    let code = random_token("", 32);
    let now = state.now();
    lock(&state.auth).codes.insert(
        code.clone(),
        Code {
            client_id: client_id.to_owned(),
            redirect_uri: raw_redirect_uri.to_owned(),
            challenge: challenge.map(str::to_owned),
            scopes: scopes.clone(),
            nonce: first(&q, "nonce").map(str::to_owned),
            issued_at: now,
        },
    );
    let mut url = redirect_uri.clone();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("scope", &scopes.join(" "));
    if let Some(s) = st {
        url.query_pairs_mut().append_pair("state", s);
    }
    url.query_pairs_mut()
        .append_pair("session_state", &random_token("", 16));
    found(url.as_str())
}

/// RFC 6749 §5.2 error body.
fn oauth_error(status: StatusCode, error: &str) -> Response {
    json_response(status, json!({ "error": error }))
}

/// The client, from Basic auth or the form; `secret` is present only for web apps.
struct Client {
    id: String,
    secret: Option<String>,
}

fn client_of(headers: &HeaderMap, form: &[(String, String)]) -> Option<Client> {
    if let Some((id, secret)) = basic(headers) {
        return Some(Client {
            id,
            secret: Some(secret),
        });
    }
    let id = first(form, "client_id")?.to_owned();
    Some(Client {
        id,
        secret: first(form, "client_secret").map(str::to_owned),
    })
}

/// `POST /connect/token`.
pub(crate) async fn token(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = pairs(&body);
    let Some(client) = client_of(&headers, &form) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    };
    if !client_id_ok(&client.id)
        || client
            .secret
            .as_deref()
            .is_some_and(|s| s.is_empty() || says_invalid(s))
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    }
    let now = state.now();
    let issued = match first(&form, "grant_type") {
        Some("authorization_code") => exchange_code(&state, &client, &form, now),
        Some("refresh_token") => refresh(&state, &client, &form, now),
        Some(_) => Err("unsupported_grant_type"),
        None => Err("invalid_request"),
    };
    match issued {
        Ok(tokens) => {
            let mut body = json!({
                "access_token": tokens.access_token,
                "expires_in": tokens.expires_in,
                "token_type": "Bearer",
                "scope": tokens.scope,
            });
            if let Some(r) = tokens.refresh_token {
                body["refresh_token"] = json!(r);
            }
            if let Some(i) = tokens.id_token {
                body["id_token"] = json!(i);
            }
            json_response(StatusCode::OK, body)
        }
        Err(error) => oauth_error(StatusCode::BAD_REQUEST, error),
    }
}

fn exchange_code(
    state: &XeroState,
    client: &Client,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<TokenSet, &'static str> {
    let code = first(form, "code").ok_or("invalid_request")?;
    let mut auth = lock(&state.auth);
    // A code is single use: it is gone whether or not the exchange succeeds.
    let pending = auth.codes.remove(code).ok_or("invalid_grant")?;
    if now - pending.issued_at > CODE_LIFETIME || pending.client_id != client.id {
        return Err("invalid_grant");
    }
    if first(form, "redirect_uri") != Some(pending.redirect_uri.as_str()) {
        return Err("invalid_grant");
    }
    match &pending.challenge {
        Some(challenge) => {
            let verifier = first(form, "code_verifier").ok_or("invalid_grant")?;
            // RFC 7636 §4.1: 43 to 128 characters; §4.6: BASE64URL(SHA256(verifier)).
            if !(43..=128).contains(&verifier.len())
                || URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge
            {
                return Err("invalid_grant");
            }
        }
        // Without PKCE the client must prove itself with its secret.
        None if client.secret.is_none() => return Err("invalid_client"),
        None => {}
    }
    let grant = auth.new_grant(&client.id, pending.scopes, now);
    Ok(auth.issue(grant, now, state, pending.nonce.as_deref()))
}

fn refresh(
    state: &XeroState,
    client: &Client,
    form: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<TokenSet, &'static str> {
    let token = first(form, "refresh_token").ok_or("invalid_request")?;
    let mut auth = lock(&state.auth);
    let old = auth.refresh.get(token).ok_or("invalid_grant")?;
    let grant = old.grant;
    if auth.grants[grant].revoked {
        return Err("invalid_grant");
    }
    if auth.grants[grant].client_id != client.id {
        return Err("invalid_client");
    }
    let usable = match old.used_at {
        None => now - old.issued_at <= REFRESH_IDLE_EXPIRY,
        Some(used) => now - used <= REFRESH_GRACE,
    };
    if !usable {
        return Err("invalid_grant");
    }
    if let Some(r) = auth.refresh.get_mut(token) {
        r.used_at.get_or_insert(now);
    }
    Ok(auth.issue(grant, now, state, None))
}

/// `POST /connect/revocation` with `token=<refresh_token>`: ends the whole grant.
pub(crate) async fn revocation(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = pairs(&body);
    let Some(client) = client_of(&headers, &form).filter(|c| client_id_ok(&c.id)) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    };
    let Some(token) = first(&form, "token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let mut auth = lock(&state.auth);
    let owner = auth
        .refresh
        .get(token)
        .map(|r| r.grant)
        .or_else(|| auth.access.get(token).map(|a| a.grant));
    if owner.is_some_and(|g| auth.grants[g].client_id == client.id) {
        auth.revoke(token);
    }
    // RFC 7009 §2.2: unknown tokens are not an error.
    StatusCode::OK.into_response()
}

/// Resolves the bearer token of an API call into its grant, or Xero's 401.
pub(crate) fn authenticate<T>(
    state: &XeroState,
    headers: &HeaderMap,
    then: impl FnOnce(&Grant) -> T,
) -> Result<T, Response> {
    let Some(token) = bearer(headers) else {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "AuthenticationUnsuccessful",
        ));
    };
    let auth = lock(&state.auth);
    match auth.caller(token, state.now()) {
        Caller::Valid(grant) => Ok(then(grant)),
        // Xero's expiry signal (https://github.com/freakboy3742/pyxero/pull/337): the
        // timestamp is US-ordered, MM/dd/yyyy HH:mm:ss, in UTC.
        Caller::Expired(at) => Err(problem(
            StatusCode::UNAUTHORIZED,
            &format!(
                "TokenExpired: token expired at {}",
                at.format("%m/%d/%Y %H:%M:%S")
            ),
        )),
        Caller::Unknown => Err(problem(
            StatusCode::UNAUTHORIZED,
            "AuthenticationUnsuccessful",
        )),
    }
}

/// `GET /connections`: the tenants the token's grant reaches. Bearer only, no tenant header.
pub(crate) async fn connections(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let q = pairs(query.as_deref().unwrap_or_default());
    let wanted_event = first(&q, "authEventId");
    let listed = authenticate(&state, &headers, |grant| {
        if !grant.is_connected()
            || wanted_event.is_some_and(|e| e != grant.auth_event_id.to_string())
        {
            return json!([]);
        }
        json!([{
            "id": grant.connection_id,
            "authEventId": grant.auth_event_id,
            "tenantId": state.company().xero_tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": state.company().name,
            "createdDateUtc": connection_date(grant.created_at),
            "updatedDateUtc": connection_date(grant.created_at),
        }])
    });
    match listed {
        Ok(body) => {
            let mut response = json_response(StatusCode::OK, body);
            // Only the app limit comes back on this tenantless call (xero-ruby issue 128).
            response.headers_mut().insert(
                "x-appminlimit-remaining",
                state.app_minute_remaining().into(),
            );
            response
        }
        Err(refusal) => refusal,
    }
}

/// `DELETE /connections/{id}` → 204; the grant's tokens live on but reach no tenant.
pub(crate) async fn delete_connection(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let found = authenticate(&state, &headers, |grant| {
        grant.is_connected() && grant.connection_id.to_string() == id
    });
    match found {
        Ok(true) => {
            let mut auth = lock(&state.auth);
            for g in auth
                .grants
                .iter_mut()
                .filter(|g| g.connection_id.to_string() == id)
            {
                g.connected = false;
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(refusal) => refusal,
    }
}
