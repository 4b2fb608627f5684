//! Google Workspace: service-account tokens with domain-wide delegation, the Directory
//! user list, the calendar check, and OpenID Connect sign-in ([`oidc`]).
//!
//! Owns Google's wire formats (docs/providers.md §3) and the access-token cache of one
//! connection. It must never log a key or a token, and never treat Google's quota answer
//! (403 `userRateLimitExceeded`, not 429) as a permanent refusal.

pub mod oidc;
mod service_account;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::header::ACCEPT;
use roster_domain::{Email, Provider};
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

pub use self::service_account::ServiceAccountKey;
use crate::config::{ProviderUrls, endpoint};
use crate::error::Error;
use crate::http::{Http, Request, Response, Retry, Verdict, classify_common, now};
use crate::oauth::{TokenWire, classify_token_endpoint};
use crate::paging::PageGuard;
use crate::wire::{list, opt_text};

const P: Provider = Provider::GoogleWorkspace;

/// `maxResults` is 1–500 (spec/google/admin-directory_v1.json, `users.list`).
pub const GOOGLE_PAGE_SIZE: usize = 500;

pub const DIRECTORY_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
pub const CALENDAR_SCOPE: &str = "https://www.googleapis.com/auth/calendar.readonly";

/// A token this close to its expiry is replaced rather than used: a call that starts just
/// before expiry must not arrive just after.
const EXPIRY_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A Directory user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleUser {
    pub id: String,
    pub primary_email: Email,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub full_name: Option<String>,
    pub photo_url: Option<String>,
    pub suspended: bool,
    pub archived: bool,
    pub is_admin: bool,
    pub org_unit_path: Option<String>,
    /// From the primary `organizations[]` entry (or the first).
    pub title: Option<String>,
    pub department: Option<String>,
    /// `relations[]` with `type == "manager"`. Its `value` is the manager's email in
    /// practice (docs/providers.md, Directory "User", inferred); other values are ignored.
    pub manager_email: Option<Email>,
}

/// A calendar the connection can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleCalendar {
    pub id: String,
    pub summary: Option<String>,
    pub time_zone: Option<String>,
}

/// A client for one Workspace connection: a service-account key acting as an admin.
#[derive(Debug)]
pub struct GoogleWorkspaceClient {
    http: Arc<Http>,
    token_url: Url,
    directory_url: Url,
    calendar_url: Url,
    key: ServiceAccountKey,
    admin_email: Option<Email>,
    /// Access tokens by scope; one mint at a time (the lock is held across it).
    tokens: Mutex<HashMap<&'static str, (SecretString, DateTime<Utc>)>>,
}

impl GoogleWorkspaceClient {
    /// `admin_email` is the Workspace admin to impersonate (`sub`); the Directory refuses a
    /// service account acting as itself.
    pub fn new(
        http: Arc<Http>,
        urls: &ProviderUrls,
        key: ServiceAccountKey,
        admin_email: Option<Email>,
    ) -> Self {
        Self {
            http,
            token_url: urls.google_token_url.clone(),
            directory_url: urls.google_directory_url.clone(),
            calendar_url: urls.google_calendar_url.clone(),
            key,
            admin_email,
            tokens: Mutex::default(),
        }
    }

    fn budget_key(&self) -> String {
        self.key.client_email().to_owned()
    }

