use std::collections::HashMap;
use std::time::Duration;

use roster_domain::{Clock, Provider};
use roster_fakes::Fault;
use roster_fakes::xero::{Limits, XeroFake};
use roster_providers::{
    ErrorKind, HttpConfig, Pkce, RatePolicy, XeroApp, XeroClient, XeroTenantAccess,
    join_super_funds,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::support::{World, assert_no_secret, urls};

const CLIENT_ID: &str = "roster-test-client";
const SCOPES: &str = "offline_access payroll.employees.read payroll.settings.read";

struct Xero {
    world: World,
    fake: XeroFake,
    client: XeroClient,
    access: SecretString,
    refresh: SecretString,
}

impl Xero {
    async fn start(size: usize) -> Self {
        Self::start_with(World::new(size), None).await
    }

    async fn start_with(world: World, secret: Option<&str>) -> Self {
        let fake = XeroFake::start(world.company.clone(), world.shared_clock())
            .await
            .unwrap();
        let app = XeroApp {
            client_id: CLIENT_ID.into(),
            client_secret: secret.map(|s| SecretString::from(s.to_owned())),
            redirect_uri: Url::parse("http://localhost:8080/callback").unwrap(),
            scopes: vec![],
        };
        let client = XeroClient::new(world.http.clone(), &urls(&fake.base_url()), app);
        let tokens = fake.issue_tokens(CLIENT_ID, SCOPES);
        Self {
            access: SecretString::from(tokens.access_token),
            refresh: SecretString::from(tokens.refresh_token.unwrap()),
            world,
            fake,
            client,
        }
    }

    fn access(&self) -> XeroTenantAccess<'_> {
        XeroTenantAccess {
            access_token: &self.access,
            tenant_id: self.fake.tenant_id(),
        }
    }

    fn payroll_people(&self) -> usize {
        self.world
            .company
            .people
            .iter()
            .filter(|p| p.xero_employee_id.is_some())
            .count()
    }
}

#[tokio::test]
async fn xero_lists_every_employee_over_several_pages() {
    let x = Xero::start(250).await;
    let employees = x.client.employees(&x.access(), None).await.unwrap();
    let expected = x.payroll_people();
    assert_eq!(employees.len(), expected);
    assert!(expected > 200, "three pages at least");
    let pages = expected / 100 + 1;
    assert_eq!(x.fake.calls().count("xero.employees"), pages as u64);
    assert_eq!(x.fake.calls().rejected("xero.employees"), 0);
    let ids: std::collections::HashSet<_> = employees.iter().map(|e| e.employee_id).collect();
    assert_eq!(ids.len(), expected, "no employee twice");
}

#[tokio::test]
async fn xero_detail_joins_super_memberships_to_fund_names() {
    let x = Xero::start(30).await;
    let person = x
        .world
        .company
        .people
        .iter()
        .find(|p| p.super_membership.is_some() && p.xero_employee_id.is_some())
        .unwrap();
    let employee = x
        .client
        .employee(&x.access(), person.xero_employee_id.unwrap())
        .await
        .unwrap();
    assert_eq!(employee.first_name, person.first_name);
    assert_eq!(employee.date_of_birth, Some(person.date_of_birth));
    let funds = x.client.super_funds(&x.access()).await.unwrap();
    assert_eq!(funds.len(), x.world.company.super_funds.len());
    let joined = join_super_funds(&employee, &funds);
    let sample = &x.world.company.super_funds[person.super_membership.as_ref().unwrap().fund];
    assert_eq!(joined[0].fund_name.as_deref(), Some(sample.name.as_str()));
    assert_eq!(
        joined[0].member_number,
        person.super_membership.as_ref().unwrap().member_number
    );
    assert!(joined[0].fund_type.is_some());
}

#[tokio::test]
async fn xero_if_modified_since_returns_only_changed_employees() {
    let x = Xero::start(120).await;
    let mut updated: Vec<_> = x
        .world
        .company
        .people
        .iter()
        .filter(|p| p.xero_employee_id.is_some())
        .map(|p| p.updated_at)
        .collect();
    updated.sort();
    let since = updated[updated.len() / 2];
    let want = updated.iter().filter(|u| **u > since).count();
    let changed = x.client.employees(&x.access(), Some(since)).await.unwrap();
    assert_eq!(changed.len(), want);
    assert!(want < updated.len());
}

