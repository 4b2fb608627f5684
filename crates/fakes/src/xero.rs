//! A strict fake of Xero: OAuth 2 with PKCE and rotating refresh tokens, `/connections`, and
//! Payroll AU v1 employees and super funds, with Xero's limits and error bodies.
//!
//! Owns Xero's wire behaviour as `docs/providers.md` §1 and the published
//! OpenAPI files (copied to `spec/xero/`) describe it. It must never import the client
//! crate's types, and must never read the wall clock: token lifetimes and rate windows run
//! on the injected `Clock`.
//!
//! **URL layout.** One server plays `login.xero.com`, `identity.xero.com` and `api.xero.com`;
//! [`XeroFake::login_url`], [`XeroFake::identity_url`] and [`XeroFake::api_url`] all return
//! the same base and the real paths sit under it: `/identity/connect/authorize`,
//! `/connect/token`, `/connect/revocation`, `/connections`, `/payroll.xro/1.0/...`.

mod oauth;
mod payroll;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::live::LiveCompany;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, TimeDelta, Utc};
use roster_company::SampleCompany;
use roster_domain::Clock;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::faults::{Admission, Dialect, Probe, observe};
use crate::keys::Signer;
use crate::serve::{Fake, SlidingWindow, lock, page_number};

/// Operation names for [`CallLog`](crate::CallLog) and [`Fault`](crate::Fault).
pub mod ops {
    pub const AUTHORIZE: &str = "xero.authorize";
    pub const TOKEN: &str = "xero.token";
    pub const REVOCATION: &str = "xero.revocation";
    pub const CONNECTIONS: &str = "xero.connections";
    pub const DELETE_CONNECTION: &str = "xero.connections.delete";
    pub const EMPLOYEES: &str = "xero.employees";
    pub const EMPLOYEE: &str = "xero.employee";
    pub const SUPERFUNDS: &str = "xero.superfunds";
}

/// Xero's published limits (<https://developer.xero.com/faq/limits>). Tests may lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Calls in flight per tenant.
    pub concurrent: u32,
    /// Calls per tenant per rolling minute.
    pub per_minute: u32,
    /// Calls per tenant per rolling day.
    pub per_day: u32,
    /// Calls per app per rolling minute, across tenants.
    pub app_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            concurrent: 5,
            per_minute: 60,
            per_day: 5_000,
            app_per_minute: 10_000,
        }
    }
}

/// Lifetimes from <https://developer.xero.com/faq/oauth2> .
pub(crate) const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(30);
pub(crate) const REFRESH_GRACE: TimeDelta = TimeDelta::minutes(30);
pub(crate) const REFRESH_IDLE_EXPIRY: TimeDelta = TimeDelta::days(60);
/// Not published; five minutes is the common authorization-code lifetime (inferred).
pub(crate) const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(5);

/// Tokens as the token endpoint returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: i64,
    pub scope: String,
}

crate::serve::fake_handle!(
    /// The running fake. Dropping it stops the server.
    XeroFake(XeroState, Limits)
);

impl XeroFake {
    /// Stands in for `https://login.xero.com`; append `/identity/connect/authorize`.
    pub fn login_url(&self) -> String {
        self.base_url()
    }

    /// Stands in for `https://identity.xero.com`; append `/connect/token`, `/connect/revocation`.
    pub fn identity_url(&self) -> String {
        self.base_url()
    }

    /// Stands in for `https://api.xero.com`; append `/connections`, `/payroll.xro/1.0/...`.
    pub fn api_url(&self) -> String {
        self.base_url()
    }

    /// Full authorize endpoint URL.
    pub fn authorize_url(&self) -> String {
        format!("{}/identity/connect/authorize", self.base_url())
    }

    /// Full token endpoint URL.
    pub fn token_url(&self) -> String {
        format!("{}/connect/token", self.base_url())
    }

    /// Payroll AU v1 base: `<base>/payroll.xro/1.0`.
    pub fn payroll_url(&self) -> String {
        format!("{}/payroll.xro/1.0", self.base_url())
    }

    pub fn tenant_id(&self) -> Uuid {
        self.running.state.live.identity().xero_tenant_id
    }

    /// Connects `client_id` with `scope` (space separated) as if the user had consented and
    /// the code had been exchanged: skips the browser dance in tests.
    pub fn issue_tokens(&self, client_id: &str, scope: &str) -> TokenSet {
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
        self.running.state.grant_and_issue(client_id, scopes, None)
    }

    /// Revokes the grant `token` (access or refresh) belongs to, as the revocation endpoint
    /// does: every token of it stops working and its connection disappears.
    pub fn revoke(&self, token: &str) {
        lock(&self.running.state.auth).revoke(token);
    }

    /// Disconnects the tenant from every grant, as a user doing so in Xero's UI would: tenant
    /// calls answer 403 and `/connections` is empty, while tokens still refresh.
    pub fn disconnect_tenant(&self) {
        lock(&self.running.state.auth).disconnect_all();
    }
}