    /// An access token for `scope`, from the cache until a minute before it expires, else
    /// minted with the JWT-bearer grant (RFC 7523; no refresh token: a new JWT each time).
    pub async fn access_token(&self, scope: &'static str) -> Result<SecretString, Error> {
        let mut tokens = self.tokens.lock().await;
        let now = now(&self.http);
        if let Some((token, expires_at)) = tokens.get(scope) {
            if *expires_at - EXPIRY_MARGIN > now {
                return Ok(token.clone());
            }
        }
        let assertion = self
            .key
            .sign(
                scope,
                self.token_url.as_str(),
                self.admin_email.as_ref().map(Email::as_str),
                now,
            )
            .map_err(|_| {
                Error::invalid(
                    P,
                    "google.token",
                    "service_account_key.private_key",
                    "cannot sign",
                )
            })?;
        let assertion = SecretString::from(assertion);
        let req = Request::post(P, "google.token", self.token_url.clone())
            .budget_key("token")
            .header(ACCEPT, "application/json")
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                (
                    "assertion",
                    secrecy::ExposeSecret::expose_secret(&assertion),
                ),
            ])
            .scrubbing(&assertion)
            // Minting is free of side effects: a lost answer can be asked again.
            .retry(Retry::Idempotent);
        let wire: TokenWire = self.http.send_json(&req, classify_token_endpoint).await?;
        let tokens_now = wire.into_tokens(now);
        tokens.insert(
            scope,
            (tokens_now.access_token.clone(), tokens_now.expires_at),
        );
        Ok(tokens_now.access_token)
    }

    async fn forget_token(&self, scope: &'static str) {
        self.tokens.lock().await.remove(scope);
    }

    /// Every user of the customer (`customer=my_customer`), all pages of 500.
    pub async fn users(&self) -> Result<Vec<GoogleUser>, Error> {
        let mut all = Vec::new();
        let mut page_token: Option<String> = None;
        let mut guard = PageGuard::new(P, "google.users");
        loop {
            guard.next_page()?;
            let (users, next) = self.users_page(page_token.as_deref()).await?;
            all.extend(users);
            // The last page has no `nextPageToken` (docs/providers.md, Directory "Answer").
            match next {
                Some(t) if !t.is_empty() => {
                    guard.check_advances("nextPageToken", Some(&t))?;
                    page_token = Some(t);
                }
                _ => break,
            }
        }
        Ok(all)
    }

    /// One page of `GET /admin/directory/v1/users` and the next page's token.
    pub async fn users_page(
        &self,
        page_token: Option<&str>,
    ) -> Result<(Vec<GoogleUser>, Option<String>), Error> {
        let size = GOOGLE_PAGE_SIZE.to_string();
        let mut query = vec![("customer", "my_customer"), ("maxResults", size.as_str())];
        if let Some(t) = page_token {
            query.push(("pageToken", t));
        }
        let url = endpoint(&self.directory_url, "/users");
        let page: UsersPage = self
            .get_json("google.users", url, &query, DIRECTORY_SCOPE)
            .await?;
        Ok((
            page.users.into_iter().map(Into::into).collect(),
            page.next_page_token,
        ))
    }

    /// Checks that the connection can read `calendar_id` (404 when missing or not shared).
    pub async fn calendar(&self, calendar_id: &str) -> Result<GoogleCalendar, Error> {
        let mut url = endpoint(&self.calendar_url, "/calendars");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(calendar_id);
        }
        let wire: CalendarWire = self
            .get_json("google.calendar", url, &[], CALENDAR_SCOPE)
            .await?;
        Ok(GoogleCalendar {
            id: wire.id,
            summary: wire.summary,
            time_zone: wire.time_zone,
        })
    }

    /// A GET with a cached token. A 401 means the token died before its time (revoked
    /// delegation, a key rotated): mint a fresh one once, and only then call it dead.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        query: &[(&str, &str)],
        scope: &'static str,
    ) -> Result<T, Error> {
        let mut fresh = false;
        loop {
            let token = self.access_token(scope).await?;
            let req = Request::get(P, operation, url.clone())
                .budget_key(self.budget_key())
                .bearer(&token)
                .header(ACCEPT, "application/json")
                .query(query);
            match self.http.send_json(&req, classify).await {
                Err(e) if e.status == Some(401) && !fresh => {
                    self.forget_token(scope).await;
                    fresh = true;
                }
                other => return other,
            }
        }
    }
}

/// Google's API answers: 401 `authError` for a dead token (docs/providers.md, Google "Error
/// envelope"); quota is **403** `userRateLimitExceeded` / `rateLimitExceeded` /
/// `quotaExceeded`, to be backed off and retried like a 429
/// (<https://developers.google.com/admin-sdk/directory/v1/limits>).
fn classify(resp: &Response) -> Verdict {
    if resp.status == 403 {
        let reason = error_reason(resp);
        if matches!(
            reason.as_deref(),
            Some("userRateLimitExceeded" | "rateLimitExceeded" | "quotaExceeded")
        ) {
            return Verdict::RateLimited;
        }
    }
    classify_common(resp, error_detail)
}

fn error_reason(resp: &Response) -> Option<String> {
    let body = resp.json()?;
    body.get("error")?
        .get("errors")?
        .get(0)?
        .get("reason")?
        .as_str()
        .map(str::to_owned)
}

