use reqwest::StatusCode;
use roster_fakes::Fault;
use roster_fakes::slack::{SlackFake, channels, ops};
use serde_json::{Value, json};

use crate::support::{clock, company, fetch_json, http};

const BOT: &str = "xoxb-1234-5678-demo";

async fn call(
    fake: &SlackFake,
    token: &str,
    method: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = http()
        .post(format!("{}/{method}", fake.api_url()))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn auth_failures_are_http_200_with_ok_false() {
    let (_, clock) = clock();
    let fake = SlackFake::start(company(), clock).await.unwrap();
    let (status, body) = call(&fake, BOT, "auth.test", &[]).await;
    assert_eq!((status, &body["ok"]), (StatusCode::OK, &json!(true)));
    assert_eq!(body["team_id"], company().slack_team_id.as_str());
    assert!(body["bot_id"].is_string());

    let anonymous: Value = fetch_json(http().post(format!("{}/auth.test", fake.api_url()))).await;
    assert_eq!(anonymous, json!({"ok": false, "error": "not_authed"}));
    for token in ["xoxp-user-token", "xoxb-invalid-token"] {
        let (status, body) = call(&fake, token, "auth.test", &[]).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::OK,
                json!({"ok": false, "error": "invalid_auth"})
            ),
            "{token}"
        );
    }
    fake.revoke(BOT);
    assert_eq!(
        call(&fake, BOT, "auth.test", &[]).await.1,
        json!({"ok": false, "error": "token_revoked"})
    );
    assert_eq!(fake.calls().rejected(ops::AUTH_TEST), 4);
}

#[tokio::test]
async fn conversations_info_finds_channels_and_reports_missing_scope() {
    let (_, clock) = clock();
    let fake = SlackFake::start(company(), clock).await.unwrap();
    let (_, body) = call(
        &fake,
        BOT,
        "conversations.info",
        &[("channel", channels::GENERAL)],
    )
    .await;
    assert_eq!(body["channel"]["name"], "general");
    assert_eq!(body["channel"]["is_member"], true);
    let (_, missing) = call(&fake, BOT, "conversations.info", &[("channel", "C0NOPE")]).await;
    assert_eq!(missing, json!({"ok": false, "error": "channel_not_found"}));

    fake.set_token_scopes(BOT, &["chat:write", "users:read"]);
    let (status, body) = call(
        &fake,
        BOT,
        "conversations.info",
        &[("channel", channels::GENERAL)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"ok": false, "error": "missing_scope", "needed": "channels:read", "provided": "chat:write,users:read"})
    );
}

#[tokio::test]
async fn post_message_records_the_message_and_refuses_where_slack_would() {
    let (_, clock) = clock();
    let fake = SlackFake::start(company(), clock).await.unwrap();
    let posted: Value = fetch_json(
        http()
            .post(format!("{}/chat.postMessage", fake.api_url()))
            .bearer_auth(BOT)
            .header("content-type", "application/json; charset=utf-8")
            .body(json!({"channel": channels::PEOPLE_OPS, "text": "Welcome Ann!"}).to_string()),
    )
    .await;
    assert_eq!(posted["ok"], true);
    assert_eq!(posted["channel"], channels::PEOPLE_OPS);
    assert!(posted.get("warning").is_none());
    let messages = fake.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        (messages[0].text.as_deref(), messages[0].ts.as_str()),
        (Some("Welcome Ann!"), posted["ts"].as_str().unwrap())
    );

    let no_charset: Value = fetch_json(
        http()
            .post(format!("{}/chat.postMessage", fake.api_url()))
            .bearer_auth(BOT)
            .header("content-type", "application/json")
            .body(json!({"channel": "#general", "text": "hi"}).to_string()),
    )
    .await;
    assert_eq!(no_charset["warning"], "missing_charset");

    for (channel, text, error) in [
        (channels::RANDOM, "hi", "not_in_channel"),
        (channels::OLD_ANNOUNCEMENTS, "hi", "is_archived"),
        ("C0NOPE", "hi", "channel_not_found"),
        (channels::GENERAL, "", "no_text"),
    ] {
        let (_, body) = call(
            &fake,
            BOT,
            "chat.postMessage",
            &[("channel", channel), ("text", text)],
        )
        .await;
        assert_eq!(body, json!({"ok": false, "error": error}), "{channel}");
    }
    let long = "x".repeat(40_001);
    assert_eq!(
        call(
            &fake,
            BOT,
            "chat.postMessage",
            &[("channel", channels::GENERAL), ("text", &long)]
        )
        .await
        .1["error"],
        "msg_too_long"
    );
    assert_eq!(fake.messages().len(), 2);
}

#[tokio::test]
async fn tier_three_allows_fifty_calls_a_minute_then_429() {
    let (manual, clock) = clock();
    let fake = SlackFake::start(company(), clock).await.unwrap();
    let info = [("channel", channels::GENERAL)];
    for i in 0..50 {
        assert_eq!(
            call(&fake, BOT, "conversations.info", &info).await.0,
            StatusCode::OK,
            "call {i}"
        );
    }
    let limited = http()
        .post(format!("{}/conversations.info", fake.api_url()))
        .bearer_auth(BOT)
        .form(&info)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["retry-after"], "60");
    assert_eq!(
        limited.json::<Value>().await.unwrap(),
        json!({"ok": false, "error": "ratelimited"})
    );
    assert_eq!(
        call(&fake, BOT, "auth.test", &[]).await.0,
        StatusCode::OK,
        "other methods have their own counters"
    );
    manual.advance(chrono::Duration::seconds(60));
    assert_eq!(
        call(&fake, BOT, "conversations.info", &info).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn injected_server_errors_and_bursts_use_slacks_shapes() {
    let (_, clock) = clock();
    let fake = SlackFake::start(company(), clock).await.unwrap();
    fake.inject(Fault::Status {
        operation: ops::CHAT_POST_MESSAGE.into(),
        status: 503,
        times: 1,
    });
    fake.inject(Fault::RateLimitBurst {
        operation: ops::CHAT_POST_MESSAGE.into(),
        times: 1,
        retry_after_secs: 3,
    });
    let form = [("channel", channels::GENERAL), ("text", "hello")];
    assert_eq!(
        call(&fake, BOT, "chat.postMessage", &form).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let burst = http()
        .post(format!("{}/chat.postMessage", fake.api_url()))
        .bearer_auth(BOT)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            burst.status(),
            burst.headers()["retry-after"].to_str().unwrap()
        ),
        (StatusCode::TOO_MANY_REQUESTS, "3")
    );
    assert_eq!(
        call(&fake, BOT, "chat.postMessage", &form).await.1["ok"],
        true
    );
}