#[tokio::test]
async fn xero_code_exchange_with_pkce_reaches_the_tenant() {
    let x = Xero::start(10).await;
    let pkce = Pkce::generate();
    let url = x.client.authorize_url("state-123", &pkce);
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], "state-123");
    // The fake consents at once and redirects with the code.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = plain.get(url).send().await.unwrap();
    let location = Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    let tokens = x
        .client
        .exchange_code(&code, pkce.verifier())
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    let tenants = x.client.connections(&tokens.access_token).await.unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].tenant_id, x.fake.tenant_id());
    assert_eq!(tenants[0].tenant_name, x.world.company.name);

    // A code is single use.
    let again = x
        .client
        .exchange_code(&code, pkce.verifier())
        .await
        .unwrap_err();
    assert!(again.is_needs_reauth(), "{again}");
    assert_no_secret(&again, &[&code, pkce.verifier().expose_secret()]);
}

#[tokio::test]
async fn xero_refresh_token_used_after_rotation_works_within_grace_then_fails() {
    let x = Xero::start(10).await;
    let first = x.client.refresh(&x.refresh).await.unwrap();
    let rotated = first.refresh_token.clone().unwrap();
    assert_ne!(
        rotated.expose_secret(),
        x.refresh.expose_secret(),
        "a refresh returns a new refresh token"
    );

    // The answer was "lost": the old token may be retried within 30 minutes.
    x.world.advance(chrono::Duration::minutes(29));
    let retried = x.client.refresh(&x.refresh).await.unwrap();
    assert!(retried.refresh_token.is_some());

    // Past the grace period it is dead: needs re-authorization, and it is not retried.
    x.world.advance(chrono::Duration::minutes(2));
    let calls_before = x.fake.calls().count("xero.token");
    let err = x.client.refresh(&x.refresh).await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(err.api_code(), "needs_reauth");
    assert!(
        !err.is_access_token_expired(),
        "a dead grant, not an expired access token"
    );
    assert_eq!(err.status, Some(400));
    assert_eq!(
        x.fake.calls().count("xero.token") - calls_before,
        1,
        "invalid_grant is final"
    );
    assert_no_secret(&err, &[x.refresh.expose_secret(), rotated.expose_secret()]);

    // The rotated token still works.
    assert!(x.client.refresh(&rotated).await.is_ok());
}

#[tokio::test]
async fn xero_expired_access_token_needs_reauth() {
    let x = Xero::start(10).await;
    x.world.advance(chrono::Duration::minutes(31));
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(err.status, Some(401));
    assert!(err.is_access_token_expired(), "{err:?}");
    assert_no_secret(&err, &[x.access.expose_secret()]);
    // A refresh brings it back.
    let fresh = x.client.refresh(&x.refresh).await.unwrap();
    let access = XeroTenantAccess {
        access_token: &fresh.access_token,
        tenant_id: x.fake.tenant_id(),
    };
    assert!(x.client.employees(&access, None).await.is_ok());
}

#[tokio::test]
async fn xero_revoked_grant_needs_reauth_everywhere() {
    let x = Xero::start(10).await;
    x.client.revoke(&x.refresh).await.unwrap();
    let listing = x.client.employees(&x.access(), None).await.unwrap_err();
    assert!(listing.is_needs_reauth(), "{listing}");
    let refresh = x.client.refresh(&x.refresh).await.unwrap_err();
    assert!(refresh.is_needs_reauth(), "{refresh}");
    assert_no_secret(
        &refresh,
        &[x.refresh.expose_secret(), x.access.expose_secret()],
    );
}

#[tokio::test]
async fn xero_disconnected_tenant_needs_reauth() {
    let x = Xero::start(10).await;
    x.fake.disconnect_tenant();
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(err.status, Some(403));
}

#[tokio::test]
async fn xero_429_retry_after_is_waited_on_the_manual_clock() {
    let x = Xero::start(10).await;
    x.fake.inject(Fault::RateLimitBurst {
        operation: "xero.employees".into(),
        times: 1,
        retry_after_secs: 7,
    });
    let start = x.world.clock.now();
    let employees = x.client.employees(&x.access(), None).await.unwrap();
    assert_eq!(employees.len(), x.payroll_people());
    assert!(
        x.world.sleeper.sleeps().contains(&Duration::from_secs(7)),
        "{:?}",
        x.world.sleeper.sleeps()
    );
    assert!(x.world.clock.now() - start >= chrono::Duration::seconds(7));
    assert_eq!(
        x.fake.calls().count("xero.employees"),
        2,
        "one refusal, one retry"
    );
}

