//! `GET /api/me`: the caller, their active organization, level and permissions.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::Authed;
use crate::openapi::AccessLevelDoc;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(get_me))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub picture_url: Option<String>,
    pub job_title: Option<String>,
    /// The caller's person in the active organization, when linked.
    pub person_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeOrganization {
    pub id: String,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: MeUser,
    pub organization: MeOrganization,
    #[schema(value_type = AccessLevelDoc)]
    pub access_level: String,
    /// `ACTION:TOOL` strings, e.g. `view:people`.
    pub permissions: Vec<String>,
}

/// The caller.
#[utoipa::path(get, path = "/api/me", tag = "me", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = Me), crate::openapi::ReadProblems))]
pub async fn get_me(Authed(caller): Authed) -> Result<Json<Me>, ApiError> {
    Ok(Json(Me {
        user: MeUser {
            id: caller.user.id.to_string(),
            email: caller.user.email.to_string(),
            name: caller.user.name.clone(),
            picture_url: caller.user.picture_url.clone(),
            job_title: caller.user.job_title.clone(),
            person_id: caller.person.map(|p| p.to_string()),
        },
        organization: MeOrganization {
            id: caller.org.id.to_string(),
            slug: caller.org.slug.to_string(),
            name: caller.org.name.clone(),
        },
        access_level: caller.level.to_string(),
        permissions: caller
            .permissions()
            .iter()
            .map(ToString::to_string)
            .collect(),
    }))
}
