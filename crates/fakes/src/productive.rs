//! A strict, read-only fake of Productive's JSON:API: people, teams, team memberships and
//! organizations, behind `X-Auth-Token`/`X-Organization-Id` and 100 calls per 10 s.
//!
//! Owns Productive's wire behaviour as providers.md §2 describes it. It must never read the
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

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Utc};
use roster_company::{SampleCompany, SamplePerson, SampleSquad};
use roster_domain::Clock;
use serde_json::{Map, Value, json};

use crate::faults::{Dialect, Probe, observe};
use crate::serve::{
    Fake, Revoked, SlidingWindow, lock, page_number, pairs, retry_after_secs, says_invalid,
};

/// Operation names for [`CallLog`] and [`Fault`].
pub mod ops {
    pub const PEOPLE: &str = "productive.people";
    pub const TEAMS: &str = "productive.teams";
    pub const TEAM_MEMBERSHIPS: &str = "productive.team_memberships";
    pub const ORGANIZATIONS: &str = "productive.organizations";
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
        &self.running.state.company.productive_org_id
    }

    /// From now on `token` answers 401, as a token deleted in Settings → API integrations.
    pub fn revoke(&self, token: &str) {
        self.running.state.revoked.insert(token);
    }
}

struct ProductiveState {
    api_url: String,
    company: Arc<SampleCompany>,
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
        company: Arc<SampleCompany>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        Ok(Self {
            api_url: format!("{base_url}/api/v2"),
            extras: extra_people(&company),
            company,
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

/// Productive's error document. Only the 400 body is documented (providers.md §2); the
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
/// own courtesy, so clients must also cope without it (providers.md §2).
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
    if org != Some(state.company.productive_org_id.as_str()) {
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

/// `filter[x]=v` or `filter[x][op]=v`, with comma-separated values meaning "any of".
struct Filter {
    name: String,
    negate: bool,
    values: Vec<String>,
}

/// Query parameters of a list call, validated.
struct ListQuery {
    filters: Vec<Filter>,
    page: usize,
    size: usize,
    include_manager: bool,
    sort: Option<(String, bool)>,
    raw: Vec<(String, String)>,
}

fn parse_list(
    query: Option<&str>,
    allowed_filters: &[&str],
    allowed_sorts: &[&str],
    allow_manager: bool,
) -> Result<ListQuery, Response> {
    let raw = pairs(query.unwrap_or_default());
    let mut q = ListQuery {
        filters: Vec::new(),
        page: 1,
        size: DEFAULT_PAGE_SIZE,
        include_manager: false,
        sort: None,
        raw: raw.clone(),
    };
    for (key, value) in &raw {
        if let Some(rest) = key.strip_prefix("filter[") {
            let (name, op) = match rest.split_once("][") {
                Some((name, op)) => (name, op.trim_end_matches(']')),
                None => (rest.trim_end_matches(']'), "eq"),
            };
            if !allowed_filters.contains(&name) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "Unsupported Filter",
                    &format!("Filter '{name}' is not supported on this endpoint"),
                ));
            }
            let negate = match op {
                "eq" => false,
                "not_eq" => true,
                other => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "Unsupported Filter",
                        &format!(
                            "Operator '{other}' is not supported for filter '{name}' by the fake"
                        ),
                    ));
                }
            };
            q.filters.push(Filter {
                name: name.to_owned(),
                negate,
                values: value.split(',').map(|v| v.trim().to_owned()).collect(),
            });
        } else if key == "page[number]" || key == "page[size]" {
            let n: usize = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    &format!("Invalid value '{value}' for {key}"),
                )
            })?;
            if key == "page[number]" {
                q.page = n;
            } else {
                // Productive caps page[size] at max_page_size.
                q.size = n.min(MAX_PAGE_SIZE);
            }
        } else if key == "include" {
            for path in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if allow_manager && path == "manager" {
                    q.include_manager = true;
                } else {
                    // JSON:API 1.0 §Inclusion of Related Resources: an unknown path is a 400.
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "Bad Request",
                        &format!("Relationship '{path}' cannot be included"),
                    ));
                }
            }
        } else if key == "sort" {
            let (field, descending) = value
                .strip_prefix('-')
                .map_or((value.as_str(), false), |f| (f, true));
            if !allowed_sorts.contains(&field) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    &format!("Sort '{field}' is not supported on this endpoint"),
                ));
            }
            q.sort = Some((field.to_owned(), descending));
        }
    }
    Ok(q)
}

