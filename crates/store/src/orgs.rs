//! Organizations: created by the admin CLI, found by id or slug.

use chrono::{DateTime, Utc};
use roster_domain::model::Organization;
use roster_domain::{OrgId, Slug};
use uuid::Uuid;

use crate::error::{corrupt, on_unique};
use crate::{Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct OrgRow {
    org_id: Uuid,
    slug: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organization {
    type Error = Error;
    fn try_from(r: OrgRow) -> Result<Self> {
        Ok(Self {
            id: OrgId::from_uuid(r.org_id),
            slug: Slug::parse("slug", &r.slug).map_err(|e| corrupt("organization slug", e))?,
            name: r.name,
            created_at: r.created_at,
        })
    }
}

const COLUMNS: &str = "org_id, slug, name, created_at";

impl Tx {
    pub async fn create_org(&mut self, org: &Organization) -> Result<()> {
        execute!(
            self,
            "INSERT INTO organizations (org_id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
            org.id.as_uuid(),
            org.slug.as_str(),
            &org.name,
            org.created_at
        )
        .map_err(on_unique("an organization with this slug already exists"))?;
        Ok(())
    }

    pub async fn find_org_by_slug(&mut self, slug: &Slug) -> Result<Option<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
        rows!(self, fetch_optional, OrgRow, &sql, slug.as_str())?
            .map(TryInto::try_into)
            .transpose()
    }

    pub async fn find_org(&mut self, id: OrgId) -> Result<Option<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE org_id = $1");
        rows!(self, fetch_optional, OrgRow, &sql, id.as_uuid())?
            .map(TryInto::try_into)
            .transpose()
    }
}

impl Tx {
    /// Every organization, oldest first (the CLI's default-organization rule).
    pub async fn list_orgs(&mut self) -> Result<Vec<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations ORDER BY created_at, org_id");
        rows!(self, fetch_all, OrgRow, &sql)?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }
}
