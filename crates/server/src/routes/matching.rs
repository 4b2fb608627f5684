//! Matching and linking: `GET /api/admin/users/{id}/productive-matches`,
//! `POST /api/admin/users/{id}/productive-link`, `POST /api/admin/users/sync-xero`,
//! `POST /api/admin/users/{id}/sync`, `GET /api/people/{id}/xero-matches`,
//! `POST /api/people/{id}/xero-link` and `POST /api/people/{id}/xero-sync`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use roster_app::matching::{EmployeeMatches, PersonMatches};
use roster_app::{Executive, ManagePeople};
use roster_domain::{FieldError, PersonId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::extract::{Allowed, Json, Path, parse_id};
use crate::problem::ApiError;
use crate::routes::OkBody;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/users/{id}/productive-matches",
            get(productive_matches),
        )
        .route(
            "/api/admin/users/{id}/productive-link",
            post(productive_link),
        )
        .route("/api/admin/users/sync-xero", post(sync_xero))
        .route("/api/admin/users/{id}/sync", post(sync_user))
        .route("/api/people/{id}/xero-matches", get(xero_matches))
        .route("/api/people/{id}/xero-link", post(link_xero))
        .route("/api/people/{id}/xero-sync", post(xero_sync))
}

/// A person who may be the user.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonMatchBody {
    pub person_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub productive_id: Option<String>,
    /// exact_email, exact_name or partial_name.
    pub confidence: String,
    /// 100, 80 or 40.
    pub score: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonMatchesBody {
    /// Unlinked people that match, best first.
    pub matches: Vec<PersonMatchBody>,
    /// This call linked the user to the one candidate scoring 80 or more.
    pub auto_linked: bool,
    /// The person the user is linked to now.
    pub person_id: Option<String>,
}

impl From<PersonMatches> for PersonMatchesBody {
    fn from(m: PersonMatches) -> Self {
        Self {
            matches: m
                .matches
                .into_iter()
                .map(|c| PersonMatchBody {
                    person_id: c.person.person.to_string(),
                    first_name: c.person.first_name,
                    last_name: c.person.last_name,
                    email: c.person.email.map(|e| e.to_string()),
                    productive_id: c.person.productive_id,
                    confidence: c.confidence.as_str().to_owned(),
                    score: c.confidence.score(),
                })
                .collect(),
            auto_linked: m.auto_linked,
            person_id: m.person.map(|p| p.to_string()),
        }
    }
}

/// Candidate people for a user (unlinked people, scored); links the one sure candidate when
/// the user has no person yet.
#[utoipa::path(get, path = "/api/admin/users/{id}/productive-matches", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = PersonMatchesBody), crate::openapi::DeleteProblems))]
pub async fn productive_matches(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Path(id): Path<String>,
) -> Result<JsonOut<PersonMatchesBody>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    Ok(JsonOut(
        state.app.productive_matches(&can, id).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductiveLinkBody {
    /// The person to link the user to.
    pub person_id: String,
}

/// Links the user to a person; 409 when the person is linked to another user.
#[utoipa::path(post, path = "/api/admin/users/{id}/productive-link", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = ProductiveLinkBody,
    responses((status = 200, body = OkBody), crate::openapi::UpdateProblems))]