/// `{"error":{"code","message","errors":[{"reason",…}],"status"}}`: reason and message.
fn error_detail(resp: &Response) -> String {
    let message = resp
        .json()
        .and_then(|b| b.get("error")?.get("message")?.as_str().map(str::to_owned));
    match (error_reason(resp), message) {
        (Some(r), Some(m)) => format!("{r}: {m}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => format!("HTTP {}", resp.status),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage {
    /// Missing on an empty page (docs/providers.md, inferred).
    #[serde(default, deserialize_with = "list")]
    users: Vec<UserWire>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserWire {
    id: String,
    #[serde(deserialize_with = "crate::wire::email")]
    primary_email: Email,
    #[serde(default)]
    name: Option<NameWire>,
    #[serde(default, deserialize_with = "opt_text")]
    thumbnail_photo_url: Option<String>,
    #[serde(default)]
    suspended: bool,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    is_admin: bool,
    #[serde(default, deserialize_with = "opt_text")]
    org_unit_path: Option<String>,
    #[serde(default, deserialize_with = "list")]
    organizations: Vec<OrganizationWire>,
    #[serde(default, deserialize_with = "list")]
    relations: Vec<RelationWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(clippy::struct_field_names, reason = "the wire's own names")]
struct NameWire {
    #[serde(default, deserialize_with = "opt_text")]
    given_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    full_name: Option<String>,
}

#[derive(Deserialize)]
struct OrganizationWire {
    #[serde(default, deserialize_with = "opt_text")]
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    department: Option<String>,
    #[serde(default)]
    primary: bool,
}

#[derive(Deserialize)]
struct RelationWire {
    #[serde(rename = "type", default, deserialize_with = "opt_text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    value: Option<String>,
}

impl From<UserWire> for GoogleUser {
    fn from(w: UserWire) -> Self {
        let name = w.name.unwrap_or(NameWire {
            given_name: None,
            family_name: None,
            full_name: None,
        });
        let org = w
            .organizations
            .iter()
            .find(|o| o.primary)
            .or_else(|| w.organizations.first());
        let manager_email = w
            .relations
            .iter()
            .filter(|r| r.kind.as_deref() == Some("manager"))
            .find_map(|r| r.value.as_deref().and_then(|v| Email::parse(v).ok()));
        Self {
            id: w.id,
            primary_email: w.primary_email,
            given_name: name.given_name,
            family_name: name.family_name,
            full_name: name.full_name,
            photo_url: w.thumbnail_photo_url,
            suspended: w.suspended,
            archived: w.archived,
            is_admin: w.is_admin,
            org_unit_path: w.org_unit_path,
            title: org.and_then(|o| o.title.clone()),
            department: org.and_then(|o| o.department.clone()),
            manager_email,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarWire {
    id: String,
    #[serde(default, deserialize_with = "opt_text")]
    summary: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    time_zone: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::http::parse_json;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn users_read_manager_title_and_flags() {
        let body = r#"{"kind":"admin#directory#users","users":[
          {"id":"1","primaryEmail":"Ann@Example.com","name":{"givenName":"Ann","familyName":"Lee","fullName":"Ann Lee"},
           "suspended":false,"isAdmin":true,"orgUnitPath":"/",
           "organizations":[{"title":"Engineer","department":"R&D"},{"title":"CTO","department":"Exec","primary":true}],
           "relations":[{"type":"spouse","value":"x@y.com"},{"type":"manager","value":"boss@example.com"}]},
          {"id":"2","primaryEmail":"bo@example.com","suspended":true,"relations":[{"type":"manager","value":"Boss Person"}]}],
          "nextPageToken":"abc"}"#;
        let page: UsersPage = parse_json(P, "google.users", &answer(200, body)).unwrap();
        assert_eq!(page.next_page_token.as_deref(), Some("abc"));
        let users: Vec<GoogleUser> = page.users.into_iter().map(Into::into).collect();
        assert_eq!(users[0].primary_email.as_str(), "ann@example.com");
        assert_eq!(
            users[0].title.as_deref(),
            Some("CTO"),
            "the primary organization wins"
        );
        assert_eq!(
            users[0].manager_email.as_ref().map(Email::as_str),
            Some("boss@example.com")
        );
        assert!(users[1].suspended);
        assert_eq!(
            users[1].manager_email, None,
            "a manager that is not an email is ignored"
        );
    }

    #[test]
    fn quota_is_a_403_that_waits_and_auth_errors_need_reauth() {
        let quota = r#"{"error":{"code":403,"message":"Rate","errors":[{"reason":"userRateLimitExceeded","domain":"usageLimits"}]}}"#;
        let forbidden = r#"{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[{"reason":"forbidden"}]}}"#;
        let expired = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}"#;
        assert!(matches!(
            classify(&answer(403, quota)),
            Verdict::RateLimited
        ));
        assert!(matches!(
            classify(&answer(403, forbidden)),
            Verdict::Fail(ErrorKind::Upstream { .. })
        ));
        assert!(matches!(
            classify(&answer(401, expired)),
            Verdict::Fail(ErrorKind::NeedsReauth { .. })
        ));
        assert_eq!(
            error_detail(&answer(403, forbidden)),
            "forbidden: Not Authorized to access this resource/api"
        );
    }
}
