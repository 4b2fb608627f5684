//! Slack Web API: `auth.test`, `conversations.info`, `chat.postMessage`.
//!
//! Owns Slack's peculiarity: failures arrive as HTTP 200 with `{"ok":false,"error":"…"}`
//! (docs/providers.md §4, <https://github.com/slackhq/slack-api-docs/blob/master/index_web.md>),
//! so every answer's `ok` is read before its body is trusted. A posted message is never
//! re-sent unless Slack said it was not processed (429) — a duplicate message is worse than
//! a missing one.

use std::sync::Arc;

use http::header::ACCEPT;
use roster_domain::Provider;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{ProviderUrls, endpoint};
use crate::error::{Error, ErrorKind};
use crate::http::{Http, Request, Response, Retry, Verdict, classify_common};
use crate::redact::fingerprint;
use crate::wire::opt_text;

const P: Provider = Provider::Slack;

/// Dead-token codes, all sent with HTTP 200 (docs/providers.md, Slack "Dead-token signal";
/// `token_expired` with token rotation on — <https://docs.slack.dev/authentication/using-token-rotation>).
const DEAD_TOKEN: &[&str] = &[
    "not_authed",
    "invalid_auth",
    "token_revoked",
    "account_inactive",
    "token_expired",
];

/// Who the bot token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackIdentity {
    pub team_id: String,
    pub team: Option<String>,
    pub user_id: String,
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackChannel {
    pub id: String,
    pub name: Option<String>,
    pub is_private: bool,
    pub is_archived: bool,
    /// Whether the bot is in the channel (it must be, to post).
    pub is_member: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    pub channel: String,
    pub ts: String,
}

/// A client bound to one bot token.
#[derive(Debug, Clone)]
pub struct SlackClient {
    http: Arc<Http>,
    base: Url,
    token: SecretString,
}

impl SlackClient {
    pub fn new(http: Arc<Http>, urls: &ProviderUrls, bot_token: SecretString) -> Self {
        Self {
            http,
            base: urls.slack_api_url.clone(),
            token: bot_token,
        }
    }

    /// Checks the token (`auth.test`).
    pub async fn auth_test(&self) -> Result<SlackIdentity, Error> {
        let wire: AuthTestWire = self.call("slack.auth_test", "auth.test", &[], None).await?;
        Ok(SlackIdentity {
            team_id: wire.team_id,
            team: wire.team,
            user_id: wire.user_id,
            user: wire.user,
            bot_id: wire.bot_id,
            url: wire.url,
        })
    }

    /// A channel's name and whether the bot can post there (`conversations.info`).
    pub async fn conversation_info(&self, channel: &str) -> Result<SlackChannel, Error> {
        let wire: ConversationWire = self
            .call(
                "slack.conversations_info",
                "conversations.info",
                &[("channel", channel)],
                None,
            )
            .await?;
        let c = wire.channel;
        Ok(SlackChannel {
            id: c.id,
            name: c.name,
            is_private: c.is_private,
            is_archived: c.is_archived,
            is_member: c.is_member,
        })
    }

    /// Posts `text` to `channel` (`chat.postMessage`), JSON with an explicit charset: without
    /// it Slack warns `missing_charset` (docs/providers.md, Slack).
    pub async fn post_message(&self, channel: &str, text: &str) -> Result<PostedMessage, Error> {
        let body = serde_json::json!({ "channel": channel, "text": text });
        let wire: PostedWire = self
            .call("slack.post_message", "chat.postMessage", &[], Some(body))
            .await?;
        Ok(PostedMessage {
            channel: wire.channel,
            ts: wire.ts,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: &str,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Result<T, Error> {
        let url = endpoint(&self.base, &format!("/{method}"));
        let req = match body {
            None => Request::get(P, operation, url).query(query),
            Some(json) => Request::post(P, operation, url)
                .json(&json, "application/json; charset=utf-8")
                .retry(Retry::OnlyIfNotProcessed),
        };
        let req = req
            // Limits are per method × workspace × app; a token stands for workspace × app.
            .budget_key(fingerprint(self.token.expose_secret()))
            .bearer(&self.token)
            .header(ACCEPT, "application/json");
        self.http.send_json(&req, classify).await
    }
}

/// HTTP first (429 + `Retry-After`, 5xx), then the `ok` flag of a 200.
fn classify(resp: &Response) -> Verdict {
    if !resp.is_success() {
        return classify_common(resp, |r| format!("HTTP {}", r.status));
    }
    let Some(body) = resp.json() else {
        // Not JSON at all: let the parse report it as malformed.
        return Verdict::Success;
    };
    if body.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
        return Verdict::Success;
    }
    let code = body
        .get("error")
        .and_then(|v| v.as_str())
        .unwrap_or("ok_false")
        .to_owned();
    if DEAD_TOKEN.contains(&code.as_str()) {
        return Verdict::Fail(ErrorKind::NeedsReauth { detail: code });
    }
    if code == "ratelimited" || code == "rate_limited" {
        return Verdict::RateLimited;
    }
    // `missing_scope` says which scope is needed: worth showing the admin.
    let detail = match body.get("needed").and_then(|v| v.as_str()) {
        Some(needed) => format!("{code} (needed: {needed})"),
        None => code,
    };
    Verdict::Fail(ErrorKind::Upstream { detail })
}

#[derive(Deserialize)]
struct AuthTestWire {
    team_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    team: Option<String>,
    user_id: String,
    #[serde(default, deserialize_with = "opt_text")]
    user: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    bot_id: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    url: Option<String>,
}

#[derive(Deserialize)]
struct ConversationWire {
    channel: ChannelWire,
}

#[derive(Deserialize)]
struct ChannelWire {
    id: String,
    #[serde(default, deserialize_with = "opt_text")]
    name: Option<String>,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    is_archived: bool,
    #[serde(default)]
    is_member: bool,
}

#[derive(Deserialize)]
struct PostedWire {
    channel: String,
    ts: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn ok_false_bodies_are_errors() {
        for (status, body, want) in [
            (200, r#"{"ok":true,"team_id":"T1","user_id":"U1"}"#, "ok"),
            (200, r#"{"ok":false,"error":"invalid_auth"}"#, "reauth"),
            (200, r#"{"ok":false,"error":"token_revoked"}"#, "reauth"),
            (200, r#"{"ok":false,"error":"account_inactive"}"#, "reauth"),
            (200, r#"{"ok":false,"error":"not_authed"}"#, "reauth"),
            (200, r#"{"ok":false,"error":"channel_not_found"}"#, "fail"),
            (
                200,
                r#"{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"x"}"#,
                "fail",
            ),
            (429, "", "rate"),
            (503, "", "transient"),
        ] {
            let got = match classify(&answer(status, body)) {
                Verdict::Success => "ok",
                Verdict::Fail(ErrorKind::NeedsReauth { .. }) => "reauth",
                Verdict::Fail(_) => "fail",
                Verdict::RateLimited => "rate",
                Verdict::Transient(_) | Verdict::NotSent(_) => "transient",
            };
            assert_eq!(got, want, "{status} {body}");
        }
        match classify(&answer(
            200,
            r#"{"ok":false,"error":"missing_scope","needed":"chat:write"}"#,
        )) {
            Verdict::Fail(ErrorKind::Upstream { detail }) => {
                assert_eq!(detail, "missing_scope (needed: chat:write)");
            }
            other => panic!("{other:?}"),
        }
    }
}
