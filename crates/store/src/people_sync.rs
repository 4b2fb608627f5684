//! The Productive sync's reads and writes: everything the planner needs in three
//! statements, and the plan applied with bulk statements (rows ÷ [`BATCH_ROWS`] of each
//! kind), inside the caller's transaction.

use chrono::{DateTime, Utc};
use roster_domain::model::Squad;
use roster_domain::people_sync::{Current, CurrentUser, PersonWrite, Plan};
use roster_domain::{Email, MappedProvider, PersonId, SquadId, UserId};
use uuid::Uuid;

use crate::batch::{self, Arg, BATCH_ROWS};
use crate::error::{corrupt, on_unique};
use crate::{OrgTx, Result};

#[derive(sqlx::FromRow)]
struct CurrentRow {
    person_id: Uuid,
    productive_id: Option<String>,
    user_id: Option<Uuid>,
    first_name: String,
    last_name: String,
    email: Option<String>,
    title: Option<String>,
    avatar_url: Option<String>,
    manager_id: Option<Uuid>,
    squad_id: Option<Uuid>,
    removed_at: Option<DateTime<Utc>>,
}

fn email(raw: Option<String>) -> Result<Option<Email>> {
    raw.map(|e| Email::parse(&e).map_err(|e| corrupt("person email", e)))
        .transpose()
}

