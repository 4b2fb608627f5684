//! Links between a person and the other records that are the same human: the user who signs
//! in as them, and their ids at Xero, Productive and Remote. The directory with every id in
//! one statement (the user mappings, the matchers' candidates), single links with the
//! schema's uniqueness as the referee (409), and bulk links in batched statements.

use chrono::{DateTime, NaiveDate, Utc};
use roster_domain::identities::DirectoryEntry;
use roster_domain::model::{Contact, Demographics, Employment};
use roster_domain::payroll::PayrollRecord;
use roster_domain::{
    Email, EmploymentBasis, EmploymentStatus, Gender, MappedProvider, PersonId, UserId,
};
use uuid::Uuid;

use crate::batch::{self, Arg, BATCH_ROWS};
use crate::error::{corrupt, on_unique};
use crate::{Error, OrgTx, Result};

/// The person's id at `provider`, as a correlated sub-select (one statement, no N+1).
fn external(provider: &str, alias: &str) -> String {
    format!(
        "(SELECT e.external_id FROM external_ids e
          WHERE e.org_id = p.org_id AND e.person_id = p.person_id AND e.provider = '{provider}') AS {alias}"
    )
}

fn directory_select() -> String {
    format!(
        "SELECT p.person_id, p.user_id, p.first_name, p.last_name, p.email, {}, {}, {}
         FROM people p WHERE p.org_id = $1 AND p.removed_at IS NULL",
        external("xero", "xero_id"),
        external("productive", "productive_id"),
        external("remote", "remote_id"),
    )
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    person_id: Uuid,
    user_id: Option<Uuid>,
    first_name: String,
    last_name: String,
    email: Option<String>,
    xero_id: Option<String>,
    productive_id: Option<String>,
    remote_id: Option<String>,
}

impl TryFrom<EntryRow> for DirectoryEntry {
    type Error = Error;
    fn try_from(r: EntryRow) -> Result<Self> {
        Ok(Self {
            person: PersonId::from_uuid(r.person_id),
            user: r.user_id.map(UserId::from_uuid),
            first_name: r.first_name,
            last_name: r.last_name,
            email: r
                .email
                .map(|e| Email::parse(&e).map_err(|e| corrupt("person email", e)))
                .transpose()?,
            xero_id: r.xero_id,
            productive_id: r.productive_id,
            remote_id: r.remote_id,
        })
    }
}

fn parse<T: std::str::FromStr<Err = roster_domain::FieldError>>(
    raw: Option<String>,
    what: &'static str,
) -> Result<Option<T>> {
    raw.map(|s| s.parse().map_err(|e| corrupt(what, e)))
        .transpose()
}

/// `(xero id, last pull, location)`.
type PayrollStateRow = (Option<String>, Option<DateTime<Utc>>, Option<String>);

/// What a payroll pull needs to know about a person before it calls the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayrollState {
    pub xero_id: Option<String>,
    /// When a pull last wrote this person (the `If-Modified-Since` of the next).
    pub xero_synced_at: Option<DateTime<Utc>>,
    pub location: Option<String>,
}