pub(crate) struct XeroState {
    base_url: String,
    signer: Signer,
    live: LiveCompany,
    clock: Arc<dyn Clock>,
    probe: Probe,
    limits: Mutex<Limits>,
    auth: Mutex<oauth::AuthState>,
    meter: Mutex<Meter>,
}

/// Per-tenant and per-app windows, and calls in flight per tenant.
#[derive(Debug, Default)]
struct Meter {
    minute: HashMap<String, SlidingWindow>,
    day: HashMap<String, SlidingWindow>,
    app_minute: Option<SlidingWindow>,
    in_flight: HashMap<String, u32>,
}

/// What the three `X-*Limit-Remaining` headers say.
#[derive(Debug, Clone, Copy)]
struct Remaining {
    day: u32,
    minute: u32,
    app_minute: u32,
}

impl XeroState {
    fn new(
        base_url: &str,
        company: LiveCompany,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        Ok(Self {
            base_url: base_url.to_owned(),
            signer: Signer::provider()?,
            live: company,
            clock,
            probe: Probe::default(),
            limits: Mutex::new(limits),
            auth: Mutex::new(oauth::AuthState::default()),
            meter: Mutex::new(Meter::default()),
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Counts one tenant call against the minute, day and app windows.
    fn meter_call(&self, tenant: &str) -> Result<Remaining, (Remaining, &'static str, TimeDelta)> {
        let now = self.now();
        self.with_windows(tenant, |day, minute, app| {
            let remaining = Remaining {
                day: day.remaining(now),
                minute: minute.remaining(now),
                app_minute: app.remaining(now),
            };
            // Xero names the limit that was hit in X-Rate-Limit-Problem: `day`, `minute` (seen
            // in <https://github.com/XeroAPI/xero-python/issues/74>); `appminute` is inferred.
            for (left, window, name) in [
                (remaining.day, &mut *day, "day"),
                (remaining.minute, &mut *minute, "minute"),
                (remaining.app_minute, &mut *app, "appminute"),
            ] {
                if left == 0 {
                    return Err((remaining, name, window.hit(now).err().unwrap_or_default()));
                }
            }
            Ok(Remaining {
                day: day.hit(now).unwrap_or(0),
                minute: minute.hit(now).unwrap_or(0),
                app_minute: app.hit(now).unwrap_or(0),
            })
        })
    }

    /// What the windows have left for `tenant`, without spending anything.
    fn remaining(&self, tenant: &str) -> Remaining {
        let now = self.now();
        self.with_windows(tenant, |day, minute, app| Remaining {
            day: day.remaining(now),
            minute: minute.remaining(now),
            app_minute: app.remaining(now),
        })
    }

    /// Runs `f` on the tenant's day and minute windows and the app's minute window.
    fn with_windows<T>(
        &self,
        tenant: &str,
        f: impl FnOnce(&mut SlidingWindow, &mut SlidingWindow, &mut SlidingWindow) -> T,
    ) -> T {
        let limits = *lock(&self.limits);
        let mut meter = lock(&self.meter);
        let Meter {
            minute,
            day,
            app_minute,
            ..
        } = &mut *meter;
        let day = day
            .entry(tenant.to_owned())
            .or_insert_with(|| SlidingWindow::new(limits.per_day, TimeDelta::days(1)));
        let minute = minute
            .entry(tenant.to_owned())
            .or_insert_with(|| SlidingWindow::new(limits.per_minute, TimeDelta::minutes(1)));
        let app = app_minute.get_or_insert_with(|| {
            SlidingWindow::new(limits.app_per_minute, TimeDelta::minutes(1))
        });
        f(day, minute, app)
    }

    fn app_minute_remaining(&self) -> u32 {
        self.remaining(&self.company().xero_tenant_id.to_string())
            .app_minute
    }
}

/// A slot in the tenant's concurrency budget, given back on drop.
struct InFlight {
    state: Arc<XeroState>,
    tenant: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut meter = lock(&self.state.meter);
        if let Some(n) = meter.in_flight.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
        }
    }
}

impl Dialect for XeroState {
    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn operation(&self, method: &Method, route: &str) -> Option<&'static str> {
        Some(match (method.as_str(), route) {
            (_, "/identity/connect/authorize") => ops::AUTHORIZE,
            (_, "/connect/token") => ops::TOKEN,
            (_, "/connect/revocation") => ops::REVOCATION,
            ("DELETE", _) => ops::DELETE_CONNECTION,
            (_, "/connections" | "/Connections") => ops::CONNECTIONS,
            (_, "/payroll.xro/1.0/Employees") => ops::EMPLOYEES,
            (_, "/payroll.xro/1.0/Employees/{id}") => ops::EMPLOYEE,
            (_, "/payroll.xro/1.0/Superfunds") => ops::SUPERFUNDS,
            _ => return None,
        })
    }

    fn page(&self, _operation: &str, query: &str) -> u32 {
        page_number(query, "page")
    }

    fn error(&self, _operation: &str, status: StatusCode) -> Response {
        // Xero's 5xx bodies are not documented (docs/providers.md §1); the problem shape is a guess.
        problem(status, status.canonical_reason().unwrap_or("Error"))
    }

