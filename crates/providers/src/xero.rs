//! Xero: OAuth 2 with PKCE, tenants, and Payroll AU v1 (employees and super funds).
//!
//! Owns the Xero wire formats (docs/providers.md §1) and their mapping to Roster's
//! vocabulary. It does not store tokens, decide when to refresh, or serialize refreshes
//! across instances: the app layer does that (a refresh token is single use, so two
//! concurrent refreshes burn the grant — nango's write-up in docs/providers.md "Gotchas").
//! It must never retry a refresh that answered `invalid_grant`.

mod dates;
mod wire;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use http::header::{ACCEPT, AUTHORIZATION, HeaderName, IF_MODIFIED_SINCE};
use roster_domain::{Email, EmploymentBasis, EmploymentStatus, Gender, Provider};
use secrecy::{ExposeSecret, SecretString};
use url::Url;
use uuid::Uuid;

use self::wire::{ConnectionWire, EmployeesEnvelope, SuperFundsEnvelope, error_detail};
use crate::config::{ProviderUrls, endpoint};
use crate::error::{Error, ErrorKind};
use crate::http::{Http, Request, Response, Retry, Verdict, classify_common, now};
use crate::oauth::{OAuthTokens, Pkce, TokenWire, classify_token_endpoint};
use crate::paging::PageGuard;

const P: Provider = Provider::Xero;

/// "Up to 100 employees … in a single API call" (spec `GET /Employees`, `page`); the same
/// for `/Superfunds`. A page with fewer rows is the last.
pub const XERO_PAGE_SIZE: usize = 100;

/// Scopes for the people sync: payroll employees and settings (super funds), plus a
/// refresh token (docs/providers.md, Xero "Scopes").
pub const XERO_DEFAULT_SCOPES: &[&str] = &[
    "offline_access",
    "payroll.employees.read",
    "payroll.settings.read",
];

/// The app's registration at Xero.
#[derive(Debug, Clone)]
pub struct XeroApp {
    pub client_id: String,
    /// `None` for an "Auth Code with PKCE" app, which has no secret
    /// (<https://developer.xero.com/documentation/oauth2/pkce-flow>).
    pub client_secret: Option<SecretString>,
    pub redirect_uri: Url,
    pub scopes: Vec<String>,
}

/// One organisation (tenant) the grant can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XeroTenant {
    pub connection_id: Uuid,
    /// Goes in the `Xero-Tenant-Id` header of every payroll call.
    pub tenant_id: Uuid,
    /// `ORGANISATION` or `PRACTICE`.
    pub tenant_type: String,
    pub tenant_name: String,
    pub connected_at: Option<DateTime<Utc>>,
}

