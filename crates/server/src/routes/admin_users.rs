//! `/api/admin/users` (executive only): list, update level and employment fields, remove.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json as JsonOut, Router};
use chrono::NaiveDate;
use roster_app::Executive;
use roster_app::users::UserPatch;
use roster_domain::dates::check_hr_date;
use roster_domain::model::OrgUser;
use roster_domain::text::{MAX_TEXT_CHARS, bounded};
use roster_domain::{AccessLevel, EmploymentBasis, EmploymentStatus, FieldError, Gender, UserId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Allowed, Json, Path, parse_id};
use crate::openapi::{AccessLevelDoc, EmploymentBasisDoc, EmploymentStatusDoc, GenderDoc};
use crate::problem::{ApiError, Problem};
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

/// `PUT /api/admin/users/:id`: every field optional; `null` clears a nullable field. An
/// unknown field is a 422 naming it: a misspelt `acess_level` must not be silently ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// Not nullable: a user always has a level.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = AccessLevelDoc)]
    pub access_level: Option<AccessLevel>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub onboarding_template_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub scorecard_template_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub review_template_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<EmploymentStatusDoc>)]
    pub employment_status: Option<Option<EmploymentStatus>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<EmploymentBasisDoc>)]
    pub employment_basis: Option<Option<EmploymentBasis>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<GenderDoc>)]
    pub gender: Option<Option<Gender>>,
}

/// A field that may be absent but not `null`.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
#[expect(clippy::option_option, reason = "a patch tells absent from null")]
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[expect(clippy::option_option, reason = "a patch tells absent from null")]
fn bounded_text(
    field: &str,
    v: Option<Option<String>>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<String>> {
    v.map(|inner| {
        inner.and_then(|s| match bounded(field, &s, MAX_TEXT_CHARS) {
            Ok(t) if t.is_empty() => None,
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(e);
                None
            }
        })
    })
}

impl UpdateUser {
    fn into_patch(self) -> Result<UserPatch, ApiError> {
        let mut errors = Vec::new();
        let patch = UserPatch {
            access_level: self.access_level,
            onboarding_template_id: bounded_text(
                "onboarding_template_id",
                self.onboarding_template_id,
                &mut errors,
            ),
            scorecard_template_id: bounded_text(
                "scorecard_template_id",
                self.scorecard_template_id,
                &mut errors,
            ),
            review_template_id: bounded_text(
                "review_template_id",
                self.review_template_id,
                &mut errors,
            ),
            employment_status: self.employment_status,
            employment_basis: self.employment_basis,
            location: bounded_text("location", self.location, &mut errors),
            start_date: self.start_date.map(|date| {
                date.and_then(|d| match check_hr_date("start_date", d) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                })
            }),
            gender: self.gender,
        };
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(ApiError::Invalid(errors))
        }
    }
}

/// Every user of the organization.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = UserList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(
    State(state): State<AppState>,
    Allowed(caller, can): Allowed<Executive>,
) -> Result<JsonOut<UserList>, ApiError> {
    let users = state.app.list_users(&caller, &can).await?;
    Ok(JsonOut(UserList {
        users: users.into_iter().map(Into::into).collect(),
    }))
}

/// Updates a user's level, template assignments and (on the linked person) employment fields.
#[utoipa::path(put, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    request_body = UpdateUser,
    responses((status = 200, body = UserEnvelope),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_user(
    State(state): State<AppState>,
    Allowed(caller, can): Allowed<Executive>,
    Path(id): Path<String>,
    Json(body): Json<UpdateUser>,
) -> Result<JsonOut<UserEnvelope>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    let patch = body.into_patch()?;
    let user = state.app.update_user(&caller, &can, id, patch).await?;
    Ok(JsonOut(UserEnvelope { user: user.into() }))
}

/// Removes a user from the organization; their person stays, unlinked.
#[utoipa::path(delete, path = "/api/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "user id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = OkBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_user(
    State(state): State<AppState>,
    Allowed(caller, can): Allowed<Executive>,
    Path(id): Path<String>,
) -> Result<JsonOut<OkBody>, ApiError> {
    let id: UserId = parse_id(&id, "user")?;
    state.app.delete_user(&caller, &can, id).await?;
    Ok(JsonOut(OkBody { ok: true }))
}
