//! Reading and changing an organization's permission matrix.

use roster_domain::permissions::{self, Grant, Matrix};
use serde_json::json;

use crate::audit::record;
use crate::{App, Can, Executive, Result};

impl App {
    /// The full effective matrix, defaults included.
    pub async fn permission_matrix(&self, can: &Can<Executive>) -> Result<Matrix> {
        let caller = can.caller();
        let mut tx = self.store.read_one().await?;
        let stored = tx.org(caller.org_id()).stored_grants().await?;
        tx.rollback().await?;
        Ok(Matrix::with_overrides(stored))
    }

    /// Upserts rows; `executive` always keeps every right (rows that would weaken it: 422).
    pub async fn update_permissions(&self, can: &Can<Executive>, rows: &[Grant]) -> Result<()> {
        let caller = can.caller();
        permissions::validate_update(rows)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut org = tx.org(caller.org_id());
        org.upsert_grants(rows, now).await?;
        let changed: Vec<_> = rows
            .iter()
            .map(|g| {
                json!({
                    "tool": g.tool.as_str(), "access_level": g.level,
                    "can_view": g.rights.can_view, "can_update": g.rights.can_update, "can_manage": g.rights.can_manage,
                })
            })
            .collect();
        record(
            &mut org,
            now,
            caller.actor(),
            "permissions.update",
            ("permissions", None),
            json!({ "rows": changed }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
