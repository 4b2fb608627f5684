use reqwest::StatusCode;
use roster_fakes::remote::{Environment, Limits, RemoteFake};
use serde_json::Value;

use crate::support::{clock, company, http};

const LIVE: &str = "ra_live_demo0123456789";
const TEST: &str = "ra_test_demo0123456789";

async fn get(fake: &RemoteFake, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", fake.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn status(fake: &RemoteFake, token: &str, path: &str) -> StatusCode {
    get(fake, token, path).await.status()
}

async fn get_json(fake: &RemoteFake, token: &str, path: &str) -> Value {
    get(fake, token, path).await.json().await.unwrap()
}

#[tokio::test]
async fn each_host_accepts_only_its_own_token_prefix() {
    let (_, clock) = clock();
    let prod = RemoteFake::start(company(), clock.clone()).await.unwrap();
    let sandbox = RemoteFake::start_sandbox(company(), clock).await.unwrap();
    assert_eq!(prod.environment(), Environment::Production);
    let identity = get(&prod, LIVE, "/v1/identity/current").await;
    assert_eq!(
        identity.status(),
        StatusCode::CREATED,
        "Remote's identity check answers 201"
    );
    let body: Value = identity.json().await.unwrap();
    assert_eq!(body["data"]["company"]["id"], prod.company_id());
    for (fake, token) in [
        (&prod, TEST),
        (&sandbox, LIVE),
        (&prod, "ra_live_invalid"),
        (&prod, "ra_live_"),
    ] {
        let refused = get(fake, token, "/v1/identity/current").await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert!(refused.json::<Value>().await.unwrap()["message"].is_string());
    }
    assert_eq!(
        status(&sandbox, TEST, "/v1/identity/current").await,
        StatusCode::CREATED
    );
    prod.revoke(LIVE);
    assert_eq!(
        status(&prod, LIVE, "/v1/identity/current").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn employments_page_in_remotes_envelope_and_filter_by_status() {
    let (_, clock) = clock();
    let company = company();
    let fake = RemoteFake::start_with(
        company.clone(),
        clock,
        Environment::Production,
        Limits { per_minute: 1_000 },
    )
    .await
    .unwrap();
    let remote: Vec<_> = company
        .people
        .iter()
        .filter(|p| p.remote_employment_id.is_some())
        .collect();
    assert!(remote.len() > 10);
    let mut seen = 0;
    let mut page = 1;
    loop {
        let body: Value = get_json(
            &fake,
            LIVE,
            &format!("/v1/employments?page={page}&page_size=5"),
        )
        .await;
        let data = &body["data"];
        assert_eq!(data["total_count"], remote.len());
        seen += data["employments"].as_array().unwrap().len();
        if data["current_page"].as_u64() >= data["total_pages"].as_u64() {
            break;
        }
        page += 1;
    }
    assert_eq!((seen, page), (remote.len(), remote.len().div_ceil(5)));
    let default: Value = get_json(&fake, LIVE, "/v1/employments").await;
    assert_eq!(
        default["data"]["employments"].as_array().unwrap().len(),
        remote.len().min(20),
        "page_size defaults to 20"
    );

    let active: Value = get_json(&fake, LIVE, "/v1/employments?status=active&page_size=100").await;
    assert_eq!(
        active["data"]["total_count"],
        remote.iter().filter(|p| p.is_active).count()
    );
    let archived: Value = get_json(&fake, LIVE, "/v1/employments?status=archived").await;
    assert!(archived["data"]["total_count"].as_u64().unwrap() >= 1);
    assert_eq!(
        status(&fake, LIVE, "/v1/employments?status=sleeping").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn fixed_window_of_twenty_with_reset_in_milliseconds() {
    let (manual, clock) = clock();
    let fake = RemoteFake::start(company(), clock).await.unwrap();
    let first = get(&fake, LIVE, "/v1/identity/current").await;
    assert_eq!(first.headers()["x-ratelimit-count"], "1");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "19");
    assert_eq!(first.headers()["x-ratelimit-reset"], "60000");
    manual.advance(chrono::Duration::seconds(15));
    for _ in 1..20 {
        assert_eq!(
            status(&fake, LIVE, "/v1/identity/current").await,
            StatusCode::CREATED
        );
    }
    let limited = get(&fake, LIVE, "/v1/identity/current").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(
        limited.headers()["x-ratelimit-reset"],
        "45000",
        "the window opened at the first call"
    );
    assert!(limited.json::<Value>().await.unwrap()["message"].is_string());
    manual.advance(chrono::Duration::seconds(45));
    assert_eq!(
        status(&fake, LIVE, "/v1/identity/current").await,
        StatusCode::CREATED
    );
}