/// A payroll employee. List rows carry the summary fields only; the home address, bank
/// accounts, super memberships and employment basis come from [`XeroClient::employee`].
#[derive(Debug, Clone, PartialEq)]
pub struct XeroEmployee {
    pub employee_id: Uuid,
    pub title: Option<String>,
    pub first_name: String,
    pub middle_names: Option<String>,
    pub last_name: String,
    pub status: EmploymentStatus,
    pub email: Option<Email>,
    pub date_of_birth: Option<NaiveDate>,
    pub gender: Option<Gender>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub termination_date: Option<NaiveDate>,
    pub job_title: Option<String>,
    /// From `TaxDeclaration.EmploymentBasis`, or contractor when `EmploymentType` says so.
    pub employment_basis: Option<EmploymentBasis>,
    pub home_address: Option<XeroAddress>,
    pub bank_accounts: Vec<XeroBankAccount>,
    pub super_memberships: Vec<XeroSuperMembership>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XeroAddress {
    pub line1: String,
    pub line2: Option<String>,
    /// Xero's `City` is the suburb.
    pub city: Option<String>,
    /// `ACT`, `NSW`, … as sent.
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XeroBankAccount {
    pub account_name: Option<String>,
    pub bsb: Option<String>,
    pub account_number: Option<String>,
    /// This account takes whatever the others do not.
    pub remainder: bool,
}

/// A membership names its fund only by id; see [`join_super_funds`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XeroSuperMembership {
    pub membership_id: Option<Uuid>,
    pub fund_id: Uuid,
    pub member_number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuperFundType {
    /// `REGULATED`: an APRA-regulated fund.
    Regulated,
    /// `SMSF`: a self-managed fund.
    SelfManaged,
}

impl SuperFundType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Regulated => "regulated",
            Self::SelfManaged => "smsf",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperFund {
    pub id: Uuid,
    pub fund_type: SuperFundType,
    pub name: Option<String>,
    pub abn: Option<String>,
    pub usi: Option<String>,
}

/// A membership with its fund's name and type (the contract's `super_fund_name`,
/// `super_fund_type`, `super_member_number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperFundMembership {
    pub member_number: String,
    pub fund_id: Uuid,
    /// `None` when the fund is not in the tenant's `/Superfunds` (deleted since).
    pub fund_name: Option<String>,
    pub fund_type: Option<SuperFundType>,
}

/// Fund name and type are not on the membership: join `SuperFundID` to `GET /Superfunds`
/// (docs/providers.md, Xero "SuperMemberships").
pub fn join_super_funds(employee: &XeroEmployee, funds: &[SuperFund]) -> Vec<SuperFundMembership> {
    employee
        .super_memberships
        .iter()
        .map(|m| {
            let fund = funds.iter().find(|f| f.id == m.fund_id);
            SuperFundMembership {
                member_number: m.member_number.clone(),
                fund_id: m.fund_id,
                fund_name: fund.and_then(|f| f.name.clone()),
                fund_type: fund.map(|f| f.fund_type),
            }
        })
        .collect()
}

/// A Xero access token and the tenant it acts on.
#[derive(Debug, Clone)]
pub struct XeroTenantAccess<'a> {
    pub access_token: &'a SecretString,
    pub tenant_id: Uuid,
}

/// The Xero client. Cheap to clone; share one per app registration.
#[derive(Debug, Clone)]
pub struct XeroClient {
    http: Arc<Http>,
    login_url: Url,
    identity_url: Url,
    api_url: Url,
    app: XeroApp,
}

impl XeroClient {
    pub fn new(http: Arc<Http>, urls: &ProviderUrls, app: XeroApp) -> Self {
        Self {
            http,
            login_url: urls.xero_login_url.clone(),
            identity_url: urls.xero_identity_url.clone(),
            api_url: urls.xero_api_url.clone(),
            app,
        }
    }