    fn rate_limited(&self, _operation: &str, retry_after_secs: u64) -> Response {
        let remaining = Remaining {
            minute: 0,
            ..self.remaining(&self.company().xero_tenant_id.to_string())
        };
        too_many("minute", retry_after_secs, remaining)
    }

    fn required_keys(&self) -> &'static [&'static str] {
        &[
            "EmployeeID",
            "FirstName",
            "SuperFundID",
            "tenantId",
            "access_token",
        ]
    }

    /// The concurrency limit wraps the whole call, injected delays included, so a burst of
    /// slow calls really is concurrent.
    fn admit(
        self: &Arc<Self>,
        operation: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Admission>, Response> {
        if !operation.starts_with("xero.employee") && !operation.starts_with("xero.superfund") {
            return Ok(None);
        }
        let Some(tenant) = headers.get("xero-tenant-id").and_then(|v| v.to_str().ok()) else {
            return Ok(None);
        };
        let limit = lock(&self.limits).concurrent;
        let mut meter = lock(&self.meter);
        let n = meter.in_flight.entry(tenant.to_owned()).or_insert(0);
        if *n >= limit {
            drop(meter);
            // `concurrent` is inferred: Xero's value for this limit is not documented.
            return Err(too_many("concurrent", 1, self.remaining(tenant)));
        }
        *n += 1;
        Ok(Some(Box::new(InFlight {
            state: self.clone(),
            tenant: tenant.to_owned(),
        })))
    }
}

impl Fake for XeroState {
    type Limits = Limits;

    fn router(state: Arc<Self>) -> Router {
        let payroll = Router::new()
            .route("/payroll.xro/1.0/Employees", get(payroll::list_employees))
            .route(
                "/payroll.xro/1.0/Employees/{id}",
                get(payroll::get_employee),
            )
            .route("/payroll.xro/1.0/Superfunds", get(payroll::list_superfunds))
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>));
        Router::new()
            .route("/identity/connect/authorize", get(oauth::authorize))
            .route("/connect/token", post(oauth::token))
            .route("/connect/revocation", post(oauth::revocation))
            .route("/connections", get(oauth::connections))
            .route("/Connections", get(oauth::connections))
            .route("/connections/{id}", delete(oauth::delete_connection))
            .route("/Connections/{id}", delete(oauth::delete_connection))
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>))
            .merge(payroll)
            .with_state(state)
    }

    /// Windows already open keep the limits they opened with; new ones and the concurrency
    /// check use `limits`.
    fn set_limits(&self, limits: Limits) {
        *lock(&self.limits) = limits;
    }
}

/// Xero's PascalCase problem body (<https://github.com/freakboy3742/pyxero/pull/337>).
pub(crate) fn problem(status: StatusCode, detail: &str) -> Response {
    let body = json!({
        "Type": null,
        "Title": status.canonical_reason().unwrap_or("Error"),
        "Status": status.as_u16(),
        "Detail": detail,
        "Instance": Uuid::new_v4().to_string(),
        "Extensions": {},
    });
    (status, axum::Json(body)).into_response()
}

/// 429 with the headers Xero sends. The body is not documented (docs/providers.md §1): the
/// problem shape here is provisional, clients must read the headers.
fn too_many(problem_name: &str, retry_after_secs: u64, remaining: Remaining) -> Response {
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Rate limit exceeded: {problem_name}"),
    );
    let headers = response.headers_mut();
    headers.insert("retry-after", HeaderValue::from(retry_after_secs));
    headers.insert(
        "x-rate-limit-problem",
        HeaderValue::from_str(problem_name).unwrap_or(HeaderValue::from_static("minute")),
    );
    set_remaining(headers, remaining);
    response
}

fn set_remaining(headers: &mut HeaderMap, remaining: Remaining) {
    headers.insert("x-daylimit-remaining", HeaderValue::from(remaining.day));
    headers.insert("x-minlimit-remaining", HeaderValue::from(remaining.minute));
    headers.insert(
        "x-appminlimit-remaining",
        HeaderValue::from(remaining.app_minute),
    );
}

/// `/Date(1573621523465)/`: the envelope's `DateTimeUTC` carries no offset.
pub(crate) fn ms_date_plain(at: DateTime<Utc>) -> String {
    format!("/Date({})/", at.timestamp_millis())
}

/// `/Date(572313600000+0000)/` (spec `x-is-msdate`): epoch milliseconds and an offset.
pub(crate) fn ms_date(at: DateTime<Utc>) -> String {
    format!("/Date({}+0000)/", at.timestamp_millis())
}

/// `2019-12-07T18:46:19.5165400`: ISO-8601, no zone, seven fractional digits
/// (xero-identity.yaml example for `/Connections`).
pub(crate) fn connection_date(at: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}",
        at.format("%Y-%m-%dT%H:%M:%S"),
        at.timestamp_subsec_nanos() / 100
    )
}

/// JSON helper for handlers.
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

impl XeroState {
    /// The company as it is now (the demo's control API may change it between calls).
    fn company(&self) -> Arc<SampleCompany> {
        self.live.current()
    }
}
