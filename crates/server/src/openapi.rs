//! The OpenAPI 3.1 document, generated from the handlers' annotations. Enums of the domain
//! (which knows nothing of utoipa) are described here by schema-only twins.

use std::collections::BTreeMap;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

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
        routes::connections::list_connections,
        routes::connections::xero_auth_url,
        routes::connections::xero_callback,
        routes::connections::disconnect_xero,
        routes::connections::connect_productive,
        routes::connections::disconnect_productive,
        routes::connections::connect_slack,
        routes::connections::disconnect_slack,
        routes::connections::connect_google,
        routes::connections::disconnect_google,
        routes::connections::google_workspace_status,
        routes::connections::google_calendar_status,
        routes::connections::connect_remote,
        routes::connections::disconnect_remote,
        routes::connections::remote_status,
        routes::connections::connect_scrapin,
        routes::connections::disconnect_scrapin,
        routes::connections::get_scrapin_alerts,
        routes::connections::set_scrapin_alerts,
        routes::sync::sync_people,
        routes::sync::sync_productive,
        routes::sync::sync_google,
        routes::sync::list_sync_runs,
        routes::drift::get_drift,
        routes::people::list_people,
        routes::people::get_org_chart,
        routes::people::get_profile,
        routes::people::list_squads,
        routes::matching::productive_matches,
        routes::matching::productive_link,
        routes::matching::sync_xero,
        routes::matching::sync_user,
        routes::matching::xero_matches,
        routes::matching::link_xero,
        routes::matching::xero_sync,
        routes::user_mappings::list_user_mappings,
        routes::user_mappings::set_user_mapping,
        routes::user_mappings::sync_user_mappings,
    ),
    components(schemas(AccessLevelDoc, EmploymentStatusDoc, EmploymentBasisDoc, GenderDoc, ToolDoc, crate::problem::Problem, crate::problem::ProblemField)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// One problem+json response of the given status, described by its reason phrase.
fn problem_response(status: u16) -> RefOr<Response> {
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    ResponseBuilder::new()
        .description(reason)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Declares a set of problem+json responses that handlers list in `responses(...)` beside
/// their success, so every operation's errors are written once per kind of operation.
macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident: $($status:literal),+;)+) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                [$($status),+]
                    .into_iter()
                    .map(|status: u16| (status.to_string(), problem_response(status)))
                    .collect()
            }
        }
    )+};
}

problem_responses! {
    /// A read of the caller's organization: not signed in, or not allowed.
    ReadProblems: 401, 403;
    /// A filtered or paged read: also a query parameter that is not valid.
    QueryProblems: 401, 403, 422;
    /// Removing one item: also an unknown id, a rule that refuses, or a busy database.
    DeleteProblems: 401, 403, 404, 409, 503;
    /// Changing one item with a JSON body: every way a body or an id can be wrong (408: the
    /// body did not arrive in time).
    UpdateProblems: 400, 401, 403, 404, 408, 409, 413, 415, 422, 503;
    /// A read that asks a provider: also not connected or configured (409), the provider's
    /// rate limit (429) and the provider failing (502).
    ProviderReadProblems: 401, 403, 409, 429, 502, 503;
    /// Saving a credential the provider verifies first.
    ProviderWriteProblems: 400, 401, 403, 408, 409, 413, 415, 422, 429, 502, 503;
    /// An operation on one person or user that asks a provider: also an unknown id.
    ProviderItemProblems: 400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 502, 503;
    /// Replacing an organization-wide setting with a JSON body.
    SettingsProblems: 400, 401, 403, 408, 413, 415, 422, 503;
    /// A read of one item: also an unknown id (or another organization's, or a malformed one).
    ItemReadProblems: 401, 403, 404;
}

/// The document `GET /openapi.json` serves, pretty-printed with a trailing newline: the
/// exact text of `docs/openapi.json`, which `roster openapi` prints and
/// `scripts/openapi.sh` writes.
pub fn pretty_json() -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&ApiDoc::openapi())?;
    text.push('\n');
    Ok(text)
}
