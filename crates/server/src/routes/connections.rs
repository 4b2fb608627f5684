//! `/api/admin/connections` (executive only): the organization's credentials for Xero,
//! Productive, Google Workspace, Slack, Remote and Scrapin. Bodies deserialize into checked
//! types (credentials never print); secrets are verified with the provider, sealed, and
//! never returned.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json as JsonOut, Router};
use chrono::{DateTime, Utc};
use roster_app::Executive;
use roster_app::connections::Environment;
use roster_app::connections::{ConnectionView, SlackChannelId};
use roster_domain::credential::{optional_document, optional_token, token};
use roster_domain::text::{BoundedText, required_text};
use roster_domain::{Credential, Email, Provider};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Allowed, Json};
use crate::problem::ApiError;
use crate::routes::OkBody;

pub fn router() -> Router<AppState> {
    let base = "/api/admin/connections";
    Router::new()
        .route(base, get(list_connections))
        .route(&format!("{base}/xero/auth-url"), get(xero_auth_url))
        .route(&format!("{base}/xero/callback"), post(xero_callback))
        .route(
            &format!("{base}/xero"),
            axum::routing::delete(disconnect_xero),
        )
        .route(
            &format!("{base}/productive"),
            put(connect_productive).delete(disconnect_productive),
        )
        .route(
            &format!("{base}/slack"),
            put(connect_slack).delete(disconnect_slack),
        )
        .route(
            &format!("{base}/google-workspace"),
            put(connect_google).delete(disconnect_google),
        )
        .route(
            &format!("{base}/google-workspace/status"),
            get(google_workspace_status),
        )
        .route(
            &format!("{base}/google-calendar/status"),
            get(google_calendar_status),
        )
        .route(
            &format!("{base}/remote"),
            put(connect_remote).delete(disconnect_remote),
        )
        .route(&format!("{base}/remote/status"), get(remote_status))
        .route(
            &format!("{base}/scrapin"),
            put(connect_scrapin).delete(disconnect_scrapin),
        )
        .route(
            &format!("{base}/scrapin/alerts-config"),
            get(get_scrapin_alerts).post(set_scrapin_alerts),
        )
}

