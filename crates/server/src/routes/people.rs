//! The directory's reads: `GET /api/people`, `GET /api/people/org-chart`,
//! `GET /api/people/{id}/profile` (view:people) and `GET /api/admin/squads` (executive).
//!
//! The org chart is written out without recursion (`write_chart`): a manager chain as deep
//! as the organization must not overflow the stack of a serializer.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use roster_app::people_reads::{OrgChart, PeopleList, Profile, Shown};
use roster_app::{Executive, ViewPeople};
use roster_domain::PersonId;
use roster_domain::directory::{Listed, SquadListing};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{Allowed, Path, parse_id};
use crate::openapi::{EmploymentBasisDoc, EmploymentStatusDoc, GenderDoc};
use crate::problem::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/people", get(list_people))
        .route("/api/people/org-chart", get(get_org_chart))
        .route("/api/people/{id}/profile", get(get_profile))
        .route("/api/admin/squads", get(list_squads))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An active person of the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonBody {
    pub id: String,
    pub productive_id: Option<String>,
    pub user_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
    /// Their manager, when the manager is an active person.
    pub manager_id: Option<String>,
    /// The squad's name.
    pub squad: Option<String>,
    /// When a sync last changed this person's record.
    pub synced_at: Option<String>,
}

impl From<&Listed> for PersonBody {
    fn from(p: &Listed) -> Self {
        Self {
            id: p.id.to_string(),
            productive_id: p.productive_id.clone(),
            user_id: p.user.map(|u| u.to_string()),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            email: p.email.as_ref().map(ToString::to_string),
            title: p.title.clone(),
            avatar_url: p.avatar_url.clone(),
            manager_id: p.manager.map(|m| m.to_string()),
            squad: p.squad.clone(),
            synced_at: p.synced_at.map(time),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeopleBody {
    pub people: Vec<PersonBody>,
    /// The last successful Productive sync; null when there was none.
    pub synced_at: Option<String>,
    /// True when that sync is older than the TTL (default 6 h) or never happened; a stale
    /// answer starts one background refresh and does not wait for it.
    pub stale: bool,
}

/// Every active person of the organization (not paged).
#[utoipa::path(get, path = "/api/people", tag = "people", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = PeopleBody), crate::openapi::ReadProblems))]
pub async fn list_people(
    State(state): State<AppState>,
    Allowed(can): Allowed<ViewPeople>,
) -> Result<JsonOut<PeopleBody>, ApiError> {
    let PeopleList { directory, stale } = state.app.list_people(&can).await?;
    Ok(JsonOut(PeopleBody {
        people: directory.people.iter().map(Into::into).collect(),
        synced_at: directory.last_sync.map(time),
        stale,
    }))
}

/// One node of the org chart: the person's fields, the counts, and their reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgChartNode {
    #[serde(flatten)]
    pub person: PersonBody,
    /// Direct reports.
    pub report_count: usize,
    /// Everyone below, at any depth.
    pub subtree_count: usize,
    /// Direct reports, sorted by full name case-insensitively, ties by id.
    #[schema(no_recursion)]
    pub children: Vec<OrgChartNode>,
}

/// The org chart (documentation shape; the handler writes it without recursion).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgChartBody {
    /// People without an active manager, and one person of each manager cycle.
    pub roots: Vec<OrgChartNode>,
    pub synced_at: Option<String>,
    pub stale: bool,
}

/// A node's own fields, without its children (which `write_chart` appends).
#[derive(Serialize)]
struct FlatNode {
    #[serde(flatten)]
    person: PersonBody,
    report_count: usize,
    subtree_count: usize,
}

/// Writes the chart as JSON in pre-order with an explicit depth, closing each node's
/// `children` array when the walk climbs back up.
fn write_chart(c: &OrgChart) -> Result<String, serde_json::Error> {
    let people = &c.list.directory.people;
    let mut out = String::with_capacity(people.len() * 320 + 64);
    out.push_str("{\"roots\":[");
    let mut previous: Option<usize> = None;
    for (i, depth) in c.chart.walk() {
        if let Some(p) = previous {
            if depth <= p {
                for _ in depth..=p {
                    out.push_str("]}");
                }
                out.push(',');
            }
        }
        let node = serde_json::to_string(&FlatNode {
            person: (&people[i]).into(),
            report_count: c.chart.children[i].len(),
            subtree_count: c.chart.subtree_count[i],
        })?;
        // The object without its closing brace, then its children.
        out.push_str(node.strip_suffix('}').unwrap_or(&node));
        out.push_str(",\"children\":[");
        previous = Some(depth);
    }
    if let Some(p) = previous {
        for _ in 0..=p {
            out.push_str("]}");
        }
    }
    out.push_str("],\"synced_at\":");
    out.push_str(&serde_json::to_string(
        &c.list.directory.last_sync.map(time),
    )?);
    out.push_str(",\"stale\":");
    out.push_str(if c.list.stale { "true" } else { "false" });
    out.push('}');
    Ok(out)
}

/// The manager tree of the active people. A manager cycle never hangs or drops anyone: it
/// is cut at its member whose name sorts first, who becomes a root.
#[utoipa::path(get, path = "/api/people/org-chart", tag = "people", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = OrgChartBody), crate::openapi::ReadProblems))]
pub async fn get_org_chart(
    State(state): State<AppState>,
    Allowed(can): Allowed<ViewPeople>,
) -> Result<Response, ApiError> {
    let chart = state.app.org_chart(&can).await?;
    let body = write_chart(&chart).map_err(|e| ApiError::Internal(std::sync::Arc::new(e)))?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmploymentBody {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    #[schema(value_type = Option<EmploymentStatusDoc>)]
    pub employment_status: Option<String>,
    #[schema(value_type = Option<EmploymentBasisDoc>)]
    pub employment_basis: Option<String>,
    pub location: Option<String>,
    /// Why the caller may see this section, in plain words.
    pub visible_because: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactBody {
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub personal_email: Option<String>,
    pub home_address: Option<String>,
    pub visible_because: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DemographicsBody {
    #[schema(value_type = Option<GenderDoc>)]
    pub gender: Option<String>,
    pub date_of_birth: Option<String>,
    pub visible_because: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FinancialBody {
    pub super_fund_name: Option<String>,
    /// `regulated` or `smsf`.
    pub super_fund_type: Option<String>,
    pub super_member_number: Option<String>,
    pub bank_account_name: Option<String>,
    pub bank_bsb: Option<String>,
    pub bank_account_number: Option<String>,
    pub visible_because: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct XeroMappingBody {
    pub linked: bool,
    pub xero_employee_id: Option<String>,
    pub last_synced_at: Option<String>,
    pub visible_because: String,
}

/// The sections the caller may see; the others are absent (not null).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employment: Option<EmploymentBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demographics: Option<DemographicsBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub financial: Option<FinancialBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xero_mapping: Option<XeroMappingBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileEnvelope {
    pub profile: ProfileBody,
}

fn because<T>(s: &Shown<T>) -> String {
    s.because.to_owned()
}

impl From<Profile> for ProfileBody {
    fn from(p: Profile) -> Self {
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        Self {
            employment: p.employment.map(|s| EmploymentBody {
                visible_because: because(&s),
                start_date: date(s.value.start_date),
                end_date: date(s.value.end_date),
                employment_status: s.value.employment_status.map(|v| v.as_str().to_owned()),
                employment_basis: s.value.employment_basis.map(|v| v.as_str().to_owned()),
                location: s.value.location,
            }),
            contact: p.contact.map(|s| ContactBody {
                visible_because: because(&s),
                phone: s.value.phone,
                mobile: s.value.mobile,
                personal_email: s.value.personal_email,
                home_address: s.value.home_address,
            }),
            demographics: p.demographics.map(|s| DemographicsBody {
                visible_because: because(&s),
                gender: s.value.gender.map(|g| g.as_str().to_owned()),
                date_of_birth: date(s.value.date_of_birth),
            }),
            financial: p.financial.map(|s| FinancialBody {
                visible_because: because(&s),
                super_fund_name: s.value.super_fund_name,
                super_fund_type: s.value.super_fund_type,
                super_member_number: s.value.super_member_number,
                bank_account_name: s.value.bank_account_name,
                bank_bsb: s.value.bank_bsb,
                bank_account_number: s.value.bank_account_number,
            }),
            xero_mapping: p.xero_mapping.map(|s| XeroMappingBody {
                visible_because: because(&s),
                linked: s.value.xero_employee_id.is_some(),
                xero_employee_id: s.value.xero_employee_id,
                last_synced_at: s.value.last_synced_at.map(time),
            }),
        }
    }
}

/// A person's profile: the sections the caller may see, each with why. Reading contact,
/// demographics or financial details is recorded in the audit log (never the values).
#[utoipa::path(get, path = "/api/people/{id}/profile", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "person id"),
        ("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = ProfileEnvelope), crate::openapi::ItemReadProblems))]
pub async fn get_profile(
    State(state): State<AppState>,
    Allowed(can): Allowed<ViewPeople>,
    Path(id): Path<String>,
) -> Result<JsonOut<ProfileEnvelope>, ApiError> {
    let id: PersonId = parse_id(&id, "person")?;
    let profile = state.app.profile(&can, id).await?;
    Ok(JsonOut(ProfileEnvelope {
        profile: profile.into(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SquadMemberBody {
    pub squad_name: String,
    pub person_id: String,
    pub user_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SquadBody {
    pub id: String,
    /// The stable slug: unchanged when only the name's case or spacing changes; the team key
    /// integrations are shared with.
    pub key: String,
    pub name: String,
    pub members: Vec<SquadMemberBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SquadsBody {
    pub squads: Vec<SquadBody>,
}

impl From<SquadListing> for SquadBody {
    fn from(s: SquadListing) -> Self {
        Self {
            id: s.id.to_string(),
            members: s
                .members
                .into_iter()
                .map(|m| SquadMemberBody {
                    squad_name: s.name.clone(),
                    person_id: m.person.to_string(),
                    user_id: m.user.map(|u| u.to_string()),
                    name: m.name,
                    email: m.email.map(|e| e.to_string()),
                })
                .collect(),
            key: s.key,
            name: s.name,
        }
    }
}

/// Squads from the people's squads as synced from Productive, sorted by name, with their
/// active members.
#[utoipa::path(get, path = "/api/admin/squads", tag = "admin", security(("bearer" = [])),
    params(("x-active-org" = Option<String>, Header, description = "organization id or slug")),
    responses((status = 200, body = SquadsBody), crate::openapi::ReadProblems))]
pub async fn list_squads(
    State(state): State<AppState>,
    Allowed(can): Allowed<Executive>,
) -> Result<JsonOut<SquadsBody>, ApiError> {
    let squads = state.app.list_squads(&can).await?;
    Ok(JsonOut(SquadsBody {
        squads: squads.into_iter().map(Into::into).collect(),
    }))
}
