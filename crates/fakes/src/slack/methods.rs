//! The methods Roster calls: `auth.test`, `conversations.info` and `chat.postMessage`, each
//! checking the token and scopes, spending its rate window, then answering as Slack does.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::call::read_call;
use super::{
    BOT_ID, BOT_USER_ID, CHANNELS, MAX_TEXT, PostedMessage, SlackChannel, SlackState, channels, ok,
    slack_error, with_scopes,
};
use crate::serve::lock;

pub(super) async fn auth_test(State(state): State<Arc<SlackState>>, request: Request) -> Response {
    let call = read_call(request, false).await;
    let scopes = match state.authorize(&call, &[]) {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let limit = lock(&state.limits).auth_test_per_minute;
    if let Err(limited) = state.throttle("auth.test", limit) {
        return limited;
    }
    let body = json!({
        "url": format!("https://{}.slack.com/", state.team_domain()),
        "team": state.company().name,
        "user": "roster",
        "team_id": state.company().slack_team_id,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": false,
    });
    with_scopes(ok(body, None), &scopes)
}

fn find_channel(reference: &str) -> Option<&'static SlackChannel> {
    let name = reference.trim_start_matches('#');
    CHANNELS
        .iter()
        .find(|c| c.id == reference || c.name == name)
}

fn channel_object(state: &SlackState, c: &SlackChannel, with_members: bool) -> Value {
    let created = roster_company::REFERENCE_DATE
        .and_hms_opt(9, 0, 0)
        .map_or(0, |d| d.and_utc().timestamp())
        - 86_400 * 900;
    let mut channel = json!({
        "id": c.id,
        "name": c.name,
        "is_channel": !c.is_private,
        "is_group": c.is_private,
        "is_im": false,
        "is_mpim": false,
        "is_private": c.is_private,
        "is_archived": c.is_archived,
        "is_general": c.id == channels::GENERAL,
        "is_member": c.is_member,
        "is_shared": false,
        "is_ext_shared": false,
        "is_org_shared": false,
        "created": created,
        "creator": state.company().ceo().slack_user_id,
        "name_normalized": c.name,
        "topic": { "value": "", "creator": "", "last_set": 0 },
        "purpose": { "value": "", "creator": "", "last_set": 0 },
    });
    if with_members {
        channel["num_members"] = json!(
            state
                .company()
                .people
                .iter()
                .filter(|p| p.slack_user_id.is_some() && p.is_active)
                .count()
        );
    }
    channel
}

pub(super) async fn conversations_info(
    State(state): State<Arc<SlackState>>,
    request: Request,
) -> Response {
    let call = read_call(request, false).await;
    let reference = call.arg("channel").unwrap_or_default();
    let channel = find_channel(&reference).filter(|c| c.id == reference);
    let needed: &[&str] = if channel.is_some_and(|c| c.is_private) {
        &["groups:read"]
    } else {
        &["channels:read"]
    };
    let scopes = match state.authorize(&call, needed) {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let limit = lock(&state.limits).tier3_per_minute;
    if let Err(limited) = state.throttle("conversations.info", limit) {
        return limited;
    }
    // A private channel the bot is not in is indistinguishable from a missing one.
    let Some(channel) = channel.filter(|c| !c.is_private || c.is_member) else {
        return slack_error("channel_not_found");
    };
    let with_members = call
        .arg("include_num_members")
        .is_some_and(|v| v == "true" || v == "1");
    with_scopes(
        ok(
            json!({ "channel": channel_object(&state, channel, with_members) }),
            None,
        ),
        &scopes,
    )
}

pub(super) async fn chat_post_message(
    State(state): State<Arc<SlackState>>,
    request: Request,
) -> Response {
    let call = read_call(request, true).await;
    let scopes = match state.authorize(&call, &["chat:write"]) {
        Ok(s) => s,
        Err(refusal) => return refusal,
    };
    let reference = call.arg("channel").unwrap_or_default();
    let limit = lock(&state.limits).post_message_per_channel_per_minute;
    if let Err(limited) = state.throttle(&format!("chat.postMessage:{reference}"), limit) {
        return limited;
    }
    let Some(channel) = find_channel(&reference).filter(|c| !c.is_private || c.is_member) else {
        return slack_error("channel_not_found");
    };
    let text = call.arg("text").filter(|t| !t.is_empty());
    let blocks = match call.args.get("blocks") {
        None | Some(Value::Null) => None,
        Some(Value::String(raw)) => match serde_json::from_str::<Value>(raw) {
            Ok(v @ Value::Array(_)) => Some(v),
            _ => return slack_error("invalid_blocks"),
        },
        Some(v @ Value::Array(_)) => Some(v.clone()),
        Some(_) => return slack_error("invalid_blocks"),
    };
    if text.is_none() && blocks.is_none() && call.arg("attachments").is_none() {
        return slack_error("no_text");
    }
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT) {
        return slack_error("msg_too_long");
    }
    if channel.is_archived {
        return slack_error("is_archived");
    }
    if !channel.is_member {
        return slack_error("not_in_channel");
    }
    let ts = {
        let mut messages = lock(&state.messages);
        let ts = format!("{}.{:06}", state.now().timestamp(), messages.len() + 1);
        messages.push(PostedMessage {
            channel: channel.id.to_owned(),
            text: text.clone(),
            blocks: blocks.clone(),
            thread_ts: call.arg("thread_ts"),
            ts: ts.clone(),
        });
        ts
    };
    let mut message = json!({
        "type": "message",
        "subtype": "bot_message",
        "text": text.unwrap_or_default(),
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "ts": ts,
        "team": state.company().slack_team_id,
    });
    if let Some(b) = blocks {
        message["blocks"] = b;
    }
    if let Some(thread) = call.arg("thread_ts") {
        message["thread_ts"] = json!(thread);
    }
    let warning = call.missing_charset.then_some("missing_charset");
    with_scopes(
        ok(
            json!({ "channel": channel.id, "ts": ts, "message": message }),
            warning,
        ),
        &scopes,
    )
}