#[tokio::test]
async fn xero_rate_limit_that_outlasts_the_budget_is_rate_limited() {
    let x = Xero::start(10).await;
    x.fake.inject(Fault::RateLimitBurst {
        operation: "xero.employees".into(),
        times: 1,
        retry_after_secs: 86_400,
    });
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    assert_eq!(err.api_code(), "rate_limited");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(86_400)));
    assert!(
        x.world.sleeper.sleeps().is_empty(),
        "a wait past the budget is reported, not slept"
    );
}

#[tokio::test]
async fn xero_5xx_is_retried_then_becomes_provider_error() {
    let x = Xero::start(10).await;
    x.fake.inject(Fault::Status {
        operation: "xero.employees".into(),
        status: 503,
        times: 2,
    });
    assert!(
        x.client.employees(&x.access(), None).await.is_ok(),
        "two 503s then success"
    );
    assert_eq!(x.fake.calls().count("xero.employees"), 3);

    x.fake.inject(Fault::Status {
        operation: "xero.employees".into(),
        status: 500,
        times: 100,
    });
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    assert_eq!(err.api_code(), "provider_error");
    assert_eq!(err.status, Some(500));
    assert_eq!(err.provider, Provider::Xero);
    assert_eq!(err.operation, "xero.employees");
    assert_eq!(
        x.fake.calls().count("xero.employees"),
        3 + 5,
        "five attempts, then give up"
    );
    // Backoff waits went through the sleeper, growing.
    let sleeps = x.world.sleeper.sleeps();
    assert!(
        sleeps.len() >= 4 && sleeps.windows(2).all(|w| w[1] >= w[0] / 2),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn xero_failed_page_fails_the_whole_listing() {
    let x = Xero::start(250).await;
    x.fake.inject(Fault::FailPage {
        operation: "xero.employees".into(),
        page: 2,
        status: 404,
    });
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    assert_eq!(err.status, Some(404));
    assert!(!err.is_transient());
}

#[tokio::test]
async fn xero_malformed_body_names_the_field() {
    let x = Xero::start(10).await;
    x.fake.inject(Fault::MalformedBody {
        operation: "xero.employees".into(),
        times: 1,
    });
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    match &err.kind {
        ErrorKind::Malformed { field, .. } => assert_eq!(field, "Employees[0].EmployeeID"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.api_code(), "provider_error");
}

#[tokio::test]
async fn xero_client_paces_itself_under_the_minute_limit_without_a_429() {
    let mut config = HttpConfig::default();
    let mut policy = RatePolicy::for_provider(Provider::Xero);
    policy.windows = vec![(2, Duration::from_secs(60))];
    config.rate_policies.insert(Provider::Xero, policy);
    let x = Xero::start_with(World::with_config(250, config), None).await;
    x.fake.set_limits(Limits {
        per_minute: 2,
        ..Limits::default()
    });
    let start = x.world.clock.now();
    let employees = x.client.employees(&x.access(), None).await.unwrap();
    assert_eq!(employees.len(), x.payroll_people());
    assert_eq!(
        x.fake.calls().rejected("xero.employees"),
        0,
        "never refused"
    );
    // Three pages at two a minute: the third waits for the window.
    assert!(x.world.clock.now() - start >= chrono::Duration::seconds(60));
}

#[tokio::test]
async fn xero_secret_client_and_tokens_never_show_in_errors() {
    let canary = "CANARY-xero-client-secret-5f1d";
    let x = Xero::start_with(World::new(10), Some(canary)).await;
    // Issued for the same client id: the fake checks the id, and Basic auth carries the secret.
    let mut errors = Vec::new();
    errors.push(
        x.client
            .refresh(&SecretString::from("CANARY-refresh-token-9a8b"))
            .await
            .unwrap_err(),
    );
    x.fake.inject(Fault::Status {
        operation: "xero.employees".into(),
        status: 500,
        times: 100,
    });
    errors.push(x.client.employees(&x.access(), None).await.unwrap_err());
    x.fake.clear_faults();
    x.fake.inject(Fault::MalformedBody {
        operation: "xero.employees".into(),
        times: 1,
    });
    errors.push(x.client.employees(&x.access(), None).await.unwrap_err());
    let bad = SecretString::from("CANARY-access-token-77");
    errors.push(
        x.client
            .employees(
                &XeroTenantAccess {
                    access_token: &bad,
                    tenant_id: x.fake.tenant_id(),
                },
                None,
            )
            .await
            .unwrap_err(),
    );
    for err in &errors {
        assert_no_secret(
            err,
            &[
                canary,
                "CANARY",
                x.access.expose_secret(),
                x.refresh.expose_secret(),
            ],
        );
    }
}

#[tokio::test]
async fn xero_slow_answer_times_out() {
    let config = HttpConfig {
        request_timeout: Duration::from_millis(150),
        max_attempts: 2,
        ..HttpConfig::default()
    };
    let x = Xero::start_with(World::with_config(10, config), None).await;
    x.fake.inject(Fault::Slow {
        operation: "xero.employees".into(),
        delay: Duration::from_secs(2),
        times: 2,
    });
    let err = x.client.employees(&x.access(), None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(err.api_code(), "provider_error");
    assert!(err.is_transient());
}

#[tokio::test]
async fn xero_logs_and_spans_never_carry_secrets() {
    let (logs, _guard) = crate::support::capture_logs();
    let canary = "CANARY-xero-secret-logs";
    let x = Xero::start_with(World::new(10), Some(canary)).await;
    let _ = x
        .client
        .refresh(&SecretString::from("CANARY-refresh-logs"))
        .await;
    x.fake.inject(Fault::Status {
        operation: "xero.employees".into(),
        status: 503,
        times: 2,
    });
    x.fake.inject(Fault::RateLimitBurst {
        operation: "xero.employees".into(),
        times: 1,
        retry_after_secs: 1,
    });
    x.client.employees(&x.access(), None).await.unwrap();
    let text = logs.text();
    assert!(
        text.contains("provider_call"),
        "spans were captured: {text}"
    );
    assert!(text.contains("xero.employees"));
    for secret in [
        canary,
        "CANARY",
        x.access.expose_secret(),
        x.refresh.expose_secret(),
    ] {
        assert!(!text.contains(secret), "{secret} leaked into logs");
    }
}

#[tokio::test]
async fn xero_concurrent_detail_calls_stay_within_five_in_flight() {
    let x = Xero::start(40).await;
    let ids: Vec<_> = x
        .world
        .company
        .people
        .iter()
        .filter_map(|p| p.xero_employee_id)
        .take(12)
        .collect();
    // Slow answers make the calls overlap for real; the fake refuses a sixth in flight.
    x.fake.inject(Fault::Slow {
        operation: "xero.employee".into(),
        delay: Duration::from_millis(40),
        times: 12,
    });
    let access = x.access();
    let calls = ids.iter().map(|id| x.client.employee(&access, *id));
    let employees = futures::future::join_all(calls).await;
    assert!(employees.iter().all(Result::is_ok), "{employees:?}");
    assert_eq!(x.fake.calls().count("xero.employee"), 12);
    assert_eq!(
        x.fake.calls().rejected("xero.employee"),
        0,
        "never over Xero's concurrency limit"
    );
}

#[tokio::test]
async fn xero_requests_fit_the_published_specs() {
    use crate::request_contract::{load_yaml, openapi_violations};
    let x = Xero::start(150).await;
    let since = x.world.clock.now() - chrono::Duration::days(30);
    x.client.connections(&x.access).await.unwrap();
    let employees = x.client.employees(&x.access(), None).await.unwrap();
    x.client.employees(&x.access(), Some(since)).await.unwrap();
    x.client
        .employee(&x.access(), employees[0].employee_id)
        .await
        .unwrap();
    x.client.super_funds(&x.access()).await.unwrap();
    let seen = x.fake.calls().requests();
    let (identity, payroll): (Vec<_>, Vec<_>) = seen
        .into_iter()
        .filter(|r| {
            r.route.starts_with("/payroll.xro/") || r.route.eq_ignore_ascii_case("/connections")
        })
        .partition(|r| r.route.eq_ignore_ascii_case("/connections"));
    assert_eq!(identity.len(), 1);
    assert!(payroll.len() >= 5, "{payroll:?}");
    let mut problems = openapi_violations(
        &load_yaml("xero/xero-payroll-au.yaml"),
        "/payroll.xro/1.0",
        &payroll,
    );
    problems.extend(openapi_violations(
        &load_yaml("xero/xero-identity.yaml"),
        "",
        &identity,
    ));
    assert!(problems.is_empty(), "{problems:#?}");
}
