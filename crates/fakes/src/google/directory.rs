//! Admin SDK Directory `users.list` and Calendar `calendars.get`.
//!
//! Owns rendering people as Directory `User` resources (schema in
//! `spec/google/admin-directory_v1.json`) and calendars as `Calendar`. It must never emit a key
//! the discovery document does not define: the contract test checks every one.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveTime, Utc};
use roster_company::{SampleCompany, SamplePerson};
use serde_json::{Map, Value, json};

use super::{
    GoogleState, Grant, SCOPE_CALENDAR, SCOPE_CALENDAR_READONLY, SCOPE_DIRECTORY_USER,
    SCOPE_DIRECTORY_USER_READONLY, Token, google_error,
};
use crate::serve::{first, pairs};

/// `maxResults` default and maximum (discovery document, `users.list`).
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
pub(crate) const MAX_PAGE_SIZE: usize = 500;

/// Page tokens are opaque to clients; the fake's carry the offset of the next page.
fn encode_page_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("roster-fake-users:{offset}"))
}

pub(crate) fn decode_page_token(token: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("roster-fake-users:")?.parse().ok()
}

fn invalid_input(message: &str) -> Response {
    google_error(StatusCode::BAD_REQUEST, message, "invalid", "global")
}

fn forbidden() -> Response {
    google_error(
        StatusCode::FORBIDDEN,
        "Not Authorized to access this resource/api",
        "forbidden",
        "global",
    )
}

fn insufficient_scopes() -> Response {
    google_error(
        StatusCode::FORBIDDEN,
        "Request had insufficient authentication scopes.",
        "insufficientPermissions",
        "global",
    )
}

fn not_found(message: &str) -> Response {
    google_error(StatusCode::NOT_FOUND, message, "notFound", "global")
}

/// Token, scope, admin rights and quota for a Directory call.
fn directory_caller(state: &GoogleState, headers: &HeaderMap) -> Result<Token, Response> {
    let token = state.token(headers)?;
    if !token
        .scopes
        .iter()
        .any(|s| s == SCOPE_DIRECTORY_USER_READONLY || s == SCOPE_DIRECTORY_USER)
    {
        return Err(insufficient_scopes());
    }
    let acting_as = match &token.grant {
        Grant::Delegated { subject, .. } => *subject,
        Grant::User { person } => Some(*person),
    };
    // Only an admin may list users: a service account acting as itself, or impersonating a
    // non-admin, gets 403 `forbidden` (google-api-java-client-services issue 4279).
    if !acting_as.is_some_and(|i| state.company().people[i].is_google_admin) {
        return Err(forbidden());
    }
    state.spend_quota(&token)?;
    Ok(token)
}

/// A Directory account: a sample person, or the shared kiosk account every office has.
enum Account<'a> {
    Person(&'a SamplePerson),
    Kiosk,
}

impl Account<'_> {
    fn email(&self, state: &GoogleState) -> String {
        match self {
            Account::Person(p) => p.email.clone().unwrap_or_default(),
            Account::Kiosk => format!("kiosk@{}", state.company().domain),
        }
    }
    fn given_name(&self) -> String {
        match self {
            Account::Person(p) => p.first_name.clone(),
            Account::Kiosk => "Meeting Room".to_owned(),
        }
    }
    fn family_name(&self) -> String {
        match self {
            Account::Person(p) => p.last_name.clone(),
            Account::Kiosk => "Kiosk".to_owned(),
        }
    }
    fn id(&self, state: &GoogleState) -> String {
        match self {
            Account::Person(p) => p.google_id.clone().unwrap_or_default(),
            Account::Kiosk => format!(
                "1{:020}",
                state.company().people.len() as u128 * 100_000_000_000_000 + 7
            ),
        }
    }
    fn suspended(&self) -> bool {
        matches!(self, Account::Person(p) if p.is_leaver)
    }
    fn is_admin(&self) -> bool {
        matches!(self, Account::Person(p) if p.is_google_admin)
    }
}

fn accounts(company: &SampleCompany) -> impl Iterator<Item = Account<'_>> {
    company
        .people
        .iter()
        .filter(|p| p.google_id.is_some() && p.email.is_some())
        .map(Account::Person)
        .chain(std::iter::once(Account::Kiosk))
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn etag(seed: &str) -> String {
    format!("\"{}\"", &crate::serve::digest_hex(seed)[..27])
}

