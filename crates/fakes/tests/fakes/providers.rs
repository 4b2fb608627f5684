//! The six fakes together, and the sample company's cross-provider promises as they serve it.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::StatusCode;
use roster_company::SampleCompany;
use roster_fakes::FakeProviders;
use serde_json::Value;

use crate::support::{clock, company, fetch_json, http};

#[tokio::test]
async fn all_fakes_start_on_distinct_loopback_ports_and_answer() {
    let (_, clock) = clock();
    let fakes = FakeProviders::start(company(), clock).await.unwrap();
    let urls: HashSet<String> = [
        fakes.xero.base_url(),
        fakes.productive.base_url(),
        fakes.google.base_url(),
        fakes.slack.base_url(),
        fakes.remote.base_url(),
        fakes.remote_sandbox.base_url(),
        fakes.scrapin.base_url(),
    ]
    .into_iter()
    .collect();
    assert_eq!(urls.len(), 7);
    assert!(urls.iter().all(|u| u.starts_with("http://127.0.0.1:")));
    let discovery = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            fakes.google.oidc_issuer()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
    let sandbox = http()
        .get(format!(
            "{}/v1/identity/current",
            fakes.remote_sandbox.base_url()
        ))
        .bearer_auth("ra_test_x1")
        .send()
        .await
        .unwrap();
    assert_eq!(sandbox.status(), StatusCode::CREATED);
    assert_eq!(fakes.total_calls(), 2);
}

#[tokio::test]
async fn dropping_a_fake_stops_its_server() {
    let (_, clock) = clock();
    let fakes = FakeProviders::start(company(), clock).await.unwrap();
    let url = format!("{}/auth.test", fakes.slack.api_url());
    drop(fakes);
    tokio::task::yield_now().await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut refused = false;
    for _ in 0..50 {
        if client.post(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the port no longer answers");
}

#[tokio::test]
async fn the_same_work_email_is_seen_in_productive_xero_and_google() {
    let (_, clock) = clock();
    let company = Arc::new(SampleCompany::generate(5, 120));
    let fakes = FakeProviders::start(company.clone(), clock).await.unwrap();
    let productive: Value = fetch_json(
        http()
            .get(format!(
                "{}/people?page[size]=200&filter[person_type]=1",
                fakes.productive.api_url()
            ))
            .header("x-auth-token", "demo")
            .header("x-organization-id", fakes.productive.organization_id()),
    )
    .await;
    let tokens = fakes
        .xero
        .issue_tokens("ROSTERDEMO", "payroll.employees.read");
    let mut xero_rows = Vec::new();
    for page in 1..=2 {
        let body: Value = fetch_json(
            http()
                .get(format!(
                    "{}/Employees?page={page}",
                    fakes.xero.payroll_url()
                ))
                .bearer_auth(&tokens.access_token)
                .header("xero-tenant-id", fakes.xero.tenant_id().to_string())
                .header("accept", "application/json"),
        )
        .await;
        xero_rows.extend(body["Employees"].as_array().unwrap().iter().cloned());
    }
    let xero = serde_json::json!({ "Employees": xero_rows });
    let admin = company.google_admin().email.clone();
    let token = fakes.google.issue_access_token(
        admin.as_deref(),
        &[roster_fakes::google::SCOPE_DIRECTORY_USER_READONLY],
    );
    let google: Value = fetch_json(
        http()
            .get(format!(
                "{}/users?customer=my_customer&maxResults=500",
                fakes.google.directory_url()
            ))
            .bearer_auth(token),
    )
    .await;
    let emails = |rows: &Value, pointer: &str| -> HashSet<String> {
        rows.as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.pointer(pointer).and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    };
    let in_productive = emails(&productive["data"], "/attributes/email");
    let in_xero = emails(&xero["Employees"], "/Email");
    let in_google = emails(&google["users"], "/primaryEmail");
    for person in company.people.iter().filter(|p| p.email.is_some()) {
        let email = person.email.as_deref().unwrap();
        assert_eq!(
            in_productive.contains(email),
            person.productive_id.is_some(),
            "{email} in Productive"
        );
        assert_eq!(
            in_xero.contains(email),
            person.xero_employee_id.is_some(),
            "{email} in Xero"
        );
        assert_eq!(
            in_google.contains(email),
            person.google_id.is_some(),
            "{email} in Google"
        );
    }
    let everywhere = company
        .people
        .iter()
        .filter(|p| {
            p.productive_id.is_some() && p.xero_employee_id.is_some() && p.google_id.is_some()
        })
        .count();
    assert!(
        everywhere > 80,
        "most people are in all three: {everywhere}"
    );
}
