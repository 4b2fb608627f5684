//! A strict fake of the Slack Web API methods Roster calls: `auth.test`,
//! `conversations.info` and `chat.postMessage`.
//!
//! Owns Slack's wire behaviour as docs/providers.md §4 describes it: every failure but throttling
//! is HTTP 200 with `{"ok":false,"error":…}`, bot tokens start with `xoxb-`, rate limits are
//! per method (tiers) and answered with HTTP 429 and `Retry-After`. It must never read the wall
//! clock (windows and message timestamps run on the injected `Clock`).
//!
//! **URL layout.** [`SlackFake::api_url`] stands in for `https://slack.com/api`; methods are
//! `<api_url>/<method>`, GET with query arguments or POST with a form (and JSON for
//! `chat.postMessage`, Slack's rule for write methods).
//!
//! **Workspace.** Channels are fixed ([`channels`]): the bot is in `#general`, `#people-ops`
//! and the private `#leadership`, not in `#random`; `#old-announcements` is archived.

mod call;
mod methods;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::live::LiveCompany;
use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::{DateTime, TimeDelta, Utc};
use roster_company::SampleCompany;
use roster_domain::Clock;
use serde_json::{Map, Value, json};

use self::call::Call;
use self::methods::{auth_test, chat_post_message, conversations_info};
use crate::faults::{Dialect, Probe, Refused, observe};
use crate::serve::{Fake, Revoked, SlidingWindow, lock, retry_after_secs, says_invalid};

/// Operation names for [`CallLog`](crate::CallLog) and [`Fault`](crate::Fault): `slack.` and
/// the method name.
pub mod ops {
    pub const AUTH_TEST: &str = "slack.auth.test";
    pub const CONVERSATIONS_INFO: &str = "slack.conversations.info";
    pub const CHAT_POST_MESSAGE: &str = "slack.chat.postMessage";
}

/// The fixed channels of the fake workspace.
pub mod channels {
    pub const GENERAL: &str = "C0R05TGEN1";
    pub const PEOPLE_OPS: &str = "C0R05TPPL2";
    /// Public, but the bot is not a member: posting answers `not_in_channel`.
    pub const RANDOM: &str = "C0R05TRND3";
    /// Private; the bot is a member.
    pub const LEADERSHIP: &str = "G0R05TLDR4";
    /// Archived: posting answers `is_archived`.
    pub const OLD_ANNOUNCEMENTS: &str = "C0R05TOLD5";
}

/// Per-method limits per minute (<https://api.slack.com/docs/rate-limits>): Tier 3 50+
/// (`conversations.info`). `auth.test` is "hundreds per minute"; `chat.postMessage` is about
/// one per second per channel with bursts allowed, modelled as 60 a minute per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub tier3_per_minute: u32,
    pub auth_test_per_minute: u32,
    pub post_message_per_channel_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tier3_per_minute: 50,
            auth_test_per_minute: 600,
            post_message_per_channel_per_minute: 60,
        }
    }
}

/// Scopes a bot token has unless [`SlackFake::set_token_scopes`] says otherwise.
pub const DEFAULT_SCOPES: &[&str] = &[
    "chat:write",
    "channels:read",
    "groups:read",
    "users:read",
    "users:read.email",
];
const BOT_USER_ID: &str = "U0R05TERBOT";
const BOT_ID: &str = "B0R05TERBOT";
/// Slack's `msg_too_long` threshold for `text`.
const MAX_TEXT: usize = 40_000;

/// A message the bot posted, for tests to assert on.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedMessage {
    pub channel: String,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub thread_ts: Option<String>,
    pub ts: String,
}

/// A channel of the fake workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackChannel {
    pub id: &'static str,
    pub name: &'static str,
    pub is_private: bool,
    pub is_archived: bool,
    pub is_member: bool,
}

const CHANNELS: &[SlackChannel] = &[
    SlackChannel {
        id: channels::GENERAL,
        name: "general",
        is_private: false,
        is_archived: false,
        is_member: true,
    },
    SlackChannel {
        id: channels::PEOPLE_OPS,
        name: "people-ops",
        is_private: false,
        is_archived: false,
        is_member: true,
    },
    SlackChannel {
        id: channels::RANDOM,
        name: "random",
        is_private: false,
        is_archived: false,
        is_member: false,
    },
    SlackChannel {
        id: channels::LEADERSHIP,
        name: "leadership",
        is_private: true,
        is_archived: false,
        is_member: true,
    },
    SlackChannel {
        id: channels::OLD_ANNOUNCEMENTS,
        name: "old-announcements",
        is_private: false,
        is_archived: true,
        is_member: true,
    },
];

crate::serve::fake_handle!(
    /// The running fake. Dropping it stops the server.
    SlackFake(SlackState, Limits)
);

impl SlackFake {
    /// Stands in for `https://slack.com/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base_url())
    }

    pub fn channels(&self) -> &'static [SlackChannel] {
        CHANNELS
    }

    /// Everything the bot posted, oldest first.
    pub fn messages(&self) -> Vec<PostedMessage> {
        lock(&self.running.state.messages).clone()
    }

    /// Gives `token` exactly `scopes` (to provoke `missing_scope`).
    pub fn set_token_scopes(&self, token: &str, scopes: &[&str]) {
        lock(&self.running.state.scopes).insert(
            token.to_owned(),
            scopes.iter().map(|s| (*s).to_owned()).collect(),
        );
    }

    /// From now on `token` answers `token_revoked`.
    pub fn revoke(&self, token: &str) {
        self.running.state.revoked.insert(token);
    }
}

