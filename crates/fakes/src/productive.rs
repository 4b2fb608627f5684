//! A strict, read-only fake of Productive's JSON:API: people, teams, team memberships and
//! organizations, behind `X-Auth-Token`/`X-Organization-Id` and 100 calls per 10 s.
//!
//! Owns Productive's wire behaviour as docs/providers.md §2 describes it. It must never read the
//! wall clock (windows run on the injected `Clock`) and must never import client types.
//!
//! **Squads and managers.** Squads are Productive *teams* (`/teams`), and membership is only
//! visible through `/team_memberships` (`relationships.person`, `relationships.team`, both with
//! `data`), or by filtering people with `filter[team]=<team id>`. The manager is the JSON:API
//! relationship `relationships.manager`: without `include=manager` it is
//! `{"meta":{"included":false}}` (no id!), with it `{"data":{"type":"people","id":…}}` and the
//! managers in `included[]`. Besides the sample people, the fake lists two placeholders
//! (`person_type` 3) and one client contact (`person_type` 2), as a real account has.
//!
//! **URL layout.** [`ProductiveFake::api_url`] stands in for `https://api.productive.io/api/v2`.

mod jsonapi;
mod people;
mod teams;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::live::LiveCompany;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::TimeDelta;
use roster_company::SampleCompany;
use roster_domain::Clock;
use serde_json::{Value, json};

use self::people::list_people;
use self::teams::{
    list_organization_memberships, list_organizations, list_team_memberships, list_teams,
};
use crate::faults::{Dialect, Probe, observe};
use crate::serve::{
    Fake, Revoked, SlidingWindow, lock, page_number, retry_after_secs, says_invalid,
};

/// Operation names for [`CallLog`](crate::CallLog) and [`Fault`](crate::Fault).
pub mod ops {
    pub const PEOPLE: &str = "productive.people";
    pub const TEAMS: &str = "productive.teams";
    pub const TEAM_MEMBERSHIPS: &str = "productive.team_memberships";
    pub const ORGANIZATIONS: &str = "productive.organizations";
    pub const ORGANIZATION_MEMBERSHIPS: &str = "productive.organization_memberships";
}

/// Productive's limits (<https://developer.productive.io/guides/rate-limits>), per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_10_seconds: u32,
    pub per_30_minutes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_10_seconds: 100,
            per_30_minutes: 4_000,
        }
    }
}

/// `page[size]` default and maximum (<https://developer.productive.io/> , `meta` example).
pub const DEFAULT_PAGE_SIZE: usize = 30;
pub const MAX_PAGE_SIZE: usize = 200;
const JSON_API: &str = "application/vnd.api+json";
/// The one listing a token may read without `X-Organization-Id`: how it finds its
/// organizations.
const ORGANIZATION_MEMBERSHIPS_ROUTE: &str = "/api/v2/organization_memberships";
/// The demo rule for a token whose user belongs to two organizations: it contains this word.
/// The second organization is one the fake does not serve (its id is refused as any other).
pub const TWO_ORGANIZATIONS: &str = "two-orgs";

crate::serve::fake_handle!(
    /// The running fake. Dropping it stops the server.
    ProductiveFake(ProductiveState, Limits)
);

impl ProductiveFake {
    /// Stands in for `https://api.productive.io/api/v2`.
    pub fn api_url(&self) -> String {
        self.running.state.api_url.clone()
    }

    /// The value `X-Organization-Id` must carry.
    pub fn organization_id(&self) -> &str {
        &self.running.state.live.identity().productive_org_id
    }

    /// From now on `token` answers 401, as a token deleted in Settings → API integrations.
    pub fn revoke(&self, token: &str) {
        self.running.state.revoked.insert(token);
    }
}

struct ProductiveState {
    api_url: String,
    live: LiveCompany,
    extras: Vec<Extra>,
    clock: Arc<dyn Clock>,
    probe: Probe,
    limits: Mutex<Limits>,
    revoked: Revoked,
    windows: Mutex<HashMap<String, (SlidingWindow, SlidingWindow)>>,
}

impl ProductiveState {
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the shape `fake_handle!` builds every fake's state with"
    )]
    fn new(
        base_url: &str,
        company: LiveCompany,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        Ok(Self {
            api_url: format!("{base_url}/api/v2"),
            extras: extra_people(&company.current()),
            live: company,
            clock,
            probe: Probe::default(),
            limits: Mutex::new(limits),
            revoked: Revoked::default(),
            windows: Mutex::new(HashMap::new()),
        })
    }
}

/// Non-staff people records every real account has.
#[derive(Debug, Clone)]
struct Extra {
    id: String,
    first_name: String,
    last_name: String,
    email: Option<String>,
    person_type: u8,
}

