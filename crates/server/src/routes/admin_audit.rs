//! `GET /api/admin/audit` (executive only): the audit log, newest first, cursor-paged.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use roster_app::Executive;
use roster_app::audit::AuditFilter;
use roster_domain::model::AuditEvent;
use roster_domain::text::{MAX_TEXT_CHARS, bounded};
use roster_domain::{FieldError, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::Allowed;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/audit", get(list_audit))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventBody {
    pub id: String,
    pub at: String,
    pub actor_user_id: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<String>,
    /// What changed (names, not values); never a secret or a value that was read.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The `x-request-id` of the request that made the change (absent for the CLI).
    pub request_id: Option<String>,
}

impl From<AuditEvent> for AuditEventBody {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            at: e.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            actor_user_id: e.actor.map(|a| a.to_string()),
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            detail: e.detail,
            request_id: e.request_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageBody {
    pub events: Vec<AuditEventBody>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, FieldError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FieldError::new(
                field,
                "must be an RFC 3339 timestamp such as 2026-03-03T10:00:00Z",
            )
        })
}

fn parse_filter(q: &BTreeMap<String, String>) -> Result<AuditFilter, ApiError> {
    let mut errors = Vec::new();
    let mut f = AuditFilter::default();
    let mut text = |name: &str| -> Option<String> {
        q.get(name)
            .and_then(|v| match bounded(name, v, MAX_TEXT_CHARS) {
                Ok(s) if s.is_empty() => None,
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(e);
                    None
                }
            })
    };
    let since = text("since");
    let until = text("until");
    let actor = text("actor");
    f.subject = text("subject");
    f.action = text("action");
    f.cursor = text("cursor");
    let limit = text("limit");
    f.since = since.and_then(|s| parse_time("since", &s).map_err(|e| errors.push(e)).ok());
    f.until = until.and_then(|s| parse_time("until", &s).map_err(|e| errors.push(e)).ok());
    f.actor = actor.and_then(|s| {
        s.parse::<UserId>()
            .map_err(|_| errors.push(FieldError::new("actor", "must be a user id")))
            .ok()
    });
    f.limit = limit.and_then(|s| {
        s.parse::<u32>()
            .map_err(|_| errors.push(FieldError::new("limit", "must be a whole number")))
            .ok()
    });
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", security(("bearer" = [])),
    params(
        ("since" = Option<String>, Query, format = DateTime, description = "RFC 3339; events at or after"),
        ("until" = Option<String>, Query, format = DateTime, description = "RFC 3339; events before"),
        ("actor" = Option<String>, Query, format = Uuid, description = "user id of the actor"),
        ("subject" = Option<String>, Query, description = "id of the subject"),
        ("action" = Option<String>, Query, description = "e.g. user.update"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "page size, 1-500, default 100"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = AuditPageBody), crate::openapi::QueryProblems))]
pub async fn list_audit(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<JsonOut<AuditPageBody>, ApiError> {
    let filter = parse_filter(&query)?;
    let page = state.app.list_audit(&can, filter).await?;
    Ok(JsonOut(AuditPageBody {
        events: page.events.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}
