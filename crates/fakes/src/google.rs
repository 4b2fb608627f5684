//! A strict fake of Google Workspace as Roster uses it: the OAuth token endpoint (service
//! account JWT bearer and OIDC code exchange), the Admin SDK Directory users list, the
//! Calendar `calendars.get` check, and OIDC sign-in (discovery, JWKS, authorize).
//!
//! Owns Google's wire behaviour as docs/providers.md §3 and the discovery documents (copied to
//! `spec/google/`) describe it. It must never read the wall clock (token lifetimes, JWT
//! timeframes and quota windows run on the injected `Clock`) and never import client types.
//!
//! **URL layout.** One server plays several Google hosts; paths are the real ones:
//! `/token` (oauth2.googleapis.com), `/admin/directory/v1/users` (admin.googleapis.com),
//! `/calendar/v3/calendars/{id}` (www.googleapis.com), and for OIDC the issuer is the base URL
//! itself: `/.well-known/openid-configuration`, `/o/oauth2/v2/auth`, `/oauth2/v3/certs`.
//! Discovery still names Google's `userinfo_endpoint`, which the fake does not serve.
//!
//! **Credentials.** The built-in service account ([`GoogleFake::service_account_key_json`])
//! signs with the throwaway key in `keys/`; more can be registered. Following the demo rule,
//! a well-formed assertion from an *unregistered* `…gserviceaccount.com` account is accepted
//! without a signature check unless its name says "invalid" or
//! [`GoogleFake::require_known_service_accounts`] is on.

mod directory;
mod oidc;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::live::LiveCompany;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use roster_company::SampleCompany;
use roster_domain::Clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::{Dialect, Probe, observe};
use crate::keys::{SERVICE_ACCOUNT_PRIVATE_PEM, SERVICE_ACCOUNT_PUBLIC_PEM, Signer, random_token};
use crate::serve::{Fake, SlidingWindow, bearer, first, lock, pairs, says_invalid};

/// Operation names for [`CallLog`](crate::CallLog) and [`Fault`](crate::Fault).
pub mod ops {
    pub const TOKEN: &str = "google.token";
    pub const USERS: &str = "google.users";
    pub const CALENDAR: &str = "google.calendar";
    pub const DISCOVERY: &str = "google.oidc.discovery";
    pub const JWKS: &str = "google.oidc.jwks";
    pub const AUTHORIZE: &str = "google.oidc.authorize";
}

/// Directory API quota: 2,400 queries per minute per user per project
/// (<https://developers.google.com/admin-sdk/directory/v1/limits>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_user_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_user_per_minute: 2_400,
        }
    }
}

/// `exp - iat` may be at most one hour (docs/providers.md §3).
const MAX_ASSERTION_LIFETIME: i64 = 3_600;
/// How far the client's clock may be off. Google's tolerance is not published; five minutes
/// is the usual JWT leeway (inferred).
const ALLOWED_SKEW: i64 = 300;
/// Google answers `expires_in: 3599` for one-hour tokens.
const ACCESS_TOKEN_LIFETIME: i64 = 3_600;
/// The real token endpoint, accepted as `aud` besides the fake's own URL.
const GOOGLE_TOKEN_AUDIENCE: &str = "https://oauth2.googleapis.com/token";
const BUILT_IN_SERVICE_ACCOUNT: &str = "roster-sync@roster-demo.iam.gserviceaccount.com";
const BUILT_IN_KEY_ID: &str = "5f0c6a1e0d4b2c3a9e8f7d6c5b4a39281706f5e4";

pub const SCOPE_DIRECTORY_USER_READONLY: &str =
    "https://www.googleapis.com/auth/admin.directory.user.readonly";
pub const SCOPE_DIRECTORY_USER: &str = "https://www.googleapis.com/auth/admin.directory.user";
pub const SCOPE_CALENDAR_READONLY: &str = "https://www.googleapis.com/auth/calendar.readonly";
pub const SCOPE_CALENDAR: &str = "https://www.googleapis.com/auth/calendar";

/// A service account with domain-wide delegation: its public key and the scopes the
/// Workspace admin granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_email: String,
    pub public_key_pem: String,
    pub delegated_scopes: Vec<String>,
}

