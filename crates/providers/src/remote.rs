//! Remote.com (employer of record): the token check, company details and employments.
//!
//! Owns Remote's wire format (docs/providers.md §5, from the remote-flows generated types)
//! and the choice of production or sandbox host. Its rate limit is per company with
//! disputed figures, so the budget reads `x-ratelimit-remaining`/`x-ratelimit-reset` at run
//! time (see [`crate::http`]). It never writes to Remote.

use std::sync::Arc;

use http::header::ACCEPT;
use roster_domain::{Email, Provider};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::config::{ProviderUrls, endpoint};
use crate::error::Error;
use crate::http::{Http, Request, Response, Verdict, classify_common};
use crate::paging::PageGuard;
use crate::redact::fingerprint;
use crate::wire::{list, opt_email, opt_text};

const P: Provider = Provider::Remote;

/// "Defaults to 20, limited to 100" on Remote's other list endpoints (docs/providers.md,
/// Remote `GET /v1/employments`, inferred for employments).
pub const REMOTE_PAGE_SIZE: usize = 100;

/// Which Remote host a token belongs to: `ra_live_` tokens work on production only,
/// `ra_test_` on the sandbox only (<https://developer.remote.com/docs/authorization-for-customers>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    #[default]
    Production,
    Sandbox,
}

impl Environment {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Sandbox => "sandbox",
        }
    }
}

/// Who the token acts for (`GET /v1/identity/current`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIdentity {
    pub company_id: String,
    pub company_name: String,
    pub user_id: Option<String>,
    pub user_email: Option<Email>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCompany {
    pub id: String,
    pub name: String,
    /// `pending`, `review`, `active`, `archived`.
    pub status: Option<String>,
    pub country_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEmployment {
    pub id: String,
    pub full_name: Option<String>,
    pub job_title: Option<String>,
    pub work_email: Option<Email>,
    pub personal_email: Option<Email>,
    /// `active`, `onboarded`… as sent: the list is long and still growing.
    pub status: Option<String>,
    /// `employee`, `contractor`, `direct_employee`, `global_payroll_employee`.
    pub employment_type: Option<String>,
    /// ISO 3166 alpha-2.
    pub country_code: Option<String>,
    pub department: Option<String>,
}

/// A client bound to one Remote API token.
#[derive(Debug, Clone)]
pub struct RemoteClient {
    http: Arc<Http>,
    base: Url,
    environment: Environment,
    token: SecretString,
}

impl RemoteClient {
    pub fn new(
        http: Arc<Http>,
        urls: &ProviderUrls,
        environment: Environment,
        token: SecretString,
    ) -> Self {
        let base = match environment {
            Environment::Production => urls.remote_api_url.clone(),
            Environment::Sandbox => urls.remote_sandbox_api_url.clone(),
        };
        Self {
            http,
            base,
            environment,
            token,
        }
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The token check. Remote's spec gives **201** as this GET's success code (sic), so
    /// any 2xx is accepted (docs/providers.md, Remote "Health check").
    pub async fn identity(&self) -> Result<RemoteIdentity, Error> {
        let wire: Data<IdentityWire> = self
            .get("remote.identity", "/v1/identity/current", &[])
            .await?;
        let w = wire.data;
        Ok(RemoteIdentity {
            company_id: w.company.id,
            company_name: w.company.name,
            user_id: w.user.as_ref().and_then(|u| u.id.clone()),
            user_email: w.user.and_then(|u| u.email),
        })
    }

    /// One company's details (`GET /v1/companies/{id}`).
    pub async fn company(&self, company_id: &str) -> Result<RemoteCompany, Error> {
        let mut url = endpoint(&self.base, "/v1/companies");
        if let Ok(mut s) = url.path_segments_mut() {
            s.push(company_id);
        }
        let wire: Data<CompanyEnvelope> = self.get_url("remote.company", url, &[]).await?;
        let c = wire.data.company;
        Ok(RemoteCompany {
            id: c.id,
            name: c.name,
            status: c.status,
            country_code: c.country_code,
        })
    }

    /// Every employment, all pages of 100; `company_id` narrows to one company.
    pub async fn employments(
        &self,
        company_id: Option<&str>,
    ) -> Result<Vec<RemoteEmployment>, Error> {
        let mut all = Vec::new();
        let size = REMOTE_PAGE_SIZE.to_string();
        let mut guard = PageGuard::new(P, "remote.employments");
        loop {
            let page = guard.next_page()?;
            let number = page.to_string();
            let mut query = vec![("page", number.as_str()), ("page_size", size.as_str())];
            if let Some(id) = company_id {
                query.push(("company_id", id));
            }
            let wire: Data<EmploymentsPage> = self
                .get("remote.employments", "/v1/employments", &query)
                .await?;
            let p = wire.data;
            // A page without its numbers would end the listing early and silently; the
            // fields are required (docs/providers.md, Remote "Employments").
            guard.check_number("data.current_page", page, p.current_page)?;
            let done = p.employments.is_empty() || p.current_page >= p.total_pages;
            all.extend(p.employments.into_iter().map(Into::into));
            if done {
                break;
            }
        }
        Ok(all)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        self.get_url(operation, endpoint(&self.base, path), query)
            .await
    }

    async fn get_url<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        let req = Request::get(P, operation, url)
            // The limit is per company, across its tokens; the token is the best key we have
            // before the identity call names the company.
            .budget_key(fingerprint(self.token.expose_secret()))
            .bearer(&self.token)
            .header(ACCEPT, "application/json")
            .query(query);
        self.http.send_json(&req, classify).await
    }
}

/// `{"message":"…"}` for 401/403/404/429 (docs/providers.md, Remote "Errors"); a revoked
/// token is a 401.
fn classify(resp: &Response) -> Verdict {
    classify_common(resp, error_detail)
}

/// `{"message":"…"}` or `{"message":{"code","message"}}`.
fn error_detail(resp: &Response) -> String {
    let Some(body) = resp.json() else {
        return format!("HTTP {}", resp.status);
    };
    match body.get("message") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(o)) => o
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("error")
            .to_owned(),
        _ => format!("HTTP {}", resp.status),
    }
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct IdentityWire {
    company: CompanyRef,
    #[serde(default)]
    user: Option<UserRef>,
}

