//! Users (who can sign in) and their memberships (what level they hold in which
//! organization). A user's identity is global; everything a user may do is per organization.

use chrono::{DateTime, Utc};
use roster_domain::model::{Membership, OrgUser, Organization, User};
use roster_domain::{AccessLevel, Email, OrgId, PersonId, Slug, UserId};
use uuid::Uuid;

use crate::error::{corrupt, on_unique};
use crate::{Error, OrgTx, Result, Tx};

#[derive(sqlx::FromRow, Clone)]
pub(crate) struct UserRow {
    user_id: Uuid,
    email: String,
    name: String,
    picture_url: Option<String>,
    job_title: Option<String>,
    default_org_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(Self {
            id: UserId::from_uuid(r.user_id),
            email: Email::parse(&r.email).map_err(|e| corrupt("user email", e))?,
            name: r.name,
            picture_url: r.picture_url,
            job_title: r.job_title,
            default_org: r.default_org_id.map(OrgId::from_uuid),
            created_at: r.created_at,
        })
    }
}

const USER_COLUMNS: &str =
    "u.user_id, u.email, u.name, u.picture_url, u.job_title, u.default_org_id, u.created_at";

#[derive(sqlx::FromRow)]
struct OrgUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    org_id: Uuid,
    access_level: String,
    onboarding_template_id: Option<String>,
    scorecard_template_id: Option<String>,
    review_template_id: Option<String>,
    person_id: Option<Uuid>,
    productive_id: Option<String>,
    xero_employee_id: Option<String>,
}

impl TryFrom<OrgUserRow> for OrgUser {
    type Error = Error;
    fn try_from(r: OrgUserRow) -> Result<Self> {
        let user = User::try_from(r.user)?;
        Ok(Self {
            membership: Membership {
                org: OrgId::from_uuid(r.org_id),
                user: user.id,
                access_level: parse_level(&r.access_level)?,
                onboarding_template_id: r.onboarding_template_id,
                scorecard_template_id: r.scorecard_template_id,
                review_template_id: r.review_template_id,
            },
            user,
            person_id: r.person_id.map(PersonId::from_uuid),
            productive_id: r.productive_id,
            xero_employee_id: r.xero_employee_id,
        })
    }
}

fn parse_level(raw: &str) -> Result<AccessLevel> {
    raw.parse().map_err(|e| corrupt("access level", e))
}

/// The Admin API's view of a user: membership, linked (non-retired) person, and that
/// person's Productive and Xero ids — one query, whatever the number of users.
const ORG_USER_SELECT: &str = "SELECT u.user_id, u.email, u.name, u.picture_url, u.job_title,
        u.default_org_id, u.created_at, m.org_id, m.access_level, m.onboarding_template_id,
        m.scorecard_template_id, m.review_template_id, p.person_id,
        xp.external_id AS productive_id, xx.external_id AS xero_employee_id
    FROM memberships m
    JOIN users u ON u.user_id = m.user_id
    LEFT JOIN people p ON p.org_id = m.org_id AND p.user_id = m.user_id AND p.removed_at IS NULL
    LEFT JOIN external_ids xp
        ON xp.org_id = p.org_id AND xp.person_id = p.person_id AND xp.provider = 'productive'
    LEFT JOIN external_ids xx
        ON xx.org_id = p.org_id AND xx.person_id = p.person_id AND xx.provider = 'xero'
    WHERE m.org_id = $1";

#[derive(sqlx::FromRow)]
struct MembershipOrgRow {
    org_id: Uuid,
    slug: String,
    name: String,
    created_at: DateTime<Utc>,
    access_level: String,
}

impl Tx {
    pub async fn create_user(&mut self, user: &User) -> Result<()> {
        execute!(
            self,
            "INSERT INTO users (user_id, email, name, picture_url, job_title, default_org_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            user.id.as_uuid(),
            user.email.as_str(),
            &user.name,
            user.picture_url.as_deref(),
            user.job_title.as_deref(),
            user.default_org.map(|o| o.as_uuid()),
            user.created_at
        )
        .map_err(on_unique("a user with this email already exists"))?;
        Ok(())
    }

    pub async fn find_user(&mut self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.user_id = $1");
        rows!(self, fetch_optional, UserRow, &sql, id.as_uuid())?
            .map(TryInto::try_into)
            .transpose()
    }

