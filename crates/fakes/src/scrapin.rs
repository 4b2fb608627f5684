//! A strict fake of Scrapin.io's person enrichment and change-alert URL configuration.
//!
//! Owns Scrapin's wire behaviour as docs/providers.md §6 describes it: the key travels in the
//! `apikey` query parameter, answers carry `success` and credit/rate counters, and 401 / 402
//! / 404 / 429 mean bad key / no credits / no profile / throttled. Scrapin does not document
//! its error bodies: the `{"success":false,"msg":…}` shape used here is **provisional**. It must
//! never read the wall clock (windows run on the injected `Clock`).
//!
//! **URL layout.** [`ScrapinFake::base_url`] stands in for `https://api.scrapin.io`; paths are
//! `/v1/enrichment/profile` and `/v1/alerts/url`.
//!
//! **Profiles.** Every sample person with a `linkedin_url` has a profile; any other URL is 404.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::live::LiveCompany;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Datelike, DurationRound, TimeDelta, Utc};
use roster_company::{SampleCompany, SamplePerson};
use roster_domain::Clock;
use serde_json::{Value, json};

use crate::faults::{Dialect, Probe, observe};
use crate::serve::{
    Fake, Revoked, SlidingWindow, digest_hex, first, lock, pairs, retry_after_secs, says_invalid,
};

/// Operation names for [`CallLog`](crate::CallLog) and [`Fault`](crate::Fault).
pub mod ops {
    pub const PROFILE: &str = "scrapin.profile";
    pub const ALERTS_URL: &str = "scrapin.alerts_url";
}

/// Per-key limits. Scrapin's depend on the plan; its examples show 500 a minute and a daily
/// cap (<https://docs.scrapin.io/endpoint/v1/person/extract-profile>).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub per_minute: u32,
    pub per_day: u32,
    /// Credits a key starts with.
    pub initial_credits: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_minute: 500,
            per_day: 10_000,
            initial_credits: 1_000.0,
        }
    }
}

/// A live lookup costs one credit; a cache hit (`cacheDuration` given) half a credit.
const LIVE_COST: f64 = 1.0;
const CACHED_COST: f64 = 0.5;

crate::serve::fake_handle!(
    /// The running fake. Dropping it stops the server.
    ScrapinFake(ScrapinState, Limits)
);

impl ScrapinFake {
    /// Sets the credits left on `key` (0 provokes 402).
    pub fn set_credits(&self, key: &str, credits: f64) {
        self.running.state.with_key(key, |k| k.credits = credits);
    }

    pub fn credits(&self, key: &str) -> f64 {
        self.running.state.with_key(key, |k| k.credits)
    }

    /// From now on `key` answers 401.
    pub fn revoke(&self, key: &str) {
        self.running.state.revoked.insert(key);
    }

    /// The body Scrapin POSTs to the alert URL when a watched profile changes:
    /// `{"subscriptionId","data":{"person":{…}}}`. The fake does not deliver it itself; a
    /// test POSTs it to the app's webhook.
    pub fn change_alert_body(&self, person: usize) -> Value {
        let company = self.running.state.company();
        let p = &company.people[person];
        json!({
            "subscriptionId": derived_hex(&company, &format!("subscription:{}", p.index), 24),
            "data": { "person": person_object(&company, p) },
        })
    }
}

struct ScrapinState {
    live: LiveCompany,
    clock: Arc<dyn Clock>,
    probe: Probe,
    limits: Mutex<Limits>,
    keys: Mutex<HashMap<String, Key>>,
    revoked: Revoked,
}

/// Per-key credits, windows and alert configuration.
#[derive(Debug)]
struct Key {
    credits: f64,
    minute: SlidingWindow,
    day: SlidingWindow,
    alert: Option<Value>,
}

impl ScrapinState {
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the shape `fake_handle!` builds every fake's state with"
    )]
    fn new(
        _base_url: &str,
        company: LiveCompany,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        Ok(Self {
            live: company,
            clock,
            probe: Probe::default(),
            limits: Mutex::new(limits),
            keys: Mutex::new(HashMap::new()),
            revoked: Revoked::default(),
        })
    }

    fn with_key<T>(&self, key: &str, f: impl FnOnce(&mut Key) -> T) -> T {
        let limits = *lock(&self.limits);
        let mut keys = lock(&self.keys);
        let entry = keys.entry(key.to_owned()).or_insert_with(|| Key {
            credits: limits.initial_credits,
            minute: SlidingWindow::new(limits.per_minute, TimeDelta::minutes(1)),
            day: SlidingWindow::new(limits.per_day, TimeDelta::days(1)),
            alert: None,
        });
        f(entry)
    }
}

/// Provisional error body (Scrapin does not document one).
fn failure(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({ "success": false, "msg": msg }))).into_response()
}

