//! `/teams`, `/team_memberships` and `/organizations`: squads as Productive teams, who is in
//! which, and the one organization the token belongs to.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use roster_company::SampleSquad;
use serde_json::json;

use super::jsonapi::{midnight, not_included, parse_list, relationship, timestamp};
use super::{ProductiveState, json_api};

pub(super) async fn list_teams(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(
        query.as_deref(),
        &["id", "name", "color_id"],
        &["name"],
        false,
    )?;
    let company = state.company();
    let squads: Vec<&SampleSquad> = company
        .squads
        .iter()
        .filter(|s| {
            q.matches(|name| match name {
                "id" => Some(s.productive_team_id.clone()),
                "name" => Some(s.name.clone()),
                "color_id" => Some((s.index % 10 + 1).to_string()),
                _ => None,
            })
        })
        .collect();
    let body = q.page(&state, "teams", squads).document(|s| {
        json!({
            "id": s.productive_team_id,
            "type": "teams",
            "attributes": { "name": s.name, "color_id": s.index % 10 + 1, "icon_id": s.index % 24 + 1 },
            "relationships": {
                "organization": relationship("organizations", Some(&state.company().productive_org_id)),
                "members": not_included(),
            },
        })
    });
    Ok(json_api(StatusCode::OK, body))
}

pub(super) async fn list_team_memberships(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(
        query.as_deref(),
        &["id", "person_id", "team_id"],
        &[],
        false,
    )?;
    let company = &state.company();
    // (membership id, person, squad): rendered only for the requested page.
    let mut memberships = Vec::new();
    let mut next_id: u64 = 700_000;
    for squad in &company.squads {
        for &member in &squad.members {
            next_id += 1;
            let Some(person_id) = company.people[member].productive_id.as_deref() else {
                continue;
            };
            let id = next_id.to_string();
            let keep = q.matches(|name| match name {
                "id" => Some(id.clone()),
                "person_id" => Some(person_id.to_owned()),
                "team_id" => Some(squad.productive_team_id.clone()),
                _ => None,
            });
            if keep {
                memberships.push((id, member, squad));
            }
        }
    }
    let page = q.page(&state, "team_memberships", memberships);
    let body = page.document(|(id, member, squad)| {
        let person = &company.people[member];
        json!({
            "id": id,
            "type": "team_memberships",
            "attributes": { "created_at": timestamp(midnight(person.start_date)) },
            "relationships": {
                "person": relationship("people", person.productive_id.as_deref()),
                "team": relationship("teams", Some(&squad.productive_team_id)),
            },
        })
    });
    Ok(json_api(StatusCode::OK, body))
}

/// The token's memberships: one in the fake's organization, and for a [`TWO_ORGANIZATIONS`]
/// token a second in an organization the fake does not serve. Served without
/// `X-Organization-Id`; `relationships.organization` and `person` as JSON:API links them
/// (inferred from the listing's published example and its `organization_id` filter).
///
/// [`TWO_ORGANIZATIONS`]: super::TWO_ORGANIZATIONS
pub(super) async fn list_organization_memberships(
    State(state): State<Arc<ProductiveState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(query.as_deref(), &["organization_id"], &[], false)?;
    let company = state.company();
    let person = company.google_admin().productive_id.clone();
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut orgs = vec![company.productive_org_id.clone()];
    if token.contains(super::TWO_ORGANIZATIONS) {
        orgs.push("1".to_owned());
    }
    let rows: Vec<(usize, String)> = orgs
        .into_iter()
        .enumerate()
        .filter(|(_, org)| q.matches(|name| (name == "organization_id").then(|| org.clone())))
        .collect();
    let body = q
        .page(&state, "organization_memberships", rows)
        .document(|(i, org)| {
            json!({
                "id": (900_001 + i).to_string(),
                "type": "organization_memberships",
                "attributes": { "updated_at": timestamp(midnight(roster_company::REFERENCE_DATE)), "position": null, "time_reminders": true, "email_notifications": true, "weekly_emails": true },
                "relationships": {
                    "organization": relationship("organizations", Some(&org)),
                    "person": relationship("people", person.as_deref()),
                },
            })
        });
    Ok(json_api(StatusCode::OK, body))
}

pub(super) async fn list_organizations(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(query.as_deref(), &["id"], &[], false)?;
    let org = json!({
        "id": state.company().productive_org_id,
        "type": "organizations",
        "attributes": { "name": state.company().name, "default_currency": "AUD", "time_zone": "Sydney" },
        "relationships": {},
    });
    let body = q.page(&state, "organizations", vec![org]).document(|o| o);
    Ok(json_api(StatusCode::OK, body))
}
