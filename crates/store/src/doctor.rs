//! What `roster doctor` asks the database: its clock, and which connections exist in every
//! organization (the reads cross organizations on purpose: the operator checks them all).

use chrono::{DateTime, Utc};
use roster_domain::{OrgId, Provider};
use uuid::Uuid;

use crate::error::corrupt;
use crate::{Dialect, Result, Store};

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    slug: String,
    org_id: Uuid,
    provider: String,
}

impl Store {
    /// The database server's clock (one statement).
    pub async fn database_now(&self) -> Result<DateTime<Utc>> {
        let mut tx = self.read_one().await?;
        let now = match self.dialect() {
            Dialect::Postgres => scalar!(tx, fetch_one, DateTime<Utc>, "SELECT now()")?,
            Dialect::Sqlite => scalar!(
                tx,
                fetch_one,
                DateTime<Utc>,
                "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            )?,
        };
        Ok(now)
    }

    /// Every organization's connected providers (its slug, id and the provider), by slug.
    pub async fn connections_everywhere(&self) -> Result<Vec<(String, OrgId, Provider)>> {
        let mut tx = self.read_one().await?;
        let rows = rows!(
            tx,
            fetch_all,
            ConnectionRow,
            "SELECT o.slug, c.org_id, c.provider FROM connections c
             JOIN organizations o ON o.org_id = c.org_id ORDER BY o.slug, c.provider"
        )?;
        rows.into_iter()
            .map(|r| {
                let provider = r
                    .provider
                    .parse::<Provider>()
                    .map_err(|e| corrupt("connection provider", e))?;
                Ok((r.slug, OrgId::from_uuid(r.org_id), provider))
            })
            .collect()
    }
}