    /// The URL to send the admin to: `response_type=code`, the app's scopes, `state`, and
    /// the PKCE S256 challenge (<https://developer.xero.com/documentation/oauth2/pkce-flow>).
    pub fn authorize_url(&self, state: &str, pkce: &Pkce) -> Url {
        let mut url = endpoint(&self.login_url, "/identity/connect/authorize");
        let scopes = if self.app.scopes.is_empty() {
            XERO_DEFAULT_SCOPES.join(" ")
        } else {
            self.app.scopes.join(" ")
        };
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.app.client_id)
            .append_pair("redirect_uri", self.app.redirect_uri.as_str())
            .append_pair("scope", &scopes)
            .append_pair("state", state)
            .append_pair("code_challenge", pkce.challenge())
            .append_pair("code_challenge_method", "S256");
        url
    }

    /// Exchanges the callback's code. A code is single use, so a failed exchange is not
    /// repeated unless the request never reached Xero.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &SecretString,
    ) -> Result<OAuthTokens, Error> {
        let code = SecretString::from(code.to_owned());
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.expose_secret()),
            ("redirect_uri", self.app.redirect_uri.as_str()),
            ("code_verifier", verifier.expose_secret()),
        ];
        let req = self
            .token_request("xero.token.exchange", &form)
            .scrubbing(&code)
            .scrubbing(verifier)
            .retry(Retry::OnlyIfNotProcessed);
        self.send_token(req).await
    }

    /// Trades a refresh token for new tokens. The answer's `refresh_token` replaces the old
    /// one, which stays usable for a 30-minute grace period only
    /// (<https://developer.xero.com/faq/oauth2>). That grace period is why a refresh whose
    /// answer was lost (5xx, timeout) may be repeated with the same token; `invalid_grant`
    /// is final and means the connection needs re-authorization.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<OAuthTokens, Error> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let req = self
            .token_request("xero.token.refresh", &form)
            .scrubbing(refresh_token)
            .retry(Retry::Idempotent);
        let tokens = self.send_token(req).await?;
        if tokens.refresh_token.is_none() {
            return Err(Error::malformed(
                P,
                "xero.token.refresh",
                "refresh_token",
                "missing from a refresh answer",
            ));
        }
        Ok(tokens)
    }

    /// Revokes the grant behind a refresh token: every scope and tenant of it.
    pub async fn revoke(&self, refresh_token: &SecretString) -> Result<(), Error> {
        let url = endpoint(&self.identity_url, "/connect/revocation");
        let mut req = Request::post(P, "xero.token.revoke", url)
            .budget_key("identity")
            .scrubbing(refresh_token)
            .retry(Retry::Idempotent);
        req = self.client_auth(req, &[("token", refresh_token.expose_secret())]);
        self.http
            .send(&req, classify_token_endpoint)
            .await
            .map(drop)
    }

    /// The tenants this access token can reach (`GET /connections`).
    pub async fn connections(&self, access_token: &SecretString) -> Result<Vec<XeroTenant>, Error> {
        let req = Request::get(
            P,
            "xero.connections",
            endpoint(&self.api_url, "/connections"),
        )
        .budget_key("connections")
        .bearer(access_token)
        .header(ACCEPT, "application/json");
        let rows: Vec<ConnectionWire> = self.http.send_json(&req, classify).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every employee of the tenant, all pages, or only those changed since `modified_since`
    /// (`If-Modified-Since`). Listing 100,000 employees takes 1,001 calls, over 17 minutes
    /// at 60 a minute; refresh with `modified_since` where possible.
    pub async fn employees(
        &self,
        access: &XeroTenantAccess<'_>,
        modified_since: Option<DateTime<Utc>>,
    ) -> Result<Vec<XeroEmployee>, Error> {
        let mut all = Vec::new();
        let mut guard = PageGuard::new(P, "xero.employees");
        loop {
            let page = guard.next_page()?;
            let rows = self.employees_page(access, page, modified_since).await?;
            // Xero's pages carry no number, so a full page equal to the one before means
            // `page` was ignored: refuse rather than loop.
            let first = rows.first().map(|e| e.employee_id.to_string());
            guard.check_advances("Employees", first.as_deref())?;
            let last = rows.len() < XERO_PAGE_SIZE;
            all.extend(rows);
            if last {
                break;
            }
        }
        Ok(all)
    }

    /// One page (1-based) of `GET /Employees`.
    pub async fn employees_page(
        &self,
        access: &XeroTenantAccess<'_>,
        page: u32,
        modified_since: Option<DateTime<Utc>>,
    ) -> Result<Vec<XeroEmployee>, Error> {
        let url = endpoint(&self.api_url, "/payroll.xro/1.0/Employees");
        let mut req =
            Self::payroll_get("xero.employees", url, access).query(&[("page", &page.to_string())]);
        if let Some(since) = modified_since {
            // The spec types the header as `date-time` with the example
            // "2020-02-06T12:17:43.202-08:00" (spec `GET /Employees`, If-Modified-Since).
            req = req.header(
                IF_MODIFIED_SINCE,
                &since.to_rfc3339_opts(SecondsFormat::Secs, false),
            );
        }
        let envelope: EmployeesEnvelope = self.http.send_json(&req, classify).await?;
        Ok(envelope.employees.into_iter().map(Into::into).collect())
    }

    /// One employee's full record (`GET /Employees/{id}`).
    pub async fn employee(
        &self,
        access: &XeroTenantAccess<'_>,
        employee_id: Uuid,
    ) -> Result<XeroEmployee, Error> {
        let url = endpoint(
            &self.api_url,
            &format!("/payroll.xro/1.0/Employees/{employee_id}"),
        );
        let req = Self::payroll_get("xero.employee", url, access);
        let envelope: EmployeesEnvelope = self.http.send_json(&req, classify).await?;
        envelope
            .employees
            .into_iter()
            .next()
            .map(Into::into)
            .ok_or_else(|| {
                Error::malformed(P, "xero.employee", "Employees", "no employee in the answer")
            })
    }

    /// Whether one employee changed after `since`. The detail call takes no
    /// `If-Modified-Since` (spec `GET /Employees/{EmployeeID}` lists only the id), the listing
    /// does: filtered to this employee with `where`, an unchanged employee answers an empty
    /// page, so a repeated pull costs one call and reads nothing.
    pub async fn employee_changed_since(
        &self,
        access: &XeroTenantAccess<'_>,
        employee_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let url = endpoint(&self.api_url, "/payroll.xro/1.0/Employees");
        // Xero's filter language: `EmployeeID==GUID("…")` (spec `GET /Employees`, `where`).
        let filter = format!("EmployeeID==GUID(\"{employee_id}\")");
        let req = Self::payroll_get("xero.employees", url, access)
            .query(&[("where", filter.as_str())])
            // Whole seconds, rounded down: a change in the same second is pulled again
            // rather than missed.
            .header(
                IF_MODIFIED_SINCE,
                &since.to_rfc3339_opts(SecondsFormat::Secs, false),
            );
        let envelope: EmployeesEnvelope = self.http.send_json(&req, classify).await?;
        Ok(!envelope.employees.is_empty())
    }

    /// Every super fund of the tenant (`GET /Superfunds`, all pages of 100).
    pub async fn super_funds(
        &self,
        access: &XeroTenantAccess<'_>,
    ) -> Result<Vec<SuperFund>, Error> {
        let mut all = Vec::new();
        let mut guard = PageGuard::new(P, "xero.superfunds");
        loop {
            let page = guard.next_page()?;
            let url = endpoint(&self.api_url, "/payroll.xro/1.0/Superfunds");
            let req = Self::payroll_get("xero.superfunds", url, access)
                .query(&[("page", &page.to_string())]);
            let envelope: SuperFundsEnvelope = self.http.send_json(&req, classify).await?;
            let last = envelope.super_funds.len() < XERO_PAGE_SIZE;
            let funds: Vec<SuperFund> = envelope
                .super_funds
                .into_iter()
                .map(SuperFund::from)
                .collect();
            let first = funds.first().map(|f| f.id.to_string());
            guard.check_advances("SuperFunds", first.as_deref())?;
            all.extend(funds);
            if last {
                break;
            }
        }
        Ok(all)
    }

    fn payroll_get(operation: &'static str, url: Url, access: &XeroTenantAccess<'_>) -> Request {
        let tenant = access.tenant_id.to_string();
        Request::get(P, operation, url)
            // Limits are per tenant (https://developer.xero.com/faq/limits).
            .budget_key(tenant.clone())
            .bearer(access.access_token)
            .header(HeaderName::from_static("xero-tenant-id"), &tenant)
            // Without it the payroll API answers XML (docs/providers.md, Xero "Payroll AU").
            .header(ACCEPT, "application/json")
    }

    fn token_request(&self, operation: &'static str, form: &[(&str, &str)]) -> Request {
        let url = endpoint(&self.identity_url, "/connect/token");
        let req = Request::post(P, operation, url)
            .budget_key("identity")
            .header(ACCEPT, "application/json");
        self.client_auth(req, form)
    }

    /// A web app with a secret authenticates with HTTP Basic; a PKCE app sends its
    /// `client_id` in the form (identity spec `RefreshToken`; docs/providers.md "OAuth 2").
    fn client_auth(&self, req: Request, form: &[(&str, &str)]) -> Request {
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        if let Some(secret) = &self.app.client_secret {
            let basic =
                STANDARD.encode(format!("{}:{}", self.app.client_id, secret.expose_secret()));
            req.secret_header(AUTHORIZATION, "Basic ", &SecretString::from(basic))
                .scrubbing(secret)
                .form(&pairs)
        } else {
            pairs.push(("client_id", &self.app.client_id));
            req.form(&pairs)
        }
    }

    async fn send_token(&self, req: Request) -> Result<OAuthTokens, Error> {
        let wire: TokenWire = self.http.send_json(&req, classify_token_endpoint).await?;
        Ok(wire.into_tokens(now(&self.http)))
    }
}

