//! An organization's stored overrides of the permission matrix.

use chrono::{DateTime, Utc};
use roster_domain::permissions::{Grant, Rights, Tool};

use crate::error::corrupt;
use crate::{OrgTx, Result};

#[derive(sqlx::FromRow)]
struct GrantRow {
    tool: String,
    access_level: String,
    can_view: bool,
    can_update: bool,
    can_manage: bool,
}

impl OrgTx<'_> {
    pub async fn stored_grants(&mut self) -> Result<Vec<Grant>> {
        rows!(
            self.tx,
            fetch_all,
            GrantRow,
            "SELECT tool, access_level, can_view, can_update, can_manage FROM permissions WHERE org_id = $1",
            self.org.as_uuid()
        )?
        .into_iter()
        .map(|r| {
            Ok(Grant {
                tool: r.tool.parse::<Tool>().map_err(|e| corrupt("permission tool", e))?,
                level: r.access_level.parse().map_err(|e| corrupt("permission level", e))?,
                rights: Rights { can_view: r.can_view, can_update: r.can_update, can_manage: r.can_manage },
            })
        })
        .collect()
    }

    /// Inserts or replaces each row (one statement per row of a matrix of at most ten).
    pub async fn upsert_grants(&mut self, grants: &[Grant], now: DateTime<Utc>) -> Result<()> {
        for g in grants {
            execute!(
                self.tx,
                "INSERT INTO permissions (org_id, tool, access_level, can_view, can_update, can_manage, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (org_id, tool, access_level) DO UPDATE SET can_view = excluded.can_view,
                    can_update = excluded.can_update, can_manage = excluded.can_manage,
                    updated_at = excluded.updated_at",
                self.org.as_uuid(),
                g.tool.as_str(),
                g.level.as_str(),
                g.rights.can_view,
                g.rights.can_update,
                g.rights.can_manage,
                now
            )?;
        }
        Ok(())
    }
}
