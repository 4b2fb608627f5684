//! User mappings (`/api/admin/connections/user-mappings`): every active person with their
//! ids at Xero, Productive and Remote, set one at a time or in bulk by email.
//!
//! An id belongs to one person per provider and organization; the schema referees it, so
//! a write that would give one id to two people is a conflict and changes nothing.

use std::collections::{HashMap, HashSet};

use roster_domain::identities::DirectoryEntry;
use roster_domain::{Email, FieldError, MappedProvider, PersonId};
use serde_json::json;

use crate::audit::record;
use crate::{App, Can, Error, Executive, Result};

/// The most mappings one bulk request may carry.
pub const MAX_MAPPINGS: usize = 10_000;

/// One row of a bulk mapping request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMapping {
    pub email: Email,
    pub external_id: String,
}

/// What a bulk mapping did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingSummary {
    /// Rows whose email is an active person's.
    pub matched: usize,
    /// Rows sent.
    pub total: usize,
}

/// Refuses a bulk request that names an email or an id twice: which row wins would be
/// a guess.
pub fn check_mappings(rows: &[EmailMapping]) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if rows.len() > MAX_MAPPINGS {
        errors.push(FieldError::new(
            "mappings",
            format!("must hold at most {MAX_MAPPINGS} rows"),
        ));
    }
    let mut emails = HashSet::new();
    let mut ids = HashSet::new();
    for (i, r) in rows.iter().enumerate() {
        if !emails.insert(r.email.as_str()) {
            errors.push(FieldError::new(
                format!("mappings[{i}].email"),
                "appears twice",
            ));
        }
        if !ids.insert(r.external_id.as_str()) {
            errors.push(FieldError::new(
                format!("mappings[{i}].external_id"),
                "appears twice",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl App {
    /// `GET /api/admin/connections/user-mappings`.
    pub async fn list_user_mappings(&self, can: &Can<Executive>) -> Result<Vec<DirectoryEntry>> {
        let mut tx = self.store.read_one().await?;
        Ok(tx.org(can.caller().org_id()).identities().await?)
    }

    /// `PUT /api/admin/connections/user-mappings/{personId}`: 409 when another person has
    /// that id.
    pub async fn set_user_mapping(
        &self,
        can: &Can<Executive>,
        person: PersonId,
        provider: MappedProvider,
        external_id: &str,
    ) -> Result<()> {
        let caller = can.caller();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(caller.org_id());
        scoped.directory_entry(person).await?;
        if let Some(holder) = scoped
            .person_with_external_id(provider, external_id)
            .await?
            && holder != person
        {
            return Err(roster_store::Error::Conflict(
                "that external id is mapped to another person",
            )
            .into());
        }
        scoped
            .link_external_ids(provider, &[(person, external_id.to_owned())], now)
            .await?;
        record(
            &mut scoped,
            now,
            caller.actor(),
            "person.map_external_id",
            ("person", Some(person.to_string())),
            json!({ "provider": provider.as_str(), "external_id": external_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /api/admin/connections/user-mappings/sync`: sets the ids of the people whose
    /// email (case-insensitively) is in `rows`, all in one transaction.
    pub async fn sync_user_mappings(
        &self,
        can: &Can<Executive>,
        provider: MappedProvider,
        rows: &[EmailMapping],
    ) -> Result<MappingSummary> {
        check_mappings(rows).map_err(Error::Invalid)?;
        let caller = can.caller();
        let now = self.clock.now();
        let emails: Vec<Email> = rows.iter().map(|r| r.email.clone()).collect();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(caller.org_id());
        let people: HashMap<Email, PersonId> = scoped
            .people_by_email(&emails)
            .await?
            .into_iter()
            .map(|(p, e)| (e, p))
            .collect();
        let links: Vec<(PersonId, String)> = rows
            .iter()
            .filter_map(|r| people.get(&r.email).map(|p| (*p, r.external_id.clone())))
            .collect();
        // An id another person holds (including one this request moves away from them) is a
        // conflict: the whole request changes nothing.
        scoped.link_external_ids(provider, &links, now).await?;
        let summary = MappingSummary {
            matched: links.len(),
            total: rows.len(),
        };
        record(
            &mut scoped,
            now,
            caller.actor(),
            "people.map_external_ids",
            ("organization", Some(caller.org_id().to_string())),
            json!({ "provider": provider.as_str(), "matched": summary.matched, "total": summary.total }),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }
}
