//! One module per resource, each with `fn router() -> Router<AppState>`. Handler names are
//! the OpenAPI operation ids.

pub mod admin_audit;
pub mod admin_permissions;
pub mod admin_users;
pub mod connections;
pub mod drift;
pub mod matching;
pub mod me;
pub mod meta;
pub mod people;
pub mod sync;
pub mod user_mappings;

use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::ApiError;

/// `{"ok": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OkBody {
    pub ok: bool,
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("route".to_owned())
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
