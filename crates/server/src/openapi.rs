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

/// The document `GET /openapi.json` serves, pretty-printed with a trailing newline: the
/// exact text of `docs/openapi.json`, which `roster openapi` prints and
/// `scripts/openapi.sh` writes.
pub fn pretty_json() -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&ApiDoc::openapi())?;
    text.push('\n');
    Ok(text)
}
