use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use roster_domain::ManualClock;
use roster_fakes::Fault;
use roster_fakes::xero::{Limits, XeroFake, ops};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{clock, company, fetch_json, http, minutes, redirect_param, send};

const SCOPES: &str = "openid email offline_access payroll.employees.read payroll.settings.read";
const VERIFIER: &str = "a-very-long-pkce-code-verifier-of-at-least-forty-three-characters";

/// A fake with ROSTERDEMO connected for `SCOPES`: the clock, the fake and the access token.
async fn connected() -> (ManualClock, XeroFake, String) {
    let (manual, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let token = fake.issue_tokens("ROSTERDEMO", SCOPES).access_token;
    (manual, fake, token)
}

/// A payroll request for the connected tenant, without `Accept` (so XML unless added).
fn payroll(fake: &XeroFake, token: &str, path_and_query: &str) -> reqwest::RequestBuilder {
    http()
        .get(format!("{}/{path_and_query}", fake.payroll_url()))
        .bearer_auth(token)
        .header("xero-tenant-id", fake.tenant_id().to_string())
}

async fn get(fake: &XeroFake, token: &str, path_and_query: &str) -> reqwest::Response {
    send(payroll(fake, token, path_and_query).header("accept", "application/json")).await
}

async fn status(fake: &XeroFake, token: &str, path_and_query: &str) -> StatusCode {
    get(fake, token, path_and_query).await.status()
}

async fn get_json(fake: &XeroFake, token: &str, path_and_query: &str) -> Value {
    get(fake, token, path_and_query).await.json().await.unwrap()
}

async fn refresh(fake: &XeroFake, refresh_token: &str) -> reqwest::Response {
    http()
        .post(format!("{}/connect/token", fake.identity_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "ROSTERDEMO"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn pkce_flow_issues_tokens_that_reach_the_tenant() {
    let (_, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let redirect = http()
        .get(fake.authorize_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", "ROSTERDEMO"),
            ("redirect_uri", "http://localhost:8080/callback"),
            ("scope", SCOPES),
            ("state", "xyz"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz");

    let token_url = fake.token_url();
    let exchange = |verifier: &'static str| {
        let code = params["code"].clone();
        let token_url = token_url.clone();
        async move {
            http()
                .post(token_url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", "http://localhost:8080/callback"),
                    ("client_id", "ROSTERDEMO"),
                    ("code_verifier", verifier),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let tokens: Value = exchange(VERIFIER).await.json().await.unwrap();
    assert_eq!(tokens["expires_in"], 1800);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string() && tokens["id_token"].is_string());
    let replay = exchange(VERIFIER).await;
    assert_eq!(
        replay.status(),
        StatusCode::BAD_REQUEST,
        "a code is single use"
    );
    assert_eq!(
        replay.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let access = tokens["access_token"].as_str().unwrap();
    let connections: Value = fetch_json(
        http()
            .get(format!("{}/connections", fake.api_url()))
            .bearer_auth(access),
    )
    .await;
    assert_eq!(connections[0]["tenantId"], fake.tenant_id().to_string());
    assert_eq!(connections[0]["tenantType"], "ORGANISATION");
    let created = connections[0]["createdDateUtc"].as_str().unwrap();
    assert_eq!(
        created.split('.').nth(1).map(str::len),
        Some(7),
        "seven fractional digits, no zone: {created}"
    );
    assert_eq!(status(&fake, access, "Employees").await, StatusCode::OK);
}

#[tokio::test]
async fn pkce_verifier_mismatch_is_invalid_grant() {
    let (_, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let redirect = http()
        .get(format!(
            "{}?response_type=code&client_id=ROSTERDEMO&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&scope=offline_access&code_challenge={challenge}&code_challenge_method=S256",
            fake.authorize_url()
        ))
        .send()
        .await
        .unwrap();
    let code = redirect_param(&redirect, "code");
    let response = http()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://app.test/cb"),
            ("client_id", "ROSTERDEMO"),
            ("code_verifier", "x".repeat(50).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"invalid_grant"}"#
    );
}

#[tokio::test]
async fn without_pkce_the_code_needs_the_client_secret_by_basic_auth() {
    let (_, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let code = || async {
        let redirect = http()
            .get(fake.authorize_url())
            .query(&[
                ("response_type", "code"),
                ("client_id", "WEBAPP"),
                ("redirect_uri", "https://roster.test/xero/callback"),
                ("scope", "openid offline_access payroll.employees.read"),
            ])
            .send()
            .await
            .unwrap();
        redirect_param(&redirect, "code")
    };
    let form = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            (
                "redirect_uri",
                "https://roster.test/xero/callback".to_owned(),
            ),
        ]
    };
    let without = http()
        .post(fake.token_url())
        .form(
            &[
                form(&code().await),
                vec![("client_id", "WEBAPP".to_owned())],
            ]
            .concat(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        without.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let with = http()
        .post(fake.token_url())
        .basic_auth("WEBAPP", Some("s3cret"))
        .form(&form(&code().await))
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), StatusCode::OK);
    let id_token = with.json::<Value>().await.unwrap()["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        claims.get("nonce").is_none(),
        "no nonce was sent, so none comes back"
    );
    assert_eq!(claims["email"], company().ceo().email.as_deref().unwrap());
}

#[tokio::test]
async fn authorize_refuses_plain_pkce_and_invalid_clients() {
    let (_, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let plain = http()
        .get(format!(
            "{}?response_type=code&client_id=ROSTERDEMO&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&scope=openid&state=s1&code_challenge=abc&code_challenge_method=plain",
            fake.authorize_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::FOUND);
    assert_eq!(
        plain.headers()["location"],
        "https://app.test/cb?error=invalid_request&state=s1"
    );

    let invalid = http()
        .get(format!(
            "{}?response_type=code&client_id=my-invalid-client&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&scope=openid",
            fake.authorize_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        invalid.status(),
        StatusCode::BAD_REQUEST,
        "no redirect for an unknown client"
    );
    assert!(
        invalid
            .text()
            .await
            .unwrap()
            .contains("unauthorized_client")
    );

    let token = http()
        .post(fake.token_url())
        .basic_auth("my-invalid-client", Some("secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "whatever"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        token.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_works_only_within_the_grace_period() {
    let (manual, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let first = fake.issue_tokens("ROSTERDEMO", SCOPES);
    let old = first.refresh_token.unwrap();

    let rotated: Value = refresh(&fake, &old).await.json().await.unwrap();
    let new = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old, "each refresh returns a new refresh token");

    manual.advance(minutes(29));
    assert_eq!(
        refresh(&fake, &old).await.status(),
        StatusCode::OK,
        "retry inside the 30-minute grace"
    );
    manual.advance(minutes(2));
    let late = refresh(&fake, &old).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(late.text().await.unwrap(), r#"{"error":"invalid_grant"}"#);
    assert_eq!(
        refresh(&fake, &new).await.status(),
        StatusCode::OK,
        "the rotated token still works"
    );
}

#[tokio::test]
async fn unused_refresh_tokens_die_after_sixty_days() {
    let (manual, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let a = fake
        .issue_tokens("ROSTERDEMO", SCOPES)
        .refresh_token
        .unwrap();
    let b = fake
        .issue_tokens("ROSTERDEMO", SCOPES)
        .refresh_token
        .unwrap();
    manual.advance(chrono::Duration::days(59));
    assert_eq!(refresh(&fake, &a).await.status(), StatusCode::OK);
    manual.advance(chrono::Duration::days(2));
    assert_eq!(refresh(&fake, &b).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn access_token_expires_after_thirty_minutes_with_xeros_body() {
    let (manual, fake, token) = connected().await;
    assert_eq!(status(&fake, &token, "Employees").await, StatusCode::OK);
    manual.advance(minutes(30));
    let expired = get(&fake, &token, "Employees").await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.unwrap();
    assert_eq!(body["Title"], "Unauthorized");
    assert_eq!(body["Status"], 401);
    assert_eq!(
        body["Detail"],
        "TokenExpired: token expired at 03/02/2026 09:30:00"
    );
    assert!(
        body["Type"].is_null() && body["Extensions"].is_object() && body["Instance"].is_string()
    );
}

#[tokio::test]
async fn revocation_kills_every_token_of_the_grant() {
    let (_, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let tokens = fake.issue_tokens("ROSTERDEMO", SCOPES);
    let refresh_token = tokens.refresh_token.clone().unwrap();
    let revoked = http()
        .post(format!("{}/connect/revocation", fake.identity_url()))
        .form(&[
            ("token", refresh_token.as_str()),
            ("client_id", "ROSTERDEMO"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        status(&fake, &tokens.access_token, "Employees").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&fake, &refresh_token).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn tenant_header_must_name_the_connected_tenant() {
    let (_, fake, token) = connected().await;
    for tenant in [None, Some("00000000-0000-0000-0000-000000000000")] {
        let mut request = http()
            .get(format!("{}/Employees", fake.payroll_url()))
            .bearer_auth(&token)
            .header("accept", "application/json");
        if let Some(t) = tenant {
            request = request.header("xero-tenant-id", t);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{tenant:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            (body["Title"].as_str(), body["Detail"].as_str()),
            (Some("Forbidden"), Some("AuthenticationUnsuccessful"))
        );
    }
    fake.disconnect_tenant();
    assert_eq!(
        status(&fake, &token, "Employees").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn missing_scope_is_authorization_unsuccessful() {
    let (_, clock) = clock();
    let fake = XeroFake::start(company(), clock).await.unwrap();
    let tokens = fake.issue_tokens("ROSTERDEMO", "offline_access payroll.employees.read");
    let response = get(&fake, &tokens.access_token, "Superfunds").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["Detail"],
        "AuthorizationUnsuccessful"
    );
}

#[tokio::test]
async fn employees_page_by_one_hundred_in_the_pascal_case_envelope() {
    let company = company();
    let (_, fake, token) = connected().await;
    let in_xero = company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some())
        .count();
    assert!(in_xero > 200 && in_xero < 300, "{in_xero}");
    let mut seen = 0;
    for page in 1..=4 {
        let response = get(&fake, &token, &format!("Employees?page={page}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["Status"], "OK");
        assert!(body["DateTimeUTC"].as_str().unwrap().starts_with("/Date("));
        let rows = body["Employees"].as_array().unwrap();
        assert!(rows.len() <= 100);
        seen += rows.len();
        if page == 4 {
            assert!(rows.is_empty(), "past the end is an empty page");
        }
    }
    assert_eq!(seen, in_xero);
    let first_page: Value = get_json(&fake, &token, "Employees?page=1").await;
    let row = &first_page["Employees"][0];
    assert!(row["DateOfBirth"].as_str().unwrap().ends_with("+0000)/"));
    assert!(
        row.get("HomeAddress").is_none(),
        "address needs the detail call"
    );
}

#[tokio::test]
async fn employee_detail_has_basis_address_bank_and_super_joined_to_funds() {
    let company = company();
    let (_, fake, token) = connected().await;
    let person = company
        .people
        .iter()
        .find(|p| p.super_membership.is_some() && p.home_address.is_some())
        .unwrap();
    let body: Value = get_json(
        &fake,
        &token,
        &format!("Employees/{}", person.xero_employee_id.unwrap()),
    )
    .await;
    let e = &body["Employees"][0];
    assert_eq!(
        e["TaxDeclaration"]["EmploymentBasis"],
        person.basis.xero_code()
    );
    assert_eq!(
        e["HomeAddress"]["Region"],
        person.home_address.as_ref().unwrap().region.as_str()
    );
    assert_eq!(
        e["BankAccounts"][0]["BSB"],
        person.bank_accounts[0].bsb.as_str()
    );
    let fund_id = e["SuperMemberships"][0]["SuperFundID"].as_str().unwrap();
    let funds: Value = get_json(&fake, &token, "Superfunds").await;
    assert!(
        funds["SuperFunds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["SuperFundID"] == fund_id)
    );

    let missing = get(
        &fake,
        &token,
        "Employees/4ff1e5cc-9835-40d5-bb18-09fdb118db9c",
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn where_filters_and_a_bad_where_is_an_api_exception() {
    let company = company();
    let (_, fake, token) = connected().await;
    let terminated: Value = get_json(
        &fake,
        &token,
        "Employees?where=Status%3D%3D%22TERMINATED%22",
    )
    .await;
    let expected = company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some() && p.is_leaver)
        .count();
    assert_eq!(terminated["Employees"].as_array().unwrap().len(), expected);

    let bad = get(&fake, &token, "Employees?where=hi%3D%3D%22x%22").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["ErrorNumber"], 16);
    assert_eq!(body["Type"], "QueryParseException");
    assert_eq!(
        body["Message"],
        "No property or field 'hi' exists in type 'Employee' (at index 0)"
    );
}

#[tokio::test]
async fn without_accept_json_the_payroll_api_answers_xml() {
    let (_, fake, token) = connected().await;
    let response = send(payroll(&fake, &token, "Employees")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .starts_with("<Response xmlns:i=")
    );
}

#[tokio::test]
async fn sixty_calls_a_minute_then_429_until_the_window_moves() {
    let (manual, fake, token) = connected().await;
    for i in 0..60 {
        let response = get(&fake, &token, "Superfunds").await;
        assert_eq!(response.status(), StatusCode::OK, "call {i}");
        assert_eq!(
            response.headers()["x-minlimit-remaining"],
            (59 - i).to_string().as_str()
        );
        assert!(response.headers().contains_key("x-daylimit-remaining"));
        assert!(response.headers().contains_key("x-appminlimit-remaining"));
        manual.advance(chrono::Duration::milliseconds(500));
    }
    let limited = get(&fake, &token, "Superfunds").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["x-rate-limit-problem"], "minute");
    assert_eq!(
        limited.headers()["retry-after"],
        "30",
        "the oldest call leaves the window 30 s from now"
    );
    manual.advance(chrono::Duration::seconds(30));
    assert_eq!(status(&fake, &token, "Superfunds").await, StatusCode::OK);
}

#[tokio::test]
async fn daily_limit_names_the_day_problem() {
    let (manual, clock) = clock();
    let limits = Limits {
        per_day: 3,
        ..Limits::default()
    };
    let fake = XeroFake::start_with(company(), clock, limits)
        .await
        .unwrap();
    let tokens = fake.issue_tokens("ROSTERDEMO", SCOPES);
    for _ in 0..3 {
        assert_eq!(
            status(&fake, &tokens.access_token, "Superfunds").await,
            StatusCode::OK
        );
    }
    let limited = get(&fake, &tokens.access_token, "Superfunds").await;
    assert_eq!(limited.headers()["x-rate-limit-problem"], "day");
    assert_eq!(limited.headers()["retry-after"], "86400");
    manual.advance(chrono::Duration::days(1));
    let fresh = fake.issue_tokens("ROSTERDEMO", SCOPES);
    assert_eq!(
        status(&fake, &fresh.access_token, "Superfunds").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_sixth_concurrent_call_is_refused() {
    let (_, fake, token) = connected().await;
    fake.inject(Fault::Slow {
        operation: ops::EMPLOYEES.into(),
        delay: Duration::from_millis(300),
        times: 6,
    });
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let request = payroll(&fake, &token, "Employees").header("accept", "application/json");
        calls.spawn(async move { request.send().await.unwrap().status() });
    }
    let statuses = calls.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        1
    );
    assert_eq!(fake.calls().count(ops::EMPLOYEES), 6);
    assert_eq!(fake.calls().rejected(ops::EMPLOYEES), 1);
}

#[tokio::test]
async fn injected_faults_fail_pages_statuses_and_bodies() {
    let (_, fake, token) = connected().await;
    fake.inject(Fault::FailPage {
        operation: ops::EMPLOYEES.into(),
        page: 2,
        status: 500,
    });
    assert_eq!(
        status(&fake, &token, "Employees?page=1").await,
        StatusCode::OK
    );
    assert_eq!(
        status(&fake, &token, "Employees?page=2").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        status(&fake, &token, "Employees?page=2").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    fake.clear_faults();
    assert_eq!(
        status(&fake, &token, "Employees?page=2").await,
        StatusCode::OK
    );

    fake.inject(Fault::Status {
        operation: ops::SUPERFUNDS.into(),
        status: 503,
        times: 1,
    });
    assert_eq!(
        status(&fake, &token, "Superfunds").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(status(&fake, &token, "Superfunds").await, StatusCode::OK);

    fake.inject(Fault::RateLimitBurst {
        operation: ops::SUPERFUNDS.into(),
        times: 1,
        retry_after_secs: 7,
    });
    let burst = get(&fake, &token, "Superfunds").await;
    assert_eq!(burst.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(burst.headers()["retry-after"], "7");

    fake.inject(Fault::MalformedBody {
        operation: ops::EMPLOYEES.into(),
        times: 1,
    });
    let body: Value = get_json(&fake, &token, "Employees").await;
    assert!(
        body["Employees"][0]["EmployeeID"].is_number(),
        "wrong-typed id"
    );
    assert_eq!(fake.calls().rejected(ops::SUPERFUNDS), 2);
    assert!(fake.calls().serving_time() > Duration::ZERO);
}
