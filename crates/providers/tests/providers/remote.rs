use std::time::Duration;

use roster_fakes::Fault;
use roster_fakes::remote::RemoteFake;
use roster_providers::{Environment, ErrorKind, RemoteClient};
use secrecy::SecretString;

use crate::support::{World, assert_no_secret, urls};

const LIVE: &str = "ra_live_CANARY-remote-7f3a";
const TEST: &str = "ra_test_CANARY-remote-sandbox";

async fn production(size: usize) -> (World, RemoteFake, RemoteClient) {
    let world = World::new(size);
    let fake = RemoteFake::start(world.company.clone(), world.shared_clock())
        .await
        .unwrap();
    let client = RemoteClient::new(
        world.http.clone(),
        &urls(&fake.base_url()),
        Environment::Production,
        LIVE.into(),
    );
    (world, fake, client)
}

fn remote_people(world: &World) -> usize {
    world
        .company
        .people
        .iter()
        .filter(|p| p.remote_employment_id.is_some())
        .count()
}

#[tokio::test]
async fn remote_identity_accepts_201_and_names_the_company() {
    let (world, fake, client) = production(20).await;
    let me = client.identity().await.unwrap();
    assert_eq!(me.company_id, fake.company_id());
    assert_eq!(me.company_name, world.company.name);
    let company = client.company(&me.company_id).await.unwrap();
    assert_eq!(company.status.as_deref(), Some("active"));
}

#[tokio::test]
async fn remote_lists_every_employment_over_several_pages_within_the_window() {
    let (world, fake, client) = production(3_000).await;
    let employments = client.employments(None).await.unwrap();
    let expected = remote_people(&world);
    assert_eq!(employments.len(), expected);
    let pages = (expected as u64).div_ceil(100);
    assert!(pages > 1, "{expected} employments");
    assert_eq!(fake.calls().count("remote.employments"), pages);
    assert_eq!(
        fake.calls().rejected("remote.employments"),
        0,
        "paced under 20 a minute, no 429"
    );
}

#[tokio::test]
async fn remote_remaining_header_at_zero_holds_the_next_call_until_reset() {
    let (world, fake, client) = production(20).await;
    // Twenty calls fill Remote's fixed window; the twentieth answer says remaining 0.
    for _ in 0..20 {
        client.identity().await.unwrap();
    }
    assert!(world.sleeper.sleeps().is_empty());
    client.identity().await.unwrap();
    assert_eq!(
        fake.calls().rejected("remote.identity"),
        0,
        "the 21st waited instead of being refused"
    );
    let waited: Duration = world.sleeper.total();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "{waited:?}"
    );
}

#[tokio::test]
async fn remote_sandbox_uses_its_own_host_and_tokens() {
    let world = World::new(20);
    let sandbox = RemoteFake::start_sandbox(world.company.clone(), world.shared_clock())
        .await
        .unwrap();
    let mut u = urls("http://127.0.0.1:9");
    u.remote_sandbox_api_url = url::Url::parse(&sandbox.base_url()).unwrap();
    let client = RemoteClient::new(
        world.http.clone(),
        &u,
        Environment::Sandbox,
        SecretString::from(TEST),
    );
    assert_eq!(client.environment(), Environment::Sandbox);
    let identity = client.identity().await.unwrap();
    // The company check and the employments run against the sandbox host too.
    let company = client.company(&identity.company_id).await.unwrap();
    assert_eq!(company.id, identity.company_id);
    assert!(!client.employments(None).await.unwrap().is_empty());
    assert!(sandbox.calls().count("remote.company") >= 1);

    let live_on_sandbox = RemoteClient::new(
        world.http.clone(),
        &u,
        Environment::Sandbox,
        SecretString::from(LIVE),
    );
    let err = live_on_sandbox.identity().await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_no_secret(&err, &[LIVE]);
}

#[tokio::test]
async fn remote_revoked_token_needs_reauth() {
    let (_world, fake, client) = production(20).await;
    fake.revoke(LIVE);
    let err = client.employments(None).await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(err.status, Some(401));
    assert_no_secret(&err, &[LIVE]);
}

#[tokio::test]
async fn remote_5xx_retried_then_provider_error() {
    let (_world, fake, client) = production(20).await;
    fake.inject(Fault::Status {
        operation: "remote.employments".into(),
        status: 502,
        times: 100,
    });
    let err = client.employments(None).await.unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(502), "provider_error"));
    assert_no_secret(&err, &[LIVE]);
    assert_eq!(
        fake.calls().count("remote.employments"),
        5,
        "every attempt of the first page, then the error"
    );
}

#[tokio::test]
async fn remote_429_retry_after_is_waited_on_the_manual_clock() {
    let (world, fake, client) = production(20).await;
    fake.inject(Fault::RateLimitBurst {
        operation: "remote.employments".into(),
        times: 1,
        retry_after_secs: 9,
    });
    client.employments(None).await.unwrap();
    assert!(
        world.sleeper.sleeps().contains(&Duration::from_secs(9)),
        "{:?}",
        world.sleeper.sleeps()
    );
}

#[tokio::test]
async fn remote_malformed_body_names_the_field() {
    let (_world, fake, client) = production(300).await;
    fake.inject(Fault::MalformedBody {
        operation: "remote.employments".into(),
        times: 1,
    });
    let err = client.employments(None).await.unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { field, .. } if field.starts_with("data.employments[0].")),
        "{err:?}"
    );
}
