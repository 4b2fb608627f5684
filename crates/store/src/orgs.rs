//! Organizations: created by the admin CLI, found by id or slug.

use chrono::{DateTime, Utc};
use roster_domain::OrgId;
use roster_domain::model::Organization;
use uuid::Uuid;

use crate::error::on_unique;
use crate::{Result, Tx};

#[derive(sqlx::FromRow)]
struct OrgRow {
    org_id: Uuid,
    slug: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<OrgRow> for Organization {
    fn from(r: OrgRow) -> Self {
        Self {
            id: OrgId::from_uuid(r.org_id),
            slug: r.slug,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: &str = "org_id, slug, name, created_at";

impl Tx {
    pub async fn create_org(&mut self, org: &Organization) -> Result<()> {
        execute!(
            self,
            "INSERT INTO organizations (org_id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
            org.id.as_uuid(),
            &org.slug,
            &org.name,
            org.created_at
        )
        .map_err(on_unique("an organization with this slug already exists"))?;
        Ok(())
    }

    pub async fn find_org_by_slug(&mut self, slug: &str) -> Result<Option<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
        Ok(rows!(self, fetch_optional, OrgRow, &sql, slug)?.map(Into::into))
    }

    pub async fn find_org(&mut self, id: OrgId) -> Result<Option<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE org_id = $1");
        Ok(rows!(self, fetch_optional, OrgRow, &sql, id.as_uuid())?.map(Into::into))
    }
}

impl Tx {
    /// Every organization, oldest first (the CLI's default-organization rule).
    pub async fn list_orgs(&mut self) -> Result<Vec<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations ORDER BY created_at, org_id");
        Ok(rows!(self, fetch_all, OrgRow, &sql)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