impl Dialect for ScrapinState {
    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn operation(&self, _method: &Method, route: &str) -> Option<&'static str> {
        Some(match route {
            "/v1/enrichment/profile" => ops::PROFILE,
            "/v1/alerts/url" => ops::ALERTS_URL,
            _ => return None,
        })
    }

    fn error(&self, _operation: &str, status: StatusCode) -> Response {
        failure(status, status.canonical_reason().unwrap_or("Error"))
    }

    fn rate_limited(&self, _operation: &str, retry_after_secs: u64) -> Response {
        let mut response = failure(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
        response
            .headers_mut()
            .insert("retry-after", retry_after_secs.into());
        response
    }

    fn required_keys(&self) -> &'static [&'static str] {
        &["publicIdentifier", "firstName", "url"]
    }
}

impl Fake for ScrapinState {
    type Limits = Limits;

    fn router(state: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/enrichment/profile", get(profile))
            .route("/v1/alerts/url", get(get_alert_url).post(set_alert_url))
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>))
            .with_state(state)
    }

    /// Every key starts afresh: new windows and `initial_credits`.
    fn set_limits(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.keys).clear();
    }
}

/// The `apikey` query parameter, checked; the status table calls a bad one 401.
fn api_key(state: &ScrapinState, q: &[(String, String)]) -> Result<String, Response> {
    let key = first(q, "apikey").unwrap_or_default();
    let well_formed = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !well_formed || says_invalid(key) || state.revoked.contains(key) {
        return Err(failure(StatusCode::UNAUTHORIZED, "Invalid API key"));
    }
    Ok(key.to_owned())
}

fn derived_hex(company: &SampleCompany, label: &str, len: usize) -> String {
    digest_hex(&format!("{}:{label}", company.seed))[..len].to_owned()
}

/// `linkedin.com/in/<slug>` → `<slug>`, lowercased, for any scheme/host variant.
fn slug_of(url: &str) -> Option<String> {
    let rest = url.split_once("linkedin.com/in/")?.1;
    let slug = rest.split(['/', '?', '#']).next()?.to_lowercase();
    (!slug.is_empty()).then_some(slug)
}

fn person_object(company: &SampleCompany, p: &SamplePerson) -> Value {
    let url = p.linkedin_url.clone().unwrap_or_default();
    let slug = slug_of(&url).unwrap_or_default();
    let member = u64::from_str_radix(&derived_hex(company, &slug, 8), 16).unwrap_or(0);
    let (city, state, country, code) = match (&p.home_address, p.country_code) {
        (Some(a), _) => (a.city.as_str(), a.region.as_str(), "Australia", "AU"),
        (None, "NZ") => ("Auckland", "Auckland", "New Zealand", "NZ"),
        (None, "GB") => ("London", "England", "United Kingdom", "GB"),
        (None, "DE") => ("Berlin", "Berlin", "Germany", "DE"),
        (None, "PT") => ("Lisbon", "Lisbon", "Portugal", "PT"),
        (None, "PH") => ("Manila", "Metro Manila", "Philippines", "PH"),
        (None, "IN") => ("Bengaluru", "Karnataka", "India", "IN"),
        (None, other) => ("Toronto", "Ontario", "Canada", other),
    };
    let start = p.start_date;
    // Item fields of the history arrays are not documented (docs/providers.md §6): provisional.
    json!({
        "publicIdentifier": slug,
        "linkedInIdentifier": format!("ACoAA{}", derived_hex(company, &format!("li:{slug}"), 18).to_uppercase()),
        "memberIdentifier": member.to_string(),
        "linkedInUrl": url,
        "firstName": p.preferred_name.as_deref().unwrap_or(&p.first_name),
        "lastName": p.last_name,
        "headline": format!("{} at {}", p.title, company.name),
        "location": { "city": city, "state": state, "country": country, "countryCode": code },
        "photoUrl": format!("https://media.licdn.test/{slug}.jpg"),
        "backgroundUrl": null,
        "openToWork": p.is_leaver,
        "premium": p.index % 7 == 0,
        "showVerificationBadge": p.index % 3 == 0,
        "positions": {
            "positionsCount": 2,
            "positionHistory": [
                {
                    "title": p.title,
                    "companyName": company.name,
                    "startEndDate": { "start": { "month": start.month(), "year": start.year() }, "end": p.termination_date.map(|d| json!({ "month": d.month(), "year": d.year() })) },
                },
                {
                    "title": format!("Junior {}", p.title),
                    "companyName": "Previous Employer Pty Ltd",
                    "startEndDate": { "start": { "month": start.month(), "year": start.year() - 3 }, "end": { "month": start.month(), "year": start.year() } },
                },
            ],
        },
        "schools": {
            "educationsCount": 1,
            "educationHistory": [{ "schoolName": "University of Example", "degreeName": "Bachelor", "fieldOfStudy": p.department }],
        },
    })
}