/// A `User` resource as `projection=basic` returns it.
fn user_resource(state: &GoogleState, account: &Account<'_>) -> Value {
    let email = account.email(state);
    let id = account.id(state);
    let given = account.given_name();
    let family = account.family_name();
    let mut user = Map::new();
    user.insert("kind".into(), json!("admin#directory#user"));
    user.insert("id".into(), json!(id));
    user.insert("etag".into(), json!(etag(&id)));
    user.insert("primaryEmail".into(), json!(email));
    user.insert("name".into(), json!({ "givenName": given, "familyName": family, "fullName": format!("{given} {family}") }));
    user.insert("isAdmin".into(), json!(account.is_admin()));
    user.insert("isDelegatedAdmin".into(), json!(false));
    user.insert("agreedToTerms".into(), json!(true));
    user.insert("suspended".into(), json!(account.suspended()));
    if account.suspended() {
        user.insert("suspensionReason".into(), json!("ADMIN"));
    }
    user.insert("archived".into(), json!(false));
    user.insert("changePasswordAtNextLogin".into(), json!(false));
    user.insert("ipWhitelisted".into(), json!(false));
    user.insert(
        "emails".into(),
        json!([{ "address": email, "primary": true }]),
    );
    user.insert(
        "customerId".into(),
        json!(state.company().google_customer_id),
    );
    user.insert("isMailboxSetup".into(), json!(true));
    user.insert("isEnrolledIn2Sv".into(), json!(!account.suspended()));
    user.insert("isEnforcedIn2Sv".into(), json!(false));
    user.insert("includeInGlobalAddressList".into(), json!(true));
    match account {
        Account::Person(p) => {
            let start = p.start_date.and_time(NaiveTime::MIN).and_utc();
            user.insert("creationTime".into(), json!(rfc3339(start)));
            user.insert(
                "lastLoginTime".into(),
                json!(rfc3339(p.updated_at.max(start))),
            );
            user.insert(
                "orgUnitPath".into(),
                json!(if p.is_leaver { "/Leavers" } else { "/Staff" }),
            );
            let mut org = json!({ "title": p.title, "primary": true, "customType": "", "department": p.department });
            if let Some(squad) = p.squad {
                org["costCenter"] = json!(state.company().squads[squad].name);
            }
            user.insert("organizations".into(), json!([org]));
            if let Some(manager_email) = p
                .manager
                .and_then(|m| state.company().people[m].email.clone())
            {
                // Manager = relations[type=manager], value = the manager's email (docs/providers.md §3).
                user.insert(
                    "relations".into(),
                    json!([{ "value": manager_email, "type": "manager" }]),
                );
            }
            if let Some(mobile) = &p.mobile {
                user.insert(
                    "phones".into(),
                    json!([{ "value": mobile, "type": "mobile" }]),
                );
            }
            if p.index % 4 != 3 {
                user.insert(
                    "thumbnailPhotoUrl".into(),
                    json!(format!(
                        "https://lh3.googleusercontent.com/a-/fake-{id}=s96-c"
                    )),
                );
                user.insert(
                    "thumbnailPhotoEtag".into(),
                    json!(etag(&format!("photo{id}"))),
                );
            }
        }
        Account::Kiosk => {
            let created = roster_company::REFERENCE_DATE
                .and_time(NaiveTime::MIN)
                .and_utc();
            user.insert("creationTime".into(), json!(rfc3339(created)));
            user.insert("lastLoginTime".into(), json!("1970-01-01T00:00:00.000Z"));
            user.insert("orgUnitPath".into(), json!("/Devices"));
        }
    }
    Value::Object(user)
}

/// `GET /admin/directory/v1/users`.
pub(crate) async fn list_users(
    State(state): State<Arc<GoogleState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refusal) = directory_caller(&state, &headers) {
        return refusal;
    }
    let q = pairs(query.as_deref().unwrap_or_default());
    let company = &state.company();
    match (first(&q, "customer"), first(&q, "domain")) {
        // "You must provide either the customer or the domain parameter" (discovery doc);
        // neither → 400 Invalid Input (google-api-ruby-client issue 468).
        (None, None) => return invalid_input("Invalid Input"),
        (Some(c), _) if c != "my_customer" && c != company.google_customer_id => {
            return forbidden();
        }
        (_, Some(d)) if !d.eq_ignore_ascii_case(&company.domain) => return forbidden(),
        _ => {}
    }
    let size = match first(&q, "maxResults") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return invalid_input(&format!(
                    "Invalid value '{raw}'. Values must be within the range: [1, {MAX_PAGE_SIZE}]"
                ));
            }
        },
    };
    let offset = match first(&q, "pageToken") {
        None | Some("") => 0,
        Some(token) => match decode_page_token(token) {
            Some(offset) => offset,
            None => return invalid_input("Invalid Input: pageToken"),
        },
    };
    for (param, allowed) in [
        ("orderBy", &["email", "familyName", "givenName"][..]),
        ("sortOrder", &["ASCENDING", "DESCENDING"][..]),
        ("projection", &["basic", "custom", "full"][..]),
        ("viewType", &["admin_view", "domain_public"][..]),
    ] {
        if let Some(v) = first(&q, param).filter(|v| !allowed.contains(v)) {
            return invalid_input(&format!("Invalid value '{v}' for {param}"));
        }
    }
    if first(&q, "projection") == Some("custom") && first(&q, "customFieldMask").is_none() {
        return invalid_input("Invalid Input: customFieldMask required for custom projection");
    }
    let filter = match first(&q, "query").map(parse_query).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(refusal) => return refusal,
    };
    let company = state.company();
    let mut listed: Vec<Account<'_>> = accounts(&company)
        .filter(|a| filter.iter().all(|t| t.matches(&state, a)))
        .collect();
    if let Some(order) = first(&q, "orderBy") {
        let key = |a: &Account<'_>| match order {
            "familyName" => a.family_name().to_lowercase(),
            "givenName" => a.given_name().to_lowercase(),
            _ => a.email(&state),
        };
        listed.sort_by_cached_key(key);
        if first(&q, "sortOrder") == Some("DESCENDING") {
            listed.reverse();
        }
    }
    let total = listed.len();
    let users: Vec<Value> = listed
        .iter()
        .skip(offset)
        .take(size)
        .map(|a| user_resource(&state, a))
        .collect();
    let mut body = Map::new();
    body.insert("kind".into(), json!("admin#directory#users"));
    body.insert("etag".into(), json!(etag(&format!("users{offset}{size}"))));
    // An empty answer has no `users` key at all (docs/providers.md §3, inferred).
    if !users.is_empty() {
        body.insert("users".into(), Value::Array(users));
    }
    // The last page carries no nextPageToken.
    if offset + size < total {
        body.insert(
            "nextPageToken".into(),
            json!(encode_page_token(offset + size)),
        );
    }
    (StatusCode::OK, axum::Json(Value::Object(body))).into_response()
}