impl ServiceAccount {
    /// An account granted the directory and calendar scopes Roster asks for.
    pub fn new(client_email: impl Into<String>, public_key_pem: impl Into<String>) -> Self {
        Self {
            client_email: client_email.into(),
            public_key_pem: public_key_pem.into(),
            delegated_scopes: [
                SCOPE_DIRECTORY_USER_READONLY,
                SCOPE_DIRECTORY_USER,
                SCOPE_CALENDAR_READONLY,
                SCOPE_CALENDAR,
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

crate::serve::fake_handle!(
    /// The running fake. Dropping it stops the server.
    GoogleFake(GoogleState, Limits)
);

impl GoogleFake {
    /// Stands in for `https://oauth2.googleapis.com/token`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// Stands in for `https://admin.googleapis.com/admin/directory/v1`.
    pub fn directory_url(&self) -> String {
        format!("{}/admin/directory/v1", self.base_url())
    }

    /// Stands in for `https://www.googleapis.com/calendar/v3`.
    pub fn calendar_url(&self) -> String {
        format!("{}/calendar/v3", self.base_url())
    }

    /// The OIDC issuer (stands in for `https://accounts.google.com`); discovery lives at
    /// `<issuer>/.well-known/openid-configuration`.
    pub fn oidc_issuer(&self) -> String {
        self.base_url()
    }

    /// The Workspace customer id (`my_customer` also works).
    pub fn customer_id(&self) -> &str {
        &self.running.state.live.identity().google_customer_id
    }

    /// A shared calendar that exists (a team leave calendar); people's primary calendars are
    /// their emails.
    pub fn leave_calendar_id(&self) -> String {
        self.running.state.leave_calendar_id.clone()
    }

    /// The built-in service account's email.
    pub fn service_account_email(&self) -> &'static str {
        BUILT_IN_SERVICE_ACCOUNT
    }

    /// The JSON key file of the built-in service account, `token_uri` pointing at this fake.
    /// THROWAWAY TEST KEY: see `keys/README.md`.
    pub fn service_account_key_json(&self) -> String {
        let base = self.base_url();
        json!({
            "type": "service_account",
            "project_id": "roster-demo",
            "private_key_id": BUILT_IN_KEY_ID,
            "private_key": SERVICE_ACCOUNT_PRIVATE_PEM,
            "client_email": BUILT_IN_SERVICE_ACCOUNT,
            "client_id": "109876543210987654321",
            "auth_uri": format!("{base}/o/oauth2/auth"),
            "token_uri": format!("{base}/token"),
            "auth_provider_x509_cert_url": format!("{base}/oauth2/v1/certs"),
            "client_x509_cert_url": format!("{base}/robot/v1/metadata/x509/roster-sync%40roster-demo.iam.gserviceaccount.com"),
            "universe_domain": "googleapis.com",
        })
        .to_string()
    }

    pub fn register_service_account(&self, account: ServiceAccount) {
        lock(&self.running.state.auth)
            .accounts
            .insert(account.client_email.clone(), account);
    }

    /// Refuse assertions from unregistered service accounts (off by default: demo rule).
    pub fn require_known_service_accounts(&self, required: bool) {
        lock(&self.running.state.auth).strict_accounts = required;
    }

    /// The person who "signs in" at the OIDC authorize endpoint when no `login_hint` names one.
    pub fn set_signed_in(&self, email: &str) {
        lock(&self.running.state.auth).signed_in = Some(email.to_owned());
    }

    /// An access token as the JWT-bearer flow would issue it, for tests that skip the flow.
    pub fn issue_access_token(&self, subject: Option<&str>, scopes: &[&str]) -> String {
        let now = self.running.state.clock.now();
        let subject = subject
            .and_then(|s| self.running.state.live.identity().person_by_email(s))
            .map(|p| p.index);
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        lock(&self.running.state.auth).issue(
            Grant::Delegated {
                account: BUILT_IN_SERVICE_ACCOUNT.to_owned(),
                subject,
            },
            scopes,
            now,
        )
    }

    /// From now on `token` answers 401 `authError`.
    pub fn revoke(&self, token: &str) {
        lock(&self.running.state.auth).tokens.remove(token);
    }
}

pub(crate) struct GoogleState {
    base_url: String,
    signer: Signer,
    leave_calendar_id: String,
    live: LiveCompany,
    clock: Arc<dyn Clock>,
    probe: Probe,
    limits: Mutex<Limits>,
    auth: Mutex<Auth>,
    quota: Mutex<HashMap<String, SlidingWindow>>,
}

#[derive(Debug, Default)]
struct Auth {
    accounts: HashMap<String, ServiceAccount>,
    strict_accounts: bool,
    signed_in: Option<String>,
    tokens: HashMap<String, Token>,
    codes: HashMap<String, oidc::Code>,
}

/// Who an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Grant {
    /// A service account, impersonating `subject` (a person index) when delegated.
    Delegated {
        account: String,
        subject: Option<usize>,
    },
    /// A person signed in through OIDC.
    User { person: usize },
}

#[derive(Debug, Clone)]
struct Token {
    grant: Grant,
    scopes: Vec<String>,
    expires_at: DateTime<Utc>,
}

impl Auth {
    fn issue(&mut self, grant: Grant, scopes: Vec<String>, now: DateTime<Utc>) -> String {
        let token = random_token("ya29.fake-", 24);
        self.tokens.insert(
            token.clone(),
            Token {
                grant,
                scopes,
                expires_at: now + TimeDelta::seconds(ACCESS_TOKEN_LIFETIME),
            },
        );
        token
    }
}

/// Google's JSON error envelope (docs/providers.md §3).
pub(crate) fn google_error(
    status: StatusCode,
    message: &str,
    reason: &str,
    domain: &str,
) -> Response {
    let body = json!({
        "error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{ "message": message, "domain": domain, "reason": reason }],
            "status": status_name(status),
        }
    });
    (status, axum::Json(body)).into_response()
}

fn status_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// 401 for a missing or dead token, with the `Authorization` header location Google names.
fn unauthenticated(missing: bool) -> Response {
    let (message, item, reason) = if missing {
        (
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "Login Required.",
            "required",
        )
    } else {
        (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "Invalid Credentials",
            "authError",
        )
    };
    let body = json!({
        "error": {
            "code": 401,
            "message": message,
            "errors": [{ "message": item, "domain": "global", "reason": reason, "location": "Authorization", "locationType": "header" }],
            "status": "UNAUTHENTICATED",
        }
    });
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

/// Quota is a 403, not a 429 (<https://developers.google.com/admin-sdk/directory/v1/limits>).
fn user_rate_limit_exceeded() -> Response {
    google_error(
        StatusCode::FORBIDDEN,
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.",
        "userRateLimitExceeded",
        "usageLimits",
    )
}

impl GoogleState {
    fn new(
        base_url: &str,
        company: LiveCompany,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        let mut accounts = HashMap::new();
        accounts.insert(
            BUILT_IN_SERVICE_ACCOUNT.to_owned(),
            ServiceAccount::new(BUILT_IN_SERVICE_ACCOUNT, SERVICE_ACCOUNT_PUBLIC_PEM),
        );
        let leave_calendar_id = format!(
            "c_{}@group.calendar.google.com",
            &crate::serve::digest_hex(&company.current().domain)[..26]
        );
        Ok(Self {
            base_url: base_url.to_owned(),
            signer: Signer::provider()?,
            leave_calendar_id,
            live: company,
            clock,
            probe: Probe::default(),
            limits: Mutex::new(limits),
            auth: Mutex::new(Auth {
                accounts,
                ..Auth::default()
            }),
            quota: Mutex::new(HashMap::new()),
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The live token of a request, or Google's 401.
    fn token(&self, headers: &HeaderMap) -> Result<Token, Response> {
        let Some(raw) = bearer(headers) else {
            return Err(unauthenticated(true));
        };
        let auth = lock(&self.auth);
        match auth.tokens.get(raw) {
            Some(token) if self.now() < token.expires_at => Ok(token.clone()),
            _ => Err(unauthenticated(false)),
        }
    }

    /// Counts a Directory call against the per-user quota.
    fn spend_quota(&self, token: &Token) -> Result<(), Response> {
        let key = format!("{:?}", token.grant);
        let limit = lock(&self.limits).per_user_per_minute;
        let now = self.now();
        let mut quota = lock(&self.quota);
        let window = quota
            .entry(key)
            .or_insert_with(|| SlidingWindow::new(limit, TimeDelta::minutes(1)));
        window
            .hit(now)
            .map(|_| ())
            .map_err(|_| user_rate_limit_exceeded())
    }
}

impl Dialect for GoogleState {
    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn operation(&self, _method: &Method, route: &str) -> Option<&'static str> {
        Some(match route {
            "/token" => ops::TOKEN,
            "/admin/directory/v1/users" => ops::USERS,
            "/calendar/v3/calendars/{id}" => ops::CALENDAR,
            "/.well-known/openid-configuration" => ops::DISCOVERY,
            "/oauth2/v3/certs" => ops::JWKS,
            "/o/oauth2/v2/auth" => ops::AUTHORIZE,
            _ => return None,
        })
    }

    fn page(&self, _operation: &str, query: &str) -> u32 {
        let q = pairs(query);
        let size = first(&q, "maxResults")
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(directory::DEFAULT_PAGE_SIZE)
            .max(1);
        let offset = first(&q, "pageToken")
            .and_then(directory::decode_page_token)
            .unwrap_or(0);
        (offset / size + 1) as u32
    }

    fn error(&self, _operation: &str, status: StatusCode) -> Response {
        let reason = match status.as_u16() {
            503 => "backendError",
            500 => "internalError",
            _ => "failed",
        };
        google_error(
            status,
            status.canonical_reason().unwrap_or("Error"),
            reason,
            "global",
        )
    }

    /// Google's throttling answer carries no `Retry-After`; clients back off exponentially.
    fn rate_limited(&self, _operation: &str, _retry_after_secs: u64) -> Response {
        user_rate_limit_exceeded()
    }

    fn required_keys(&self) -> &'static [&'static str] {
        &["primaryEmail", "id", "access_token", "issuer"]
    }
}

impl Fake for GoogleState {
    type Limits = Limits;

    fn router(state: Arc<Self>) -> Router {
        Router::new()
            .route("/token", post(token))
            .route("/admin/directory/v1/users", get(directory::list_users))
            .route("/calendar/v3/calendars/{id}", get(directory::get_calendar))
            .route("/.well-known/openid-configuration", get(oidc::discovery))
            .route("/oauth2/v3/certs", get(oidc::jwks))
            .route("/o/oauth2/v2/auth", get(oidc::authorize))
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>))
            .with_state(state)
    }

    /// Quota windows start afresh under the new limit.
    fn set_limits(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.quota).clear();
    }
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn invalid_grant(description: &str) -> Response {
    token_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
const UNAUTHORIZED_CLIENT: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";

#[derive(Debug, Deserialize)]
struct Assertion {
    iss: Option<String>,
    scope: Option<String>,
    aud: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    sub: Option<String>,
}

/// `POST /token`: JWT bearer for service accounts, authorization code for OIDC sign-in.
async fn token(
    State(state): State<Arc<GoogleState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form = pairs(&body);
    match first(&form, "grant_type") {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => jwt_bearer(&state, &form),
        Some("authorization_code") => oidc::exchange_code(&state, &headers, &form),
        Some(_) => token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type",
        ),
        None => token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type",
        ),
    }
}

