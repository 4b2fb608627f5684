//! `/people`: the sample people and the account's extras (placeholders, a client contact) as
//! JSON:API `people` resources, their filters and sorts, and the manager relationship with
//! `include=manager`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_company::{SampleCompany, SamplePerson};
use serde_json::{Value, json};

use super::jsonapi::{midnight, not_included, parse_list, relationship, timestamp};
use super::{Extra, ProductiveState, json_api};

fn person_resource(state: &ProductiveState, p: &SamplePerson, include_manager: bool) -> Value {
    let company = &state.company();
    let manager_id = p
        .manager
        .and_then(|m| company.people[m].productive_id.as_deref());
    // About a third of people have never had a custom field set: Productive sends null then.
    let custom_fields = if p.index % 3 == 2 {
        Value::Null
    } else {
        json!({ "48213": p.department, "48214": format!("E{:05}", p.index) })
    };
    let deactivated_at = p.termination_date.map(|d| timestamp(midnight(d)));
    json!({
        "id": p.productive_id,
        "type": "people",
        "attributes": {
            "first_name": p.productive_first_name,
            "last_name": p.productive_last_name,
            "nickname": p.preferred_name,
            "email": p.email,
            "title": p.title,
            "avatar_url": null,
            "deactivated_at": deactivated_at,
            "archived_at": null,
            "joined_at": timestamp(midnight(p.start_date)),
            "last_seen_at": if p.is_leaver { Value::Null } else { json!(timestamp(p.updated_at)) },
            "invited_at": timestamp(midnight(p.start_date)),
            "is_user": true,
            "user_id": p.productive_id.as_deref().and_then(|id| id.parse::<u64>().ok()).map(|id| id + 500_000),
            "role_id": if p.is_google_admin { 2 } else { 4 },
            "tag_list": [],
            "custom_fields": custom_fields,
            "created_at": timestamp(midnight(p.start_date)),
            "placeholder": false,
            "virtual": false,
            "contact": { "emails": [{ "name": "work", "email": p.email }], "phones": p.mobile.iter().map(|m| json!({ "name": "mobile", "phone": m })).collect::<Vec<_>>() },
            "external_id": null,
            "offboarding_status": null,
            "hrm_type_id": 1,
            "availabilities": "[]",
        },
        "relationships": {
            "organization": relationship("organizations", Some(&company.productive_org_id)),
            "company": not_included(),
            "subsidiary": not_included(),
            "custom_role": not_included(),
            "approval_policy_assignment": not_included(),
            "manager": if include_manager { relationship("people", manager_id) } else { not_included() },
        },
    })
}

fn extra_resource(state: &ProductiveState, e: &Extra, include_manager: bool) -> Value {
    let created = timestamp(midnight(roster_company::REFERENCE_DATE));
    json!({
        "id": e.id,
        "type": "people",
        "attributes": {
            "first_name": e.first_name, "last_name": e.last_name, "nickname": null, "email": e.email, "title": null,
            "avatar_url": null, "deactivated_at": null, "archived_at": null, "joined_at": null, "last_seen_at": null,
            "invited_at": null, "is_user": false, "user_id": null, "role_id": null, "tag_list": [], "custom_fields": null,
            "created_at": created, "placeholder": e.person_type == 3, "virtual": false,
            "contact": { "emails": [], "phones": [] }, "external_id": null, "offboarding_status": null, "hrm_type_id": null,
            "availabilities": "[]",
        },
        "relationships": {
            "organization": relationship("organizations", Some(&state.company().productive_org_id)),
            "company": not_included(),
            "subsidiary": not_included(),
            "custom_role": not_included(),
            "approval_policy_assignment": not_included(),
            "manager": if include_manager { relationship("people", None) } else { not_included() },
        },
    })
}