#[derive(Deserialize)]
struct CompanyRef {
    #[serde(deserialize_with = "crate::wire::id")]
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct UserRef {
    #[serde(default, deserialize_with = "crate::wire::opt_id")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_email")]
    email: Option<Email>,
}

#[derive(Deserialize)]
struct CompanyEnvelope {
    company: CompanyWire,
}

#[derive(Deserialize)]
struct CompanyWire {
    #[serde(deserialize_with = "crate::wire::id")]
    id: String,
    name: String,
    #[serde(default, deserialize_with = "opt_text")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    country_code: Option<String>,
}

#[derive(Deserialize)]
struct EmploymentsPage {
    #[serde(default, deserialize_with = "list")]
    employments: Vec<EmploymentWire>,
    current_page: u32,
    total_pages: u32,
}

#[derive(Deserialize)]
struct EmploymentWire {
    #[serde(deserialize_with = "crate::wire::id")]
    id: String,
    #[serde(default, deserialize_with = "opt_text")]
    full_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    job_title: Option<String>,
    #[serde(default, deserialize_with = "opt_email")]
    work_email: Option<Email>,
    #[serde(default, deserialize_with = "opt_email")]
    personal_email: Option<Email>,
    #[serde(default, deserialize_with = "opt_text")]
    status: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "opt_text")]
    kind: Option<String>,
    #[serde(default)]
    country: Option<CountryWire>,
    #[serde(default, deserialize_with = "department")]
    department: Option<String>,
}

/// `department` is named in the generated types without a shape; it arrives as a name or as
/// `{"id","name"}` (docs/providers.md, Remote `MinimalEmployment`): accept both.
fn department<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Name(String),
        Object {
            #[serde(default)]
            name: Option<String>,
        },
    }
    match Option::<Raw>::deserialize(d) {
        Ok(Some(Raw::Name(n))) => Ok(Some(n).filter(|n| !n.trim().is_empty())),
        Ok(Some(Raw::Object { name })) => Ok(name.filter(|n| !n.trim().is_empty())),
        Ok(None) => Ok(None),
        Err(_) => Err(serde::de::Error::custom(
            "expected a department name or {\"id\",\"name\"}",
        )),
    }
}

#[derive(Deserialize)]
struct CountryWire {
    #[serde(default, deserialize_with = "opt_text")]
    alpha_2_code: Option<String>,
}

impl From<EmploymentWire> for RemoteEmployment {
    fn from(w: EmploymentWire) -> Self {
        Self {
            id: w.id,
            full_name: w.full_name,
            job_title: w.job_title,
            work_email: w.work_email,
            personal_email: w.personal_email,
            status: w.status,
            employment_type: w.kind,
            country_code: w.country.and_then(|c| c.alpha_2_code),
            department: w.department,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_json;

    #[test]
    fn employments_page_parses_the_documented_envelope() {
        let body = r#"{"data":{"employments":[{"id":"e1","full_name":"Ann Lee","job_title":"Eng","work_email":null,
          "personal_email":"ann@home.com","status":"active","type":"employee","country":{"alpha_2_code":"PT","code":"PRT","name":"Portugal"},
          "department":null}],"current_page":1,"total_pages":3,"total_count":201}}"#;
        let resp = Response {
            status: 200,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body),
        };
        let page: Data<EmploymentsPage> = parse_json(P, "remote.employments", &resp).unwrap();
        assert_eq!(page.data.total_pages, 3);
        let e: RemoteEmployment = page
            .data
            .employments
            .into_iter()
            .next()
            .map(Into::into)
            .unwrap();
        assert_eq!(e.country_code.as_deref(), Some("PT"));
        assert_eq!(e.work_email, None);
        assert_eq!(e.employment_type.as_deref(), Some("employee"));
    }

    #[test]
    fn error_messages_come_in_two_shapes() {
        for (body, want) in [
            (r#"{"message":"Unauthorized"}"#, "Unauthorized"),
            (
                r#"{"message":{"code":"bad","message":"Bad thing"}}"#,
                "Bad thing",
            ),
            ("nope", "HTTP 400"),
        ] {
            let resp = Response {
                status: 400,
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::from(body),
            };
            assert_eq!(error_detail(&resp), want);
        }
    }
}
