//! Squads (teams) of an organization.

use chrono::{DateTime, Utc};
use roster_domain::model::Squad;
use roster_domain::{PersonId, SquadId};
use uuid::Uuid;

use crate::error::on_unique;
use crate::{Error, OrgTx, Result};

#[derive(sqlx::FromRow)]
struct SquadRow {
    squad_id: Uuid,
    squad_key: String,
    name: String,
    productive_team_id: Option<String>,
}

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

    pub async fn list_squads(&mut self) -> Result<Vec<Squad>> {
        Ok(rows!(
            self.tx,
            fetch_all,
            SquadRow,
            "SELECT squad_id, squad_key, name, productive_team_id FROM squads WHERE org_id = $1 ORDER BY lower(name), squad_id",
            self.org.as_uuid()
        )?
        .into_iter()
        .map(|r| Squad {
            id: SquadId::from_uuid(r.squad_id),
            key: r.squad_key,
            name: r.name,
            productive_team_id: r.productive_team_id,
        })
        .collect())
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