/// One `query` term; the fake understands the few Roster might send.
enum Term {
    Suspended(bool),
    Admin(bool),
    Email(String),
}

impl Term {
    fn matches(&self, state: &GoogleState, account: &Account<'_>) -> bool {
        match self {
            Term::Suspended(s) => account.suspended() == *s,
            Term::Admin(a) => account.is_admin() == *a,
            Term::Email(prefix) => {
                let email = account.email(state);
                prefix
                    .strip_suffix('*')
                    .map_or(email.eq_ignore_ascii_case(prefix), |p| email.starts_with(p))
            }
        }
    }
}

/// <https://developers.google.com/admin-sdk/directory/v1/guides/search-users> syntax, a subset:
/// `isSuspended=true|false`, `isAdmin=true|false`, `email:addr` / `email=addr`, `email:pre*`.
fn parse_query(query: &str) -> Result<Vec<Term>, Response> {
    query
        .split_whitespace()
        .map(|term| {
            let (field, value) = term
                .split_once(['=', ':'])
                .ok_or_else(|| invalid_input(&format!("Invalid Input: {query}")))?;
            let value = value.trim_matches('\'');
            match (field, value) {
                ("isSuspended", "true" | "false") => Ok(Term::Suspended(value == "true")),
                ("isAdmin", "true" | "false") => Ok(Term::Admin(value == "true")),
                ("email", v) if !v.is_empty() => Ok(Term::Email(v.to_lowercase())),
                _ => Err(invalid_input(&format!("Invalid Input: {query}"))),
            }
        })
        .collect()
}

/// `GET /calendar/v3/calendars/{calendarId}`.
pub(crate) async fn get_calendar(
    State(state): State<Arc<GoogleState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let token = match state.token(&headers) {
        Ok(t) => t,
        Err(refusal) => return refusal,
    };
    if !token
        .scopes
        .iter()
        .any(|s| s == SCOPE_CALENDAR || s == SCOPE_CALENDAR_READONLY)
    {
        return insufficient_scopes();
    }
    let company = &state.company();
    let me = match token.grant {
        Grant::Delegated { subject, .. } => subject,
        Grant::User { person } => Some(person),
    };
    let id = if id == "primary" {
        me.and_then(|i| company.people[i].email.clone())
            .unwrap_or(id)
    } else {
        id
    };
    let body = if id == state.leave_calendar_id {
        json!({
            "kind": "calendar#calendar",
            "etag": etag(&id),
            "id": id,
            "summary": format!("Leave — {}", company.name),
            "description": "Who is away, fed by Roster",
            "timeZone": "Australia/Sydney",
            "conferenceProperties": { "allowedConferenceSolutionTypes": ["hangoutsMeet"] },
        })
    } else if let Some(person) = company
        .person_by_email(&id)
        .filter(|p| p.google_id.is_some() && p.is_active)
    {
        json!({
            "kind": "calendar#calendar",
            "etag": etag(&id),
            "id": person.email,
            "summary": person.email,
            "timeZone": "Australia/Sydney",
            "conferenceProperties": { "allowedConferenceSolutionTypes": ["hangoutsMeet"] },
        })
    } else {
        // A missing or unshared calendar is 404 notFound (docs/providers.md §3, inferred).
        return not_found("Not Found");
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_page_token(&encode_page_token(300)), Some(300));
        assert_eq!(decode_page_token("not-a-token"), None);
    }
}
