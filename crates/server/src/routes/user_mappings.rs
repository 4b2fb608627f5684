//! `/api/admin/connections/user-mappings` (executive only): every active person with their
//! external ids, one id set by hand, or many set by email.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json as JsonOut, Router};
use roster_app::Executive;
use roster_app::user_mappings::EmailMapping;
use roster_domain::identities::parse_external_id;
use roster_domain::{Email, FieldError, MappedProvider, PersonId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Allowed, Json, Path, parse_id};
use crate::problem::ApiError;
use crate::routes::OkBody;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/connections/user-mappings",
            get(list_user_mappings),
        )
        .route(
            "/api/admin/connections/user-mappings/sync",
            post(sync_user_mappings),
        )
        .route(
            "/api/admin/connections/user-mappings/{personId}",
            put(set_user_mapping),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserMappingBody {
    pub person_id: String,
    pub user_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub xero_id: Option<String>,
    pub productive_id: Option<String>,
    pub remote_id: Option<String>,
    /// The linked user's id (Google accounts are users).
    pub google_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserMappingsBody {
    pub users: Vec<UserMappingBody>,
}

/// Every active person with their ids at Xero, Productive, Remote and Google.
#[utoipa::path(get, path = "/api/admin/connections/user-mappings", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = UserMappingsBody), crate::openapi::ReadProblems))]
pub async fn list_user_mappings(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<UserMappingsBody>, ApiError> {
    let people = state.app.list_user_mappings(&can).await?;
    Ok(JsonOut(UserMappingsBody {
        users: people
            .into_iter()
            .map(|p| UserMappingBody {
                person_id: p.person.to_string(),
                user_id: p.user.map(|u| u.to_string()),
                name: p.full_name(),
                email: p.email.as_ref().map(ToString::to_string),
                xero_id: p.xero_id,
                productive_id: p.productive_id,
                remote_id: p.remote_id,
                google_id: p.user.map(|u| u.to_string()),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserMappingInput {
    /// xero, productive or remote.
    #[schema(value_type = String)]
    pub provider: MappedProvider,
    /// The person's id at that provider (a UUID for Xero).
    #[schema(max_length = 1000)]
    pub external_id: String,
}

/// Sets one person's id at a provider; 409 when another person has that id.
#[utoipa::path(put, path = "/api/admin/connections/user-mappings/{personId}", tag = "connections", security(("bearer" = [])),
    params(("personId" = String, Path, format = Uuid, description = "person id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = UserMappingInput,
    responses((status = 200, body = OkBody), crate::openapi::UpdateProblems))]
pub async fn set_user_mapping(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Path(id): Path<String>,
    Json(body): Json<UserMappingInput>,
) -> Result<JsonOut<OkBody>, ApiError> {
    let person: PersonId = parse_id(&id, "person")?;
    let external_id = parse_external_id(body.provider, &body.external_id, "external_id")
        .map_err(|e| ApiError::Invalid(vec![e]))?;
    state
        .app
        .set_user_mapping(&can, person, body.provider, &external_id)
        .await?;
    Ok(JsonOut(OkBody { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailMappingInput {
    #[schema(value_type = String, format = Email)]
    pub email: Email,
    #[schema(max_length = 1000)]
    pub external_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserMappingSyncInput {
    /// xero, productive or remote.
    #[schema(value_type = String)]
    pub provider: MappedProvider,
    /// At most 10,000 rows; an email or an id twice is a 422.
    pub mappings: Vec<EmailMappingInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserMappingSyncBody {
    pub ok: bool,
    /// Rows whose email is an active person's (case-insensitively).
    pub matched: usize,
    /// Rows sent.
    pub total: usize,
}

/// Sets the ids of the people whose email matches, in one transaction; an id another
/// person holds is a 409 and changes nothing.
#[utoipa::path(post, path = "/api/admin/connections/user-mappings/sync", tag = "connections", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = UserMappingSyncInput,
    responses((status = 200, body = UserMappingSyncBody), crate::openapi::UpdateProblems))]
pub async fn sync_user_mappings(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Json(body): Json<UserMappingSyncInput>,
) -> Result<JsonOut<UserMappingSyncBody>, ApiError> {
    let mut rows = Vec::with_capacity(body.mappings.len());
    let mut errors: Vec<FieldError> = Vec::new();
    for (i, m) in body.mappings.into_iter().enumerate() {
        let field = format!("mappings[{i}].external_id");
        match parse_external_id(body.provider, &m.external_id, &field) {
            Ok(external_id) => rows.push(EmailMapping {
                email: m.email,
                external_id,
            }),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let s = state
        .app
        .sync_user_mappings(&can, body.provider, &rows)
        .await?;
    Ok(JsonOut(UserMappingSyncBody {
        ok: true,
        matched: s.matched,
        total: s.total,
    }))
}