/// `GET /v1/enrichment/profile?apikey=…&linkedInUrl=…[&cacheDuration=…]`.
async fn profile(State(state): State<Arc<ScrapinState>>, RawQuery(query): RawQuery) -> Response {
    let q = pairs(query.as_deref().unwrap_or_default());
    let key = match api_key(&state, &q) {
        Ok(k) => k,
        Err(refusal) => return refusal,
    };
    let Some(slug) = first(&q, "linkedInUrl").and_then(slug_of) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "linkedInUrl is required and must be a LinkedIn profile URL",
        );
    };
    let cost = if first(&q, "cacheDuration").is_some() {
        CACHED_COST
    } else {
        LIVE_COST
    };
    let now = state.clock.now();
    let counters = state.with_key(&key, |k| {
        if k.minute.remaining(now) == 0 {
            return Err(failure_after(k.minute.hit(now).err().unwrap_or_default()));
        }
        if k.day.remaining(now) == 0 {
            return Err(failure_after(k.day.hit(now).err().unwrap_or_default()));
        }
        // Every admitted call spends rate budget, even one refused for credits.
        let minute_left = k.minute.hit(now).unwrap_or(0);
        let day_left = k.day.hit(now).unwrap_or(0);
        if k.credits < cost {
            return Err(failure(StatusCode::PAYMENT_REQUIRED, "Not enough credits"));
        }
        Ok((minute_left, day_left))
    });
    let (minute_left, day_left) = match counters {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let company = state.company();
    let Some(person) = company
        .people
        .iter()
        .find(|p| p.linkedin_url.as_deref().and_then(slug_of).as_deref() == Some(slug.as_str()))
    else {
        return failure(StatusCode::NOT_FOUND, "Profile not found");
    };
    // Only a found profile costs credits.
    let credits_left = state.with_key(&key, |k| {
        k.credits -= cost;
        k.credits
    });
    let next_minute =
        now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now) + TimeDelta::minutes(1);
    let body = json!({
        "success": true,
        "credits_consumed": cost,
        "credits_left": credits_left,
        "rate_limit_left": day_left,
        "daily_rate_limit_left": day_left,
        "minute_rate_limit_left": minute_left,
        "next_minute_rate_limit_reset": iso(next_minute),
        "person": person_object(&state.company(), person),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn failure_after(wait: TimeDelta) -> Response {
    let mut response = failure(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
    response
        .headers_mut()
        .insert("retry-after", retry_after_secs(wait).into());
    response
}

fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `GET /v1/alerts/url`: the workspace's alert URL, `"alert": null` before one is set
/// (provisional: the empty answer is not documented).
async fn get_alert_url(
    State(state): State<Arc<ScrapinState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let q = pairs(query.as_deref().unwrap_or_default());
    let key = match api_key(&state, &q) {
        Ok(k) => k,
        Err(refusal) => return refusal,
    };
    let alert = state
        .with_key(&key, |k| k.alert.clone())
        .unwrap_or(Value::Null);
    (
        StatusCode::OK,
        axum::Json(json!({ "success": true, "alert": alert })),
    )
        .into_response()
}

/// `POST /v1/alerts/url` with `{"url","status":"active"|"inactive"}`; the URL must be HTTPS.
async fn set_alert_url(
    State(state): State<Arc<ScrapinState>>,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let q = pairs(query.as_deref().unwrap_or_default());
    let key = match api_key(&state, &q) {
        Ok(k) => k,
        Err(refusal) => return refusal,
    };
    let Ok(input) = serde_json::from_str::<Value>(&body) else {
        return failure(StatusCode::BAD_REQUEST, "Body must be JSON");
    };
    let url = input["url"].as_str().unwrap_or_default();
    if !url.starts_with("https://") {
        return failure(StatusCode::BAD_REQUEST, "url must be an HTTPS URL");
    }
    let status = input["status"].as_str().unwrap_or("active");
    if status != "active" && status != "inactive" {
        return failure(StatusCode::BAD_REQUEST, "status must be active or inactive");
    }
    let now = iso(state.clock.now());
    let id = derived_hex(&state.company(), &format!("alert:{key}"), 24);
    let alert = state.with_key(&key, |k| {
        let created = k.alert.as_ref().and_then(|a| a["createdAt"].as_str().map(str::to_owned)).unwrap_or_else(|| now.clone());
        let alert = json!({ "id": id, "url": url, "status": status, "createdAt": created, "updatedAt": now });
        k.alert = Some(alert.clone());
        alert
    });
    (
        StatusCode::OK,
        axum::Json(json!({ "success": true, "alert": alert })),
    )
        .into_response()
}

impl ScrapinState {
    /// The company as it is now (the demo's control API may change it between calls).
    fn company(&self) -> Arc<SampleCompany> {
        self.live.current()
    }
}