/// One configured provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionBody {
    /// `xero`, `productive`, `google-workspace`, `slack`, `remote` or `scrapin`.
    pub provider: String,
    pub org_name: Option<String>,
    /// The user who saved it.
    pub connected_by: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub token_expires_at: Option<DateTime<Utc>>,
    /// `ok`, `needs_reauth` or `error`.
    pub status: String,
    /// Beyond the contract: the last failure in plain words (no secret).
    pub last_error: Option<String>,
    /// Beyond the contract: the last time the connection served a call.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ConnectionView> for ConnectionBody {
    fn from(c: ConnectionView) -> Self {
        Self {
            provider: c.provider.to_string(),
            org_name: c.org_name,
            connected_by: c.connected_by.map(|u| u.to_string()),
            connected_at: c.connected_at,
            token_expires_at: c.token_expires_at,
            status: c.status.to_string(),
            last_error: c.last_error,
            last_used_at: c.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthUrl {
    pub url: String,
}

/// `{"ok": true, "org_name": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connected {
    pub ok: bool,
    pub org_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct XeroCallback {
    /// The authorization code Xero sent to the redirect URI.
    #[serde(deserialize_with = "token")]
    #[schema(value_type = String, max_length = 4096)]
    pub code: Credential,
    #[schema(value_type = String, max_length = 1000)]
    pub state: BoundedText,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectProductive {
    #[serde(deserialize_with = "token")]
    #[schema(value_type = String, max_length = 4096)]
    pub api_token: Credential,
    /// The numeric organization id; learnt from the token when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub organization_id: Option<BoundedText>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectSlack {
    /// A bot token, `xoxb-…`.
    #[serde(deserialize_with = "token")]
    #[schema(value_type = String, max_length = 4096)]
    pub bot_token: Credential,
    /// The channel to post to, `C…`.
    #[serde(deserialize_with = "slack_channel")]
    #[schema(value_type = String)]
    pub channel_id: SlackChannelId,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectGoogle {
    /// The service-account key JSON, as a string: required for a new connection.
    #[serde(default, deserialize_with = "optional_document")]
    #[schema(value_type = Option<String>, max_length = 65536)]
    pub service_account_key: Option<Credential>,
    #[serde(deserialize_with = "required_text")]
    #[schema(value_type = String, max_length = 1000)]
    pub calendar_id: BoundedText,
    /// The Workspace admin the service account acts as (for the Directory).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = "email")]
    pub admin_email: Option<Email>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectRemote {
    /// Required for a new connection.
    #[serde(default, deserialize_with = "optional_token")]
    #[schema(value_type = Option<String>, max_length = 4096)]
    pub api_token: Option<Credential>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub company_id: Option<BoundedText>,
    /// `production` (default) or `sandbox`.
    #[serde(default, deserialize_with = "environment")]
    #[schema(value_type = Option<String>)]
    pub environment: Option<Environment>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub org_name: Option<BoundedText>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectScrapin {
    /// Required for a new connection.
    #[serde(default, deserialize_with = "optional_token")]
    #[schema(value_type = Option<String>, max_length = 4096)]
    pub api_key: Option<Credential>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub org_name: Option<BoundedText>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrapinAlertsInput {
    /// An `https` URL whose host resolves to public addresses only.
    #[schema(max_length = 2048)]
    pub webhook_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScrapinAlerts {
    pub configured: bool,
    pub webhook_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScrapinAlertsSaved {
    pub ok: bool,
    pub webhook_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GoogleStatus {
    pub configured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarStatus {
    pub configured: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemoteStatusBody {
    pub configured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

fn slack_channel<'de, D: Deserializer<'de>>(d: D) -> Result<SlackChannelId, D::Error> {
    let raw = String::deserialize(d)?;
    SlackChannelId::parse("", &raw).map_err(|e| serde::de::Error::custom(e.message))
}

fn environment<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Environment>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref().map(str::trim) {
        None => Ok(None),
        Some("production") => Ok(Some(Environment::Production)),
        Some("sandbox") => Ok(Some(Environment::Sandbox)),
        Some(_) => Err(serde::de::Error::custom("must be production or sandbox")),
    }
}

const OK: OkBody = OkBody { ok: true };

/// Every configured provider with its health.
#[utoipa::path(get, path = "/api/admin/connections", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = ConnectionList), crate::openapi::ReadProblems))]
pub async fn list_connections(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<ConnectionList>, ApiError> {
    let connections = state.app.list_connections(&can).await?;
    Ok(JsonOut(ConnectionList {
        connections: connections.into_iter().map(Into::into).collect(),
    }))
}

/// The Xero authorize URL to send the executive to (state and PKCE included).
#[utoipa::path(get, path = "/api/admin/connections/xero/auth-url", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = AuthUrl), crate::openapi::ProviderReadProblems))]
pub async fn xero_auth_url(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<AuthUrl>, ApiError> {
    let url = state.app.xero_auth_url(&can).await?;
    Ok(JsonOut(AuthUrl {
        url: url.to_string(),
    }))
}

/// Finishes Xero's authorization: exchanges the code, reads the tenants, stores the tokens.
#[utoipa::path(post, path = "/api/admin/connections/xero/callback", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = XeroCallback,
    responses((status = 200, body = Connected), crate::openapi::ProviderWriteProblems))]
pub async fn xero_callback(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<XeroCallback>,
) -> Result<JsonOut<Connected>, ApiError> {
    let org_name = state
        .app
        .xero_callback(&can, &body.code, body.state.as_str())
        .await?;
    Ok(JsonOut(Connected { ok: true, org_name }))
}

/// Verifies the Productive token and stores it.
#[utoipa::path(put, path = "/api/admin/connections/productive", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ConnectProductive,
    responses((status = 200, body = Connected), crate::openapi::ProviderWriteProblems))]
pub async fn connect_productive(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<ConnectProductive>,
) -> Result<JsonOut<Connected>, ApiError> {
    let org_name = state
        .app
        .connect_productive(&can, body.api_token, body.organization_id)
        .await?;
    Ok(JsonOut(Connected { ok: true, org_name }))
}

/// Verifies the Slack bot token and channel, and stores them.
#[utoipa::path(put, path = "/api/admin/connections/slack", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ConnectSlack,
    responses((status = 200, body = OkBody), crate::openapi::ProviderWriteProblems))]
pub async fn connect_slack(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<ConnectSlack>,
) -> Result<JsonOut<OkBody>, ApiError> {
    state
        .app
        .connect_slack(&can, body.bot_token, body.channel_id)
        .await?;
    Ok(JsonOut(OK))
}

/// Validates the service-account key (and the calendar) and stores them.
#[utoipa::path(put, path = "/api/admin/connections/google-workspace", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ConnectGoogle,
    responses((status = 200, body = OkBody), crate::openapi::ProviderWriteProblems))]
pub async fn connect_google(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<ConnectGoogle>,
) -> Result<JsonOut<OkBody>, ApiError> {
    state
        .app
        .connect_google(
            &can,
            body.service_account_key,
            body.calendar_id,
            body.admin_email,
        )
        .await?;
    Ok(JsonOut(OK))
}

/// Whether Google Workspace is configured, and its calendar.
#[utoipa::path(get, path = "/api/admin/connections/google-workspace/status", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = GoogleStatus), crate::openapi::ReadProblems))]
pub async fn google_workspace_status(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<GoogleStatus>, ApiError> {
    let calendar_id = state.app.google_status(&can).await?;
    Ok(JsonOut(GoogleStatus {
        configured: calendar_id.is_some(),
        calendar_id,
    }))
}

/// Legacy alias of the Google Workspace status.
#[utoipa::path(get, path = "/api/admin/connections/google-calendar/status", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = CalendarStatus), crate::openapi::ReadProblems))]
pub async fn google_calendar_status(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<CalendarStatus>, ApiError> {
    let calendar_id = state.app.google_status(&can).await?;
    Ok(JsonOut(CalendarStatus {
        configured: calendar_id.is_some(),
    }))
}

/// Verifies the Remote token and stores it.
#[utoipa::path(put, path = "/api/admin/connections/remote", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ConnectRemote,
    responses((status = 200, body = OkBody), crate::openapi::ProviderWriteProblems))]
pub async fn connect_remote(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<ConnectRemote>,
) -> Result<JsonOut<OkBody>, ApiError> {
    state
        .app
        .connect_remote(
            &can,
            body.api_token,
            body.company_id,
            body.environment,
            body.org_name,
        )
        .await?;
    Ok(JsonOut(OK))
}

/// Asks Remote about the connected company; 502 when Remote rejects the token.
#[utoipa::path(get, path = "/api/admin/connections/remote/status", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = RemoteStatusBody), crate::openapi::ProviderReadProblems))]
pub async fn remote_status(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<RemoteStatusBody>, ApiError> {
    let status = state.app.remote_status(&can).await?;
    Ok(JsonOut(match status {
        Some(s) => RemoteStatusBody {
            configured: true,
            company_name: Some(s.company_name),
            company_status: Some(s.company_status),
            environment: Some(s.environment.as_str().to_owned()),
        },
        None => RemoteStatusBody {
            configured: false,
            company_name: None,
            company_status: None,
            environment: None,
        },
    }))
}

/// Verifies the Scrapin key and stores it.
#[utoipa::path(put, path = "/api/admin/connections/scrapin", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ConnectScrapin,
    responses((status = 200, body = OkBody), crate::openapi::ProviderWriteProblems))]
pub async fn connect_scrapin(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<ConnectScrapin>,
) -> Result<JsonOut<OkBody>, ApiError> {
    state
        .app
        .connect_scrapin(&can, body.api_key, body.org_name)
        .await?;
    Ok(JsonOut(OK))
}

/// The Scrapin alert webhook URL.
#[utoipa::path(get, path = "/api/admin/connections/scrapin/alerts-config", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = ScrapinAlerts), crate::openapi::ReadProblems))]
pub async fn get_scrapin_alerts(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<ScrapinAlerts>, ApiError> {
    let alerts = state.app.scrapin_alerts(&can).await?;
    Ok(JsonOut(ScrapinAlerts {
        configured: alerts.is_some(),
        webhook_url: alerts.flatten(),
    }))
}

/// Points Scrapin's alerts at a public `https` URL.
#[utoipa::path(post, path = "/api/admin/connections/scrapin/alerts-config", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ScrapinAlertsInput,
    responses((status = 200, body = ScrapinAlertsSaved), crate::openapi::ProviderWriteProblems))]
pub async fn set_scrapin_alerts(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<ScrapinAlertsInput>,
) -> Result<JsonOut<ScrapinAlertsSaved>, ApiError> {
    let webhook_url = state
        .app
        .set_scrapin_alerts(&can, &body.webhook_url)
        .await?;
    Ok(JsonOut(ScrapinAlertsSaved {
        ok: true,
        webhook_url,
    }))
}

macro_rules! disconnect {
    ($name:ident, $provider:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(delete, path = $path, tag = "connections", security(("bearer" = [])),
            params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
            responses((status = 200, body = OkBody), crate::openapi::DeleteProblems))]
        pub async fn $name(
            State(state): State<AppState>,
            Allowed(can): Allowed<Executive>,
        ) -> Result<JsonOut<OkBody>, ApiError> {
            state.app.disconnect(&can, $provider).await?;
            Ok(JsonOut(OK))
        }
    };
}

disconnect!(
    disconnect_xero,
    Provider::Xero,
    "/api/admin/connections/xero",
    "Revokes the grant at Xero (best effort) and removes the connection."
);
disconnect!(
    disconnect_productive,
    Provider::Productive,
    "/api/admin/connections/productive",
    "Removes the Productive connection."
);
disconnect!(
    disconnect_slack,
    Provider::Slack,
    "/api/admin/connections/slack",
    "Removes the Slack connection."
);
disconnect!(
    disconnect_google,
    Provider::GoogleWorkspace,
    "/api/admin/connections/google-workspace",
    "Removes the Google Workspace connection."
);
disconnect!(
    disconnect_remote,
    Provider::Remote,
    "/api/admin/connections/remote",
    "Removes the Remote connection and every person's Remote employment id, together."
);
disconnect!(
    disconnect_scrapin,
    Provider::Scrapin,
    "/api/admin/connections/scrapin",
    "Removes the Scrapin connection."
);
