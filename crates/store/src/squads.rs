//! Squads (teams) of an organization.

use chrono::{DateTime, Utc};
use roster_domain::PersonId;
use roster_domain::model::Squad;

use crate::error::on_unique;
use crate::{Error, OrgTx, Result};

impl OrgTx<'_> {
    pub async fn create_squad(&mut self, s: &Squad, now: DateTime<Utc>) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO squads (org_id, squad_id, squad_key, name, productive_team_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            self.org.as_uuid(),
            s.id.as_uuid(),
            &s.key,
            &s.name,
            s.productive_team_id.as_deref(),
            now
        )
        .map_err(on_unique("a squad with this key already exists"))?;
        Ok(())
    }

    /// Points a person at their manager (both of this organization, or the foreign key refuses).
    pub async fn set_manager(
        &mut self,
        person: PersonId,
        manager: Option<PersonId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let n = execute!(
            self.tx,
            "UPDATE people SET manager_id = $3, updated_at = $4 WHERE org_id = $1 AND person_id = $2",
            self.org.as_uuid(),
            person.as_uuid(),
            manager.map(|m| m.as_uuid()),
            now
        )?;
        if n == 0 {
            Err(Error::NotFound("person"))
        } else {
            Ok(())
        }
    }
}