struct SlackState {
    live: LiveCompany,
    clock: Arc<dyn Clock>,
    probe: Probe,
    limits: Mutex<Limits>,
    /// Tokens given other scopes than [`DEFAULT_SCOPES`].
    scopes: Mutex<HashMap<String, Vec<String>>>,
    revoked: Revoked,
    windows: Mutex<HashMap<String, SlidingWindow>>,
    messages: Mutex<Vec<PostedMessage>>,
}

/// HTTP 200 `{"ok":false,"error":…}`, marked refused for the call log.
fn slack_error(error: &str) -> Response {
    slack_error_with(error, Map::new())
}

fn slack_error_with(error: &str, mut extra: Map<String, Value>) -> Response {
    extra.insert("ok".into(), json!(false));
    extra.insert("error".into(), json!(error));
    let mut response = (StatusCode::OK, axum::Json(Value::Object(extra))).into_response();
    response.extensions_mut().insert(Refused);
    response
}

fn ok(mut body: Value, warning: Option<&str>) -> Response {
    body["ok"] = json!(true);
    if let Some(w) = warning {
        body["warning"] = json!(w);
        body["response_metadata"]["warnings"] = json!([w]);
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

impl Dialect for SlackState {
    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn operation(&self, _method: &Method, route: &str) -> Option<&'static str> {
        Some(match route {
            "/api/auth.test" => ops::AUTH_TEST,
            "/api/conversations.info" => ops::CONVERSATIONS_INFO,
            "/api/chat.postMessage" => ops::CHAT_POST_MESSAGE,
            _ => return None,
        })
    }

    fn error(&self, _operation: &str, status: StatusCode) -> Response {
        let code = if status == StatusCode::SERVICE_UNAVAILABLE {
            "service_unavailable"
        } else {
            "internal_error"
        };
        let mut response =
            (status, axum::Json(json!({ "ok": false, "error": code }))).into_response();
        response.extensions_mut().insert(Refused);
        response
    }

    fn rate_limited(&self, _operation: &str, retry_after_secs: u64) -> Response {
        rate_limited(retry_after_secs)
    }

    fn required_keys(&self) -> &'static [&'static str] {
        &["id", "ts"]
    }
}

/// HTTP 429 with `Retry-After` in seconds, body `{"ok":false,"error":"ratelimited"}`.
fn rate_limited(retry_after_secs: u64) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({ "ok": false, "error": "ratelimited" })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

impl Fake for SlackState {
    type Limits = Limits;

    fn router(state: Arc<Self>) -> Router {
        Router::new()
            .route("/api/auth.test", any(auth_test))
            .route("/api/conversations.info", any(conversations_info))
            .route("/api/chat.postMessage", any(chat_post_message))
            .route(
                "/api/{method}",
                any(|| async { slack_error("unknown_method") }),
            )
            .route_layer(from_fn_with_state(state.clone(), observe::<Self>))
            .with_state(state)
    }

    /// Every method's window starts afresh under the new limits.
    fn set_limits(&self, limits: Limits) {
        *lock(&self.limits) = limits;
        lock(&self.windows).clear();
    }
}

impl SlackState {
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the shape `fake_handle!` builds every fake's state with"
    )]
    fn new(
        _base_url: &str,
        company: LiveCompany,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> std::io::Result<Self> {
        Ok(Self {
            live: company,
            clock,
            probe: Probe::default(),
            limits: Mutex::new(limits),
            scopes: Mutex::new(HashMap::new()),
            revoked: Revoked::default(),
            windows: Mutex::new(HashMap::new()),
            messages: Mutex::new(Vec::new()),
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The token check every method starts with: `not_authed`, `invalid_auth`,
    /// `token_revoked`, then `missing_scope` for `needed`.
    fn authorize(&self, call: &Call, needed: &[&str]) -> Result<Vec<String>, Response> {
        let Some(token) = call.token.as_deref() else {
            return Err(slack_error("not_authed"));
        };
        if !token.starts_with("xoxb-") || says_invalid(token) {
            return Err(slack_error("invalid_auth"));
        }
        if self.revoked.contains(token) {
            return Err(slack_error("token_revoked"));
        }
        let scopes = lock(&self.scopes)
            .get(token)
            .cloned()
            .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect());
        if let Some(missing) = needed.iter().find(|n| !scopes.iter().any(|s| s == *n)) {
            let mut extra = Map::new();
            extra.insert("needed".into(), json!(missing));
            extra.insert("provided".into(), json!(scopes.join(",")));
            return Err(slack_error_with("missing_scope", extra));
        }
        Ok(scopes)
    }

    /// Spends one call from the window named `key`.
    fn throttle(&self, key: &str, per_minute: u32) -> Result<(), Response> {
        let now = self.now();
        let mut windows = lock(&self.windows);
        let window = windows
            .entry(key.to_owned())
            .or_insert_with(|| SlidingWindow::new(per_minute, TimeDelta::minutes(1)));
        window
            .hit(now)
            .map(|_| ())
            .map_err(|wait| rate_limited(retry_after_secs(wait)))
    }

    fn team_domain(&self) -> String {
        self.company()
            .domain
            .split('.')
            .next()
            .unwrap_or("roster")
            .to_owned()
    }
}

/// Answers with `X-OAuth-Scopes`, as Slack does on every authenticated call.
fn with_scopes(mut response: Response, scopes: &[String]) -> Response {
    if let Ok(v) = HeaderValue::from_str(&scopes.join(",")) {
        response.headers_mut().insert("x-oauth-scopes", v);
    }
    response
}

impl SlackState {
    /// The company as it is now (the demo's control API may change it between calls).
    fn company(&self) -> Arc<SampleCompany> {
        self.live.current()
    }
}
