//! The OpenAPI 3.1 document, generated from the handlers' annotations. Enums of the domain
//! (which knows nothing of utoipa) are described here by schema-only twins.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes;

#[derive(ToSchema)]
#[schema(as = AccessLevel)]
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "a schema of the wire values")]
pub enum AccessLevelDoc {
    executive,
    head,
    manager,
    lead,
    employee,
}

#[derive(ToSchema)]
#[schema(as = EmploymentStatus)]
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "a schema of the wire values")]
pub enum EmploymentStatusDoc {
    active,
    terminated,
    on_leave,
}

#[derive(ToSchema)]
#[schema(as = EmploymentBasis)]
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "a schema of the wire values")]
pub enum EmploymentBasisDoc {
    full_time,
    part_time,
    casual,
    contractor,
}

#[derive(ToSchema)]
#[schema(as = Gender)]
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "a schema of the wire values")]
pub enum GenderDoc {
    male,
    female,
    #[schema(rename = "non-binary")]
    non_binary,
    not_stated,
}

#[derive(ToSchema)]
#[schema(as = Tool)]
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "a schema of the wire values")]
pub enum ToolDoc {
    people,
    integrations,
}

/// The body of `PUT /api/admin/users/{id}` as documented; the server parses it straight
/// into `roster_domain::users::UserPatch`, whose types hold these limits. Every field is
/// optional, `null` clears a nullable field, and an unknown field is a 422.
#[derive(Debug, ToSchema)]
#[schema(as = UpdateUser)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "a schema of the request body, never built")]
pub struct UpdateUserDoc {
    /// Not nullable: a user always has a level.
    #[schema(value_type = AccessLevelDoc)]
    access_level: Option<AccessLevelDoc>,
    #[schema(max_length = 1000)]
    onboarding_template_id: Option<String>,
    #[schema(max_length = 1000)]
    scorecard_template_id: Option<String>,
    #[schema(max_length = 1000)]
    review_template_id: Option<String>,
    employment_status: Option<EmploymentStatusDoc>,
    employment_basis: Option<EmploymentBasisDoc>,
    #[schema(max_length = 1000)]
    location: Option<String>,
    /// Between 1900-01-01 and 2199-12-31.
    start_date: Option<chrono::NaiveDate>,
    gender: Option<GenderDoc>,
}

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Roster", description = "People-operations hub: directory, org chart, HR profiles, connections."),
    paths(
        routes::meta::healthz,
        routes::meta::readyz,
        routes::meta::openapi_json,
        routes::meta::metrics,
        routes::me::get_me,
        routes::admin_users::list_users,
        routes::admin_users::update_user,
        routes::admin_users::delete_user,
        routes::admin_permissions::get_permissions,
        routes::admin_permissions::put_permissions,
        routes::admin_audit::list_audit,
    ),
    components(schemas(AccessLevelDoc, EmploymentStatusDoc, EmploymentBasisDoc, GenderDoc, ToolDoc)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
