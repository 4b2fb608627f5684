//! `GET /api/admin/drift` (executive): people active in one connected source and inactive
//! or absent in another, with counts per kind.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use roster_app::Executive;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::Allowed;
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/drift", get(get_drift))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftPersonBody {
    pub email: String,
    /// The name the first source gives them.
    pub name: String,
    /// Their active person in Roster's directory, when there is one.
    pub person_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftKindBody {
    /// `active_in_<source>_<state>_in_<other>`, e.g. `active_in_productive_missing_in_xero`.
    pub kind: String,
    pub source: String,
    pub other: String,
    /// `inactive` (a leaver, a suspended account) or `missing` (not listed at all).
    pub state: String,
    pub count: usize,
    pub people: Vec<DriftPersonBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftBody {
    /// The connected sources compared.
    pub sources: Vec<String>,
    /// Every ordered pair of sources in both states, empty ones included.
    pub kinds: Vec<DriftKindBody>,
    /// Per source, records without an email, which cannot be compared.
    pub without_email: BTreeMap<String, usize>,
}

/// Drift between the connected sources, compared by work email.
#[utoipa::path(get, path = "/api/admin/drift", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = DriftBody), crate::openapi::ProviderReadProblems))]
pub async fn get_drift(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<DriftBody>, ApiError> {
    let d = state.app.drift(&can).await?;
    let kinds = d
        .kinds
        .iter()
        .map(|k| DriftKindBody {
            kind: k.name(),
            source: k.source.to_owned(),
            other: k.other.to_owned(),
            state: k.state.as_str().to_owned(),
            count: k.people.len(),
            people: k
                .people
                .iter()
                .map(|(email, name)| DriftPersonBody {
                    email: email.to_string(),
                    name: name.clone(),
                    person_id: d.person_of.get(email).map(ToString::to_string),
                })
                .collect(),
        })
        .collect();
    Ok(JsonOut(DriftBody {
        sources: d.sources.iter().map(|s| (*s).to_owned()).collect(),
        kinds,
        without_email: d
            .without_email
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
    }))
}
