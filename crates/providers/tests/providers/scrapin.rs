use std::time::Duration;

use roster_fakes::Fault;
use roster_fakes::scrapin::ScrapinFake;
use roster_providers::{ErrorKind, ScrapinClient};
use secrecy::SecretString;

use crate::support::{World, assert_no_secret, capture_logs, urls};

const KEY: &str = "sk-CANARY-scrapin-key-0c0c";

async fn start() -> (World, ScrapinFake, ScrapinClient) {
    let world = World::new(30);
    let fake = ScrapinFake::start(world.company.clone(), world.shared_clock())
        .await
        .unwrap();
    let client = ScrapinClient::new(
        world.http.clone(),
        &urls(&fake.base_url()),
        SecretString::from(KEY),
    );
    (world, fake, client)
}

fn linkedin_person(world: &World) -> &roster_company::SamplePerson {
    world
        .company
        .people
        .iter()
        .find(|p| p.linkedin_url.is_some())
        .unwrap()
}

#[tokio::test]
async fn scrapin_enriches_a_profile_and_answers_none_for_unknown_urls() {
    let (world, _fake, client) = start().await;
    let person = linkedin_person(&world);
    let profile = client
        .profile(person.linkedin_url.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        profile.last_name.as_deref(),
        Some(person.last_name.as_str())
    );
    assert!(profile.credits_left.is_some());
    let none = client
        .profile("https://www.linkedin.com/in/nobody-at-all-123")
        .await
        .unwrap();
    assert_eq!(none, None);
}

#[tokio::test]
async fn scrapin_revoked_key_needs_reauth_and_the_key_never_shows() {
    let (logs, _guard) = capture_logs();
    let (world, fake, client) = start().await;
    fake.revoke(KEY);
    let err = client
        .profile(linkedin_person(&world).linkedin_url.as_deref().unwrap())
        .await
        .unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_no_secret(&err, &[KEY]);
    let text = logs.text();
    assert!(
        text.contains("apikey=[redacted]"),
        "the span shows the redacted URL: {text}"
    );
    assert!(!text.contains(KEY), "the key leaked into logs");
}

#[tokio::test]
async fn scrapin_out_of_credits_is_a_provider_error() {
    let (world, fake, client) = start().await;
    fake.set_credits(KEY, 0.0);
    let err = client
        .profile(linkedin_person(&world).linkedin_url.as_deref().unwrap())
        .await
        .unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(402), "provider_error"));
    assert!(
        matches!(&err.kind, ErrorKind::Upstream { detail } if detail == "out of credits"),
        "{err:?}"
    );
    assert_no_secret(&err, &[KEY]);
}

#[tokio::test]
async fn scrapin_429_retry_after_is_waited_on_the_manual_clock() {
    let (world, fake, client) = start().await;
    fake.inject(Fault::RateLimitBurst {
        operation: "scrapin.profile".into(),
        times: 1,
        retry_after_secs: 12,
    });
    assert!(
        client
            .profile(linkedin_person(&world).linkedin_url.as_deref().unwrap())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(world.sleeper.sleeps(), [Duration::from_secs(12)]);
}

#[tokio::test]
async fn scrapin_5xx_retried_then_provider_error_without_the_key() {
    let (world, fake, client) = start().await;
    fake.inject(Fault::Status {
        operation: "scrapin.profile".into(),
        status: 500,
        times: 100,
    });
    let err = client
        .profile(linkedin_person(&world).linkedin_url.as_deref().unwrap())
        .await
        .unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(500), "provider_error"));
    assert_eq!(fake.calls().count("scrapin.profile"), 5);
    assert_no_secret(&err, &[KEY]);
}

#[tokio::test]
async fn scrapin_malformed_body_names_the_field() {
    let (world, fake, client) = start().await;
    fake.inject(Fault::MalformedBody {
        operation: "scrapin.profile".into(),
        times: 1,
    });
    let err = client
        .profile(linkedin_person(&world).linkedin_url.as_deref().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "person.publicIdentifier"),
        "{err:?}"
    );
    assert_no_secret(&err, &[KEY]);
}

#[tokio::test]
async fn scrapin_unreachable_host_is_a_transport_error_without_the_key() {
    let world = World::new(10);
    // Nothing listens on port 9 of loopback: the connection is refused, so no request left.
    let client = ScrapinClient::new(
        world.http.clone(),
        &urls("http://127.0.0.1:9"),
        SecretString::from(KEY),
    );
    let err = client
        .profile("https://www.linkedin.com/in/someone")
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Transport { .. }), "{err:?}");
    assert_eq!(err.status, None);
    assert_eq!(
        world.sleeper.sleeps().len(),
        4,
        "refused connections are retried with backoff"
    );
    assert_no_secret(&err, &[KEY, "apikey="]);
}
