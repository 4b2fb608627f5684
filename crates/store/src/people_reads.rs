//! The directory's read side: the people list (also the org chart's input), one profile with
//! its reporting line, and squads with their members. One statement each, whatever the
//! organization's size: no query runs per person.

use chrono::{DateTime, NaiveDate, Utc};
use roster_domain::directory::{Directory, Listed, SquadListing, SquadMember};
use roster_domain::model::{Contact, Demographics, Employment};
use roster_domain::{Email, Gender, PersonId, SquadId, UserId};
use uuid::Uuid;

use crate::error::corrupt;
use crate::{Error, OrgTx, Result};

fn email(raw: Option<String>) -> Result<Option<Email>> {
    raw.map(|e| Email::parse(&e).map_err(|e| corrupt("person email", e)))
        .transpose()
}

fn parse_opt<T: std::str::FromStr>(raw: Option<String>, what: &'static str) -> Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    raw.map(|s| s.parse().map_err(|e| corrupt(what, e)))
        .transpose()
}

#[derive(sqlx::FromRow)]
struct DirectoryRow {
    last_sync: Option<DateTime<Utc>>,
    person_id: Option<Uuid>,
    productive_id: Option<String>,
    user_id: Option<Uuid>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    title: Option<String>,
    avatar_url: Option<String>,
    manager_id: Option<Uuid>,
    squad: Option<String>,
    synced_at: Option<DateTime<Utc>>,
}

/// A person's whole record as the profile needs it, with their reporting line. The sealed
/// financial section stays sealed here: only the app opens it, and only when allowed.
#[derive(Debug, Clone)]
pub struct ProfileRecord {
    pub id: PersonId,
    pub retired: bool,
    /// Their manager when that manager is active.
    pub manager: Option<PersonId>,
    /// Every active person above them, following managers (cycles end the walk).
    pub managers_above: Vec<PersonId>,
    pub employment: Employment,
    pub contact: Contact,
    pub demographics: Demographics,
    pub financial_sealed: Option<Vec<u8>>,
    pub xero_employee_id: Option<String>,
    pub xero_synced_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    person_id: Uuid,
    removed_at: Option<DateTime<Utc>>,
    manager_id: Option<Uuid>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    employment_status: Option<String>,
    employment_basis: Option<String>,
    location: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    personal_email: Option<String>,
    home_address: Option<String>,
    gender: Option<String>,
    date_of_birth: Option<NaiveDate>,
    financial_sealed: Option<Vec<u8>>,
    xero_synced_at: Option<DateTime<Utc>>,
    xero_id: Option<String>,
    above_id: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct SquadRow {
    squad_id: Uuid,
    squad_key: String,
    name: String,
    person_id: Option<Uuid>,
    user_id: Option<Uuid>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
}

impl OrgTx<'_> {
    /// Every active person with their Productive id and squad name, and the time of the last
    /// successful Productive sync, in one statement (the one-row subquery keeps the sync time
    /// when there is nobody yet). A manager who is not active is left out.
    pub async fn directory(&mut self) -> Result<Directory> {
        let rows = rows!(
            self.tx,
            fetch_all,
            DirectoryRow,
            "SELECT s.last_sync, p.person_id, e.external_id AS productive_id, p.user_id,
                p.first_name, p.last_name, p.email, p.title, p.avatar_url,
                m.person_id AS manager_id, q.name AS squad, p.synced_at
             FROM (SELECT MAX(finished_at) AS last_sync FROM sync_runs
                   WHERE org_id = $1 AND kind = 'productive' AND status = 'succeeded') s
             LEFT JOIN people p ON p.org_id = $1 AND p.removed_at IS NULL
             LEFT JOIN people m
               ON m.org_id = p.org_id AND m.person_id = p.manager_id AND m.removed_at IS NULL
             LEFT JOIN external_ids e
               ON e.org_id = p.org_id AND e.person_id = p.person_id AND e.provider = 'productive'
             LEFT JOIN squads q ON q.org_id = p.org_id AND q.squad_id = p.squad_id
             ORDER BY p.person_id",
            self.org.as_uuid()
        )?;
        let mut dir = Directory {
            last_sync: rows.first().and_then(|r| r.last_sync),
            people: Vec::with_capacity(rows.len()),
        };
        for r in rows {
            let Some(id) = r.person_id else { continue };
            dir.people.push(Listed {
                id: PersonId::from_uuid(id),
                productive_id: r.productive_id,
                user: r.user_id.map(UserId::from_uuid),
                first_name: r.first_name.unwrap_or_default(),
                last_name: r.last_name.unwrap_or_default(),
                email: email(r.email)?,
                title: r.title,
                avatar_url: r.avatar_url,
                manager: r.manager_id.map(PersonId::from_uuid),
                squad: r.squad,
                synced_at: r.synced_at,
            });
        }
        Ok(dir)
    }

