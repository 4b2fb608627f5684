//! Productive (JSON:API): active people with their managers, teams (Roster's squads) and
//! team memberships, and the organization check for a token.
//!
//! Owns Productive's wire format (docs/providers.md §2) and its paging. It lists; it does
//! not decide who is retired or matched (the app's sync does), and never writes to Productive.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName};
use roster_domain::{Email, Provider};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::config::{ProviderUrls, endpoint};
use crate::error::Error;
use crate::http::{Http, Request, Response, Verdict, classify_common};
use crate::paging::PageGuard;
use crate::redact::fingerprint;
use crate::wire::{opt_email, opt_text};

const P: Provider = Provider::Productive;

/// `max_page_size` is 200 (docs/providers.md, Productive "Paging"; default 30).
pub const PRODUCTIVE_PAGE_SIZE: usize = 200;

/// JSON:API's media type, required on writes and sent always: a missing one answers 415
/// (<https://developer.productive.io/>).
const JSON_API: &str = "application/vnd.api+json";

/// A Productive API token and, optionally, the organization it acts in.
#[derive(Debug, Clone)]
pub struct ProductiveCredentials {
    pub api_token: SecretString,
    /// The numeric `X-Organization-Id`; needed by most endpoints, learnt from
    /// [`ProductiveClient::organization`] when the admin did not give it.
    pub organization_id: Option<String>,
}

