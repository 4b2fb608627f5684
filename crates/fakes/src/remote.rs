//! A strict fake of Remote.com's customer API: identity, company and the employments listing,
//! with Remote's token prefixes per environment and its per-company fixed rate window.
//!
//! Owns Remote's wire behaviour as docs/providers.md §5 describes it. One instance is one
//! environment: production accepts only `ra_live_` tokens, sandbox only `ra_test_` (the
//! other prefix is a 401). It must never read the wall clock and never import client types.
//!
//! **URL layout.** [`RemoteFake::base_url`] stands in for `https://gateway.remote.com` (or
//! `https://gateway.remote-sandbox.com`); paths are the real `/v1/...` ones.
//!
//! **Who is there.** The sample people with a `remote_employment_id` (EOR staff abroad):
//! active ones `active`, leavers `archived`.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::live::LiveCompany;
use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveTime, TimeDelta};
use roster_company::{SampleCompany, SamplePerson, fold_accents};
use roster_domain::Clock;
use serde_json::{Value, json};

use crate::faults::{Dialect, Probe, observe};
use crate::serve::{
    Fake, FixedWindow, Revoked, Running, bearer, derived_uuid, first, lock, page_number, pairs,
    says_invalid,
};

/// Operation names for [`CallLog`](crate::CallLog) and [`Fault`](crate::Fault).
pub mod ops {
    pub const IDENTITY: &str = "remote.identity";
    pub const COMPANY: &str = "remote.company";
    pub const EMPLOYMENTS: &str = "remote.employments";
}

/// Which Remote host an instance plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `gateway.remote.com`: `ra_live_` tokens.
    Production,
    /// `gateway.remote-sandbox.com`: `ra_test_` tokens.
    Sandbox,
}

impl Environment {
    pub const fn token_prefix(self) -> &'static str {
        match self {
            Self::Production => "ra_live_",
            Self::Sandbox => "ra_test_",
        }
    }
}

/// Calls per company per fixed 60-second window. Remote's published figures disagree (20 on
/// <https://remote.com/resources/api/rate-limit> , 300 in a third-party summary); the fake
/// defaults to the stricter 20 (docs/providers.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { per_minute: 20 }
    }
}

/// The fixed window's length, from its first call.
const WINDOW: TimeDelta = TimeDelta::seconds(60);

/// "defaults to 20, limited to 100" (other Remote list endpoints; assumed the same here).
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

const EMPLOYMENT_STATUSES: &[&str] = &[
    "active",
    "created",
    "pre_hire",
    "created_awaiting_reserve",
    "created_reserve_paid",
    "initiated",
    "invited",
    "pending",
    "review",
    "job_title_review",
    "pending_post_self_enrollment_actions",
    "offboarding",
    "archived",
    "deleted",
    "incomplete",
];

crate::serve::fake_handle!(
    @shared
    /// The running fake. Dropping it stops the server.
    RemoteFake(RemoteState, Limits)
);

impl fmt::Debug for RemoteFake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteFake")
            .field("base_url", &self.base_url())
            .field("environment", &self.environment())
            .finish_non_exhaustive()
    }
}

impl RemoteFake {
    /// The production host (accepts `ra_live_` tokens).
    pub async fn start(
        company: impl Into<LiveCompany>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        Self::start_with(company, clock, Environment::Production, Limits::default()).await
    }

    /// The sandbox host (accepts `ra_test_` tokens).
    pub async fn start_sandbox(
        company: impl Into<LiveCompany>,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        Self::start_with(company, clock, Environment::Sandbox, Limits::default()).await
    }

    pub async fn start_with(
        company: impl Into<LiveCompany>,
        clock: Arc<dyn Clock>,
        environment: Environment,
        limits: Limits,
    ) -> std::io::Result<Self> {
        let state = RemoteState {
            window: Mutex::new(FixedWindow::new(limits.per_minute, WINDOW)),
            live: company.into(),
            clock,
            environment,
            probe: Probe::default(),
            revoked: Revoked::default(),
        };
        let running = Running::start(|_| Ok(state)).await?;
        Ok(Self { running })
    }

    pub fn environment(&self) -> Environment {
        self.running.state.environment
    }

    /// The prefix tokens must carry here.
    pub fn token_prefix(&self) -> &'static str {
        self.running.state.environment.token_prefix()
    }

    pub fn company_id(&self) -> &str {
        &self.running.state.live.identity().remote_company_id
    }

    /// From now on `token` answers 401, as a token a company admin revoked.
    pub fn revoke(&self, token: &str) {
        self.running.state.revoked.insert(token);
    }
}

