//! The Xero payroll pull end to end (`POST /api/people/{id}/xero-sync`) against the Xero
//! fake: Payroll AU codes arrive as Roster's values, the financial section is sealed, and a
//! repeated pull with nothing changed in Xero writes nothing.

use chrono::{DateTime, Duration, Utc};
use roster_domain::{Clock, PersonId};
use roster_fakes::faults::Fault;
use roster_testkit::{TestApp, spawn};
use roster_vault::{ExposeSecret, Sealed};
use serde_json::json;

use super::matching::{add_person, connect_xero};

/// A sample employee with a home address, a bank account and a super membership.
fn full_record(t: &TestApp) -> &roster_company::SamplePerson {
    t.company
        .people
        .iter()
        .find(|p| {
            p.xero_employee_id.is_some()
                && p.home_address.is_some()
                && !p.bank_accounts.is_empty()
                && p.super_membership.is_some()
                && !p.is_leaver
        })
        .unwrap()
}

async fn map_xero(t: &TestApp, person: PersonId, id: uuid::Uuid) {
    t.put(&format!("/api/admin/connections/user-mappings/{person}"))
        .as_user(t.world.at("executive"))
        .json(&json!({"provider": "xero", "external_id": id.to_string()}))
        .send()
        .await
        .assert_status(200);
}

async fn pull(t: &TestApp, person: PersonId) -> roster_testkit::Answer {
    t.post(&format!("/api/people/{person}/xero-sync"))
        .as_user(t.world.at("executive"))
        .send()
        .await
}

async fn pull_events(t: &TestApp) -> usize {
    let a = t
        .get("/api/admin/audit?action=person.xero_sync")
        .as_user(t.world.at("executive"))
        .send()
        .await;
    a.assert_status(200);
    a.body["events"].as_array().unwrap().len()
}

/// When a pull last wrote the person's row.
async fn row_times(t: &TestApp, person: PersonId) -> Option<DateTime<Utc>> {
    let mut tx = t.store.read().await.unwrap();
    let state = tx.org(t.world.acme.id).payroll_state(person).await.unwrap();
    tx.rollback().await.unwrap();
    state.xero_synced_at
}