/// An active user of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductivePerson {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    /// The manager's Productive id, from `relationships.manager`.
    pub manager_id: Option<String>,
    /// The manager's name as `included[]` carries it (`include=manager`): known even when the
    /// manager is not an active user and so not in the listing.
    pub manager_name: Option<String>,
    pub joined_at: Option<DateTime<Utc>>,
    pub deactivated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductiveTeam {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductiveTeamMembership {
    pub id: String,
    pub person_id: String,
    pub team_id: String,
}

/// A team with its members' Productive ids: a squad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductiveSquad {
    pub id: String,
    pub name: String,
    pub member_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductiveOrganization {
    pub id: String,
    pub name: String,
}

/// A client bound to one Productive token.
#[derive(Debug, Clone)]
pub struct ProductiveClient {
    http: Arc<Http>,
    base: Url,
    credentials: ProductiveCredentials,
    budget_key: String,
}

impl ProductiveClient {
    pub fn new(http: Arc<Http>, urls: &ProviderUrls, credentials: ProductiveCredentials) -> Self {
        // Limits are per token and organization; key the budget by what we know.
        let budget_key = credentials.organization_id.clone().unwrap_or_else(|| {
            fingerprint(secrecy::ExposeSecret::expose_secret(&credentials.api_token))
        });
        Self {
            http,
            base: urls.productive_api_url.clone(),
            credentials,
            budget_key,
        }
    }

    /// Checks the token: its organization's id and name (`GET /organizations`, 401 for a bad
    /// token — <https://developer.productive.io/organizations.html>).
    pub async fn organization(&self) -> Result<ProductiveOrganization, Error> {
        let page: Document<Resource<OrganizationAttributes>> = self
            .get_page("productive.organizations", "/organizations", &[], 1)
            .await?;
        let org = page.data.into_iter().next().ok_or_else(|| {
            Error::malformed(
                P,
                "productive.organizations",
                "data",
                "no organization for this token",
            )
        })?;
        Ok(ProductiveOrganization {
            id: org.id,
            name: org.attributes.name,
        })
    }

    /// The ids of the organizations the token's user belongs to, distinct, in listing order:
    /// `GET /organization_memberships`, each membership's `relationships.organization`. It is
    /// how a token finds its organization when the admin gave none, since every other
    /// endpoint refuses a request without `X-Organization-Id` with a 403
    /// (<https://developer.productive.io/guides/authorization>; the memberships listing and
    /// its `organization_id` filter: <https://developer.productive.io/organization_memberships.html>).
    pub async fn organization_ids(&self) -> Result<Vec<String>, Error> {
        let memberships: Vec<Resource<serde::de::IgnoredAny>> = self
            .all_pages(
                "productive.organization_memberships",
                "/organization_memberships",
                &[],
            )
            .await?;
        let mut ids: Vec<String> = Vec::new();
        for (i, m) in memberships.iter().enumerate() {
            let id = m.relationships.related("organization").ok_or_else(|| {
                Error::malformed(
                    P,
                    "productive.organization_memberships",
                    format!("data[{i}].relationships.organization.data"),
                    "a membership without its organization",
                )
            })?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Every active user (`filter[status]=1`: active; `filter[person_type]=1`: user, not a
    /// contact or placeholder — <https://developer.productive.io/people.html>), all pages of
    /// 200, with each one's manager. Any failed page fails the whole listing.
    pub async fn people(&self) -> Result<Vec<ProductivePerson>, Error> {
        let filters = [
            ("filter[status]", "1"),
            ("filter[person_type]", "1"),
            ("include", "manager"),
        ];
        let (rows, included): (Vec<Resource<PersonAttributes>>, _) = self
            .all_pages_with_included("productive.people", "/people", &filters)
            .await?;
        let mut people: Vec<ProductivePerson> = rows.into_iter().map(Into::into).collect();
        name_managers(&mut people, included)?;
        Ok(people)
    }

    /// Every team (`GET /teams`).
    pub async fn teams(&self) -> Result<Vec<ProductiveTeam>, Error> {
        let rows: Vec<Resource<TeamAttributes>> =
            self.all_pages("productive.teams", "/teams", &[]).await?;
        Ok(rows
            .into_iter()
            .map(|r| ProductiveTeam {
                id: r.id,
                name: r.attributes.name,
            })
            .collect())
    }

    /// Every team membership (`GET /team_memberships`).
    pub async fn team_memberships(&self) -> Result<Vec<ProductiveTeamMembership>, Error> {
        let rows: Vec<Resource<serde::de::IgnoredAny>> = self
            .all_pages("productive.team_memberships", "/team_memberships", &[])
            .await?;
        rows.into_iter()
            .enumerate()
            .map(|(i, r)| {
                let missing = |what: &str| {
                    Error::malformed(
                        P,
                        "productive.team_memberships",
                        format!("data[{i}].relationships.{what}.data"),
                        "missing relationship",
                    )
                };
                let person_id = r
                    .relationships
                    .related("person")
                    .ok_or_else(|| missing("person"))?;
                let team_id = r
                    .relationships
                    .related("team")
                    .ok_or_else(|| missing("team"))?;
                Ok(ProductiveTeamMembership {
                    id: r.id,
                    person_id,
                    team_id,
                })
            })
            .collect()
    }

    /// Teams with their members: Roster's squads.
    pub async fn squads(&self) -> Result<Vec<ProductiveSquad>, Error> {
        let teams = self.teams().await?;
        let memberships = self.team_memberships().await?;
        let mut members: HashMap<String, Vec<String>> = HashMap::new();
        for m in memberships {
            members.entry(m.team_id).or_default().push(m.person_id);
        }
        Ok(teams
            .into_iter()
            .map(|t| ProductiveSquad {
                member_ids: members.remove(&t.id).unwrap_or_default(),
                id: t.id,
                name: t.name,
            })
            .collect())
    }

    async fn all_pages<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        filters: &[(&str, &str)],
    ) -> Result<Vec<T>, Error> {
        Ok(self
            .all_pages_with_included(operation, path, filters)
            .await?
            .0)
    }

    /// Every page, and every page's `included[]` resources.
    async fn all_pages_with_included<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        filters: &[(&str, &str)],
    ) -> Result<(Vec<T>, Vec<Included>), Error> {
        let mut all = Vec::new();
        let mut included = Vec::new();
        let mut guard = PageGuard::new(P, operation);
        loop {
            let number = guard.next_page()?;
            let page: Document<T> = self.get_page(operation, path, filters, number).await?;
            // Every list answer carries `meta` (docs/providers.md, Productive "Paging"); without
            // it the listing could stop early and a sync would retire people who are there.
            guard.check_number("meta.current_page", number, page.meta.current_page)?;
            let done = page.data.is_empty() || page.meta.current_page >= page.meta.total_pages;
            all.extend(page.data);
            included.extend(page.included);
            if done {
                break;
            }
        }
        Ok((all, included))
    }

    async fn get_page<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        filters: &[(&str, &str)],
        number: u32,
    ) -> Result<Document<T>, Error> {
        let size = PRODUCTIVE_PAGE_SIZE.to_string();
        let number = number.to_string();
        let mut query = filters.to_vec();
        query.extend([
            ("page[number]", number.as_str()),
            ("page[size]", size.as_str()),
        ]);
        let mut req = Request::get(P, operation, endpoint(&self.base, path))
            .budget_key(self.budget_key.clone())
            .secret_header(
                HeaderName::from_static("x-auth-token"),
                "",
                &self.credentials.api_token,
            )
            .header(CONTENT_TYPE, JSON_API)
            .header(ACCEPT, JSON_API)
            .query(&query);
        if let Some(org) = &self.credentials.organization_id {
            req = req.header(HeaderName::from_static("x-organization-id"), org);
        }
        self.http.send_json(&req, classify).await
    }
}

/// 401 = unauthenticated (a dead token), 403 = not authorized, 429 past 100 requests per
/// 10 s (docs/providers.md, Productive "Errors", "Rate limits").
fn classify(resp: &Response) -> Verdict {
    classify_common(resp, error_detail)
}

/// `{"errors":[{"status","title","detail"}]}` (docs/providers.md, Productive "Errors").
fn error_detail(resp: &Response) -> String {
    let first = resp.json().and_then(|b| b.get("errors")?.get(0).cloned());
    let text = |k: &str| {
        first
            .as_ref()
            .and_then(|e| e.get(k)?.as_str().map(str::to_owned))
    };
    text("detail")
        .or_else(|| text("title"))
        .unwrap_or_else(|| format!("HTTP {}", resp.status))
}

#[derive(Deserialize)]
struct Document<T> {
    data: Vec<T>,
    meta: Meta,
    /// Resources the request asked to include (`include=manager`: people). Each must be a
    /// well-formed resource; which type it is decides how it is read.
    #[serde(default)]
    included: Vec<Included>,
}

/// A compound document's included resource: a `type`, a string `id` and attributes.
#[derive(Deserialize)]
struct Included {
    #[serde(rename = "type")]
    kind: String,
    #[serde(deserialize_with = "json_api_id")]
    id: String,
    #[serde(default)]
    attributes: serde_json::Value,
}

#[derive(Deserialize)]
struct Meta {
    current_page: u32,
    total_pages: u32,
}

#[derive(Deserialize)]
struct Resource<A> {
    #[serde(deserialize_with = "json_api_id")]
    id: String,
    attributes: A,
    #[serde(default)]
    relationships: Relationships,
}

/// `relationships.<name>` is `{"data":{"type","id"}}`, `{"data":null}`, or
/// `{"meta":{"included":false}}` when not requested (JSON:API; docs/providers.md "Manager").
#[derive(Deserialize, Default)]
struct Relationships(HashMap<String, Relationship>);

#[derive(Deserialize)]
struct Relationship {
    #[serde(default, deserialize_with = "to_one")]
    data: Option<Identifier>,
}

#[derive(Deserialize)]
struct Identifier {
    #[serde(deserialize_with = "json_api_id")]
    id: String,
}

/// A to-one linkage; to-many linkages (arrays) are not needed here and read as none.
fn to_one<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Identifier>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Linkage {
        One(Identifier),
        Many(
            #[expect(dead_code, reason = "to-many linkages are accepted and ignored")]
            Vec<serde::de::IgnoredAny>,
        ),
    }
    Ok(match Option::<Linkage>::deserialize(d)? {
        Some(Linkage::One(i)) => Some(i),
        Some(Linkage::Many(_)) | None => None,
    })
}