struct RemoteState {
    live: LiveCompany,
    clock: Arc<dyn Clock>,
    environment: Environment,
    probe: Probe,
    window: Mutex<FixedWindow>,
    revoked: Revoked,
}

/// Remote's error body: `{"message": …}` (docs/providers.md §5). The wording of each message is
/// not documented and is provisional.
fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

fn unprocessable(field: &str, problem: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({ "errors": { field: [problem] } })),
    )
        .into_response()
}

impl Dialect for RemoteState {
    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn operation(&self, _method: &Method, route: &str) -> Option<&'static str> {
        Some(match route {
            "/v1/identity/current" => ops::IDENTITY,
            "/v1/companies/{id}" => ops::COMPANY,
            "/v1/employments" => ops::EMPLOYMENTS,
            _ => return None,
        })
    }

    fn page(&self, _operation: &str, query: &str) -> u32 {
        page_number(query, "page")
    }

    fn error(&self, _operation: &str, status: StatusCode) -> Response {
        message(status, status.canonical_reason().unwrap_or("Error"))
    }

    /// Remote's SDK says to check `Retry-After`; a third-party summary says it is not sent.
    /// The injected burst sends it, the real window (below) does not.
    fn rate_limited(&self, _operation: &str, retry_after_secs: u64) -> Response {
        let mut response = message(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(retry_after_secs));
        response
    }

    fn required_keys(&self) -> &'static [&'static str] {
        &["id", "status"]
    }
}

impl Fake for RemoteState {
    type Limits = Limits;

    fn router(state: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/identity/current", get(identity))
            .route("/v1/companies/{id}", get(company))
            .route("/v1/employments", get(list_employments))
            .route_layer(from_fn_with_state(state.clone(), gate))
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>))
            .with_state(state)
    }

    /// Replaces the limit and starts a fresh window.
    fn set_limits(&self, limits: Limits) {
        *lock(&self.window) = FixedWindow::new(limits.per_minute, WINDOW);
    }
}

