//! Payroll AU v1 reads: `/Employees` (summary pages), `/Employees/{id}` (full record) and
//! `/Superfunds`, each behind Xero's tenant, scope and rate checks.
//!
//! Owns rendering the sample company in Xero's PascalCase shapes (schemas `Employee`,
//! `SuperFund` of `spec/xero/xero-payroll-au.yaml`). It must never emit a field the spec does
//! not define: the contract test checks every key.

mod query;
mod xml;

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use roster_company::{Level, SampleBasis, SampleCompany, SamplePerson, SampleSuperFund};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use self::query::{Where, compare, parse_order};
use self::xml::to_xml;
use super::oauth::authenticate;
use super::{
    Remaining, XeroState, json_response, ms_date, ms_date_plain, problem, set_remaining, too_many,
};
use crate::serve::{derived_uuid, first, pairs, retry_after_secs};

/// "Up to 100 employees will be returned in a single API call" (spec, `page` parameter);
/// the same for super funds.
pub(crate) const PAGE_SIZE: usize = 100;

const EMPLOYEE_SCOPES: &[&str] = &["payroll.employees", "payroll.employees.read"];
const SETTINGS_SCOPES: &[&str] = &["payroll.settings", "payroll.settings.read"];

/// Fields a `where` or `order` clause may name on a summary row.
const EMPLOYEE_FIELDS: &[&str] = &[
    "EmployeeID",
    "FirstName",
    "MiddleNames",
    "LastName",
    "Status",
    "Email",
    "DateOfBirth",
    "Gender",
    "Phone",
    "Mobile",
    "StartDate",
    "OrdinaryEarningsRateID",
    "PayrollCalendarID",
    "UpdatedDateUTC",
    "IsSTP2Qualified",
];
const SUPERFUND_FIELDS: &[&str] = &[
    "SuperFundID",
    "Type",
    "Name",
    "ABN",
    "BSB",
    "AccountNumber",
    "AccountName",
    "USI",
    "EmployerNumber",
    "UpdatedDateUTC",
];

/// Auth, tenant, scope and rate checks, in the order Xero applies them.
fn admit(state: &XeroState, headers: &HeaderMap, scopes: &[&str]) -> Result<Remaining, Response> {
    let (connected, scoped) = authenticate(state, headers, |grant| {
        (grant.is_connected(), grant.has_scope(scopes))
    })?;
    let tenant = headers
        .get("xero-tenant-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let tenant_matches =
        Uuid::parse_str(tenant.trim()).is_ok_and(|t| t == state.company().xero_tenant_id);
    // A missing, unknown or disconnected tenant is 403 AuthenticationUnsuccessful
    // (https://github.com/XeroAPI/xero-node/issues/432).
    if !connected || !tenant_matches {
        return Err(problem(StatusCode::FORBIDDEN, "AuthenticationUnsuccessful"));
    }
    if !scoped {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "AuthorizationUnsuccessful",
        ));
    }
    state
        .meter_call(tenant.trim())
        .map_err(|(remaining, which, wait)| too_many(which, retry_after_secs(wait), remaining))
}

/// Serves `body` as JSON when asked for, else as Xero's default XML; with the limit headers.
fn answer(headers: &HeaderMap, remaining: Remaining, status: StatusCode, body: Value) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"));
    let mut response = if wants_json {
        json_response(status, body)
    } else {
        // Without `Accept: application/json` the payroll API answers XML
        // (https://github.com/calcinai/xero-php/pull/183).
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            )],
            to_xml(&body),
        )
            .into_response()
    };
    set_remaining(response.headers_mut(), remaining);
    response
}

/// The `key` envelope around `rows`, or the 400 for a bad `where`, `order` or `page`.
fn listing(
    state: &XeroState,
    headers: &HeaderMap,
    remaining: Remaining,
    key: &str,
    rows: Result<Vec<Value>, String>,
) -> Response {
    match rows {
        Ok(rows) => answer(
            headers,
            remaining,
            StatusCode::OK,
            envelope(state, key, rows),
        ),
        // `{"ErrorNumber":16,"Type":"QueryParseException","Message":…}` (spec `APIException`).
        Err(message) => {
            let body =
                json!({ "ErrorNumber": 16, "Type": "QueryParseException", "Message": message });
            answer(headers, remaining, StatusCode::BAD_REQUEST, body)
        }
    }
}

/// One record in the `key` envelope, or the 404 for an unknown id of `what`.
fn single(
    state: &XeroState,
    headers: &HeaderMap,
    remaining: Remaining,
    (key, what): (&str, &str),
    record: Option<Value>,
) -> Response {
    if let Some(record) = record {
        return answer(
            headers,
            remaining,
            StatusCode::OK,
            envelope(state, key, vec![record]),
        );
    }
    // Xero's 404 body for an unknown id is not documented (docs/providers.md §1); the problem shape
    // is provisional.
    let mut response = problem(StatusCode::NOT_FOUND, &format!("{what} not found"));
    set_remaining(response.headers_mut(), remaining);
    response
}