fn jwt_bearer(state: &GoogleState, form: &[(String, String)]) -> Response {
    let Some(assertion) = first(form, "assertion") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return invalid_grant("Invalid JWT Signature.");
    };
    let Some(claims) = peek_claims(assertion) else {
        return invalid_grant("Invalid JWT Signature.");
    };
    if header.alg != Algorithm::RS256 {
        return invalid_grant("Invalid JWT Signature.");
    }
    let issuer = claims.iss.clone().unwrap_or_default();
    let account = {
        let auth = lock(&state.auth);
        match auth.accounts.get(&issuer) {
            Some(account) => Some(account.clone()),
            None if auth.strict_accounts
                || says_invalid(&issuer)
                || !issuer.ends_with(".gserviceaccount.com") =>
            {
                return invalid_grant("Invalid grant: account not found");
            }
            None => None,
        }
    };
    if account
        .as_ref()
        .is_some_and(|a| !signature_ok(assertion, &a.public_key_pem))
    {
        return invalid_grant("Invalid JWT Signature.");
    }
    let audience_ok = claims
        .aud
        .as_deref()
        .is_some_and(|a| a == GOOGLE_TOKEN_AUDIENCE || a == format!("{}/token", state.base_url));
    if !audience_ok {
        return invalid_grant("Invalid JWT: Failed audience check.");
    }
    let now = state.now().timestamp();
    let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
        return invalid_grant(TIMEFRAME);
    };
    if exp <= iat
        || exp - iat > MAX_ASSERTION_LIFETIME
        || iat > now + ALLOWED_SKEW
        || exp < now - ALLOWED_SKEW
    {
        return invalid_grant(TIMEFRAME);
    }
    let scopes: Vec<String> = claims
        .scope
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Empty or missing scope not allowed.",
        );
    }
    let subject = match claims.sub.as_deref() {
        None => None,
        Some(email) => {
            let company = state.company();
            let person = company
                .person_by_email(email)
                .filter(|p| p.google_id.is_some() && p.is_active);
            let Some(person) = person else {
                return invalid_grant("Invalid email or User ID");
            };
            // Domain-wide delegation: every requested scope must be granted to the account.
            let granted = account
                .as_ref()
                .is_none_or(|a| scopes.iter().all(|s| a.delegated_scopes.contains(s)));
            if !granted {
                return token_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    UNAUTHORIZED_CLIENT,
                );
            }
            Some(person.index)
        }
    };
    let access_token = lock(&state.auth).issue(
        Grant::Delegated {
            account: issuer,
            subject,
        },
        scopes,
        state.now(),
    );
    let body = json!({ "access_token": access_token, "expires_in": ACCESS_TOKEN_LIFETIME - 1, "token_type": "Bearer" });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Reads a JWT's claims without checking the signature (to find the issuer first).
fn peek_claims(jwt: &str) -> Option<Assertion> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn signature_ok(jwt: &str, public_key_pem: &str) -> bool {
    let Ok(key) = DecodingKey::from_rsa_pem(public_key_pem.as_bytes()) else {
        return false;
    };
    let mut validation = Validation::new(Algorithm::RS256);
    // Time and audience are checked against the injected clock above, not the wall clock.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, &key, &validation).is_ok()
}

impl GoogleState {
    /// The company as it is now (the demo's control API may change it between calls).
    fn company(&self) -> Arc<SampleCompany> {
        self.live.current()
    }
}