impl ListQuery {
    /// Whether a record passes every field filter (`query`, the full-text filter, aside).
    fn matches(&self, value_of: impl Fn(&str) -> Option<String>) -> bool {
        self.filters.iter().filter(|f| f.name != "query").all(|f| {
            let actual = value_of(&f.name);
            let hit = f
                .values
                .iter()
                .any(|v| actual.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(v)));
            hit != f.negate
        })
    }

    /// Whether a record passes every `query` (full-text) filter.
    fn text_matches(&self, contains: impl Fn(&str) -> bool) -> bool {
        self.filters
            .iter()
            .filter(|f| f.name == "query")
            .all(|f| f.values.iter().any(|v| contains(v)) != f.negate)
    }

    /// The page of `items`, with JSON:API `meta` and `links` for all of them.
    fn page<T>(&self, state: &ProductiveState, path: &str, items: Vec<T>) -> Page<T> {
        let total = items.len();
        let total_pages = total.div_ceil(self.size);
        let meta = json!({
            "current_page": self.page,
            "total_pages": total_pages,
            "total_count": total,
            "page_size": self.size,
            "max_page_size": MAX_PAGE_SIZE,
        });
        let link = |page: usize| {
            let mut params: Vec<(String, String)> = self
                .raw
                .iter()
                .filter(|(k, _)| k != "page[number]" && k != "page[size]")
                .cloned()
                .collect();
            params.push(("page[number]".into(), page.to_string()));
            params.push(("page[size]".into(), self.size.to_string()));
            let query = serde_urlencoded::to_string(&params).unwrap_or_default();
            format!("{}/{path}?{query}", state.api_url)
        };
        let mut links = Map::new();
        links.insert("first".into(), json!(link(1)));
        links.insert("last".into(), json!(link(total_pages.max(1))));
        if self.page < total_pages {
            links.insert("next".into(), json!(link(self.page + 1)));
        }
        if self.page > 1 {
            links.insert("prev".into(), json!(link(self.page - 1)));
        }
        let rows = items
            .into_iter()
            .skip((self.page - 1).saturating_mul(self.size))
            .take(self.size)
            .collect();
        Page {
            rows,
            meta,
            links: Value::Object(links),
        }
    }
}

/// One page of a listing: its records, not yet rendered, and the listing's `meta` and `links`.
struct Page<T> {
    rows: Vec<T>,
    meta: Value,
    links: Value,
}

impl<T> Page<T> {
    /// The JSON:API document `{"data","meta","links"}`, rendering only this page's records.
    fn document(self, render: impl FnMut(T) -> Value) -> Value {
        let mut document = Map::new();
        document.insert(
            "data".into(),
            Value::Array(self.rows.into_iter().map(render).collect()),
        );
        document.insert("meta".into(), self.meta);
        document.insert("links".into(), self.links);
        Value::Object(document)
    }
}

/// Productive's timestamps: ISO-8601 with milliseconds and the organization's offset.
/// The sample company is in Sydney; AEDT (+11:00) is used all year for simplicity.
fn timestamp(at: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(11 * 3600) {
        Some(sydney) => at
            .with_timezone(&sydney)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string(),
        None => at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    }
}