fn envelope(state: &XeroState, key: &str, items: Vec<Value>) -> Value {
    let mut body = json!({
        "Id": Uuid::new_v4(),
        "Status": "OK",
        "ProviderName": "Roster",
        "DateTimeUTC": ms_date_plain(state.now()),
    });
    // Moved in rather than written in `json!`, which would copy every row once more.
    body[key] = Value::Array(items);
    body
}

/// 1-based `page`; absent means page 1 (Payroll AU v1 caps every answer at 100 rows).
fn page_of(q: &[(String, String)]) -> Result<usize, String> {
    match first(q, "page") {
        None => Ok(1),
        Some(p) => p
            .trim()
            .parse::<usize>()
            .map(|p| p.max(1))
            .map_err(|_| format!("The value '{p}' is not valid for page.")),
    }
}

pub(crate) async fn list_employees(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let remaining = match admit(&state, &headers, EMPLOYEE_SCOPES) {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    let q = pairs(query.as_deref().unwrap_or_default());
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_since);
    let company = state.company();
    let people = employees(&company, since);
    let render = |p: &SamplePerson| employee_summary(&state, p);
    let rows = select(people, render, &q, "Employee", EMPLOYEE_FIELDS);
    listing(&state, &headers, remaining, "Employees", rows)
}

/// The people on the payroll, changed after `since` when given, in payroll order.
fn employees(
    company: &SampleCompany,
    since: Option<DateTime<Utc>>,
) -> impl Iterator<Item = &SamplePerson> {
    company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some())
        .filter(move |p| since.is_none_or(|s| p.updated_at > s))
}

pub(crate) async fn get_employee(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let remaining = match admit(&state, &headers, EMPLOYEE_SCOPES) {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    let wanted = Uuid::parse_str(&id).ok();
    let company = state.company();
    let record = employees(&company, None)
        .find(|p| p.xero_employee_id == wanted)
        .map(|person| employee_detail(&state, person));
    single(
        &state,
        &headers,
        remaining,
        ("Employees", "Employee"),
        record,
    )
}

pub(crate) async fn list_superfunds(
    State(state): State<Arc<XeroState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let remaining = match admit(&state, &headers, SETTINGS_SCOPES) {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    let q = pairs(query.as_deref().unwrap_or_default());
    let company = state.company();
    let funds = company.super_funds.iter();
    let render = |f: &SampleSuperFund| superfund(&state, f);
    let rows = select(funds, render, &q, "SuperFund", SUPERFUND_FIELDS);
    listing(&state, &headers, remaining, "SuperFunds", rows)
}

/// Applies `where`, `order` and `page` to `items`, rendering as few as each needs: only the
/// page's rows without a clause, the rows up to the page's end with a `where` (it reads the
/// rendered fields), and every row only when `order` must sort them. So paging plainly
/// through 100,000 employees renders each one once, not once per page.
fn select<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    render: impl Fn(&T) -> Value,
    q: &[(String, String)],
    type_name: &str,
    fields: &[&str],
) -> Result<Vec<Value>, String> {
    let filter = first(q, "where")
        .filter(|w| !w.trim().is_empty())
        .map(|clause| Where::parse(clause, type_name, fields))
        .transpose()?;
    let order = first(q, "order")
        .filter(|o| !o.trim().is_empty())
        .map(|order| parse_order(order, type_name, fields))
        .transpose()?;
    let skip = (page_of(q)? - 1).saturating_mul(PAGE_SIZE);
    Ok(match (filter, order) {
        (None, None) => items.skip(skip).take(PAGE_SIZE).map(render).collect(),
        (Some(filter), None) => items
            .map(render)
            .filter(|row| filter.matches(row))
            .skip(skip)
            .take(PAGE_SIZE)
            .collect(),
        (filter, Some(keys)) => {
            let mut rows: Vec<Value> = items
                .map(render)
                .filter(|row| filter.as_ref().is_none_or(|f| f.matches(row)))
                .collect();
            rows.sort_by(|a, b| {
                keys.iter()
                    .map(|(field, descending)| {
                        let o = compare(&a[field], &b[field]);
                        if *descending { o.reverse() } else { o }
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            });
            rows.into_iter().skip(skip).take(PAGE_SIZE).collect()
        }
    })
}

/// `If-Modified-Since`: the spec's example is RFC 3339 (`2020-02-06T12:17:43.202-08:00`);
/// HTTP dates and zone-less timestamps (read as UTC) are accepted too.
fn parse_since(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_rfc2822(raw))
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|d| d.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        })
}

