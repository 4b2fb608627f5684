//! The demo's control API over HTTP: a leaver, a return, a new manager and a fault, each seen
//! in what the fakes then serve.

use reqwest::StatusCode;
use roster_fakes::FakeProviders;
use roster_fakes::google::SCOPE_DIRECTORY_USER_READONLY;
use serde_json::{Value, json};

use crate::support::{clock, company, fetch_json, http, send};

const TOKEN: &str = "pk-demo-token";

async fn productive_person(fakes: &FakeProviders, email: &str) -> Value {
    let page = fetch_json(
        http()
            .get(format!(
                "{}/people?filter[email]={email}&include=manager",
                fakes.productive.api_url()
            ))
            .header("x-auth-token", TOKEN)
            .header("x-organization-id", fakes.productive.organization_id()),
    )
    .await;
    page["data"][0].clone()
}

async fn productive_people_status(fakes: &FakeProviders, page: u32) -> StatusCode {
    send(
        http()
            .get(format!(
                "{}/people?page[number]={page}",
                fakes.productive.api_url()
            ))
            .header("x-auth-token", TOKEN)
            .header("x-organization-id", fakes.productive.organization_id()),
    )
    .await
    .status()
}

async fn xero_status(fakes: &FakeProviders, token: &str, employee: &str) -> Value {
    let body = fetch_json(
        http()
            .get(format!("{}/Employees/{employee}", fakes.xero.payroll_url()))
            .bearer_auth(token)
            .header("xero-tenant-id", fakes.xero.tenant_id().to_string())
            .header("accept", "application/json"),
    )
    .await;
    body["Employees"][0]["Status"].clone()
}

async fn google_suspended(fakes: &FakeProviders, token: &str, email: &str) -> Value {
    let body = fetch_json(
        http()
            .get(format!(
                "{}/users?customer=my_customer&maxResults=500",
                fakes.google.directory_url()
            ))
            .bearer_auth(token),
    )
    .await;
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["primaryEmail"] == email)
        .map_or(Value::Null, |u| u["suspended"].clone())
}

