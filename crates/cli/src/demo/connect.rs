//! The demo connects every provider the way an executive would: through the Connections
//! operations, as the demo's executive, so each credential is verified by the fake, sealed
//! and audited. Xero goes through the whole OAuth flow: the authorize URL, the fake's
//! consent (it redirects at once), and the callback with the code it gave.

use anyhow::{Context, Result, anyhow};
use roster_app::connections::{Environment, SlackChannelId};
use roster_app::{App, Executive};
use roster_domain::text::BoundedText;
use roster_domain::{Credential, Email};
use roster_fakes::FakeProviders;

/// Connects the six providers for the organization `executive_token` acts in.
pub async fn connect_all(app: &App, fakes: &FakeProviders, executive_token: &str) -> Result<()> {
    let caller = app
        .authenticate(executive_token, None)
        .await
        .map_err(|e| anyhow!("the demo's executive cannot sign in: {e}"))?;
    let can = caller
        .clone()
        .can::<Executive>()
        .map_err(|e| anyhow!("the demo's executive is not one: {e}"))?;
    let token = |field: &str, raw: &str| {
        Credential::token(field, raw).map_err(|e| anyhow!("{}: {}", e.field, e.message))
    };
    let text = |field: &str, raw: &str| {
        BoundedText::parse(field, raw).map_err(|e| anyhow!("{}: {}", e.field, e.message))
    };

    let productive_org = text("organization_id", fakes.productive.organization_id())?;
    app.connect_productive(
        &can,
        token("api_token", "demo-productive-token")?,
        Some(productive_org),
    )
    .await
    .map_err(|e| anyhow!("connecting Productive: {e}"))?;

    let channel = fakes
        .slack
        .channels()
        .iter()
        .find(|c| c.is_member && !c.is_archived)
        .ok_or_else(|| anyhow!("the Slack fake has no channel the bot is in"))?;
    let channel = SlackChannelId::parse("channel_id", channel.id)
        .map_err(|e| anyhow!("{}: {}", e.field, e.message))?;
    app.connect_slack(&can, token("bot_token", "xoxb-demo-bot-token")?, channel)
        .await
        .map_err(|e| anyhow!("connecting Slack: {e}"))?;

    let key = Credential::document(
        "service_account_key",
        &fakes.google.service_account_key_json(),
    )
    .map_err(|e| anyhow!("{}: {}", e.field, e.message))?;
    // The demo's executive is also the Workspace admin the service account acts as.
    let admin: Email = caller.user.email.clone();
    app.connect_google(
        &can,
        Some(key),
        text("calendar_id", &fakes.google.leave_calendar_id())?,
        Some(admin),
    )
    .await
    .map_err(|e| anyhow!("connecting Google Workspace: {e}"))?;

    let remote_token = format!("{}demo-remote-token", fakes.remote.token_prefix());
    app.connect_remote(
        &can,
        Some(token("api_token", &remote_token)?),
        None,
        Some(Environment::Production),
        None,
    )
    .await
    .map_err(|e| anyhow!("connecting Remote: {e}"))?;

    app.connect_scrapin(&can, Some(token("api_key", "demoscrapinkey")?), None)
        .await
        .map_err(|e| anyhow!("connecting Scrapin: {e}"))?;

    // Xero: the executive follows the authorize URL; the fake consents at once and
    // redirects to the callback page with a code, which the page posts back.
    let authorize = app
        .xero_auth_url(&can)
        .await
        .map_err(|e| anyhow!("starting Xero's authorization: {e}"))?;
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .get(authorize)
        .send()
        .await
        .context("asking the Xero fake for consent")?;
    let location = consent
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| anyhow!("the Xero fake did not redirect ({})", consent.status()))?;
    let back = url::Url::parse(location).context("the Xero fake's redirect")?;
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| anyhow!("the Xero redirect has no {name}"))
    };
    let code = token("code", &param("code")?)?;
    app.xero_callback(&can, &code, &param("state")?)
        .await
        .map_err(|e| anyhow!("finishing Xero's authorization: {e}"))?;
    Ok(())
}