fn date(d: NaiveDate) -> String {
    ms_date(d.and_time(NaiveTime::MIN).and_utc())
}

/// Ids that are the same for every employee of the tenant, derived so they stay stable.
fn tenant_uuid(state: &XeroState, label: &str) -> Uuid {
    derived_uuid(&format!("{}:{label}", state.company().xero_tenant_id))
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v.into());
    }
}

/// A list row: the summary fields of the spec's `/Employees` example. Absent values are
/// omitted, as Xero omits them.
fn employee_summary(state: &XeroState, p: &SamplePerson) -> Value {
    let mut row = Map::new();
    row.insert("EmployeeID".into(), json!(p.xero_employee_id));
    row.insert("FirstName".into(), json!(p.first_name));
    insert_some(&mut row, "MiddleNames", p.middle_names.clone());
    row.insert("LastName".into(), json!(p.last_name));
    row.insert(
        "Status".into(),
        json!(if p.termination_date.is_some() {
            "TERMINATED"
        } else {
            "ACTIVE"
        }),
    );
    insert_some(&mut row, "Email", p.email.clone());
    row.insert("DateOfBirth".into(), json!(date(p.date_of_birth)));
    row.insert("Gender".into(), json!(p.gender));
    insert_some(&mut row, "Phone", p.phone.clone());
    insert_some(&mut row, "Mobile", p.mobile.clone());
    row.insert("StartDate".into(), json!(date(p.start_date)));
    row.insert(
        "OrdinaryEarningsRateID".into(),
        json!(tenant_uuid(state, "ordinary-earnings")),
    );
    row.insert(
        "PayrollCalendarID".into(),
        json!(tenant_uuid(state, "fortnightly-calendar")),
    );
    row.insert("UpdatedDateUTC".into(), json!(ms_date(p.updated_at)));
    row.insert("IsSTP2Qualified".into(), json!(!p.is_contractor));
    Value::Object(row)
}

/// The full record of `/Employees/{id}`.
fn employee_detail(state: &XeroState, p: &SamplePerson) -> Value {
    let mut row = match employee_summary(state, p) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    row.insert("JobTitle".into(), json!(p.title));
    row.insert("EmployeeGroupName".into(), json!(p.department));
    row.insert(
        "IsAuthorisedToApproveLeave".into(),
        json!(p.level <= Level::Lead),
    );
    row.insert(
        "IsAuthorisedToApproveTimesheets".into(),
        json!(p.level <= Level::Lead),
    );
    insert_some(&mut row, "TerminationDate", p.termination_date.map(date));
    insert_some(&mut row, "TerminationReason", p.termination_reason);
    if let Some(a) = &p.home_address {
        let mut address = Map::new();
        address.insert("AddressLine1".into(), json!(a.line1));
        insert_some(&mut address, "AddressLine2", a.line2.clone());
        address.insert("City".into(), json!(a.city));
        address.insert("Region".into(), json!(a.region));
        address.insert("PostalCode".into(), json!(a.postal_code));
        address.insert("Country".into(), json!(a.country));
        row.insert("HomeAddress".into(), Value::Object(address));
    }
    let accounts: Vec<Value> = p
        .bank_accounts
        .iter()
        .map(|b| {
            let mut account = json!({
                "StatementText": b.statement_text,
                "AccountName": b.account_name,
                "BSB": b.bsb,
                "AccountNumber": b.account_number,
                "Remainder": b.remainder,
            });
            if let Some(amount) = b.amount {
                account["Amount"] = json!(amount);
            }
            account
        })
        .collect();
    row.insert("BankAccounts".into(), Value::Array(accounts));
    let memberships: Vec<Value> = p
        .super_membership
        .iter()
        .map(|m| {
            json!({
                "SuperMembershipID": m.membership_id,
                "SuperFundID": state.company().super_funds[m.fund].id,
                "EmployeeNumber": m.member_number,
            })
        })
        .collect();
    row.insert("SuperMemberships".into(), Value::Array(memberships));
    let contractor = p.basis == SampleBasis::NonEmployee;
    let mut tax = json!({
        "EmployeeID": p.xero_employee_id,
        "EmploymentBasis": p.basis.xero_code(),
        "AustralianResidentForTaxPurposes": !contractor,
        "ResidencyStatus": "AUSTRALIANRESIDENT",
        "TaxFreeThresholdClaimed": !contractor,
        "HasHELPDebt": false,
        "HasSFSSDebt": false,
        "HasTradeSupportLoanDebt": false,
        "HasLoanOrStudentDebt": false,
        "EligibleToReceiveLeaveLoading": p.basis == SampleBasis::FullTime,
        "UpdatedDateUTC": ms_date(p.updated_at),
    });
    if contractor {
        // "Only applicable, and mandatory if income type is NONEMPLOYEE" (spec `ABN`).
        tax["ABN"] = json!(format!("{:011}", p.index * 7_919 + 51_824_753_556));
    }
    row.insert("TaxDeclaration".into(), tax);
    row.insert(
        "IncomeType".into(),
        json!(if contractor {
            "NONEMPLOYEE"
        } else {
            "SALARYANDWAGES"
        }),
    );
    row.insert(
        "EmploymentType".into(),
        json!(if contractor { "CONTRACTOR" } else { "EMPLOYEE" }),
    );
    row.insert("PayTemplate".into(), json!({"EarningsLines": [], "DeductionLines": [], "SuperLines": [], "ReimbursementLines": [], "LeaveLines": []}));
    row.insert("LeaveBalances".into(), json!([]));
    Value::Object(row)
}