#[tokio::test]
async fn a_pull_maps_payroll_codes_seals_financial_fields_and_an_unchanged_repeat_writes_nothing() {
    let t = spawn().await;
    connect_xero(&t).await;
    let sample = full_record(&t);
    let person = add_person(&t, "Payroll", "Person", None).await;
    map_xero(&t, person, sample.xero_employee_id.unwrap()).await;
    let start = t.clock.now();

    // A first pull made long ago (before Xero last changed the employee).
    t.clock.set(start - Duration::days(3_000));
    let first = pull(&t, person).await;
    first.assert_status(200);
    assert_eq!(first.body["changed"], true, "{}", first.text);
    t.clock.set(start + Duration::minutes(1));

    // Xero changed the employee since: the pull reads and writes again.
    let second = pull(&t, person).await;
    assert_eq!(second.body["changed"], true, "{}", second.text);
    assert_eq!(pull_events(&t).await, 2);

    let mut tx = t.store.read().await.unwrap();
    let (employment, contact, demographics, sealed) = tx
        .org(t.world.acme.id)
        .payroll_fields(person)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let basis = match sample.basis.xero_code() {
        "FULLTIME" => "full_time",
        "PARTTIME" => "part_time",
        "CASUAL" => "casual",
        _ => "contractor",
    };
    let gender = match sample.gender {
        "M" => "male",
        "F" => "female",
        "I" => "non-binary",
        _ => "not_stated",
    };
    assert_eq!(
        employment
            .employment_basis
            .map(roster_domain::EmploymentBasis::as_str),
        Some(basis)
    );
    assert_eq!(
        employment
            .employment_status
            .map(roster_domain::EmploymentStatus::as_str),
        Some("active")
    );
    assert_eq!(employment.start_date, Some(sample.start_date));
    assert_eq!(
        demographics.gender.map(roster_domain::Gender::as_str),
        Some(gender)
    );
    assert_eq!(demographics.date_of_birth, Some(sample.date_of_birth));
    assert_eq!(contact.mobile, sample.mobile);
    let address = sample.home_address.as_ref().unwrap();
    assert!(
        contact
            .home_address
            .as_deref()
            .is_some_and(|a| a.starts_with(&address.line1)),
        "{contact:?}"
    );

    // The financial section is sealed to this person's row, and holds the joined fund.
    let sealed = sealed.expect("financial section written");
    let bank = sample
        .bank_accounts
        .iter()
        .find(|b| b.remainder)
        .unwrap_or(&sample.bank_accounts[0]);
    assert!(
        !String::from_utf8_lossy(&sealed).contains(&bank.account_number),
        "sealed, not plain"
    );
    let opened = t
        .keys
        .decrypt(
            &Sealed::from_bytes(&sealed).unwrap(),
            &roster_app::secrets::person_financial(t.world.acme.id, person),
        )
        .unwrap();
    let financial: serde_json::Value = serde_json::from_slice(opened.expose_secret()).unwrap();
    let fund = &t.company.super_funds[sample.super_membership.as_ref().unwrap().fund];
    assert_eq!(financial["super_fund_name"], json!(fund.name));
    assert_eq!(
        financial["super_fund_type"],
        if fund.kind.xero_code() == "SMSF" {
            "smsf"
        } else {
            "regulated"
        }
    );
    assert_eq!(financial["bank_account_number"], json!(bank.account_number));

    // Nothing changed in Xero since: one filtered listing with If-Modified-Since, no
    // detail read, no row or audit event written.
    let synced_at = row_times(&t, person).await;
    let details = t.fakes.xero.calls().count("xero.employee");
    let listings = t.fakes.xero.calls().count("xero.employees");
    t.clock.advance(Duration::minutes(1));
    let third = pull(&t, person).await;
    third.assert_status(200);
    assert_eq!(third.body["changed"], false, "{}", third.text);
    assert_eq!(pull_events(&t).await, 2, "no audit event for a no-op");
    assert_eq!(row_times(&t, person).await, synced_at, "no row written");
    assert_eq!(t.fakes.xero.calls().count("xero.employee"), details);
    assert_eq!(t.fakes.xero.calls().count("xero.employees"), listings + 1);
}

#[tokio::test]
async fn a_failed_pull_changes_nothing() {
    let t = spawn().await;
    connect_xero(&t).await;
    let sample = full_record(&t);
    let person = add_person(&t, "Payroll", "Person", None).await;
    map_xero(&t, person, sample.xero_employee_id.unwrap()).await;
    t.fakes.xero.inject(Fault::Status {
        operation: "xero.employee".into(),
        status: 500,
        times: 20,
    });
    pull(&t, person).await.assert_problem(502, "provider_error");
    assert_eq!(pull_events(&t).await, 0);
    assert_eq!(row_times(&t, person).await, None);
}

#[tokio::test]
async fn a_pull_needs_a_linked_person_a_connection_and_manage_people() {
    let t = spawn().await;
    let unlinked = add_person(&t, "Not", "Linked", None).await;
    let linked = add_person(&t, "Is", "Linked", None).await;
    map_xero(&t, linked, full_record(&t).xero_employee_id.unwrap()).await;
    pull(&t, linked).await.assert_problem(409, "not_connected");
    connect_xero(&t).await;
    let refused = pull(&t, unlinked).await;
    refused.assert_problem(400, "not_linked");
    assert!(refused.text.contains("not linked"), "{}", refused.text);

    let path = format!("/api/people/{linked}/xero-sync");
    t.post(&path)
        .send()
        .await
        .assert_problem(401, "unauthenticated");
    for level in ["head", "manager", "lead", "employee"] {
        t.post(&path)
            .as_user(t.world.at(level))
            .send()
            .await
            .assert_problem(403, "forbidden");
    }
    t.post(&path)
        .as_user(&t.world.globex_employee)
        .send()
        .await
        .assert_problem(403, "forbidden");
    t.post(&path)
        .as_user(&t.world.globex_exec)
        .send()
        .await
        .assert_problem(404, "not_found");
    for bad in ["nope".to_owned(), PersonId::new().to_string()] {
        t.post(&format!("/api/people/{bad}/xero-sync"))
            .as_user(t.world.at("executive"))
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    assert_eq!(pull_events(&t).await, 0);
}