/// One people record: a sample person or an extra.
enum Row<'a> {
    Person(&'a SamplePerson),
    Extra(&'a Extra),
}

impl Row<'_> {
    fn field(&self, state: &ProductiveState, name: &str) -> Option<String> {
        match self {
            Row::Person(p) => match name {
                "id" => p.productive_id.clone(),
                "email" => p.email.clone(),
                "status" => Some(if p.is_leaver { "2" } else { "1" }.to_owned()),
                "person_type" => Some("1".to_owned()),
                "team" => p
                    .squad
                    .map(|s| state.company().squads[s].productive_team_id.clone()),
                "manager_id" => p
                    .manager
                    .and_then(|m| state.company().people[m].productive_id.clone()),
                "first_name" => Some(p.productive_first_name.clone()),
                "last_name" => Some(p.productive_last_name.clone()),
                _ => None,
            },
            Row::Extra(e) => match name {
                "id" => Some(e.id.clone()),
                "email" => e.email.clone(),
                "status" => Some("1".to_owned()),
                "person_type" => Some(e.person_type.to_string()),
                "first_name" => Some(e.first_name.clone()),
                "last_name" => Some(e.last_name.clone()),
                _ => None,
            },
        }
    }

    fn query_matches(&self, state: &ProductiveState, text: &str) -> bool {
        let text = text.to_lowercase();
        ["first_name", "last_name", "email"].iter().any(|f| {
            self.field(state, f)
                .is_some_and(|v| v.to_lowercase().contains(&text))
        })
    }

    fn resource(&self, state: &ProductiveState, include_manager: bool) -> Value {
        match self {
            Row::Person(p) => person_resource(state, p, include_manager),
            Row::Extra(e) => extra_resource(state, e, include_manager),
        }
    }
}

const PEOPLE_FILTERS: &[&str] = &[
    "id",
    "email",
    "status",
    "person_type",
    "team",
    "manager_id",
    "query",
];
const PEOPLE_SORTS: &[&str] = &["email", "first_name", "last_name"];

pub(super) async fn list_people(
    State(state): State<Arc<ProductiveState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Response> {
    let q = parse_list(query.as_deref(), PEOPLE_FILTERS, PEOPLE_SORTS, true)?;
    let company = &state.company();
    let mut rows: Vec<Row<'_>> = company
        .people
        .iter()
        .filter(|p| p.productive_id.is_some())
        .map(Row::Person)
        .chain(state.extras.iter().map(Row::Extra))
        .filter(|row| q.matches(|name| row.field(&state, name)))
        .filter(|row| q.text_matches(|text| row.query_matches(&state, text)))
        .collect();
    if let Some((field, descending)) = &q.sort {
        rows.sort_by(|a, b| {
            let o = a
                .field(&state, field)
                .unwrap_or_default()
                .to_lowercase()
                .cmp(&b.field(&state, field).unwrap_or_default().to_lowercase());
            if *descending { o.reverse() } else { o }
        });
    }
    let page = q.page(&state, "people", rows);
    let included = q
        .include_manager
        .then(|| included_managers(company, &state, &page.rows));
    let mut body = page.document(|r| r.resource(&state, q.include_manager));
    if let Some(managers) = included {
        body["included"] = Value::Array(managers);
    }
    Ok(json_api(StatusCode::OK, body))
}

/// The distinct managers of `rows`, each once, for `included[]`; a manager who is in `rows`
/// already is not repeated. JSON:API 1.0 (§Compound Documents): "A compound document MUST NOT
/// include more than one resource object for each type and id pair" — `data` included.
fn included_managers(
    company: &SampleCompany,
    state: &ProductiveState,
    rows: &[Row<'_>],
) -> Vec<Value> {
    let on_page: BTreeSet<usize> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Person(p) => Some(p.index),
            Row::Extra(_) => None,
        })
        .collect();
    let mut seen = BTreeSet::new();
    rows.iter()
        .filter_map(|r| match r {
            Row::Person(p) => p.manager,
            Row::Extra(_) => None,
        })
        .filter(|m| !on_page.contains(m) && seen.insert(*m))
        .filter(|m| company.people[*m].productive_id.is_some())
        .map(|m| person_resource(state, &company.people[m], false))
        .collect()
}