fn superfund(state: &XeroState, f: &SampleSuperFund) -> Value {
    let mut row = Map::new();
    row.insert("SuperFundID".into(), json!(f.id));
    row.insert("Type".into(), json!(f.kind.xero_code()));
    row.insert("Name".into(), json!(f.name));
    row.insert("ABN".into(), json!(f.abn));
    insert_some(&mut row, "USI", f.usi.clone());
    insert_some(&mut row, "BSB", f.bsb.clone());
    insert_some(&mut row, "AccountNumber", f.account_number.clone());
    insert_some(&mut row, "AccountName", f.account_name.clone());
    insert_some(
        &mut row,
        "ElectronicServiceAddress",
        f.electronic_service_address.clone(),
    );
    insert_some(&mut row, "EmployerNumber", f.employer_number.clone());
    let updated = roster_company::REFERENCE_DATE
        .and_time(NaiveTime::MIN)
        .and_utc();
    row.insert(
        "UpdatedDateUTC".into(),
        json!(ms_date(updated.min(state.now()))),
    );
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_the_same_bytes_as_the_slice_of_the_full_render() {
        use roster_company::SampleCompany;
        use roster_domain::{Clock, ManualClock};

        use crate::xero::Limits;

        // Big enough that even the narrowest selection below spans several pages.
        let company = Arc::new(SampleCompany::generate(2026, 1_000));
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::default());
        let state = XeroState::new(
            "http://fake.test",
            company.clone().into(),
            clock,
            Limits::default(),
        )
        .unwrap();
        let render = |p: &SamplePerson| employee_summary(&state, p);
        let mut updates: Vec<_> = employees(&company, None).map(|p| p.updated_at).collect();
        updates.sort();
        let since = updates[updates.len() / 10];
        for (clause, since) in [
            (None, None),
            (
                Some(r#"Status=="TERMINATED" || IsSTP2Qualified==true"#),
                None,
            ),
            (None, Some(since)),
            (
                Some(r#"Status=="ACTIVE" && IsSTP2Qualified==true"#),
                Some(since),
            ),
        ] {
            let full: Vec<Value> = employees(&company, since)
                .map(render)
                .filter(|row| {
                    clause.is_none_or(|c| {
                        Where::parse(c, "Employee", EMPLOYEE_FIELDS)
                            .unwrap()
                            .matches(row)
                    })
                })
                .collect();
            assert!(
                full.len() > PAGE_SIZE,
                "{clause:?} {since:?} spans pages: {}",
                full.len()
            );
            for page in 1..=full.len() / PAGE_SIZE + 2 {
                let mut q = vec![("page".to_owned(), page.to_string())];
                q.extend(clause.map(|c| ("where".to_owned(), c.to_owned())));
                let rows = select(
                    employees(&company, since),
                    render,
                    &q,
                    "Employee",
                    EMPLOYEE_FIELDS,
                )
                .unwrap();
                let slice: Vec<Value> = full
                    .iter()
                    .skip((page - 1) * PAGE_SIZE)
                    .take(PAGE_SIZE)
                    .cloned()
                    .collect();
                let body = envelope(&state, "Employees", rows);
                let sliced = json!({
                    "Id": body["Id"],
                    "Status": "OK",
                    "ProviderName": "Roster",
                    "DateTimeUTC": body["DateTimeUTC"],
                    "Employees": slice,
                });
                assert_eq!(
                    serde_json::to_string(&body).unwrap(),
                    serde_json::to_string(&sliced).unwrap(),
                    "page {page} of {clause:?} since {since:?}"
                );
            }
        }
    }

    #[test]
    fn if_modified_since_accepts_the_spec_example_and_http_dates() {
        assert!(parse_since("2020-02-06T12:17:43.202-08:00").is_some());
        assert!(parse_since("Thu, 06 Feb 2020 12:17:43 +0000").is_some());
        assert!(parse_since("2020-02-06T12:17:43").is_some());
        assert!(parse_since("yesterday").is_none());
    }
}