impl Relationships {
    fn related(&self, name: &str) -> Option<String> {
        self.0.get(name)?.data.as_ref().map(|i| i.id.clone())
    }
}

#[derive(Deserialize)]
struct OrganizationAttributes {
    name: String,
}

#[derive(Deserialize)]
struct TeamAttributes {
    name: String,
}

#[derive(Deserialize)]
struct PersonAttributes {
    #[serde(default, deserialize_with = "opt_text")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    last_name: Option<String>,
    #[serde(default, deserialize_with = "opt_email")]
    email: Option<Email>,
    #[serde(default, deserialize_with = "opt_text")]
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    avatar_url: Option<String>,
    #[serde(default, deserialize_with = "opt_timestamp")]
    joined_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_timestamp")]
    deactivated_at: Option<DateTime<Utc>>,
}

/// Fills each person's `manager_name` from the included managers, or from the listing for
/// a manager on the same page (JSON:API lists a resource once per document, so a manager in
/// the primary data is not repeated in `included[]`). An included person whose attributes
/// do not parse fails the listing, naming the field.
fn name_managers(people: &mut [ProductivePerson], included: Vec<Included>) -> Result<(), Error> {
    // JSON:API never lists one resource both in `data` and in `included`, so one map holds
    // the names of both.
    let mut names: HashMap<String, String> = people
        .iter()
        .filter_map(|p| Some((p.id.clone(), full_name(&p.first_name, &p.last_name)?)))
        .collect();
    for (i, inc) in included.into_iter().enumerate() {
        if inc.kind != "people" {
            continue;
        }
        let a: PersonAttributes =
            serde_path_to_error::deserialize(inc.attributes).map_err(|e| {
                Error::malformed(
                    P,
                    "productive.people",
                    format!("included[{i}].attributes.{}", e.path()),
                    "not a person's attributes",
                )
            })?;
        let name = full_name(
            a.first_name.as_deref().unwrap_or_default(),
            a.last_name.as_deref().unwrap_or_default(),
        );
        if let Some(name) = name {
            names.insert(inc.id, name);
        }
    }
    for p in people.iter_mut() {
        p.manager_name = p.manager_id.as_ref().and_then(|m| names.get(m).cloned());
    }
    Ok(())
}

