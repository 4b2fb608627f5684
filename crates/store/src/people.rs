//! The people directory: one row per person, soft-deleted when they leave. Every query is
//! org-scoped and hides retired people unless it says otherwise.

use chrono::{DateTime, NaiveDate, Utc};
use roster_domain::model::{Employment, Person};
use roster_domain::{
    Email, EmploymentBasis, EmploymentStatus, Gender, OrgId, PersonId, SquadId, UserId,
};
use uuid::Uuid;

use crate::error::{corrupt, on_unique};
use crate::{Error, OrgTx, Result};

#[derive(sqlx::FromRow)]
struct PersonRow {
    person_id: Uuid,
    org_id: Uuid,
    user_id: Option<Uuid>,
    first_name: String,
    last_name: String,
    email: Option<String>,
    title: Option<String>,
    avatar_url: Option<String>,
    manager_id: Option<Uuid>,
    squad_id: Option<Uuid>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    employment_status: Option<String>,
    employment_basis: Option<String>,
    location: Option<String>,
    gender: Option<String>,
    synced_at: Option<DateTime<Utc>>,
}

const PERSON_COLUMNS: &str = "person_id, org_id, user_id, first_name, last_name, email, title,
    avatar_url, manager_id, squad_id, start_date, end_date, employment_status, employment_basis,
    location, gender, synced_at";

fn parse_opt<T: std::str::FromStr>(raw: Option<String>, what: &'static str) -> Result<Option<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    raw.map(|s| s.parse().map_err(|e| corrupt(what, e)))
        .transpose()
}

impl TryFrom<PersonRow> for Person {
    type Error = Error;
    fn try_from(r: PersonRow) -> Result<Self> {
        Ok(Self {
            id: PersonId::from_uuid(r.person_id),
            org: OrgId::from_uuid(r.org_id),
            user: r.user_id.map(UserId::from_uuid),
            first_name: r.first_name,
            last_name: r.last_name,
            email: r
                .email
                .map(|e| Email::parse(&e).map_err(|e| corrupt("person email", e)))
                .transpose()?,
            title: r.title,
            avatar_url: r.avatar_url,
            manager: r.manager_id.map(PersonId::from_uuid),
            squad: r.squad_id.map(SquadId::from_uuid),
            employment: Employment {
                start_date: r.start_date,
                end_date: r.end_date,
                employment_status: parse_opt(r.employment_status, "employment status")?,
                employment_basis: parse_opt(r.employment_basis, "employment basis")?,
                location: r.location,
            },
            gender: parse_opt::<Gender>(r.gender, "gender")?,
            synced_at: r.synced_at,
        })
    }
}

impl OrgTx<'_> {
    /// Adds a person by hand (the demo and the admin CLI; syncs use bulk upserts).
    pub async fn create_person(&mut self, p: &Person, now: DateTime<Utc>) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO people (org_id, person_id, user_id, first_name, last_name, email, title,
                avatar_url, manager_id, squad_id, start_date, end_date, employment_status,
                employment_basis, location, gender, synced_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)",
            self.org.as_uuid(),
            p.id.as_uuid(),
            p.user.map(|u| u.as_uuid()),
            &p.first_name,
            &p.last_name,
            p.email.as_ref().map(Email::as_str),
            p.title.as_deref(),
            p.avatar_url.as_deref(),
            p.manager.map(|m| m.as_uuid()),
            p.squad.map(|s| s.as_uuid()),
            p.employment.start_date,
            p.employment.end_date,
            p.employment.employment_status.map(EmploymentStatus::as_str),
            p.employment.employment_basis.map(EmploymentBasis::as_str),
            p.employment.location.as_deref(),
            p.gender.map(Gender::as_str),
            p.synced_at,
            now
        )
        .map_err(on_unique("a person with this email or user already exists"))?;
        Ok(())
    }

    /// An active person of this organization.
    pub async fn get_person(&mut self, id: PersonId) -> Result<Person> {
        let sql = format!(
            "SELECT {PERSON_COLUMNS} FROM people WHERE org_id = $1 AND person_id = $2 AND removed_at IS NULL"
        );
        rows!(
            self.tx,
            fetch_optional,
            PersonRow,
            &sql,
            self.org.as_uuid(),
            id.as_uuid()
        )?
        .ok_or(Error::NotFound("person"))?
        .try_into()
    }

    /// Writes the employment section and gender of a person (the people table is the
    /// source of truth for HR data).
    pub async fn save_employment(
        &mut self,
        id: PersonId,
        e: &Employment,
        gender: Option<Gender>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let n = execute!(
            self.tx,
            "UPDATE people SET start_date = $3, end_date = $4, employment_status = $5,
                employment_basis = $6, location = $7, gender = $8, updated_at = $9
             WHERE org_id = $1 AND person_id = $2 AND removed_at IS NULL",
            self.org.as_uuid(),
            id.as_uuid(),
            e.start_date,
            e.end_date,
            e.employment_status.map(EmploymentStatus::as_str),
            e.employment_basis.map(EmploymentBasis::as_str),
            e.location.as_deref(),
            gender.map(Gender::as_str),
            now
        )?;
        if n == 0 {
            Err(Error::NotFound("person"))
        } else {
            Ok(())
        }
    }
}

impl OrgTx<'_> {
    /// Records `person`'s id at `provider` (one id per person and provider; an id belongs to
    /// one person of the organization: another's is a conflict).
    pub async fn link_external_id(
        &mut self,
        person: PersonId,
        provider: roster_domain::MappedProvider,
        external_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO external_ids (org_id, person_id, provider, external_id, linked_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (org_id, provider, person_id) DO UPDATE
                SET external_id = excluded.external_id, linked_at = excluded.linked_at",
            self.org.as_uuid(),
            person.as_uuid(),
            provider.as_str(),
            external_id,
            now
        )
        .map_err(crate::error::on_unique(
            "that external id is linked to another person",
        ))?;
        Ok(())
    }

    /// `person`'s ids at each provider, as `(provider, id)`.
    pub async fn external_ids_of(&mut self, person: PersonId) -> Result<Vec<(String, String)>> {
        Ok(rows!(
            self.tx,
            fetch_all,
            (String, String),
            "SELECT provider, external_id FROM external_ids
             WHERE org_id = $1 AND person_id = $2 ORDER BY provider",
            self.org.as_uuid(),
            person.as_uuid()
        )?)
    }
}