fn midnight(d: chrono::NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

fn relationship(kind: &str, id: Option<&str>) -> Value {
    json!({ "data": id.map(|id| json!({ "type": kind, "id": id })) })
}

fn not_included() -> Value {
    json!({ "meta": { "included": false } })
}

fn person_resource(state: &ProductiveState, p: &SamplePerson, include_manager: bool) -> Value {
    let company = &state.company;
    let manager_id = p
        .manager
        .and_then(|m| company.people[m].productive_id.as_deref());
    // About a third of people have never had a custom field set: Productive sends null then.
    let custom_fields = if p.index % 3 == 2 {
        Value::Null
    } else {
        json!({ "48213": p.department, "48214": format!("E{:05}", p.index) })
    };
    let deactivated_at = p.termination_date.map(|d| timestamp(midnight(d)));
    json!({
        "id": p.productive_id,
        "type": "people",
        "attributes": {
            "first_name": p.productive_first_name,
            "last_name": p.productive_last_name,
            "nickname": p.preferred_name,
            "email": p.email,
            "title": p.title,
            "avatar_url": null,
            "deactivated_at": deactivated_at,
            "archived_at": null,
            "joined_at": timestamp(midnight(p.start_date)),
            "last_seen_at": if p.is_leaver { Value::Null } else { json!(timestamp(p.updated_at)) },
            "invited_at": timestamp(midnight(p.start_date)),
            "is_user": true,
            "user_id": p.productive_id.as_deref().and_then(|id| id.parse::<u64>().ok()).map(|id| id + 500_000),
            "role_id": if p.is_google_admin { 2 } else { 4 },
            "tag_list": [],
            "custom_fields": custom_fields,
            "created_at": timestamp(midnight(p.start_date)),
            "placeholder": false,
            "virtual": false,
            "contact": { "emails": [{ "name": "work", "email": p.email }], "phones": p.mobile.iter().map(|m| json!({ "name": "mobile", "phone": m })).collect::<Vec<_>>() },
            "external_id": null,
            "offboarding_status": null,
            "hrm_type_id": 1,
            "availabilities": "[]",
        },
        "relationships": {
            "organization": relationship("organizations", Some(&company.productive_org_id)),
            "company": not_included(),
            "subsidiary": not_included(),
            "custom_role": not_included(),
            "approval_policy_assignment": not_included(),
            "manager": if include_manager { relationship("people", manager_id) } else { not_included() },
        },
    })
}

fn extra_resource(state: &ProductiveState, e: &Extra, include_manager: bool) -> Value {
    let created = timestamp(midnight(roster_company::REFERENCE_DATE));
    json!({
        "id": e.id,
        "type": "people",
        "attributes": {
            "first_name": e.first_name, "last_name": e.last_name, "nickname": null, "email": e.email, "title": null,
            "avatar_url": null, "deactivated_at": null, "archived_at": null, "joined_at": null, "last_seen_at": null,
            "invited_at": null, "is_user": false, "user_id": null, "role_id": null, "tag_list": [], "custom_fields": null,
            "created_at": created, "placeholder": e.person_type == 3, "virtual": false,
            "contact": { "emails": [], "phones": [] }, "external_id": null, "offboarding_status": null, "hrm_type_id": null,
            "availabilities": "[]",
        },
        "relationships": {
            "organization": relationship("organizations", Some(&state.company.productive_org_id)),
            "company": not_included(),
            "subsidiary": not_included(),
            "custom_role": not_included(),
            "approval_policy_assignment": not_included(),
            "manager": if include_manager { relationship("people", None) } else { not_included() },
        },
    })
}

/// One people record: a sample person or an extra.
enum Row<'a> {
    Person(&'a SamplePerson),
    Extra(&'a Extra),
}

impl Row<'_> {
    fn field(&self, state: &ProductiveState, name: &str) -> Option<String> {
        match self {
            Row::Person(p) => match name {
                "id" => p.productive_id.clone(),
                "email" => p.email.clone(),
                "status" => Some(if p.is_leaver { "2" } else { "1" }.to_owned()),
                "person_type" => Some("1".to_owned()),
                "team" => p
                    .squad
                    .map(|s| state.company.squads[s].productive_team_id.clone()),
                "manager_id" => p
                    .manager
                    .and_then(|m| state.company.people[m].productive_id.clone()),
                "first_name" => Some(p.productive_first_name.clone()),
                "last_name" => Some(p.productive_last_name.clone()),
                _ => None,
            },
            Row::Extra(e) => match name {
                "id" => Some(e.id.clone()),
                "email" => e.email.clone(),
                "status" => Some("1".to_owned()),
                "person_type" => Some(e.person_type.to_string()),
                "first_name" => Some(e.first_name.clone()),
                "last_name" => Some(e.last_name.clone()),
                _ => None,
            },
        }
    }

    fn query_matches(&self, state: &ProductiveState, text: &str) -> bool {
        let text = text.to_lowercase();
        ["first_name", "last_name", "email"].iter().any(|f| {
            self.field(state, f)
                .is_some_and(|v| v.to_lowercase().contains(&text))
        })
    }

    fn resource(&self, state: &ProductiveState, include_manager: bool) -> Value {
        match self {
            Row::Person(p) => person_resource(state, p, include_manager),
            Row::Extra(e) => extra_resource(state, e, include_manager),
        }
    }
}

const PEOPLE_FILTERS: &[&str] = &[
    "id",
    "email",
    "status",
    "person_type",
    "team",
    "manager_id",
    "query",
];
const PEOPLE_SORTS: &[&str] = &["email", "first_name", "last_name"];

async fn list_people(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(query.as_deref(), PEOPLE_FILTERS, PEOPLE_SORTS, true)?;
    let company = &state.company;
    let mut rows: Vec<Row<'_>> = company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some())
        .map(Row::Person)
        .chain(state.extras.iter().map(Row::Extra))
        .filter(|row| q.matches(|name| row.field(&state, name)))
        .filter(|row| q.text_matches(|text| row.query_matches(&state, text)))
        .collect();
    if let Some((field, descending)) = &q.sort {
        rows.sort_by(|a, b| {
            let o = a
                .field(&state, field)
                .unwrap_or_default()
                .to_lowercase()
                .cmp(&b.field(&state, field).unwrap_or_default().to_lowercase());
            if *descending { o.reverse() } else { o }
        });
    }
    let page = q.page(&state, "people", rows);
    let included = q
        .include_manager
        .then(|| included_managers(&state, &page.rows));
    let mut body = page.document(|r| r.resource(&state, q.include_manager));
    if let Some(managers) = included {
        body["included"] = Value::Array(managers);
    }
    Ok(json_api(StatusCode::OK, body))
}

/// The distinct managers of `rows`, each once, for `included[]`.
fn included_managers(state: &ProductiveState, rows: &[Row<'_>]) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    rows.iter()
        .filter_map(|r| match r {
            Row::Person(p) => p.manager,
            Row::Extra(_) => None,
        })
        .filter(|m| seen.insert(*m))
        .filter(|m| state.company.people[*m].productive_id.is_some())
        .map(|m| person_resource(state, &state.company.people[m], false))
        .collect()
}

async fn list_teams(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(
        query.as_deref(),
        &["id", "name", "color_id"],
        &["name"],
        false,
    )?;
    let squads: Vec<&SampleSquad> = state
        .company
        .squads
        .iter()
        .filter(|s| {
            q.matches(|name| match name {
                "id" => Some(s.productive_team_id.clone()),
                "name" => Some(s.name.clone()),
                "color_id" => Some((s.index % 10 + 1).to_string()),
                _ => None,
            })
        })
        .collect();
    let body = q.page(&state, "teams", squads).document(|s| {
        json!({
            "id": s.productive_team_id,
            "type": "teams",
            "attributes": { "name": s.name, "color_id": s.index % 10 + 1, "icon_id": s.index % 24 + 1 },
            "relationships": {
                "organization": relationship("organizations", Some(&state.company.productive_org_id)),
                "members": not_included(),
            },
        })
    });
    Ok(json_api(StatusCode::OK, body))
}

async fn list_team_memberships(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(
        query.as_deref(),
        &["id", "person_id", "team_id"],
        &[],
        false,
    )?;
    let company = &state.company;
    // (membership id, person, squad): rendered only for the requested page.
    let mut memberships = Vec::new();
    let mut next_id: u64 = 700_000;
    for squad in &company.squads {
        for &member in &squad.members {
            next_id += 1;
            let Some(person_id) = company.people[member].productive_id.as_deref() else {
                continue;
            };
            let id = next_id.to_string();
            let keep = q.matches(|name| match name {
                "id" => Some(id.clone()),
                "person_id" => Some(person_id.to_owned()),
                "team_id" => Some(squad.productive_team_id.clone()),
                _ => None,
            });
            if keep {
                memberships.push((id, member, squad));
            }
        }
    }
    let page = q.page(&state, "team_memberships", memberships);
    let body = page.document(|(id, member, squad)| {
        let person = &company.people[member];
        json!({
            "id": id,
            "type": "team_memberships",
            "attributes": { "created_at": timestamp(midnight(person.start_date)) },
            "relationships": {
                "person": relationship("people", person.productive_id.as_deref()),
                "team": relationship("teams", Some(&squad.productive_team_id)),
            },
        })
    });
    Ok(json_api(StatusCode::OK, body))
}

async fn list_organizations(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(query.as_deref(), &["id"], &[], false)?;
    let org = json!({
        "id": state.company.productive_org_id,
        "type": "organizations",
        "attributes": { "name": state.company.name, "default_currency": "AUD", "time_zone": "Sydney" },
        "relationships": {},
    });
    let body = q.page(&state, "organizations", vec![org]).document(|o| o);
    Ok(json_api(StatusCode::OK, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_carry_milliseconds_and_an_offset() {
        let at = DateTime::from_timestamp(1_772_442_000, 0).unwrap_or_default();
        assert_eq!(timestamp(at), "2026-03-02T20:00:00.000+11:00");
    }
}