/// "First Last", or whichever part there is; `None` when neither is.
fn full_name(first: &str, last: &str) -> Option<String> {
    let name = format!("{first} {last}").trim().to_owned();
    (!name.is_empty()).then_some(name)
}

impl From<Resource<PersonAttributes>> for ProductivePerson {
    fn from(r: Resource<PersonAttributes>) -> Self {
        let manager_id = r.relationships.related("manager");
        let a = r.attributes;
        Self {
            id: r.id,
            first_name: a.first_name.unwrap_or_default(),
            last_name: a.last_name.unwrap_or_default(),
            email: a.email,
            title: a.title,
            avatar_url: a.avatar_url,
            manager_id,
            manager_name: None,
            joined_at: a.joined_at,
            deactivated_at: a.deactivated_at,
        }
    }
}

/// JSON:API ids are strings ("The values of the id and type members MUST be strings",
/// JSON:API 1.0 §5.2.1); a number there means the body is not what we think it is.
fn json_api_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    if id.trim().is_empty() {
        return Err(serde::de::Error::custom("id must not be empty"));
    }
    Ok(id)
}

/// ISO 8601 with milliseconds and an offset (`"2024-04-19T06:07:14.992+02:00"`); a bare
/// date is read as midnight UTC.
fn opt_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(raw) = opt_text(d)? else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(&raw) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| Some(n.and_utc()))
        .ok_or_else(|| serde::de::Error::custom("expected an ISO 8601 timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::http::parse_json;

    /// One page of people as `people()` reads it, managers named.
    fn page(body: &str) -> Result<Vec<ProductivePerson>, Error> {
        let resp = Response {
            status: 200,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        };
        let doc: Document<Resource<PersonAttributes>> = parse_json(P, "productive.people", &resp)?;
        let mut people: Vec<ProductivePerson> = doc.data.into_iter().map(Into::into).collect();
        name_managers(&mut people, doc.included)?;
        Ok(people)
    }

    #[test]
    fn people_read_their_manager_from_relationships() {
        let body = r#"{"data":[
          {"id":"2835","type":"people","attributes":{"first_name":"Ann","last_name":"Lee","email":"Ann@X.io",
           "title":"CTO","custom_fields":null,"joined_at":"2024-04-19T06:07:14.992+02:00","availabilities":"[]"},
           "relationships":{"manager":{"data":{"type":"people","id":"17"}},"organization":{"data":{"type":"organizations","id":"1"}}}},
          {"id":"17","type":"people","attributes":{"first_name":"Bo","last_name":"Ng","email":null},
           "relationships":{"manager":{"meta":{"included":false}}}},
          {"id":"18","type":"people","attributes":{"first_name":"Cy","last_name":"Ox"},
           "relationships":{"manager":{"data":null},"subsidiaries":{"data":[]}}}],
          "meta":{"current_page":1,"total_pages":1,"total_count":3,"page_size":200,"max_page_size":200}}"#;
        let people = page(body).unwrap();
        assert_eq!(people[0].manager_id.as_deref(), Some("17"));
        assert_eq!(
            people[0].email.as_ref().map(Email::as_str),
            Some("ann@x.io")
        );
        assert_eq!(
            people[0].joined_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-04-19T04:07:14.992+00:00")
        );
        assert_eq!(people[1].id, "17");
        assert_eq!(people[1].manager_id, None);
        assert_eq!(people[2].manager_id, None);
    }

    #[test]
    fn managers_are_named_from_included_or_from_the_page() {
        let body = r#"{"data":[
          {"id":"1","type":"people","attributes":{"first_name":"Ann","last_name":"Lee"},
           "relationships":{"manager":{"data":{"type":"people","id":"9"}}}},
          {"id":"2","type":"people","attributes":{"first_name":"Bo","last_name":"Ng"},
           "relationships":{"manager":{"data":{"type":"people","id":"1"}}}},
          {"id":"3","type":"people","attributes":{"first_name":"Cy","last_name":"Ox"},
           "relationships":{"manager":{"data":{"type":"people","id":"404"}}}}],
          "included":[{"id":"9","type":"people","attributes":{"first_name":"Dee","last_name":"Former","deactivated_at":"2025-01-01T00:00:00.000+00:00"}},
                      {"id":"5","type":"organizations","attributes":{"name":"Acme"}}],
          "meta":{"current_page":1,"total_pages":1}}"#;
        let people = page(body).unwrap();
        let names: Vec<Option<&str>> = people.iter().map(|p| p.manager_name.as_deref()).collect();
        assert_eq!(names, [Some("Dee Former"), Some("Ann Lee"), None]);
    }

    #[test]
    fn a_broken_included_person_names_its_path() {
        let body = r#"{"data":[{"id":"1","type":"people","attributes":{"first_name":"Ann"}}],
          "included":[{"id":"9","type":"people","attributes":{"email":42}}],
          "meta":{"current_page":1,"total_pages":1}}"#;
        let err = page(body).unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "included[0].attributes.email"),
            "{err:?}"
        );
        let body = r#"{"data":[],"included":[{"id":9,"type":"people"}],"meta":{"current_page":1,"total_pages":1}}"#;
        let err = page(body).unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "included[0].id"),
            "{err:?}"
        );
    }

    #[test]
    fn a_bad_email_names_its_json_path() {
        let body = r#"{"data":[{"id":"1","attributes":{"email":"a@b.co"}},{"id":"2","attributes":{"email":"not an email"}}]}"#;
        let err = page(body).unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "data[1].attributes.email"),
            "{err:?}"
        );
    }

    #[test]
    fn error_detail_reads_the_errors_array() {
        let resp = Response {
            status: 400,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from_static(
                br#"{"errors":[{"status":400,"title":"Unsupported Filter","detail":"Filter 'x' is not supported"}]}"#,
            ),
        };
        assert_eq!(error_detail(&resp), "Filter 'x' is not supported");
    }
}
