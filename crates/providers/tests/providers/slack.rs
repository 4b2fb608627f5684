use std::time::Duration;

use roster_fakes::Fault;
use roster_fakes::slack::{SlackFake, channels};
use roster_providers::{ErrorKind, SlackClient};
use secrecy::SecretString;
use url::Url;

use crate::support::{World, assert_no_secret, urls};

const TOKEN: &str = "xoxb-CANARY-slack-bot-4411";

async fn start(token: &str) -> (World, SlackFake, SlackClient) {
    let world = World::new(20);
    let fake = SlackFake::start(world.company.clone(), world.shared_clock())
        .await
        .unwrap();
    let mut u = urls(&fake.base_url());
    u.slack_api_url = Url::parse(&fake.api_url()).unwrap();
    let client = SlackClient::new(world.http.clone(), &u, SecretString::from(token.to_owned()));
    (world, fake, client)
}

#[tokio::test]
async fn slack_auth_test_names_the_workspace() {
    let (world, _fake, client) = start(TOKEN).await;
    let me = client.auth_test().await.unwrap();
    assert_eq!(me.team_id, world.company.slack_team_id);
    assert!(me.bot_id.is_some());
}

#[tokio::test]
async fn slack_channel_info_says_whether_the_bot_can_post() {
    let (_world, _fake, client) = start(TOKEN).await;
    assert!(
        client
            .conversation_info(channels::PEOPLE_OPS)
            .await
            .unwrap()
            .is_member
    );
    assert!(
        !client
            .conversation_info(channels::RANDOM)
            .await
            .unwrap()
            .is_member
    );
    assert!(
        client
            .conversation_info(channels::LEADERSHIP)
            .await
            .unwrap()
            .is_private
    );
    let err = client.conversation_info("C000NOPE").await.unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Upstream { detail } if detail == "channel_not_found"),
        "{err:?}"
    );
    assert_eq!(err.status, Some(200), "Slack refuses with HTTP 200");
}

#[tokio::test]
async fn slack_posts_once_and_ok_false_is_an_error() {
    let (_world, fake, client) = start(TOKEN).await;
    let posted = client
        .post_message(channels::GENERAL, "Welcome, Ann!")
        .await
        .unwrap();
    assert_eq!(posted.channel, channels::GENERAL);
    let messages = fake.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text.as_deref(), Some("Welcome, Ann!"));
    assert_eq!(messages[0].ts, posted.ts);

    for (channel, code) in [
        (channels::RANDOM, "not_in_channel"),
        (channels::OLD_ANNOUNCEMENTS, "is_archived"),
    ] {
        let err = client.post_message(channel, "hello").await.unwrap_err();
        assert!(
            matches!(&err.kind, ErrorKind::Upstream { detail } if detail == code),
            "{err:?}"
        );
        assert_eq!(err.api_code(), "provider_error");
    }
    assert_eq!(
        fake.calls().count("slack.chat.postMessage"),
        3,
        "refusals are final"
    );
}

#[tokio::test]
async fn slack_revoked_or_invalid_token_needs_reauth() {
    let (_world, fake, client) = start(TOKEN).await;
    fake.revoke(TOKEN);
    let err = client.auth_test().await.unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_no_secret(&err, &[TOKEN]);

    let (_world, _fake, client) = start("xoxb-invalid-token").await;
    let err = client
        .post_message(channels::GENERAL, "x")
        .await
        .unwrap_err();
    assert!(err.is_needs_reauth(), "{err}");
    assert_eq!(err.api_code(), "needs_reauth");
}

#[tokio::test]
async fn slack_429_is_waited_out_even_for_a_post() {
    let (world, fake, client) = start(TOKEN).await;
    fake.inject(Fault::RateLimitBurst {
        operation: "slack.chat.postMessage".into(),
        times: 1,
        retry_after_secs: 30,
    });
    client
        .post_message(channels::GENERAL, "after the wait")
        .await
        .unwrap();
    assert_eq!(world.sleeper.sleeps(), [Duration::from_secs(30)]);
    assert_eq!(fake.messages().len(), 1, "posted exactly once");
}

#[tokio::test]
async fn slack_5xx_on_a_post_is_not_repeated_but_a_read_is() {
    let (_world, fake, client) = start(TOKEN).await;
    fake.inject(Fault::Status {
        operation: "slack.chat.postMessage".into(),
        status: 503,
        times: 1,
    });
    let err = client
        .post_message(channels::GENERAL, "maybe")
        .await
        .unwrap_err();
    assert_eq!((err.status, err.api_code()), (Some(503), "provider_error"));
    assert_eq!(
        fake.calls().count("slack.chat.postMessage"),
        1,
        "a post Slack may have taken is not repeated"
    );
    assert_no_secret(&err, &[TOKEN]);

    fake.inject(Fault::Status {
        operation: "slack.auth.test".into(),
        status: 503,
        times: 1,
    });
    assert!(client.auth_test().await.is_ok());
    assert_eq!(fake.calls().count("slack.auth.test"), 2);
}

#[tokio::test]
async fn slack_malformed_body_names_the_field() {
    let (_world, fake, client) = start(TOKEN).await;
    fake.inject(Fault::MalformedBody {
        operation: "slack.chat.postMessage".into(),
        times: 1,
    });
    let err = client
        .post_message(channels::GENERAL, "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Malformed { field, .. } if field == "ts"),
        "{err:?}"
    );
}