async fn control(
    fakes: &FakeProviders,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = http().request(method, format!("{}{path}", fakes.control_url()));
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = send(request).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_leaver_is_inactive_terminated_and_suspended_until_they_return() {
    let (_, clock) = clock();
    let fakes = FakeProviders::start(company(), clock).await.unwrap();
    let company = company();
    let who = company
        .people
        .iter()
        .find(|p| {
            p.is_active
                && p.productive_id.is_some()
                && p.xero_employee_id.is_some()
                && p.google_id.is_some()
        })
        .unwrap();
    let email = who.email.clone().unwrap();
    let employee = who.xero_employee_id.unwrap().to_string();
    let xero = fakes
        .xero
        .issue_tokens("ROSTERDEMO", "offline_access payroll.employees.read")
        .access_token;
    let google = fakes.google.issue_access_token(
        company.google_admin().email.as_deref(),
        &[SCOPE_DIRECTORY_USER_READONLY],
    );
    assert_eq!(
        productive_person(&fakes, &email).await["attributes"]["deactivated_at"],
        Value::Null
    );
    assert_eq!(xero_status(&fakes, &xero, &employee).await, "ACTIVE");
    assert_eq!(google_suspended(&fakes, &google, &email).await, false);

    let (status, body) = control(
        &fakes,
        reqwest::Method::POST,
        &format!("/people/{email}/leave"),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ok": true})));
    assert!(
        productive_person(&fakes, &email).await["attributes"]["deactivated_at"].is_string(),
        "inactive in Productive"
    );
    assert_eq!(xero_status(&fakes, &xero, &employee).await, "TERMINATED");
    assert_eq!(google_suspended(&fakes, &google, &email).await, true);

    let (status, _) = control(
        &fakes,
        reqwest::Method::POST,
        &format!("/people/{email}/return"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        productive_person(&fakes, &email).await["attributes"]["deactivated_at"],
        Value::Null
    );
    assert_eq!(xero_status(&fakes, &xero, &employee).await, "ACTIVE");
    assert_eq!(google_suspended(&fakes, &google, &email).await, false);

    for path in [
        "/people/nobody@nowhere.test/leave",
        "/people/nobody@nowhere.test/return",
    ] {
        let (status, body) = control(&fakes, reqwest::Method::POST, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["ok"], false);
    }
}

#[tokio::test]
async fn a_new_manager_even_in_a_cycle_is_what_productive_serves() {
    let (_, clock) = clock();
    let fakes = FakeProviders::start(company(), clock).await.unwrap();
    let company = company();
    let mut staff = company
        .people
        .iter()
        .filter(|p| p.is_active && p.productive_id.is_some() && p.email.is_some());
    let (a, b) = (staff.next().unwrap(), staff.next().unwrap());
    let (a_email, b_email) = (a.email.clone().unwrap(), b.email.clone().unwrap());
    for (who, manager) in [(&a_email, &b_email), (&b_email, &a_email)] {
        let (status, body) = control(
            &fakes,
            reqwest::Method::PUT,
            &format!("/people/{who}/manager"),
            Some(&json!({"manager_email": manager}).to_string()),
        )
        .await;
        assert_eq!((status, body["ok"].clone()), (StatusCode::OK, json!(true)));
    }
    let a_row = productive_person(&fakes, &a_email).await;
    let b_row = productive_person(&fakes, &b_email).await;
    assert_eq!(a_row["relationships"]["manager"]["data"]["id"], b_row["id"]);
    assert_eq!(b_row["relationships"]["manager"]["data"]["id"], a_row["id"]);

    let manager = format!("/people/{a_email}/manager");
    for body in [
        "not json",
        "{}",
        r#"{"manager_email": 7}"#,
        r#"{"manager_email": "x@y.test", "extra": 1}"#,
    ] {
        let (status, _) = control(&fakes, reqwest::Method::PUT, &manager, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let unknown_manager = json!({"manager_email": "nobody@nowhere.test"}).to_string();
    let (status, _) = control(
        &fakes,
        reqwest::Method::PUT,
        &manager,
        Some(&unknown_manager),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = control(
        &fakes,
        reqwest::Method::PUT,
        "/people/nobody@nowhere.test/manager",
        Some(&json!({"manager_email": a_email}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_fault_fails_its_page_so_many_times_or_until_cleared() {
    let (_, clock) = clock();
    let fakes = FakeProviders::start(company(), clock).await.unwrap();
    let fault = json!({"provider": "productive", "operation": "people", "page": 2, "status": 500, "times": 1});
    let (status, _) = control(
        &fakes,
        reqwest::Method::POST,
        "/faults",
        Some(&fault.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(productive_people_status(&fakes, 1).await, StatusCode::OK);
    assert_eq!(
        productive_people_status(&fakes, 2).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        productive_people_status(&fakes, 2).await,
        StatusCode::OK,
        "once"
    );

    let every_page = json!({"provider": "productive", "operation": "people", "status": 503});
    control(
        &fakes,
        reqwest::Method::POST,
        "/faults",
        Some(&every_page.to_string()),
    )
    .await;
    for page in [1, 2, 3, 1] {
        assert_eq!(
            productive_people_status(&fakes, page).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    let (status, body) = control(&fakes, reqwest::Method::DELETE, "/faults", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ok": true})));
    assert_eq!(productive_people_status(&fakes, 1).await, StatusCode::OK);

    for bad in [
        json!({"provider": "jira", "operation": "people", "status": 500}),
        json!({"provider": "productive", "operation": "people", "status": 200}),
        json!({"provider": "productive", "status": 500}),
        json!({"provider": "productive", "operation": "people", "status": 500, "page": "two"}),
    ] {
        let (status, body) = control(
            &fakes,
            reqwest::Method::POST,
            "/faults",
            Some(&bad.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["ok"], false);
    }
    assert_eq!(productive_people_status(&fakes, 1).await, StatusCode::OK);
}