impl OrgTx<'_> {
    /// Every person of the organization, retired ones included, with their Productive id.
    pub async fn sync_people(&mut self) -> Result<Vec<Current>> {
        let rows = rows!(
            self.tx,
            fetch_all,
            CurrentRow,
            "SELECT p.person_id, e.external_id AS productive_id, p.user_id, p.first_name,
                p.last_name, p.email, p.title, p.avatar_url, p.manager_id, p.squad_id, p.removed_at
             FROM people p
             LEFT JOIN external_ids e
               ON e.org_id = p.org_id AND e.person_id = p.person_id AND e.provider = 'productive'
             WHERE p.org_id = $1
             ORDER BY p.person_id",
            self.org.as_uuid()
        )?;
        rows.into_iter()
            .map(|r| {
                Ok(Current {
                    id: PersonId::from_uuid(r.person_id),
                    productive_id: r.productive_id,
                    user: r.user_id.map(UserId::from_uuid),
                    first_name: r.first_name,
                    last_name: r.last_name,
                    email: email(r.email)?,
                    title: r.title,
                    avatar_url: r.avatar_url,
                    manager: r.manager_id.map(PersonId::from_uuid),
                    squad: r.squad_id.map(SquadId::from_uuid),
                    retired: r.removed_at.is_some(),
                })
            })
            .collect()
    }

    /// The organization's users, with the fields a sync may set on them.
    pub async fn sync_users(&mut self) -> Result<Vec<CurrentUser>> {
        let rows: Vec<(Uuid, String, Option<String>, Option<String>)> = rows!(
            self.tx,
            fetch_all,
            (Uuid, String, Option<String>, Option<String>),
            "SELECT u.user_id, u.email, u.job_title, u.picture_url
             FROM users u JOIN memberships m ON m.user_id = u.user_id
             WHERE m.org_id = $1",
            self.org.as_uuid()
        )?;
        rows.into_iter()
            .map(|(id, e, job_title, picture_url)| {
                Ok(CurrentUser {
                    id: UserId::from_uuid(id),
                    email: Email::parse(&e).map_err(|e| corrupt("user email", e))?,
                    job_title,
                    picture_url,
                })
            })
            .collect()
    }

    /// Every squad of the organization.
    pub async fn sync_squads(&mut self) -> Result<Vec<Squad>> {
        let rows: Vec<(Uuid, String, String, Option<String>)> = rows!(
            self.tx,
            fetch_all,
            (Uuid, String, String, Option<String>),
            "SELECT squad_id, squad_key, name, productive_team_id FROM squads WHERE org_id = $1",
            self.org.as_uuid()
        )?;
        Ok(rows
            .into_iter()
            .map(|(id, key, name, productive_team_id)| Squad {
                id: SquadId::from_uuid(id),
                key,
                name,
                productive_team_id,
            })
            .collect())
    }

    /// Applies a sync plan; returns how many statements it ran. People are written before
    /// the edges that point at them (managers, Productive ids), changed people before new
    /// ones so an email that moves from one person to another is free when it is taken.
    pub async fn apply_sync_plan(&mut self, plan: &Plan, now: DateTime<Utc>) -> Result<usize> {
        let mut statements = 0;
        if !plan.rekeyed_squads.is_empty() {
            // Re-keyed squads first, through keys no squad can have ('~' and the id), so a
            // key one squad gives up can be taken by another, or by a new squad, in this
            // same plan without breaking the key's uniqueness on the way.
            let through: Vec<(Uuid, Arg)> = plan
                .rekeyed_squads
                .iter()
                .map(|(id, _)| (id.as_uuid(), Arg::Text(format!("~{id}"))))
                .collect();
            let keys: Vec<(Uuid, Arg)> = plan
                .rekeyed_squads
                .iter()
                .map(|(id, key)| (id.as_uuid(), Arg::Text(key.clone())))
                .collect();
            statements += self
                .set_by_id("squads", "squad_id", "squad_key", &through, now)
                .await?;
            statements += self
                .set_by_id("squads", "squad_id", "squad_key", &keys, now)
                .await?;
        }
        statements += self.insert_squads(&plan.new_squads, now).await?;
        statements += self
            .set_by_id(
                "squads",
                "squad_id",
                "name",
                &plan
                    .renamed_squads
                    .iter()
                    .map(|(id, name)| (id.as_uuid(), Arg::Text(name.clone())))
                    .collect::<Vec<_>>(),
                now,
            )
            .await?;
        statements += self.upsert_people(&plan.updates, now).await?;
        statements += self.upsert_people(&plan.creates, now).await?;
        statements += self.retire_people(&plan.retire, now).await?;
        statements += self
            .set_by_id(
                "people",
                "person_id",
                "manager_id",
                &plan
                    .managers
                    .iter()
                    .map(|(id, m)| (id.as_uuid(), Arg::OptUuid(m.map(|m| m.as_uuid()))))
                    .collect::<Vec<_>>(),
                now,
            )
            .await?;
        statements += self.link_users(&plan.user_links, now).await?;
        statements += self
            .upsert_external_ids(
                MappedProvider::Productive,
                &plan.productive_ids,
                now,
                "that Productive id is linked to another person",
            )
            .await?;
        statements += self.update_synced_users(plan, now).await?;
        Ok(statements)
    }

    /// Links people to users (each pair: this person is this user).
    pub(crate) async fn link_users(
        &mut self,
        links: &[(PersonId, UserId)],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        self.set_by_id(
            "people",
            "person_id",
            "user_id",
            &links
                .iter()
                .map(|(p, u)| (p.as_uuid(), Arg::OptUuid(Some(u.as_uuid()))))
                .collect::<Vec<_>>(),
            now,
        )
        .await
    }

    async fn insert_squads(&mut self, squads: &[Squad], now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for chunk in squads.chunks(BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO squads (org_id, squad_id, squad_key, name, productive_team_id,
                    created_at, updated_at) VALUES {}",
                batch::values("($1, ?, ?, ?, ?, $2, $2)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            for s in chunk {
                args.extend([
                    Arg::Uuid(s.id.as_uuid()),
                    Arg::Text(s.key.clone()),
                    Arg::Text(s.name.clone()),
                    Arg::OptText(s.productive_team_id.clone()),
                ]);
            }
            batch::execute(&mut self.tx.inner, &sql, &args)
                .await
                .map_err(on_unique("a squad with this key already exists"))?;
            n += 1;
        }
        Ok(n)
    }

    /// Inserts new people and overwrites the synced fields of existing ones (clearing
    /// `removed_at`: a listed person is active). Never touches another organization's row.
    async fn upsert_people(&mut self, people: &[PersonWrite], now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for chunk in people.chunks(BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO people (org_id, person_id, first_name, last_name, email, title,
                    avatar_url, squad_id, synced_at, created_at, updated_at)
                 VALUES {}
                 ON CONFLICT (person_id) DO UPDATE SET
                    first_name = excluded.first_name, last_name = excluded.last_name,
                    email = excluded.email, title = excluded.title,
                    avatar_url = excluded.avatar_url, squad_id = excluded.squad_id,
                    synced_at = excluded.synced_at, updated_at = excluded.updated_at,
                    removed_at = NULL
                 WHERE people.org_id = excluded.org_id",
                batch::values("($1, ?, ?, ?, ?, ?, ?, ?, $2, $2, $2)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            for p in chunk {
                args.extend([
                    Arg::Uuid(p.id.as_uuid()),
                    Arg::Text(p.first_name.clone()),
                    Arg::Text(p.last_name.clone()),
                    Arg::OptText(p.email.as_ref().map(|e| e.as_str().to_owned())),
                    Arg::OptText(p.title.clone()),
                    Arg::OptText(p.avatar_url.clone()),
                    Arg::OptUuid(p.squad.map(|s| s.as_uuid())),
                ]);
            }
            batch::execute(&mut self.tx.inner, &sql, &args)
                .await
                .map_err(on_unique("two active people would share an email"))?;
            n += 1;
        }
        Ok(n)
    }

    async fn retire_people(&mut self, ids: &[PersonId], now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for chunk in ids.chunks(BATCH_ROWS) {
            let sql = format!(
                "UPDATE people SET removed_at = $2, updated_at = $2
                 WHERE org_id = $1 AND removed_at IS NULL AND person_id IN ({})",
                batch::list(chunk.len(), 3, 1)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            args.extend(chunk.iter().map(|p| Arg::Uuid(p.as_uuid())));
            batch::execute(&mut self.tx.inner, &sql, &args).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Sets one column of many rows of an org-owned table, each to its own value, joining
    /// the rows to a `VALUES` list (`UPDATE … FROM`, on both stores): one primary-key
    /// lookup a row. (A `CASE id WHEN … THEN …` of 500 arms was evaluated arm by arm for
    /// every row, quadratic in the batch: on PostgreSQL 400 ms a batch, 76 of the 90 s of a
    /// 100,000-person first sync.)
    async fn set_by_id(
        &mut self,
        table: &'static str,
        id_column: &'static str,
        column: &'static str,
        values: &[(Uuid, Arg)],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let mut n = 0;
        for chunk in values.chunks(BATCH_ROWS) {
            let sql = format!(
                "UPDATE {table} SET {column} = v.column2, updated_at = $2
                 FROM (VALUES {}) AS v
                 WHERE {table}.org_id = $1 AND {table}.{id_column} = v.column1",
                batch::values("(?, ?)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            for (id, v) in chunk {
                args.push(Arg::Uuid(*id));
                args.push(v.clone());
            }
            batch::execute(&mut self.tx.inner, &sql, &args)
                .await
                .map_err(on_unique("that user is linked to another person"))?;
            n += 1;
        }
        Ok(n)
    }

    /// Linked users take their person's title and picture; only members of this
    /// organization are touched.
    async fn update_synced_users(&mut self, plan: &Plan, now: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for chunk in plan.user_updates.chunks(BATCH_ROWS) {
            let sql = format!(
                "UPDATE users SET job_title = v.column2, picture_url = v.column3, updated_at = $2
                 FROM (VALUES {}) AS v
                 WHERE users.user_id = v.column1
                   AND users.user_id IN (SELECT user_id FROM memberships WHERE org_id = $1)",
                batch::values("(?, ?, ?)", chunk.len(), 3)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid()), Arg::Time(now)];
            for u in chunk {
                args.extend([
                    Arg::Uuid(u.id.as_uuid()),
                    Arg::OptText(u.job_title.clone()),
                    Arg::OptText(u.picture_url.clone()),
                ]);
            }
            batch::execute(&mut self.tx.inner, &sql, &args).await?;
            n += 1;
        }
        Ok(n)
    }
}
