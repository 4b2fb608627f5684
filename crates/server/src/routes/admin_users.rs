//! `/api/admin/users` (executive only): list, update level and employment fields, remove.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json as JsonOut, Router};
use roster_app::Executive;
use roster_domain::model::OrgUser;
use roster_domain::users::UserPatch;
use roster_domain::{OrgId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Allowed, Json, Path, parse_id};
use crate::openapi::{AccessLevelDoc, UpdateUserDoc};
use crate::problem::ApiError;
use crate::routes::OkBody;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users", get(list_users))
        .route(
            "/api/admin/users/{id}",
            put(update_user).delete(delete_user),
        )
}

/// A user as the Admin API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub id: String,
    pub email: String,
    pub name: String,
    #[schema(value_type = AccessLevelDoc)]
    pub access_level: String,
    pub person_id: Option<String>,
    pub productive_id: Option<String>,
    pub xero_employee_id: Option<String>,
    pub onboarding_template_id: Option<String>,
    pub scorecard_template_id: Option<String>,
    pub review_template_id: Option<String>,
    pub picture_url: Option<String>,
    pub job_title: Option<String>,
}

impl From<OrgUser> for UserBody {
    fn from(u: OrgUser) -> Self {
        Self {
            id: u.user.id.to_string(),
            email: u.user.email.to_string(),
            name: u.user.name,
            access_level: u.membership.access_level.to_string(),
            person_id: u.person_id.map(|p| p.to_string()),
            productive_id: u.productive_id,
            xero_employee_id: u.xero_employee_id,
            onboarding_template_id: u.membership.onboarding_template_id,
            scorecard_template_id: u.membership.scorecard_template_id,
            review_template_id: u.membership.review_template_id,
            picture_url: u.user.picture_url,
            job_title: u.user.job_title,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserEnvelope {
    pub user: UserBody,
}

/// Every user of the organization.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = UserList), crate::openapi::ReadProblems))]
pub async fn list_users(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<Response, ApiError> {
    let org = can.caller().org_id();
    let users = state.app.list_users(&can).await?;
    let body = state.user_list_bodies.body(org, &users)?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

/// The serialized body of each organization's last user listing, kept with the listing it
/// was made from. While the app hands out that same listing (the same `Arc`: nothing a
/// listing is read from has changed, ADR 0022), the body is sent as it is instead of being
/// built and serialized again; a new listing replaces it. Holding the listing keeps its
/// address from being reused, so the comparison cannot mistake a new listing for the old.
#[derive(Debug, Default)]
pub struct ListBodies {
    bodies: Mutex<Bodies>,
}

/// Each organization's listing and the body made from it.
type Bodies = HashMap<OrgId, (Arc<Vec<OrgUser>>, Bytes)>;

/// Organizations whose last listing body is kept; past this the map starts again.
const KEPT_BODIES: usize = 64;

impl ListBodies {
    fn body(&self, org: OrgId, users: &Arc<Vec<OrgUser>>) -> Result<Bytes, ApiError> {
        if let Some((kept, body)) = self.lock().get(&org) {
            if Arc::ptr_eq(kept, users) {
                return Ok(body.clone());
            }
        }
        let list = UserList {
            users: users.iter().cloned().map(Into::into).collect(),
        };
        let body =
            Bytes::from(serde_json::to_vec(&list).map_err(|e| ApiError::Internal(Arc::new(e)))?);
        let mut bodies = self.lock();
        if bodies.len() >= KEPT_BODIES {
            bodies.clear();
        }
        bodies.insert(org, (users.clone(), body.clone()));
        Ok(body)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bodies> {
        // A panic while holding the lock leaves at worst a stale pair, which the pointer
        // comparison never serves for another listing.
        self.bodies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Updates a user's level, template assignments and (on the linked person) employment fields.
#[utoipa::path(put, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = UpdateUserDoc,
    responses((status = 200, body = UserEnvelope), crate::openapi::UpdateProblems))]
pub async fn update_user(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Path(id): Path<String>,
    Json(patch): Json<UserPatch>,
) -> Result<JsonOut<UserEnvelope>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    let user = state.app.update_user(&can, id, patch).await?;
    Ok(JsonOut(UserEnvelope { user: user.into() }))
}

/// Removes a user from the organization; their person stays, unlinked.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = OkBody), crate::openapi::DeleteProblems))]
pub async fn delete_user(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Path(id): Path<String>,
) -> Result<JsonOut<OkBody>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    state.app.delete_user(&can, id).await?;
    Ok(JsonOut(OkBody { ok: true }))
}
