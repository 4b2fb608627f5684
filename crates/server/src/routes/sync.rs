//! The directory syncs (`POST /api/people/sync`, `POST /api/admin/users/sync-productive`,
//! `POST /api/admin/users/sync-google`) and the record of every sync run
//! (`GET /api/admin/sync-runs`).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use chrono::SecondsFormat;
use roster_app::people_sync::SyncSummary;
use roster_app::sync_runs::SyncRunRecord;
use roster_app::{Executive, ManagePeople};
use roster_domain::FieldError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Allowed;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/people/sync", post(sync_people))
        .route("/api/admin/users/sync-productive", post(sync_productive))
        .route("/api/admin/users/sync-google", post(sync_google))
        .route("/api/admin/sync-runs", get(list_sync_runs))
}

/// What a sync did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncBody {
    pub ok: bool,
    /// Active people Productive listed.
    pub synced: usize,
    /// Of them, how many are linked to a user after the sync.
    pub matched_users: usize,
    /// The sync run this answer comes from (see `GET /api/admin/sync-runs`).
    pub run_id: String,
    /// created, updated, retired, reactivated, linked.
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    /// Share (0–100) of the listed people with an email, title, manager and squad.
    #[schema(value_type = Object)]
    pub coverage: serde_json::Value,
    /// Coverage that fell by more than 10 points since the last successful sync.
    pub warnings: Vec<String>,
}

impl From<SyncSummary> for SyncBody {
    fn from(s: SyncSummary) -> Self {
        Self {
            ok: true,
            synced: s.synced,
            matched_users: s.matched_users,
            run_id: s.run_id.to_string(),
            counts: serde_json::json!({
                "created": s.counts.created,
                "updated": s.counts.updated,
                "retired": s.counts.retired,
                "reactivated": s.counts.reactivated,
                "linked": s.counts.linked,
            }),
            coverage: serde_json::json!(s.coverage),
            warnings: s.warnings,
        }
    }
}

/// `?allow_mass_removal=true|false` (absent: false).
fn allow_mass_removal(q: &BTreeMap<String, String>) -> Result<bool, ApiError> {
    match q.get("allow_mass_removal").map(|v| v.trim()) {
        None | Some("false" | "0" | "") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(ApiError::Invalid(vec![FieldError::new(
            "allow_mass_removal",
            "must be true or false",
        )])),
    }
}

/// Full Productive sync: every active person, all pages, then one transaction; any failure
/// changes nothing.
#[utoipa::path(post, path = "/api/people/sync", tag = "people", security(("bearer" = [])),
    params(
        ("allow_mass_removal" = Option<bool>, Query, description = "retire more than the configured share of active people (default false)"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = SyncBody), crate::openapi::ProviderWriteProblems))]
pub async fn sync_people(
    State(state): State<AppState>,
    Allowed(can): Allowed<ManagePeople>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<JsonOut<SyncBody>, ApiError> {
    let allow = allow_mass_removal(&query)?;
    Ok(JsonOut(state.app.sync_people(&can, allow).await?.into()))
}

/// The same sync as `POST /api/people/sync`, from the Admin API.
#[utoipa::path(post, path = "/api/admin/users/sync-productive", tag = "admin", security(("bearer" = [])),
    params(
        ("allow_mass_removal" = Option<bool>, Query, description = "retire more than the configured share of active people (default false)"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = SyncBody), crate::openapi::ProviderWriteProblems))]
pub async fn sync_productive(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<JsonOut<SyncBody>, ApiError> {
    let allow = allow_mass_removal(&query)?;
    Ok(JsonOut(
        state.app.sync_people_admin(&can, allow).await?.into(),
    ))
}

/// What the Google directory sync did.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoogleSyncBody {
    pub ok: bool,
    /// Users created, or existing users who joined the organization.
    pub created: usize,
    /// Users whose name, picture or job title changed.
    pub updated: usize,
    /// People newly linked to a user by email.
    pub linked: usize,
    /// Active directory users considered.
    pub total: usize,
}

/// Creates users from the Google directory (as employees), refreshes names, pictures and
/// titles, and links unlinked people by email. Suspended users are skipped.
#[utoipa::path(post, path = "/api/admin/users/sync-google", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = GoogleSyncBody), crate::openapi::ProviderWriteProblems))]
pub async fn sync_google(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<GoogleSyncBody>, ApiError> {
    let s = state.app.sync_google(&can).await?;
    Ok(JsonOut(GoogleSyncBody {
        ok: true,
        created: s.created,
        updated: s.updated,
        linked: s.linked,
        total: s.total,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunBody {
    pub id: String,
    /// productive, xero or google.
    pub kind: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// running, succeeded or failed.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    #[schema(value_type = Object)]
    pub coverage: serde_json::Value,
    pub warnings: Vec<String>,
    /// Why a failed run failed, in plain words.
    pub detail: Option<String>,
    /// Who started it; null for the server's own background refresh.
    pub actor_user_id: Option<String>,
}

impl From<SyncRunRecord> for SyncRunBody {
    fn from(r: SyncRunRecord) -> Self {
        Self {
            id: r.id.to_string(),
            kind: r.kind,
            started_at: r.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            finished_at: r
                .finished_at
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            outcome: r.outcome.as_str().to_owned(),
            counts: r.counts,
            coverage: r.coverage,
            warnings: r.warnings,
            detail: r.detail,
            actor_user_id: r.actor.map(|a| a.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunPageBody {
    pub runs: Vec<SyncRunBody>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Every sync run, newest first, 50 a page.
#[utoipa::path(get, path = "/api/admin/sync-runs", tag = "admin", security(("bearer" = [])),
    params(
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = SyncRunPageBody), crate::openapi::QueryProblems))]
pub async fn list_sync_runs(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<JsonOut<SyncRunPageBody>, ApiError> {
    let cursor = match query.get("cursor").map(|c| c.trim()) {
        None | Some("") => None,
        Some(c) => Some(
            Uuid::try_parse(c)
                .ok()
                .filter(|_| c.len() == 36)
                .ok_or_else(|| {
                    ApiError::Invalid(vec![FieldError::new(
                        "cursor",
                        "must be the next_cursor of a previous page",
                    )])
                })?,
        ),
    };
    let page = state.app.list_sync_runs(&can, cursor).await?;
    Ok(JsonOut(SyncRunPageBody {
        runs: page.runs.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}
