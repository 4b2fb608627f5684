//! Matching and linking: a user to a person of the directory (`productive-matches`,
//! `productive-link`), a person to a Xero employee (`xero-matches`, `xero-link`), and the
//! bulk Xero auto-link (`POST /api/admin/users/sync-xero`, a sync run of kind `xero`).
//!
//! Every score and the auto-link rule come from `roster_domain::matching`; this module reads,
//! calls Xero outside any transaction, and writes a link with its audit event in one. It
//! must never pull payroll data (that is `xero_payroll.rs`).

use std::collections::HashSet;

use roster_domain::identities::DirectoryEntry;
use roster_domain::matching::{self, Confidence, Identity, NameKey};
use roster_domain::{EmploymentStatus, MappedProvider, PersonId, Provider, UserId};
use roster_providers::{XeroEmployee, XeroTenantAccess};
use serde_json::json;
use uuid::Uuid;

use crate::audit::record;
use crate::sync_runs::{Run, SyncKind};
use roster_domain::FieldError;

use crate::{App, Can, Error, Executive, ManagePeople, Result};

/// A person who may be the user, and how sure the matcher is.
#[derive(Debug, Clone)]
pub struct PersonMatch {
    pub person: DirectoryEntry,
    pub confidence: Confidence,
}

/// `GET /api/admin/users/{id}/productive-matches`.
#[derive(Debug, Clone)]
pub struct PersonMatches {
    pub matches: Vec<PersonMatch>,
    /// This call linked the user to the one sure candidate.
    pub auto_linked: bool,
    /// The person the user is linked to now.
    pub person: Option<PersonId>,
}

/// A Xero employee who may be the person.
#[derive(Debug, Clone)]
pub struct EmployeeMatch {
    pub employee_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub status: EmploymentStatus,
    pub confidence: Confidence,
}

/// `GET /api/people/{id}/xero-matches`.
#[derive(Debug, Clone)]
pub struct EmployeeMatches {
    pub matches: Vec<EmployeeMatch>,
    pub auto_linked: bool,
    /// The Xero employee the person is linked to now.
    pub xero_employee_id: Option<String>,
}

/// `POST /api/admin/users/sync-xero`.
#[derive(Debug, Clone)]
pub struct XeroLinkSummary {
    pub run_id: Uuid,
    /// People newly linked.
    pub linked: usize,
    /// People without a Xero link that were considered.
    pub total: usize,
}

fn employee_identity(e: &XeroEmployee) -> Identity {
    Identity::new(
        NameKey::from_parts(&e.first_name, &e.last_name),
        e.email.clone(),
    )
}

impl App {
    /// Scores the organization's unlinked people against the user; links the one sure
    /// candidate when the user has no person yet.
    pub async fn productive_matches(
        &self,
        can: &Can<Executive>,
        user: UserId,
    ) -> Result<PersonMatches> {
        let caller = can.caller();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(caller.org_id());
        let target = scoped.get_user(user).await?;
        let directory = scoped.identities().await?;
        let candidates: Vec<(usize, Identity)> = directory
            .iter()
            .enumerate()
            .filter(|(_, p)| p.user.is_none())
            .map(|(i, p)| (i, p.identity()))
            .collect();
        let subject = Identity::new(
            NameKey::from_display(&target.user.name),
            Some(target.user.email.clone()),
        );
        let ranked = matching::rank(&subject, &candidates);
        let mut person = target.person_id;
        let mut auto_linked = false;
        if person.is_none()
            && let Some(&i) = matching::auto_link(&ranked)
        {
            let chosen = &directory[i];
            scoped.link_user(user, chosen.person, now).await?;
            let confidence = ranked.first().map(|m| m.confidence.as_str());
            record(
                &mut scoped,
                now,
                caller.actor(),
                "user.link_person",
                ("user", Some(user.to_string())),
                json!({ "person_id": chosen.person, "auto": true, "confidence": confidence }),
            )
            .await?;
            person = Some(chosen.person);
            auto_linked = true;
        }
        tx.commit().await?;
        Ok(PersonMatches {
            matches: ranked
                .into_iter()
                .map(|m| PersonMatch {
                    person: directory[m.key].clone(),
                    confidence: m.confidence,
                })
                .collect(),
            auto_linked,
            person,
        })
    }

