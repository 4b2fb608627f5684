//! Xero's wire shapes, exactly as sent (PascalCase payroll, camelCase connections), and
//! their one conversion into the public types. Private to the crate.
//!
//! Shapes: spec/xero/xero-payroll-au.yaml (`Employee`, `SuperFund`, `TaxDeclaration`,
//! `HomeAddress`, `BankAccount`, `SuperMembership`) and spec/xero/xero-identity.yaml
//! (`Connection`). Codes are mapped here, each decision written beside it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use roster_domain::{Email, EmploymentBasis, EmploymentStatus, Gender};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::dates::{opt_day, opt_instant};
use super::{
    SuperFund, SuperFundType, XeroAddress, XeroBankAccount, XeroEmployee, XeroSuperMembership,
    XeroTenant,
};
use crate::wire::{list, opt_email, opt_text};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionWire {
    id: Uuid,
    tenant_id: Uuid,
    #[serde(default, deserialize_with = "opt_text")]
    tenant_type: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    tenant_name: Option<String>,
    #[serde(default, deserialize_with = "opt_local_datetime")]
    created_date_utc: Option<DateTime<Utc>>,
}

impl From<ConnectionWire> for XeroTenant {
    fn from(w: ConnectionWire) -> Self {
        Self {
            connection_id: w.id,
            tenant_id: w.tenant_id,
            tenant_type: w.tenant_type.unwrap_or_default(),
            tenant_name: w.tenant_name.unwrap_or_default(),
            connected_at: w.created_date_utc,
        }
    }
}

/// `/connections` dates are ISO 8601 without a zone and with 7 fractional digits
/// (`"2019-12-07T18:46:19.5165400"`, docs/providers.md "GET /connections"); they are UTC.
fn opt_local_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(raw) = opt_text(d)? else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(&raw) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|n| Some(n.and_utc()))
        .map_err(|_| serde::de::Error::custom("expected an ISO 8601 date-time"))
}

/// `{"Id","Status","ProviderName","DateTimeUTC","Employees":[…]}`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EmployeesEnvelope {
    #[serde(default, deserialize_with = "list")]
    pub employees: Vec<EmployeeWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EmployeeWire {
    #[serde(rename = "EmployeeID")]
    employee_id: Uuid,
    #[serde(default, deserialize_with = "opt_text")]
    title: Option<String>,
    first_name: String,
    #[serde(default, deserialize_with = "opt_text")]
    middle_names: Option<String>,
    last_name: String,
    #[serde(default)]
    status: Option<StatusCode>,
    #[serde(default, deserialize_with = "opt_email")]
    email: Option<Email>,
    #[serde(default, deserialize_with = "opt_day")]
    date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    gender: Option<GenderCode>,
    #[serde(default, deserialize_with = "opt_text")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    mobile: Option<String>,
    #[serde(default, deserialize_with = "opt_day")]
    start_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "opt_day")]
    termination_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "opt_text")]
    job_title: Option<String>,
    #[serde(default)]
    home_address: Option<AddressWire>,
    #[serde(default, deserialize_with = "list")]
    bank_accounts: Vec<BankAccountWire>,
    #[serde(default, deserialize_with = "list")]
    super_memberships: Vec<SuperMembershipWire>,
    #[serde(default)]
    tax_declaration: Option<TaxDeclarationWire>,
    #[serde(default)]
    employment_type: Option<EmploymentTypeCode>,
    #[serde(rename = "UpdatedDateUTC", default, deserialize_with = "opt_instant")]
    updated_date_utc: Option<DateTime<Utc>>,
}