/// Token (prefix per environment), then the company's fixed window; every authenticated
/// answer carries `x-ratelimit-count`, `x-ratelimit-remaining` and `x-ratelimit-reset`
/// (milliseconds until the window resets).
async fn gate(State(state): State<Arc<RemoteState>>, request: Request, next: Next) -> Response {
    if !token_ok(&state, request.headers()) {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let verdict = lock(&state.window).hit(state.clock.now());
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        message(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-count", HeaderValue::from(verdict.count));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(verdict.remaining),
    );
    headers.insert(
        "x-ratelimit-reset",
        HeaderValue::from(verdict.reset_in.num_milliseconds().max(0)),
    );
    response
}

fn token_ok(state: &RemoteState, headers: &HeaderMap) -> bool {
    let Some(token) = bearer(headers) else {
        return false;
    };
    let prefix = state.environment.token_prefix();
    token.len() > prefix.len()
        && token.starts_with(prefix)
        && !says_invalid(token)
        && !state.revoked.contains(token)
}

/// A stable UUID-shaped id for `label`.
fn derived_id(state: &RemoteState, label: &str) -> String {
    derived_uuid(&format!("{}:{label}", state.company().remote_company_id)).to_string()
}

fn iso_midnight(d: chrono::NaiveDate) -> String {
    d.and_time(NaiveTime::MIN)
        .and_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `GET /v1/identity/current` answers 201 (sic, the spec's success code).
async fn identity(State(state): State<Arc<RemoteState>>) -> Response {
    let company = state.company();
    let admin = company.google_admin();
    let body = json!({
        "data": {
            "company": { "id": state.company().remote_company_id, "name": state.company().name },
            "user": { "id": derived_id(&state, "admin-user"), "name": admin.display_name(), "email": admin.email, "status": "active" },
        }
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn company(State(state): State<Arc<RemoteState>>, Path(id): Path<String>) -> Response {
    let c = &state.company();
    if id != c.remote_company_id {
        return message(StatusCode::NOT_FOUND, "Company not found");
    }
    let created = iso_midnight(c.ceo().start_date);
    let body = json!({
        "data": {
            "company": {
                "id": c.remote_company_id,
                "name": c.name,
                "status": "active",
                "country_code": "AUS",
                "desired_currency": "AUD",
                "company_owner_email": c.ceo().email,
                "created_at": created,
                "updated_at": created,
            }
        }
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn remote_people(company: &SampleCompany) -> impl Iterator<Item = &SamplePerson> {
    company
        .people
        .iter()
        .filter(|p| p.remote_employment_id.is_some())
}

fn country(p: &SamplePerson) -> Value {
    let (alpha2, alpha3, name) = match p.country_code {
        "NZ" => ("NZ", "NZL", "New Zealand"),
        "GB" => ("GB", "GBR", "United Kingdom"),
        "DE" => ("DE", "DEU", "Germany"),
        "PT" => ("PT", "PRT", "Portugal"),
        "PH" => ("PH", "PHL", "Philippines"),
        "IN" => ("IN", "IND", "India"),
        "CA" => ("CA", "CAN", "Canada"),
        _ => ("AU", "AUS", "Australia"),
    };
    json!({ "alpha_2_code": alpha2, "code": alpha3, "name": name })
}

fn employment_status(p: &SamplePerson) -> &'static str {
    if p.is_leaver { "archived" } else { "active" }
}

/// The employment's short id: the first six hex digits of its id, in capitals.
fn short_id(p: &SamplePerson) -> String {
    p.remote_employment_id
        .as_deref()
        .unwrap_or_default()
        .replace('-', "")[..6]
        .to_uppercase()
}

/// `MinimalEmployment` (remote-flows types).
fn minimal_employment(state: &RemoteState, p: &SamplePerson) -> Value {
    let id = p.remote_employment_id.clone().unwrap_or_default();
    let personal = fold_accents(&format!("{}.{}", p.first_name, p.last_name))
        .to_lowercase()
        .replace([' ', '\''], "");
    json!({
        "id": id,
        "short_id": short_id(p),
        "full_name": p.full_name(),
        "job_title": p.title,
        "personal_email": format!("{personal}@mail.test"),
        "work_email": p.email,
        "login_email": p.email,
        "status": employment_status(p),
        "type": "employee",
        "employment_model": "eor",
        "employment_lifecycle_stage": if p.is_leaver { "offboarded" } else { "onboarded" },
        "country": country(p),
        "department": { "id": derived_id(state, &p.department), "name": p.department },
        "department_id": derived_id(state, &p.department),
        "external_id": null,
        "work_address_details": null,
    })
}

fn parse_page(q: &[(String, String)]) -> Result<(usize, usize), Response> {
    let page = match first(q, "page") {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| unprocessable("page", "must be greater than 0"))?,
    };
    let size = match first(q, "page_size") {
        None => DEFAULT_PAGE_SIZE,
        // "limited to 100": larger sizes are capped (inferred from other list endpoints).
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| unprocessable("page_size", "must be greater than 0"))?
            .min(MAX_PAGE_SIZE),
    };
    Ok((page, size))
}

/// The paging envelope `{"data":{<key>:[…],"current_page","total_pages","total_count"}}`.
/// `matching` lists the records afresh for each of two passes: one counts them all, the other
/// renders only those on `page`.
fn paged<I: Iterator>(
    key: &str,
    (page, size): (usize, usize),
    matching: impl Fn() -> I,
    render: impl Fn(I::Item) -> Value,
) -> Response {
    let total = matching().count();
    let items: Vec<Value> = matching()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(render)
        .collect();
    let mut body = json!({
        "data": { "current_page": page, "total_pages": total.div_ceil(size), "total_count": total }
    });
    // Moved in rather than written in `json!`, which would copy every row once more.
    body["data"][key] = Value::Array(items);
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn list_employments(
    State(state): State<Arc<RemoteState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = pairs(query.as_deref().unwrap_or_default());
    let page = parse_page(&q)?;
    let statuses: Option<Vec<&str>> =
        first(&q, "status").map(|s| s.split(',').map(str::trim).collect());
    if let Some(bad) = statuses
        .iter()
        .flatten()
        .find(|s| !EMPLOYMENT_STATUSES.contains(s))
    {
        return Err(unprocessable("status", &format!("{bad} is invalid")));
    }
    if first(&q, "company_id").is_some_and(|c| c != state.company().remote_company_id) {
        return Err(message(StatusCode::NOT_FOUND, "Company not found"));
    }
    let email = first(&q, "email");
    let employment_type = first(&q, "employment_type");
    let model = first(&q, "employment_model");
    let short = first(&q, "short_id");
    let company = state.company();
    let matching = || {
        remote_people(&company)
            .filter(|p| {
                statuses
                    .as_ref()
                    .is_none_or(|s| s.contains(&employment_status(p)))
            })
            .filter(|p| {
                email.is_none_or(|e| {
                    p.email
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(e))
                })
            })
            .filter(|_| employment_type.is_none_or(|t| t == "employee"))
            .filter(|_| model.is_none_or(|m| m == "eor"))
            .filter(|p| short.is_none_or(|s| short_id(p) == s))
    };
    Ok(paged("employments", page, matching, |p| {
        minimal_employment(&state, p)
    }))
}

impl RemoteState {
    /// The company as it is now (the demo's control API may change it between calls).
    fn company(&self) -> Arc<SampleCompany> {
        self.live.current()
    }
}