pub async fn productive_link(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Path(id): Path<String>,
    Json(body): Json<ProductiveLinkBody>,
) -> Result<JsonOut<OkBody>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    let person: PersonId = body.person_id.trim().parse().map_err(|_| {
        ApiError::Invalid(vec![FieldError::new("person_id", "must be a person id")])
    })?;
    state.app.link_user_to_person(&can, id, person).await?;
    Ok(JsonOut(OkBody { ok: true }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct XeroLinkSyncBody {
    pub ok: bool,
    /// People newly linked to a Xero employee.
    pub linked: usize,
    /// People without a Xero link that were considered.
    pub total: usize,
    /// The sync run this answer comes from (see `GET /api/admin/sync-runs`).
    pub run_id: String,
}

/// Links people without a Xero link to the Xero employee that is their one sure match
/// (score 80 or more, unique both ways). Pulls no payroll data.
#[utoipa::path(post, path = "/api/admin/users/sync-xero", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = XeroLinkSyncBody), crate::openapi::ProviderWriteProblems))]
pub async fn sync_xero(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<XeroLinkSyncBody>, ApiError> {
    let s = state.app.sync_xero_links(&can).await?;
    Ok(JsonOut(XeroLinkSyncBody {
        ok: true,
        linked: s.linked,
        total: s.total,
        run_id: s.run_id.to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSyncBody {
    pub ok: bool,
    /// The providers that refreshed the user (google, productive) or were queued (xero).
    pub synced: Vec<String>,
}

/// Refreshes one user from every connected provider they are linked to: the Google profile
/// and the Productive person now, the Xero payroll pull queued in the background.
#[utoipa::path(post, path = "/api/admin/users/{id}/sync", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = UserSyncBody), crate::openapi::ProviderItemProblems))]
pub async fn sync_user(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
    Path(id): Path<String>,
) -> Result<JsonOut<UserSyncBody>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    let synced = state.app.refresh_user(&can, id).await?;
    Ok(JsonOut(UserSyncBody {
        ok: true,
        synced: synced.into_iter().map(str::to_owned).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeMatchBody {
    pub employee_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// active or terminated.
    pub status: String,
    /// exact_email, exact_name or partial_name.
    pub confidence: String,
    /// 100, 80 or 40.
    pub score: u8,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeMatchesBody {
    /// Xero employees no other person is linked to that match, best first.
    pub matches: Vec<EmployeeMatchBody>,
    /// This call linked the person to the one employee scoring 80 or more.
    pub auto_linked: bool,
    /// The Xero employee the person is linked to now.
    pub xero_employee_id: Option<String>,
}

impl From<EmployeeMatches> for EmployeeMatchesBody {
    fn from(m: EmployeeMatches) -> Self {
        Self {
            matches: m
                .matches
                .into_iter()
                .map(|e| EmployeeMatchBody {
                    employee_id: e.employee_id.to_string(),
                    first_name: e.first_name,
                    last_name: e.last_name,
                    email: e.email,
                    status: e.status.as_str().to_owned(),
                    confidence: e.confidence.as_str().to_owned(),
                    score: e.confidence.score(),
                })
                .collect(),
            auto_linked: m.auto_linked,
            xero_employee_id: m.xero_employee_id,
        }
    }
}

/// Candidate Xero employees for a person, scored like productive-matches; links the one
/// sure candidate when the person has no Xero link yet.
#[utoipa::path(get, path = "/api/people/{id}/xero-matches", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "person id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = EmployeeMatchesBody), crate::openapi::ProviderItemProblems))]
pub async fn xero_matches(
    State(state): State<AppState>,
    Allowed(can): Allowed<ManagePeople>,
    Path(id): Path<String>,
) -> Result<JsonOut<EmployeeMatchesBody>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    Ok(JsonOut(state.app.xero_matches(&can, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct XeroLinkBody {
    /// The Xero employee's `EmployeeID`.
    pub xero_employee_id: String,
}

/// Links the person to a Xero employee; 422 when Xero has no such employee, 409 when the
/// employee is linked to another person.
#[utoipa::path(post, path = "/api/people/{id}/xero-link", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "person id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = XeroLinkBody,
    responses((status = 200, body = OkBody), crate::openapi::ProviderItemProblems))]
pub async fn link_xero(
    State(state): State<AppState>,
    Allowed(can): Allowed<ManagePeople>,
    Path(id): Path<String>,
    Json(body): Json<XeroLinkBody>,
) -> Result<JsonOut<OkBody>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    let employee = Uuid::try_parse(body.xero_employee_id.trim()).map_err(|_| {
        ApiError::Invalid(vec![FieldError::new(
            "xero_employee_id",
            "must be a Xero employee id (a UUID)",
        )])
    })?;
    state.app.link_xero(&can, id, employee).await?;
    Ok(JsonOut(OkBody { ok: true }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct XeroPullBody {
    pub ok: bool,
    /// False when Xero reported no change since the last pull (nothing was written).
    pub changed: bool,
}

/// Pulls the person's payroll record from Xero (employment, contact, demographics,
/// financial with the super fund's name and type); 400 `not_linked` when the person has no
/// Xero link. An employee unchanged since the last pull writes nothing.
#[utoipa::path(post, path = "/api/people/{id}/xero-sync", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "person id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = XeroPullBody), crate::openapi::ProviderItemProblems))]
pub async fn xero_sync(
    State(state): State<AppState>,
    Allowed(can): Allowed<ManagePeople>,
    Path(id): Path<String>,
) -> Result<JsonOut<XeroPullBody>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    let outcome = state.app.pull_xero_payroll(&can, id).await?;
    Ok(JsonOut(XeroPullBody {
        ok: true,
        changed: outcome == roster_app::xero_payroll::PullOutcome::Updated,
    }))
}