impl From<EmployeeWire> for XeroEmployee {
    fn from(w: EmployeeWire) -> Self {
        let basis = w
            .tax_declaration
            .and_then(|t| t.employment_basis)
            .and_then(BasisCode::basis);
        Self {
            employee_id: w.employee_id,
            title: w.title,
            first_name: w.first_name,
            middle_names: w.middle_names,
            last_name: w.last_name,
            // `Status` is ACTIVE unless a termination date is set (spec `Employee.Status`);
            // a row without it is judged by that date.
            status: match (w.status, w.termination_date) {
                (Some(StatusCode::Terminated), _) | (None, Some(_)) => EmploymentStatus::Terminated,
                (Some(StatusCode::Active), _) | (None, None) => EmploymentStatus::Active,
            },
            email: w.email,
            date_of_birth: w.date_of_birth,
            gender: w.gender.map(GenderCode::gender),
            phone: w.phone,
            mobile: w.mobile,
            start_date: w.start_date,
            termination_date: w.termination_date,
            job_title: w.job_title,
            // A contractor is a contractor whatever their tax declaration says.
            employment_basis: match w.employment_type {
                Some(EmploymentTypeCode::Contractor) => Some(EmploymentBasis::Contractor),
                _ => basis,
            },
            home_address: w.home_address.map(Into::into),
            bank_accounts: w.bank_accounts.into_iter().map(Into::into).collect(),
            super_memberships: w.super_memberships.into_iter().map(Into::into).collect(),
            updated_at: w.updated_date_utc,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum StatusCode {
    Active,
    Terminated,
}

/// spec `Employee.Gender`: `N`, `M`, `F`, `I`.
#[derive(Deserialize)]
enum GenderCode {
    M,
    F,
    /// "Not stated".
    N,
    /// Indeterminate / intersex / unspecified (the ATO's "X" category, which Xero spells
    /// `I`). Roster's vocabulary has no such value; the person stated a gender outside the
    /// binary, which is closer to `non-binary` than to `not_stated` (`N` already means that).
    I,
}

impl GenderCode {
    fn gender(self) -> Gender {
        match self {
            Self::M => Gender::Male,
            Self::F => Gender::Female,
            Self::N => Gender::NotStated,
            Self::I => Gender::NonBinary,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum EmploymentTypeCode {
    Employee,
    Contractor,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaxDeclarationWire {
    #[serde(default)]
    employment_basis: Option<BasisCode>,
}

/// spec `EmploymentBasis`.
#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum BasisCode {
    Fulltime,
    Parttime,
    Casual,
    /// Workers supplied by a labour-hire agency: not the company's employees, so the
    /// contract's closest value is `contractor`.
    Labourhire,
    /// Deprecated, and an income stream rather than employment: no basis.
    Superincomestream,
    /// Payments to non-employees (ABN holders): `contractor`.
    Nonemployee,
}

impl BasisCode {
    fn basis(self) -> Option<EmploymentBasis> {
        match self {
            Self::Fulltime => Some(EmploymentBasis::FullTime),
            Self::Parttime => Some(EmploymentBasis::PartTime),
            Self::Casual => Some(EmploymentBasis::Casual),
            Self::Labourhire | Self::Nonemployee => Some(EmploymentBasis::Contractor),
            Self::Superincomestream => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddressWire {
    #[serde(default, deserialize_with = "opt_text")]
    address_line1: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    address_line2: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    city: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    region: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    postal_code: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    country: Option<String>,
}

impl From<AddressWire> for XeroAddress {
    fn from(w: AddressWire) -> Self {
        Self {
            line1: w.address_line1.unwrap_or_default(),
            line2: w.address_line2,
            city: w.city,
            region: w.region,
            postal_code: w.postal_code,
            country: w.country,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BankAccountWire {
    #[serde(default, deserialize_with = "opt_text")]
    account_name: Option<String>,
    #[serde(rename = "BSB", default, deserialize_with = "opt_text")]
    bsb: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    account_number: Option<String>,
    #[serde(default)]
    remainder: Option<bool>,
}

impl From<BankAccountWire> for XeroBankAccount {
    fn from(w: BankAccountWire) -> Self {
        Self {
            account_name: w.account_name,
            bsb: w.bsb,
            account_number: w.account_number,
            remainder: w.remainder.unwrap_or(false),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SuperMembershipWire {
    #[serde(rename = "SuperMembershipID", default)]
    super_membership_id: Option<Uuid>,
    #[serde(rename = "SuperFundID")]
    super_fund_id: Uuid,
    #[serde(deserialize_with = "text_or_number")]
    employee_number: String,
}

/// `EmployeeNumber` is a string in the spec, but a membership number made of digits is
/// easily sent as a number by other writers; accept both.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    crate::wire::text_or_number(d)
}

impl From<SuperMembershipWire> for XeroSuperMembership {
    fn from(w: SuperMembershipWire) -> Self {
        Self {
            membership_id: w.super_membership_id,
            fund_id: w.super_fund_id,
            member_number: w.employee_number,
        }
    }
}

/// `{…,"SuperFunds":[…]}`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SuperFundsEnvelope {
    #[serde(default, deserialize_with = "list")]
    pub super_funds: Vec<SuperFundWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SuperFundWire {
    #[serde(rename = "SuperFundID")]
    super_fund_id: Uuid,
    #[serde(rename = "Type")]
    kind: SuperFundTypeCode,
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(rename = "ABN", default, deserialize_with = "opt_text")]
    abn: Option<String>,
    #[serde(rename = "USI", default, deserialize_with = "opt_text")]
    usi: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum SuperFundTypeCode {
    Regulated,
    Smsf,
}

impl From<SuperFundWire> for SuperFund {
    fn from(w: SuperFundWire) -> Self {
        Self {
            id: w.super_fund_id,
            fund_type: match w.kind {
                SuperFundTypeCode::Regulated => SuperFundType::Regulated,
                SuperFundTypeCode::Smsf => SuperFundType::SelfManaged,
            },
            name: w.name,
            abn: w.abn,
            usi: w.usi,
        }
    }
}

/// Xero's problem details (`{"Title","Status","Detail"}`) or `APIException`
/// (`{"ErrorNumber","Type","Message"}`), whichever the body is; docs/providers.md, Xero
/// "Errors".
pub(crate) fn error_detail(resp: &crate::http::Response) -> String {
    let Some(body) = resp.json() else {
        // Payroll errors sometimes arrive as XML even with JSON requested
        // (https://github.com/XeroAPI/Xero-Net/issues/288): say so rather than guess.
        return if resp.body.starts_with(b"<") {
            format!("HTTP {} (XML body)", resp.status)
        } else {
            format!("HTTP {}", resp.status)
        };
    };
    let text = |k: &str| body.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    text("Detail")
        .or_else(|| text("Message"))
        .or_else(|| text("Title"))
        .unwrap_or_else(|| format!("HTTP {}", resp.status))
}
