use reqwest::StatusCode;
use roster_fakes::scrapin::{Limits, ScrapinFake, ops};
use serde_json::{Value, json};

use crate::support::{clock, company, fetch_json, http};

const KEY: &str = "demo_key_123";

async fn profile(fake: &ScrapinFake, path: &str, key: &str, url: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", fake.base_url()))
        .query(&[("apikey", key), ("linkedInUrl", url)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn profile_lookup_spends_a_credit_and_reports_counters() {
    let (_, clock) = clock();
    let company = company();
    let fake = ScrapinFake::start(company.clone(), clock).await.unwrap();
    let person = company
        .people
        .iter()
        .find(|p| p.linkedin_url.is_some())
        .unwrap();
    let url = person.linkedin_url.as_deref().unwrap();
    // Without `cacheDuration` every lookup of the same profile spends a full credit.
    for lookup in 1..=2 {
        let response = profile(&fake, "/v1/enrichment/profile", KEY, url).await;
        assert_eq!(response.status(), StatusCode::OK, "lookup {lookup}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], true);
        assert_eq!(body["credits_consumed"], 1.0);
        assert_eq!(body["person"]["linkedInUrl"], url);
        assert_eq!(body["person"]["lastName"], person.last_name.as_str());
        for counter in [
            "credits_left",
            "rate_limit_left",
            "daily_rate_limit_left",
            "minute_rate_limit_left",
            "next_minute_rate_limit_reset",
        ] {
            assert!(body.get(counter).is_some(), "{counter}");
        }
    }
    assert!(
        (fake.credits(KEY) - 998.0).abs() < f64::EPSILON,
        "two credits spent"
    );
    assert_eq!(fake.calls().count(ops::PROFILE), 2);
}

#[tokio::test]
async fn bad_key_no_credits_unknown_profile_and_throttling_have_their_statuses() {
    let (manual, clock) = clock();
    let company = company();
    let fake = ScrapinFake::start_with(
        company.clone(),
        clock,
        Limits {
            per_minute: 2,
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    let url = company
        .people
        .iter()
        .find_map(|p| p.linkedin_url.clone())
        .unwrap();
    assert_eq!(
        profile(&fake, "/v1/enrichment/profile", "invalid_key", &url)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        http()
            .get(format!(
                "{}/v1/enrichment/profile?linkedInUrl={url}",
                fake.base_url()
            ))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let unknown = profile(
        &fake,
        "/v1/enrichment/profile",
        KEY,
        "https://www.linkedin.com/in/nobody-here",
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["success"], false);
    fake.set_credits(KEY, 0.0);
    assert_eq!(
        profile(&fake, "/v1/enrichment/profile", KEY, &url)
            .await
            .status(),
        StatusCode::PAYMENT_REQUIRED
    );
    let limited = profile(&fake, "/v1/enrichment/profile", KEY, &url).await;
    assert_eq!(
        limited.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "two calls a minute"
    );
    assert_eq!(limited.headers()["retry-after"], "60");
    manual.advance(chrono::Duration::seconds(60));
    assert_eq!(
        profile(&fake, "/v1/enrichment/profile", KEY, &url)
            .await
            .status(),
        StatusCode::PAYMENT_REQUIRED
    );
    fake.set_credits(KEY, 5.0);
    let cached = http()
        .get(format!("{}/v1/enrichment/profile", fake.base_url()))
        .query(&[
            ("apikey", KEY),
            ("linkedInUrl", url.as_str()),
            ("cacheDuration", "4d"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        cached.json::<Value>().await.unwrap()["credits_consumed"],
        0.5
    );
}

#[tokio::test]
async fn alert_url_is_stored_per_key_and_must_be_https() {
    let (_, clock) = clock();
    let fake = ScrapinFake::start(company(), clock).await.unwrap();
    let url = format!("{}/v1/alerts/url?apikey={KEY}", fake.base_url());
    let empty: Value = fetch_json(http().get(&url)).await;
    assert_eq!(empty, json!({"success": true, "alert": null}));
    let plain = http()
        .post(&url)
        .json(&json!({"url": "http://roster.test/hooks/scrapin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    let set: Value = fetch_json(
        http()
            .post(&url)
            .json(&json!({"url": "https://roster.test/hooks/scrapin", "status": "active"})),
    )
    .await;
    assert_eq!(set["alert"]["status"], "active");
    let got: Value = fetch_json(http().get(&url)).await;
    assert_eq!(got["alert"]["url"], "https://roster.test/hooks/scrapin");
    let delivery = fake.change_alert_body(3);
    assert!(delivery["subscriptionId"].is_string() && delivery["data"]["person"].is_object());
}