fn extra_people(company: &SampleCompany) -> Vec<Extra> {
    let top: u64 = company
        .people
        .iter()
        .filter_map(|p| p.productive_id.as_deref()?.parse().ok())
        .max()
        .unwrap_or(100_000);
    let squad = |i: usize| {
        company
            .squads
            .get(i)
            .map_or("Platform", |s| s.name.as_str())
            .to_owned()
    };
    vec![
        Extra {
            id: (top + 11).to_string(),
            first_name: "Future".into(),
            last_name: format!("Hire ({})", squad(0)),
            email: None,
            person_type: 3,
        },
        Extra {
            id: (top + 12).to_string(),
            first_name: "Contract".into(),
            last_name: format!("Designer ({})", squad(1)),
            email: None,
            person_type: 3,
        },
        Extra {
            id: (top + 13).to_string(),
            first_name: "Casey".into(),
            last_name: "Client".into(),
            email: Some("casey@client.test".into()),
            person_type: 2,
        },
    ]
}

/// Productive's error document. Only the 400 body is documented (docs/providers.md §2); the
/// others follow the same `errors[]` shape (inferred).
fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    let body =
        json!({ "errors": [{ "status": status.as_u16(), "title": title, "detail": detail }] });
    json_api(status, body)
}

fn json_api(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_API));
    response
}

impl Dialect for ProductiveState {
    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn operation(&self, _method: &Method, route: &str) -> Option<&'static str> {
        Some(match route {
            "/api/v2/people" => ops::PEOPLE,
            "/api/v2/teams" => ops::TEAMS,
            "/api/v2/team_memberships" => ops::TEAM_MEMBERSHIPS,
            "/api/v2/organizations" => ops::ORGANIZATIONS,
            ORGANIZATION_MEMBERSHIPS_ROUTE => ops::ORGANIZATION_MEMBERSHIPS,
            _ => return None,
        })
    }

    fn page(&self, _operation: &str, query: &str) -> u32 {
        page_number(query, "page[number]")
    }

    fn error(&self, _operation: &str, status: StatusCode) -> Response {
        error(
            status,
            status.canonical_reason().unwrap_or("Error"),
            "Injected failure",
        )
    }

    fn rate_limited(&self, _operation: &str, retry_after_secs: u64) -> Response {
        too_many(retry_after_secs)
    }

    fn required_keys(&self) -> &'static [&'static str] {
        &["id"]
    }
}

/// The 429 answer. Productive documents the limit but not its headers: `Retry-After` here is the fake's
/// own courtesy, so clients must also cope without it (docs/providers.md §2).
fn too_many(retry_after_secs: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "Rate limit exceeded",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

impl Fake for ProductiveState {
    type Limits = Limits;

    fn router(state: Arc<Self>) -> Router {
        Router::new()
            .route("/api/v2/people", get(list_people))
            .route("/api/v2/teams", get(list_teams))
            .route("/api/v2/team_memberships", get(list_team_memberships))
            .route("/api/v2/organizations", get(list_organizations))
            .route(
                ORGANIZATION_MEMBERSHIPS_ROUTE,
                get(list_organization_memberships),
            )
            .route_layer(from_fn_with_state(state.clone(), gate))
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>))
            .with_state(state)
    }

    /// Both windows of every token start afresh under the new limits.
    fn set_limits(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.windows).clear();
    }
}

/// Token, organization and rate limit, in that order, for every route.
async fn gate(State(state): State<Arc<ProductiveState>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let Some(token) = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Missing X-Auth-Token header",
        );
    };
    let well_formed = token.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed || says_invalid(token) || state.revoked.contains(token) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", "Invalid token");
    }
    let org = headers
        .get("x-organization-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let needs_org = request
        .extensions()
        .get::<MatchedPath>()
        .is_none_or(|m| m.as_str() != ORGANIZATION_MEMBERSHIPS_ROUTE);
    if needs_org && org != Some(state.live.identity().productive_org_id.as_str()) {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You are not a member of this organization",
        );
    }
    let token = token.to_owned();
    let limits = *lock(&state.limits);
    let now = state.clock.now();
    let verdict = {
        let mut windows = lock(&state.windows);
        let (short, long) = windows.entry(token).or_insert_with(|| {
            (
                SlidingWindow::new(limits.per_10_seconds, TimeDelta::seconds(10)),
                SlidingWindow::new(limits.per_30_minutes, TimeDelta::minutes(30)),
            )
        });
        match (short.remaining(now), long.remaining(now)) {
            (0, _) => short.hit(now).err(),
            (_, 0) => long.hit(now).err(),
            _ => {
                let _ = short.hit(now);
                let _ = long.hit(now);
                None
            }
        }
    };
    if let Some(wait) = verdict {
        return too_many(retry_after_secs(wait));
    }
    next.run(request).await
}

impl ProductiveState {
    /// The company as it is now (the demo's control API may change it between calls).
    fn company(&self) -> Arc<SampleCompany> {
        self.live.current()
    }
}
