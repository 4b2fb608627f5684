//! `/api/admin/permissions` (executive only): the full matrix, and upserting rows of it.

use axum::extract::State;
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use roster_app::Executive;
use roster_domain::AccessLevel;
use roster_domain::permissions::{Grant, Rights, Tool};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Allowed, Json};
use crate::openapi::{AccessLevelDoc, ToolDoc};
use crate::problem::ApiError;
use crate::routes::OkBody;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/admin/permissions",
        get(get_permissions).put(put_permissions),
    )
}

/// One cell of the matrix.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionRow {
    #[schema(value_type = ToolDoc)]
    pub tool: Tool,
    #[schema(value_type = AccessLevelDoc)]
    pub access_level: AccessLevel,
    pub can_view: bool,
    pub can_update: bool,
    pub can_manage: bool,
}

impl From<Grant> for PermissionRow {
    fn from(g: Grant) -> Self {
        Self {
            tool: g.tool,
            access_level: g.level,
            can_view: g.rights.can_view,
            can_update: g.rights.can_update,
            can_manage: g.rights.can_manage,
        }
    }
}

impl From<&PermissionRow> for Grant {
    fn from(r: &PermissionRow) -> Self {
        Self {
            tool: r.tool,
            level: r.access_level,
            rights: Rights {
                can_view: r.can_view,
                can_update: r.can_update,
                can_manage: r.can_manage,
            },
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PermissionMatrix {
    #[schema(max_items = 50)]
    pub permissions: Vec<PermissionRow>,
}

/// The full matrix, defaults included.
#[utoipa::path(get, path = "/api/admin/permissions", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = PermissionMatrix), crate::openapi::ReadProblems))]
pub async fn get_permissions(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<PermissionMatrix>, ApiError> {
    let matrix = state.app.permission_matrix(&can).await?;
    Ok(JsonOut(PermissionMatrix {
        permissions: matrix.grants().into_iter().map(Into::into).collect(),
    }))
}

/// Upserts rows. Unknown tool or level → 422; rows that would take a right from executive → 422.
#[utoipa::path(put, path = "/api/admin/permissions", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = PermissionMatrix,
    responses((status = 200, body = OkBody), crate::openapi::SettingsProblems))]
pub async fn put_permissions(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<PermissionMatrix>,
) -> Result<JsonOut<OkBody>, ApiError> {
    let rows: Vec<Grant> = body.permissions.iter().map(Into::into).collect();
    state.app.update_permissions(&can, &rows).await?;
    Ok(JsonOut(OkBody { ok: true }))
}