impl OrgTx<'_> {
    /// Every active person with their external ids, by name then id.
    pub async fn identities(&mut self) -> Result<Vec<DirectoryEntry>> {
        let sql = format!(
            "{} ORDER BY lower(p.first_name), lower(p.last_name), p.person_id",
            directory_select()
        );
        rows!(self.tx, fetch_all, EntryRow, &sql, self.org.as_uuid())?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// One active person with their external ids; another organization's is not found.
    pub async fn directory_entry(&mut self, person: PersonId) -> Result<DirectoryEntry> {
        let sql = format!("{} AND p.person_id = $2", directory_select());
        rows!(
            self.tx,
            fetch_optional,
            EntryRow,
            &sql,
            self.org.as_uuid(),
            person.as_uuid()
        )?
        .ok_or(Error::NotFound("person"))?
        .try_into()
    }

    /// Links `user` to `person` (moving the user off any person they were linked to).
    /// Returns false when they already were linked. A person linked to another user is a
    /// conflict: the check and the write are one statement, so two racing links cannot both
    /// win.
    pub async fn link_user(
        &mut self,
        user: UserId,
        person: PersonId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let current = self.directory_entry(person).await?;
        if current.user == Some(user) {
            return Ok(false);
        }
        execute!(
            self.tx,
            "UPDATE people SET user_id = NULL, updated_at = $3
             WHERE org_id = $1 AND user_id = $2 AND person_id <> $4",
            self.org.as_uuid(),
            user.as_uuid(),
            now,
            person.as_uuid()
        )?;
        let n = execute!(
            self.tx,
            "UPDATE people SET user_id = $3, updated_at = $4
             WHERE org_id = $1 AND person_id = $2 AND removed_at IS NULL AND user_id IS NULL",
            self.org.as_uuid(),
            person.as_uuid(),
            user.as_uuid(),
            now
        )
        .map_err(on_unique("that user is linked to another person"))?;
        if n == 0 {
            return Err(Error::Conflict("that person is linked to another user"));
        }
        Ok(true)
    }

    /// The person of this organization holding `external_id` at `provider`, if any.
    pub async fn person_with_external_id(
        &mut self,
        provider: MappedProvider,
        external_id: &str,
    ) -> Result<Option<PersonId>> {
        Ok(scalar!(
            self.tx,
            fetch_optional,
            Uuid,
            "SELECT person_id FROM external_ids
             WHERE org_id = $1 AND provider = $2 AND external_id = $3",
            self.org.as_uuid(),
            provider.as_str(),
            external_id
        )?
        .map(PersonId::from_uuid))
    }

    /// Sets each person's id at `provider`, `BATCH_ROWS` rows a statement. Each person
    /// appears once; an id another person holds is a conflict and the caller's transaction
    /// rolls back. Returns the statements run.
    pub async fn link_external_ids(
        &mut self,
        provider: MappedProvider,
        links: &[(PersonId, String)],
        now: DateTime<Utc>,
    ) -> Result<usize> {
        self.upsert_external_ids(
            provider,
            links,
            now,
            "that external id is mapped to another person",
        )
        .await
    }

    /// [`Self::link_external_ids`], with `conflict` as the words of a clash.
    pub(crate) async fn upsert_external_ids(
        &mut self,
        provider: MappedProvider,
        links: &[(PersonId, String)],
        now: DateTime<Utc>,
        conflict: &'static str,
    ) -> Result<usize> {
        let mut statements = 0;
        for chunk in links.chunks(BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO external_ids (org_id, person_id, provider, external_id, linked_at)
                 VALUES {}
                 ON CONFLICT (org_id, provider, person_id) DO UPDATE
                    SET external_id = excluded.external_id, linked_at = excluded.linked_at",
                batch::values("($1, ?, $2, ?, $3)", chunk.len(), 4)
            );
            let mut args = vec![
                Arg::Uuid(self.org.as_uuid()),
                Arg::Text(provider.as_str().to_owned()),
                Arg::Time(now),
            ];
            for (person, id) in chunk {
                args.extend([Arg::Uuid(person.as_uuid()), Arg::Text(id.clone())]);
            }
            batch::execute(&mut self.tx.inner, &sql, &args)
                .await
                .map_err(on_unique(conflict))?;
            statements += 1;
        }
        Ok(statements)
    }

    /// The Xero link, last pull time and location of an active person.
    pub async fn payroll_state(&mut self, person: PersonId) -> Result<PayrollState> {
        let sql = format!(
            "SELECT {}, p.xero_synced_at, p.location FROM people p
             WHERE p.org_id = $1 AND p.person_id = $2 AND p.removed_at IS NULL",
            external("xero", "xero_id")
        );
        let row: Option<PayrollStateRow> = rows!(
            self.tx,
            fetch_optional,
            PayrollStateRow,
            &sql,
            self.org.as_uuid(),
            person.as_uuid()
        )?;
        let (xero_id, xero_synced_at, location) = row.ok_or(Error::NotFound("person"))?;
        Ok(PayrollState {
            xero_id,
            xero_synced_at,
            location,
        })
    }

    /// Writes a payroll pull onto the person: employment, contact, demographics, the sealed
    /// financial section, and the pull time.
    pub async fn save_payroll(
        &mut self,
        person: PersonId,
        record: &PayrollRecord,
        financial_sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let PayrollRecord {
            start_date,
            end_date,
            employment_status,
            employment_basis,
            contact:
                Contact {
                    phone,
                    mobile,
                    personal_email,
                    home_address,
                },
            demographics:
                Demographics {
                    gender,
                    date_of_birth,
                },
            financial: _,
        } = record;
        let n = execute!(
            self.tx,
            "UPDATE people SET start_date = $3, end_date = $4, employment_status = $5,
                employment_basis = $6, phone = $7, mobile = $8, personal_email = $9,
                home_address = $10, gender = $11, date_of_birth = $12, financial_sealed = $13,
                xero_synced_at = $14, updated_at = $14
             WHERE org_id = $1 AND person_id = $2 AND removed_at IS NULL",
            self.org.as_uuid(),
            person.as_uuid(),
            *start_date,
            *end_date,
            employment_status.map(EmploymentStatus::as_str),
            employment_basis.map(EmploymentBasis::as_str),
            phone.as_deref(),
            mobile.as_deref(),
            personal_email.as_deref(),
            home_address.as_deref(),
            gender.map(Gender::as_str),
            *date_of_birth,
            financial_sealed,
            now
        )?;
        if n == 0 {
            return Err(Error::NotFound("person"));
        }
        Ok(())
    }

    /// The employment section and HR fields a payroll pull wrote, for tests and the
    /// profile: `(employment, contact, demographics, sealed financial)`.
    pub async fn payroll_fields(
        &mut self,
        person: PersonId,
    ) -> Result<(Employment, Contact, Demographics, Option<Vec<u8>>)> {
        type Row = (
            Option<NaiveDate>,
            Option<NaiveDate>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<NaiveDate>,
            Option<Vec<u8>>,
        );
        let row: Option<Row> = rows!(
            self.tx,
            fetch_optional,
            Row,
            "SELECT start_date, end_date, employment_status, employment_basis, location, phone,
                mobile, personal_email, home_address, gender, date_of_birth, financial_sealed
             FROM people WHERE org_id = $1 AND person_id = $2 AND removed_at IS NULL",
            self.org.as_uuid(),
            person.as_uuid()
        )?;
        let (start, end, status, basis, location, phone, mobile, personal, home, gender, dob, fin) =
            row.ok_or(Error::NotFound("person"))?;
        Ok((
            Employment {
                start_date: start,
                end_date: end,
                employment_status: parse(status, "employment status")?,
                employment_basis: parse(basis, "employment basis")?,
                location,
            },
            Contact {
                phone,
                mobile,
                personal_email: personal,
                home_address: home,
            },
            Demographics {
                gender: parse(gender, "gender")?,
                date_of_birth: dob,
            },
            fin,
        ))
    }

    /// Active people whose email is one of `emails` (stored emails are lower case).
    pub async fn people_by_email(&mut self, emails: &[Email]) -> Result<Vec<(PersonId, Email)>> {
        let mut out = Vec::with_capacity(emails.len());
        for chunk in emails.chunks(BATCH_ROWS) {
            let sql = format!(
                "SELECT person_id, email FROM people
                 WHERE org_id = $1 AND removed_at IS NULL AND email IN ({})",
                batch::list(chunk.len(), 2, 1)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid())];
            args.extend(chunk.iter().map(|e| Arg::Text(e.as_str().to_owned())));
            let rows: Vec<(Uuid, String)> =
                batch::fetch_all(&mut self.tx.inner, &sql, &args).await?;
            for (id, email) in rows {
                let email = Email::parse(&email).map_err(|e| corrupt("person email", e))?;
                out.push((PersonId::from_uuid(id), email));
            }
        }
        Ok(out)
    }

    /// Rewrites a person's directory fields from their Productive record (the one-person
    /// refresh). Returns false when nothing differed, so an unchanged refresh writes no row.
    pub async fn refresh_person_profile(
        &mut self,
        person: PersonId,
        profile: &ProfileFields,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = execute!(
            self.tx,
            "UPDATE people SET first_name = $3, last_name = $4, email = $5, title = $6,
                avatar_url = $7, synced_at = $8, updated_at = $8
             WHERE org_id = $1 AND person_id = $2 AND removed_at IS NULL
               AND NOT (first_name = $3 AND last_name = $4
                    AND COALESCE(email, '') = COALESCE($5, '')
                    AND COALESCE(title, '') = COALESCE($6, '')
                    AND COALESCE(avatar_url, '') = COALESCE($7, ''))",
            self.org.as_uuid(),
            person.as_uuid(),
            &profile.first_name,
            &profile.last_name,
            profile.email.as_ref().map(Email::as_str),
            profile.title.as_deref(),
            profile.avatar_url.as_deref(),
            now
        )
        .map_err(on_unique("another person has that email"))?;
        Ok(n > 0)
    }
}

/// The directory fields a one-person refresh writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFields {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub title: Option<String>,
    pub avatar_url: Option<String>,
}