    pub async fn find_user_by_email(&mut self, email: &Email) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
        rows!(self, fetch_optional, UserRow, &sql, email.as_str())?
            .map(TryInto::try_into)
            .transpose()
    }

    pub async fn set_default_org(
        &mut self,
        user: UserId,
        org: OrgId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self,
            "UPDATE users SET default_org_id = $2, updated_at = $3 WHERE user_id = $1",
            user.as_uuid(),
            org.as_uuid(),
            now
        )?;
        Ok(())
    }

    /// Every organization the user belongs to, oldest membership first.
    pub async fn memberships_of(
        &mut self,
        user: UserId,
    ) -> Result<Vec<(Organization, AccessLevel)>> {
        rows!(
            self,
            fetch_all,
            MembershipOrgRow,
            "SELECT o.org_id, o.slug, o.name, o.created_at, m.access_level
             FROM memberships m JOIN organizations o ON o.org_id = m.org_id
             WHERE m.user_id = $1 ORDER BY m.created_at, o.org_id",
            user.as_uuid()
        )?
        .into_iter()
        .map(|r| {
            let level = parse_level(&r.access_level)?;
            Ok((
                Organization {
                    id: OrgId::from_uuid(r.org_id),
                    slug: Slug::parse("slug", &r.slug)
                        .map_err(|e| corrupt("organization slug", e))?,
                    name: r.name,
                    created_at: r.created_at,
                },
                level,
            ))
        })
        .collect()
    }

    /// Removes a user who no longer belongs to any organization; their tokens stop working.
    pub async fn delete_user_if_orphaned(&mut self, user: UserId) -> Result<bool> {
        let n = execute!(
            self,
            "DELETE FROM users WHERE user_id = $1
               AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1)",
            user.as_uuid()
        )?;
        Ok(n > 0)
    }
}

impl OrgTx<'_> {
    pub async fn add_membership(&mut self, m: &Membership, now: DateTime<Utc>) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO memberships (org_id, user_id, access_level, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4)",
            self.org.as_uuid(),
            m.user.as_uuid(),
            m.access_level.as_str(),
            now
        )
        .map_err(on_unique(
            "the user is already a member of this organization",
        ))?;
        Ok(())
    }

    pub async fn list_users(&mut self) -> Result<Vec<OrgUser>> {
        let sql = format!("{ORG_USER_SELECT} ORDER BY lower(u.name), u.email, u.user_id");
        rows!(self.tx, fetch_all, OrgUserRow, &sql, self.org.as_uuid())?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// A member of this organization; anyone else is not found.
    pub async fn get_user(&mut self, user: UserId) -> Result<OrgUser> {
        let sql = format!("{ORG_USER_SELECT} AND m.user_id = $2");
        rows!(
            self.tx,
            fetch_optional,
            OrgUserRow,
            &sql,
            self.org.as_uuid(),
            user.as_uuid()
        )?
        .ok_or(Error::NotFound("user"))?
        .try_into()
    }

    /// Writes the membership's level and template assignments.
    pub async fn save_membership(&mut self, m: &Membership, now: DateTime<Utc>) -> Result<()> {
        let n = execute!(
            self.tx,
            "UPDATE memberships SET access_level = $3, onboarding_template_id = $4,
                scorecard_template_id = $5, review_template_id = $6, updated_at = $7
             WHERE org_id = $1 AND user_id = $2",
            self.org.as_uuid(),
            m.user.as_uuid(),
            m.access_level.as_str(),
            m.onboarding_template_id.as_deref(),
            m.scorecard_template_id.as_deref(),
            m.review_template_id.as_deref(),
            now
        )?;
        if n == 0 {
            Err(Error::NotFound("user"))
        } else {
            Ok(())
        }
    }

    /// Serializes changes to this organization's memberships until the transaction ends, so
    /// two executives demoting themselves at once cannot both see the other still there.
    /// PostgreSQL locks the organization's row; SQLite's write transactions are already
    /// serial (`BEGIN IMMEDIATE`), and the same statement is a no-op there.
    pub async fn lock_memberships(&mut self) -> Result<()> {
        execute!(
            self.tx,
            "UPDATE organizations SET slug = slug WHERE org_id = $1",
            self.org.as_uuid()
        )?;
        Ok(())
    }

    pub async fn count_executives(&mut self) -> Result<i64> {
        Ok(scalar!(
            self.tx,
            fetch_one,
            i64,
            "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND access_level = 'executive'",
            self.org.as_uuid()
        )?)
    }

    /// Removes the user from this organization and unlinks their person (who stays).
    pub async fn remove_member(&mut self, user: UserId, now: DateTime<Utc>) -> Result<()> {
        execute!(
            self.tx,
            "UPDATE people SET user_id = NULL, updated_at = $3 WHERE org_id = $1 AND user_id = $2",
            self.org.as_uuid(),
            user.as_uuid(),
            now
        )?;
        let n = execute!(
            self.tx,
            "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
            self.org.as_uuid(),
            user.as_uuid()
        )?;
        if n == 0 {
            Err(Error::NotFound("user"))
        } else {
            Ok(())
        }
    }
}