    /// One person of this organization (retired ones too: the rule that hides them is the
    /// domain's) with every section and everyone above them, in one statement: a recursive
    /// walk up the managers, which `UNION` ends on a cycle. Each step carries the manager's
    /// own `manager_id`, so it is one primary-key lookup: with a second join on `people`
    /// SQLite 3.46 chose to scan the organization's people at every step (`people_by_manager`),
    /// 18 ms for one profile at 2,000 people instead of well under one.
    pub async fn profile_record(&mut self, id: PersonId) -> Result<ProfileRecord> {
        let rows = rows!(
            self.tx,
            fetch_all,
            ProfileRow,
            "WITH RECURSIVE above(person_id, manager_id) AS (
                SELECT m.person_id, m.manager_id FROM people s
                  JOIN people m ON m.org_id = s.org_id AND m.person_id = s.manager_id
                               AND m.removed_at IS NULL
                 WHERE s.org_id = $1 AND s.person_id = $2
                UNION
                SELECT m.person_id, m.manager_id FROM above a
                  JOIN people m ON m.org_id = $1 AND m.person_id = a.manager_id
                               AND m.removed_at IS NULL
             )
             SELECT p.person_id, p.removed_at, mg.person_id AS manager_id, p.start_date,
                p.end_date, p.employment_status, p.employment_basis, p.location, p.phone,
                p.mobile, p.personal_email, p.home_address, p.gender, p.date_of_birth,
                p.financial_sealed, p.xero_synced_at, x.external_id AS xero_id,
                a.person_id AS above_id
             FROM people p
             LEFT JOIN people mg
               ON mg.org_id = p.org_id AND mg.person_id = p.manager_id AND mg.removed_at IS NULL
             LEFT JOIN external_ids x
               ON x.org_id = p.org_id AND x.person_id = p.person_id AND x.provider = 'xero'
             LEFT JOIN above a ON 1 = 1
             WHERE p.org_id = $1 AND p.person_id = $2",
            self.org.as_uuid(),
            id.as_uuid()
        )?;
        let managers_above = rows
            .iter()
            .filter_map(|r| r.above_id.map(PersonId::from_uuid))
            .collect();
        let r = rows.into_iter().next().ok_or(Error::NotFound("person"))?;
        Ok(ProfileRecord {
            id: PersonId::from_uuid(r.person_id),
            retired: r.removed_at.is_some(),
            manager: r.manager_id.map(PersonId::from_uuid),
            managers_above,
            employment: Employment {
                start_date: r.start_date,
                end_date: r.end_date,
                employment_status: parse_opt(r.employment_status, "employment status")?,
                employment_basis: parse_opt(r.employment_basis, "employment basis")?,
                location: r.location,
            },
            contact: Contact {
                phone: r.phone,
                mobile: r.mobile,
                personal_email: r.personal_email,
                home_address: r.home_address,
            },
            demographics: Demographics {
                gender: parse_opt::<Gender>(r.gender, "gender")?,
                date_of_birth: r.date_of_birth,
            },
            financial_sealed: r.financial_sealed,
            xero_employee_id: r.xero_id,
            xero_synced_at: r.xero_synced_at,
        })
    }

    /// Every squad with its active members, in one statement (unsorted: see
    /// `roster_domain::directory::sort_squads`).
    pub async fn squads_with_members(&mut self) -> Result<Vec<SquadListing>> {
        let rows = rows!(
            self.tx,
            fetch_all,
            SquadRow,
            "SELECT q.squad_id, q.squad_key, q.name, p.person_id, p.user_id, p.first_name,
                p.last_name, p.email
             FROM squads q
             LEFT JOIN people p
               ON p.org_id = q.org_id AND p.squad_id = q.squad_id AND p.removed_at IS NULL
             WHERE q.org_id = $1
             ORDER BY q.squad_id",
            self.org.as_uuid()
        )?;
        let mut out: Vec<SquadListing> = Vec::new();
        for r in rows {
            let id = SquadId::from_uuid(r.squad_id);
            if out.last().is_none_or(|s| s.id != id) {
                out.push(SquadListing {
                    id,
                    key: r.squad_key,
                    name: r.name,
                    members: Vec::new(),
                });
            }
            if let (Some(person), Some(squad)) = (r.person_id, out.last_mut()) {
                let name = format!(
                    "{} {}",
                    r.first_name.unwrap_or_default(),
                    r.last_name.unwrap_or_default()
                )
                .trim()
                .to_owned();
                squad.members.push(SquadMember {
                    person: PersonId::from_uuid(person),
                    user: r.user_id.map(UserId::from_uuid),
                    name,
                    email: email(r.email)?,
                });
            }
        }
        Ok(out)
    }
}

impl crate::Tx {
    /// Refreshes PostgreSQL's statistics of the directory's tables. Until autovacuum gets to
    /// them (a minute or more after a bulk write), a freshly synced organization has none,
    /// and the planner, expecting one row, joins the directory by nested loops: quadratic in
    /// the people, minutes at 100,000. SQLite's planner needs no statistics to use the keys.
    pub async fn analyze_directory(&mut self) -> Result<()> {
        if self.dialect() == crate::Dialect::Postgres {
            execute!(self, "ANALYZE people, external_ids, squads")?;
        }
        Ok(())
    }
}