/// Xero's answers: 401 (`TokenExpired: …` after 30 minutes, or `AuthorizationUnsuccessful`)
/// and 403 `AuthenticationUnsuccessful` (the tenant was disconnected or is unknown) both mean
/// the connection must be made again (docs/providers.md, Xero "Errors"); 429 carries
/// `Retry-After` in seconds (<https://developer.xero.com/faq/limits>).
fn classify(resp: &Response) -> Verdict {
    match resp.status {
        403 if error_detail(resp).contains("AuthenticationUnsuccessful") => {
            Verdict::Fail(ErrorKind::NeedsReauth {
                detail: error_detail(resp),
            })
        }
        _ => classify_common(resp, error_detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_json;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn employees(body: &str) -> Result<Vec<XeroEmployee>, Error> {
        let env: EmployeesEnvelope = parse_json(P, "xero.employees", &answer(200, body))?;
        Ok(env.employees.into_iter().map(Into::into).collect())
    }

    const SPEC_DETAIL: &str = r#"{"Id":"e0d7e2f8","Status":"OK","ProviderName":"Roster","DateTimeUTC":"/Date(1573621524489)/",
      "Employees":[{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"Albus","MiddleNames":"Frank",
      "LastName":"Dumbledore","Status":"ACTIVE","Email":"albus39608@hogwarts.edu","DateOfBirth":"/Date(321523200000+0000)/",
      "JobTitle":"Regional Manager","Gender":"M","HomeAddress":{"AddressLine1":"101 Green St","City":"Island Bay",
      "Region":"NSW","PostalCode":"6023","Country":"AUSTRALIA"},"Phone":"444-2323","Mobile":"555-1212",
      "StartDate":"/Date(321523200000+0000)/","Classification":"corporate","UpdatedDateUTC":"/Date(1573621524458+0000)/",
      "TaxDeclaration":{"EmploymentBasis":"FULLTIME"},"BankAccounts":[{"StatementText":"Salary","AccountName":"James Lebron Savings",
      "BSB":"122344","AccountNumber":"345678","Remainder":true}],
      "SuperMemberships":[{"SuperMembershipID":"2b2f0f6f-3f51-4d2a-9c58-dfa2b5b0f0a1","SuperFundID":"fde8e070-bf59-4e56-b1d7-c75a09474b8d","EmployeeNumber":"1234"}]}]}"#;

    #[test]
    fn a_spec_example_employee_maps_to_roster_values() {
        let e = employees(SPEC_DETAIL).unwrap().remove(0);
        assert_eq!(e.first_name, "Albus");
        assert_eq!(e.status, EmploymentStatus::Active);
        assert_eq!(e.gender, Some(Gender::Male));
        assert_eq!(e.employment_basis, Some(EmploymentBasis::FullTime));
        assert_eq!(e.date_of_birth, NaiveDate::from_ymd_opt(1980, 3, 10));
        assert_eq!(
            e.email.as_ref().map(Email::as_str),
            Some("albus39608@hogwarts.edu")
        );
        assert_eq!(
            e.home_address.as_ref().and_then(|a| a.region.as_deref()),
            Some("NSW")
        );
        assert_eq!(e.bank_accounts[0].bsb.as_deref(), Some("122344"));
        assert_eq!(e.super_memberships[0].member_number, "1234");
    }

    #[test]
    fn codes_map_to_the_contract_vocabulary() {
        for (gender, want) in [
            ("M", Gender::Male),
            ("F", Gender::Female),
            ("N", Gender::NotStated),
            ("I", Gender::NonBinary),
        ] {
            let body = format!(
                r#"{{"Employees":[{{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B","Gender":"{gender}"}}]}}"#
            );
            assert_eq!(employees(&body).unwrap()[0].gender, Some(want), "{gender}");
        }
        for (basis, kind, want) in [
            ("FULLTIME", "EMPLOYEE", Some(EmploymentBasis::FullTime)),
            ("PARTTIME", "EMPLOYEE", Some(EmploymentBasis::PartTime)),
            ("CASUAL", "EMPLOYEE", Some(EmploymentBasis::Casual)),
            ("LABOURHIRE", "EMPLOYEE", Some(EmploymentBasis::Contractor)),
            ("NONEMPLOYEE", "EMPLOYEE", Some(EmploymentBasis::Contractor)),
            ("SUPERINCOMESTREAM", "EMPLOYEE", None),
            ("FULLTIME", "CONTRACTOR", Some(EmploymentBasis::Contractor)),
        ] {
            let body = format!(
                r#"{{"Employees":[{{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B",
                "TaxDeclaration":{{"EmploymentBasis":"{basis}"}},"EmploymentType":"{kind}"}}]}}"#
            );
            assert_eq!(
                employees(&body).unwrap()[0].employment_basis,
                want,
                "{basis}/{kind}"
            );
        }
    }

    #[test]
    fn a_bad_value_is_malformed_naming_its_path() {
        for (row, field) in [
            (
                r#"{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B","DateOfBirth":"1980-01-01"}"#,
                "Employees[1].DateOfBirth",
            ),
            (
                r#"{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B","Gender":"Q"}"#,
                "Employees[1].Gender",
            ),
            (
                r#"{"EmployeeID":"not-a-uuid","FirstName":"A","LastName":"B"}"#,
                "Employees[1].EmployeeID",
            ),
            (
                r#"{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","LastName":"B"}"#,
                "Employees[1]",
            ),
            (
                r#"{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B","TaxDeclaration":{"EmploymentBasis":"SOMETIMES"}}"#,
                "Employees[1].TaxDeclaration.EmploymentBasis",
            ),
        ] {
            let good = r#"{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B"}"#;
            let err = employees(&format!(r#"{{"Employees":[{good},{row}]}}"#)).unwrap_err();
            match &err.kind {
                ErrorKind::Malformed { field: got, .. } => assert_eq!(got, field, "{row}"),
                other => panic!("{row}: {other:?}"),
            }
            assert!(
                !err.to_string().contains("1980-01-01"),
                "provider values stay out of messages: {err}"
            );
        }
    }

    #[test]
    fn super_memberships_join_their_fund() {
        let fund_id = Uuid::from_u128(7);
        let mut e = employees(SPEC_DETAIL).unwrap().remove(0);
        e.super_memberships = vec![
            XeroSuperMembership {
                membership_id: None,
                fund_id,
                member_number: "M1".into(),
            },
            XeroSuperMembership {
                membership_id: None,
                fund_id: Uuid::from_u128(8),
                member_number: "M2".into(),
            },
        ];
        let funds = [SuperFund {
            id: fund_id,
            fund_type: SuperFundType::SelfManaged,
            name: Some("Our SMSF".into()),
            abn: None,
            usi: None,
        }];
        let joined = join_super_funds(&e, &funds);
        assert_eq!(joined[0].fund_name.as_deref(), Some("Our SMSF"));
        assert_eq!(joined[0].fund_type, Some(SuperFundType::SelfManaged));
        assert_eq!(
            joined[1].fund_name, None,
            "an unknown fund keeps the membership"
        );
    }

    /// The codes of one enum schema in the published Payroll AU spec.
    fn spec_codes(spec: &serde_yaml_ng::Value, schema: &str) -> Vec<String> {
        let node = &spec["components"]["schemas"][schema];
        let node = if node["enum"].is_sequence() {
            node
        } else {
            &spec["components"]["schemas"]["Employee"]["properties"][schema]
        };
        node["enum"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{schema} has an enum in the spec"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn one_employee(fields: &str) -> XeroEmployee {
        let body = format!(
            r#"{{"Employees":[{{"EmployeeID":"cdfb8371-0b21-4b8a-8903-1024df6c391e","FirstName":"A","LastName":"B",{fields}}}]}}"#
        );
        employees(&body).unwrap().remove(0)
    }

    /// Every Payroll AU code the spec publishes for the fields Roster keeps has a row here,
    /// and maps to the canonical value in it: a code added to the spec fails this test
    /// until someone decides what it means.
    #[test]
    fn every_payroll_code_in_the_spec_maps_to_a_canonical_value() {
        let spec: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&roster_fakes::spec_text("xero/xero-payroll-au.yaml").unwrap())
                .unwrap();
        let gender = [
            ("M", Some("male")),
            ("F", Some("female")),
            ("N", Some("not_stated")),
            ("I", Some("non-binary")),
        ];
        let status = [("ACTIVE", "active"), ("TERMINATED", "terminated")];
        let basis = [
            ("FULLTIME", Some("full_time")),
            ("PARTTIME", Some("part_time")),
            ("CASUAL", Some("casual")),
            ("LABOURHIRE", Some("contractor")),
            ("SUPERINCOMESTREAM", None),
            ("NONEMPLOYEE", Some("contractor")),
        ];
        let kind = [("EMPLOYEE", None), ("CONTRACTOR", Some("contractor"))];
        let fund = [("REGULATED", "regulated"), ("SMSF", "smsf")];
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let table = |codes: Vec<&str>| sorted(codes.into_iter().map(str::to_owned).collect());
        assert_eq!(
            sorted(spec_codes(&spec, "Gender")),
            table(gender.iter().map(|r| r.0).collect())
        );
        assert_eq!(
            sorted(spec_codes(&spec, "EmployeeStatus")),
            table(status.iter().map(|r| r.0).collect())
        );
        assert_eq!(
            sorted(spec_codes(&spec, "EmploymentBasis")),
            table(basis.iter().map(|r| r.0).collect())
        );
        assert_eq!(
            sorted(spec_codes(&spec, "EmploymentType")),
            table(kind.iter().map(|r| r.0).collect())
        );
        assert_eq!(
            sorted(spec_codes(&spec, "SuperFundType")),
            table(fund.iter().map(|r| r.0).collect())
        );
        for (code, want) in gender {
            let e = one_employee(&format!(r#""Gender":"{code}""#));
            assert_eq!(e.gender.map(Gender::as_str), want, "Gender {code}");
        }
        for (code, want) in status {
            let e = one_employee(&format!(r#""Status":"{code}""#));
            assert_eq!(e.status.as_str(), want, "Status {code}");
        }
        for (code, want) in basis {
            let e = one_employee(&format!(
                r#""TaxDeclaration":{{"EmploymentBasis":"{code}"}},"EmploymentType":"EMPLOYEE""#
            ));
            assert_eq!(
                e.employment_basis.map(EmploymentBasis::as_str),
                want,
                "EmploymentBasis {code}"
            );
        }
        for (code, want) in kind {
            let e = one_employee(&format!(r#""EmploymentType":"{code}""#));
            assert_eq!(
                e.employment_basis.map(EmploymentBasis::as_str),
                want,
                "EmploymentType {code}"
            );
        }
        for (code, want) in fund {
            let body = format!(
                r#"{{"SuperFunds":[{{"SuperFundID":"fde8e070-bf59-4e56-b1d7-c75a09474b8d","Type":"{code}"}}]}}"#
            );
            let env: SuperFundsEnvelope =
                parse_json(P, "xero.superfunds", &answer(200, &body)).unwrap();
            let funds: Vec<SuperFund> = env.super_funds.into_iter().map(Into::into).collect();
            assert_eq!(funds[0].fund_type.as_str(), want, "SuperFund Type {code}");
        }
    }

    #[test]
    fn xero_error_bodies() {
        let expired = r#"{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: token expired at 04/09/2023 05:16:59","Instance":"x","Extensions":{}}"#;
        let forbidden = r#"{"Type":null,"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful","Instance":"x"}"#;
        let bad_where = r#"{"ErrorNumber":16,"Type":"QueryParseException","Message":"bad where"}"#;
        for (status, body, want) in [
            (401, expired, "reauth"),
            (403, forbidden, "reauth"),
            (400, bad_where, "fail"),
            (429, "", "rate"),
            (503, "<Response/>", "transient"),
        ] {
            let got = match classify(&answer(status, body)) {
                Verdict::Fail(ErrorKind::NeedsReauth { .. }) => "reauth",
                Verdict::Fail(_) => "fail",
                Verdict::RateLimited => "rate",
                Verdict::Transient(_) | Verdict::NotSent(_) => "transient",
                Verdict::Success => "ok",
            };
            assert_eq!(got, want, "{status} {body}");
        }
        assert_eq!(error_detail(&answer(400, bad_where)), "bad where");
        assert_eq!(
            error_detail(&answer(503, "<Response/>")),
            "HTTP 503 (XML body)"
        );
    }
}
