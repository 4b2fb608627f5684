//! The authenticated hot path: everything a request needs to know about its caller — the
//! user, every organization they belong to with their level, their linked person there, and
//! that organization's stored permission rows — in **one statement** on the pool. No
//! explicit transaction: a single statement is its own consistent snapshot, and it saves
//! the `BEGIN`/`ROLLBACK` round trips on every request. The app keeps the record only while
//! [`Store::auth_stamp`] shows no change since it was read (ADR 0022), so a deleted user, a
//! removed membership or a changed level takes effect on the very next request.

use chrono::{DateTime, Utc};
use roster_domain::model::{Organization, User};
use roster_domain::permissions::{Grant, Rights, Tool};
use roster_domain::{AccessLevel, OrgId, PersonId, Slug};
use uuid::Uuid;

use crate::error::corrupt;
use crate::users::UserRow;
use crate::{Result, Store};

/// A user with every membership, as one request sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRecord {
    pub user: User,
    /// Oldest membership first.
    pub memberships: Vec<MemberOf>,
}

/// One organization a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberOf {
    pub org: Organization,
    pub level: AccessLevel,
    /// The user's (non-retired) person in that organization, when linked.
    pub person: Option<PersonId>,
    /// The organization's stored permission rows (the defaults are not stored).
    pub grants: Vec<Grant>,
}

#[derive(sqlx::FromRow)]
struct CallerRow {
    #[sqlx(flatten)]
    user: UserRow,
    org_id: Option<Uuid>,
    org_slug: Option<String>,
    org_name: Option<String>,
    org_created_at: Option<DateTime<Utc>>,
    access_level: Option<String>,
    person_id: Option<Uuid>,
    grant_tool: Option<String>,
    grant_level: Option<String>,
    can_view: Option<bool>,
    can_update: Option<bool>,
    can_manage: Option<bool>,
}

/// One row per (membership × stored permission row); at most ten permission rows exist per
/// organization (two tools × five levels), so a user in two organizations reads ≤ 20 rows.
const CALLER_SELECT: &str = "SELECT u.user_id, u.email, u.name, u.picture_url, u.job_title,
        u.default_org_id, u.created_at,
        o.org_id, o.slug AS org_slug, o.name AS org_name, o.created_at AS org_created_at,
        m.access_level, p.person_id,
        g.tool AS grant_tool, g.access_level AS grant_level, g.can_view, g.can_update, g.can_manage
    FROM users u
    LEFT JOIN memberships m ON m.user_id = u.user_id
    LEFT JOIN organizations o ON o.org_id = m.org_id
    LEFT JOIN people p ON p.org_id = m.org_id AND p.user_id = u.user_id AND p.removed_at IS NULL
    LEFT JOIN permissions g ON g.org_id = m.org_id
    WHERE u.user_id = $1
    ORDER BY m.created_at, o.org_id";

impl Store {
    /// The user `id` names with all their memberships, or `None` when there is no such user.
    pub async fn load_caller(&self, id: roster_domain::UserId) -> Result<Option<CallerRecord>> {
        let rows = pool_rows!(self, fetch_all, CallerRow, CALLER_SELECT, id.as_uuid())?;
        let mut rows = rows.into_iter().peekable();
        let Some(first) = rows.peek() else {
            return Ok(None);
        };
        let user = User::try_from(first.user.clone())?;
        let mut memberships: Vec<MemberOf> = Vec::new();
        for row in rows {
            let Some(org_id) = row.org_id else { continue };
            let org_id = OrgId::from_uuid(org_id);
            if memberships.last().is_none_or(|m| m.org.id != org_id) {
                memberships.push(member_of(org_id, &row)?);
            }
            if let Some(grant) = grant(&row)? {
                if let Some(m) = memberships.last_mut() {
                    m.grants.push(grant);
                }
            }
        }
        Ok(Some(CallerRecord { user, memberships }))
    }
}

fn member_of(org_id: OrgId, row: &CallerRow) -> Result<MemberOf> {
    let slug = row.org_slug.as_deref().unwrap_or_default();
    Ok(MemberOf {
        org: Organization {
            id: org_id,
            slug: Slug::parse("slug", slug).map_err(|e| corrupt("organization slug", e))?,
            name: row.org_name.clone().unwrap_or_default(),
            created_at: row.org_created_at.unwrap_or_default(),
        },
        level: row
            .access_level
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| corrupt("access level", e))?,
        person: row.person_id.map(PersonId::from_uuid),
        grants: Vec::new(),
    })
}

fn grant(row: &CallerRow) -> Result<Option<Grant>> {
    let (Some(tool), Some(level)) = (&row.grant_tool, &row.grant_level) else {
        return Ok(None);
    };
    Ok(Some(Grant {
        tool: tool
            .parse::<Tool>()
            .map_err(|e| corrupt("permission tool", e))?,
        level: level.parse().map_err(|e| corrupt("permission level", e))?,
        rights: Rights {
            can_view: row.can_view.unwrap_or_default(),
            can_update: row.can_update.unwrap_or_default(),
            can_manage: row.can_manage.unwrap_or_default(),
        },
    }))
}