    /// `POST /api/admin/users/{id}/productive-link`: 409 when the person is another user's.
    pub async fn link_user_to_person(
        &self,
        can: &Can<Executive>,
        user: UserId,
        person: PersonId,
    ) -> Result<()> {
        let caller = can.caller();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(caller.org_id());
        scoped.get_user(user).await?;
        if scoped.link_user(user, person, now).await? {
            record(
                &mut scoped,
                now,
                caller.actor(),
                "user.link_person",
                ("user", Some(user.to_string())),
                json!({ "person_id": person, "auto": false }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every Xero employee of the tenant, all pages; a failure marks the connection.
    async fn xero_employees(&self, org: roster_domain::OrgId) -> Result<Vec<XeroEmployee>> {
        let client = self.xero_client()?;
        let access = self.xero_access(org).await?;
        let tenant = XeroTenantAccess {
            access_token: &access.access_token,
            tenant_id: access.tenant_id,
        };
        match client.employees(&tenant, None).await {
            Ok(e) => Ok(e),
            Err(e) => {
                self.note_provider_failure(org, Provider::Xero, &e).await;
                Err(Error::Provider(e))
            }
        }
    }

    /// Scores the Xero employees no other person is linked to against the person; links the
    /// one sure candidate when the person has no Xero link yet.
    pub async fn xero_matches(
        &self,
        can: &Can<ManagePeople>,
        person: PersonId,
    ) -> Result<EmployeeMatches> {
        let caller = can.caller();
        let org = caller.org_id();
        // 404 before any provider call.
        let mut tx = self.store.read_one().await?;
        tx.org(org).directory_entry(person).await?;
        tx.rollback().await?;
        let employees = self.xero_employees(org).await?;

        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let directory = scoped.identities().await?;
        let entry = directory
            .iter()
            .find(|p| p.person == person)
            .cloned()
            .ok_or(roster_store::Error::NotFound("person"))?;
        let taken: HashSet<&str> = directory
            .iter()
            .filter(|p| p.person != person)
            .filter_map(|p| p.xero_id.as_deref())
            .collect();
        let candidates: Vec<(usize, Identity)> = employees
            .iter()
            .enumerate()
            .filter(|(_, e)| !taken.contains(e.employee_id.to_string().as_str()))
            .map(|(i, e)| (i, employee_identity(e)))
            .collect();
        let ranked = matching::rank(&entry.identity(), &candidates);
        let mut linked = entry.xero_id.clone();
        let mut auto_linked = false;
        if linked.is_none()
            && let Some(&i) = matching::auto_link(&ranked)
        {
            let id = employees[i].employee_id.to_string();
            scoped
                .link_external_ids(MappedProvider::Xero, &[(person, id.clone())], now)
                .await?;
            record(
                &mut scoped,
                now,
                caller.actor(),
                "person.link_xero",
                ("person", Some(person.to_string())),
                json!({ "xero_employee_id": id, "auto": true }),
            )
            .await?;
            linked = Some(id);
            auto_linked = true;
        }
        tx.commit().await?;
        self.note_provider_success(org, Provider::Xero).await;
        Ok(EmployeeMatches {
            matches: ranked
                .into_iter()
                .map(|m| {
                    let e = &employees[m.key];
                    EmployeeMatch {
                        employee_id: e.employee_id,
                        first_name: e.first_name.clone(),
                        last_name: e.last_name.clone(),
                        email: e.email.as_ref().map(ToString::to_string),
                        status: e.status,
                        confidence: m.confidence,
                    }
                })
                .collect(),
            auto_linked,
            xero_employee_id: linked,
        })
    }

    /// `POST /api/people/{id}/xero-link`: the employee must exist in the connected Xero
    /// organisation (422 otherwise) and be no other person's (409).
    pub async fn link_xero(
        &self,
        can: &Can<ManagePeople>,
        person: PersonId,
        employee: Uuid,
    ) -> Result<()> {
        let caller = can.caller();
        let org = caller.org_id();
        let mut tx = self.store.read_one().await?;
        tx.org(org).directory_entry(person).await?;
        tx.rollback().await?;
        let client = self.xero_client()?;
        let access = self.xero_access(org).await?;
        let tenant = XeroTenantAccess {
            access_token: &access.access_token,
            tenant_id: access.tenant_id,
        };
        match client.employee(&tenant, employee).await {
            Ok(_) => {}
            // Xero answers 404 for an id it does not know (docs/providers.md §1).
            Err(e) if e.status == Some(404) => {
                return Err(Error::Invalid(vec![FieldError::new(
                    "xero_employee_id",
                    "is not an employee of the connected Xero organisation",
                )]));
            }
            Err(e) => {
                self.note_provider_failure(org, Provider::Xero, &e).await;
                return Err(Error::Provider(e));
            }
        }
        let id = employee.to_string();
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        if let Some(holder) = scoped
            .person_with_external_id(MappedProvider::Xero, &id)
            .await?
        {
            if holder == person {
                return Ok(());
            }
            return Err(roster_store::Error::Conflict(
                "that Xero employee is linked to another person",
            )
            .into());
        }
        scoped
            .link_external_ids(MappedProvider::Xero, &[(person, id.clone())], now)
            .await?;
        record(
            &mut scoped,
            now,
            caller.actor(),
            "person.link_xero",
            ("person", Some(person.to_string())),
            json!({ "xero_employee_id": id, "auto": false }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /api/admin/users/sync-xero`: links every person without a Xero link to the one
    /// employee that matches them surely (and surely matches no one else). No payroll data.
    pub async fn sync_xero_links(&self, can: &Can<Executive>) -> Result<XeroLinkSummary> {
        let caller = can.caller();
        let org = caller.org_id();
        // Not connected or not configured: refused before a run is recorded.
        self.xero_client()?;
        if self
            .store
            .read_connection(org, Provider::Xero)
            .await?
            .is_none()
        {
            return Err(Error::NotConnected(Provider::Xero));
        }
        let run = self
            .start_run(org, SyncKind::Xero, caller.actor().user)
            .await?;
        let outcome = self.xero_link_run(&run, caller.actor()).await;
        self.finish_run(&run, outcome).await
    }

    async fn xero_link_run(
        &self,
        run: &Run,
        actor: crate::audit::Actor<'_>,
    ) -> Result<XeroLinkSummary> {
        let org = run.org;
        let employees = self.xero_employees(org).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let directory = scoped.identities().await?;
        let taken: HashSet<&str> = directory
            .iter()
            .filter_map(|p| p.xero_id.as_deref())
            .collect();
        let subjects: Vec<(PersonId, Identity)> = directory
            .iter()
            .filter(|p| p.xero_id.is_none())
            .map(|p| (p.person, p.identity()))
            .collect();
        let candidates: Vec<(Uuid, Identity)> = employees
            .iter()
            .filter(|e| !taken.contains(e.employee_id.to_string().as_str()))
            .map(|e| (e.employee_id, employee_identity(e)))
            .collect();
        let links: Vec<(PersonId, String)> = matching::plan_auto_links(&subjects, &candidates)
            .into_iter()
            .map(|(p, e)| (p, e.to_string()))
            .collect();
        scoped
            .link_external_ids(MappedProvider::Xero, &links, now)
            .await?;
        let counts = json!({
            "linked": links.len(),
            "total": subjects.len(),
            "employees": employees.len(),
        });
        self.succeed_counted_run(&mut scoped, run, now, actor, "people.link_xero", counts)
            .await?;
        tx.commit().await?;
        self.note_provider_success(org, Provider::Xero).await;
        Ok(XeroLinkSummary {
            run_id: run.id,
            linked: links.len(),
            total: subjects.len(),
        })
    }
}
