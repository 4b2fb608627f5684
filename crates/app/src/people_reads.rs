//! The directory's reads: `GET /api/people`, `GET /api/people/org-chart`,
//! `GET /api/people/{id}/profile` and `GET /api/admin/squads`. Each reads one statement;
//! the rules are the domain's (`org_chart`, `profile`, `directory`).
//!
//! A stale read never waits for Productive: it answers what the directory holds and starts
//! one background refresh (`refresh_people_in_background`). A profile never returns a
//! contact, demographics or financial section unless the audit event naming the reader, the
//! subject and the sections (never their values) has committed first.

use chrono::{DateTime, Utc};
use roster_domain::directory::{self, Directory, SquadListing};
use roster_domain::model::{AuditEvent, Contact, Demographics, Employment, Financial};
use roster_domain::org_chart::{self, Chart, Entry};
use roster_domain::profile::{self, Section, Subject, Viewer};
use roster_domain::{EventId, PersonId};
use roster_vault::{ExposeSecret, Sealed};
use serde_json::json;

use crate::{App, Can, Error, Executive, Result, ViewPeople, secrets};

/// The active people, and how fresh they are.
#[derive(Debug, Clone)]
pub struct PeopleList {
    pub directory: Directory,
    pub stale: bool,
}

/// The org chart over the listed people (`chart` indexes `list.directory.people`).
#[derive(Debug, Clone)]
pub struct OrgChart {
    pub list: PeopleList,
    pub chart: Chart,
}

/// A section the caller may see, with why.
#[derive(Debug, Clone)]
pub struct Shown<T> {
    pub value: T,
    pub because: &'static str,
}

/// A person's Xero link, for executives.
#[derive(Debug, Clone)]
pub struct XeroMapping {
    pub xero_employee_id: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

/// The sections of one profile the caller may see; the others are `None` and their values
/// never left the store's record.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub employment: Option<Shown<Employment>>,
    pub contact: Option<Shown<Contact>>,
    pub demographics: Option<Shown<Demographics>>,
    pub financial: Option<Shown<Financial>>,
    pub xero_mapping: Option<Shown<XeroMapping>>,
}

impl App {
    /// Reads the directory and, when it is stale, starts a background refresh.
    async fn read_directory(&self, can: &Can<ViewPeople>) -> Result<PeopleList> {
        let org = can.caller().org_id();
        let mut tx = self.store.read_one().await?;
        let directory = tx.org(org).directory().await?;
        tx.rollback().await?;
        let stale = directory::is_stale(
            directory.last_sync,
            self.clock.now(),
            self.settings.people_ttl,
        );
        if stale {
            self.refresh_people_in_background(org);
        }
        Ok(PeopleList { directory, stale })
    }

    /// `GET /api/people` (view:people).
    pub async fn list_people(&self, can: &Can<ViewPeople>) -> Result<PeopleList> {
        self.read_directory(can).await
    }

    /// `GET /api/people/org-chart` (view:people): the same read, drawn as a forest.
    pub async fn org_chart(&self, can: &Can<ViewPeople>) -> Result<OrgChart> {
        let list = self.read_directory(can).await?;
        let names: Vec<String> = list
            .directory
            .people
            .iter()
            .map(roster_domain::directory::Listed::full_name)
            .collect();
        let entries: Vec<Entry<'_>> = list
            .directory
            .people
            .iter()
            .zip(&names)
            .map(|(p, name)| Entry {
                id: p.id,
                manager: p.manager,
                full_name: name,
            })
            .collect();
        let chart = org_chart::build(&entries);
        Ok(OrgChart { list, chart })
    }

    /// `GET /api/people/{id}/profile` (view:people): the sections the caller may see.
    /// Another organization's id, or a retired person, is not found.
    pub async fn profile(&self, can: &Can<ViewPeople>, id: PersonId) -> Result<Profile> {
        let caller = can.caller();
        let org = caller.org_id();
        let mut tx = self.store.read_one().await?;
        let rec = tx.org(org).profile_record(id).await?;
        tx.rollback().await?;

        let viewer = Viewer {
            level: caller.level,
            person: caller.person,
        };
        let subject = Subject {
            id: rec.id,
            retired: rec.retired,
            manager: rec.manager,
            managers_above: &rec.managers_above,
        };
        let visible = profile::visible_sections(&viewer, &subject, &caller.matrix)
            .map_err(|_| roster_store::Error::NotFound("person"))?;

        let audited: Vec<&str> = visible
            .iter()
            .filter(|v| v.section.is_audited())
            .map(|v| v.section.as_str())
            .collect();
        if !audited.is_empty() {
            // Committed before the answer, in a group with other readers' events.
            let event = AuditEvent {
                id: EventId::new(),
                org,
                at: self.clock.now(),
                actor: caller.actor().user,
                action: "people.profile.read".to_owned(),
                subject_type: "person".to_owned(),
                subject_id: Some(id.to_string()),
                detail: json!({ "sections": audited }),
                request_id: caller.actor().request_id.map(str::to_owned),
            };
            self.read_audit.record(&self.store, event).await?;
        }

        let mut out = Profile::default();
        for v in visible {
            let because = v.because;
            match v.section {
                Section::Employment => {
                    out.employment = Some(Shown {
                        value: rec.employment.clone(),
                        because,
                    });
                }
                Section::Contact => {
                    out.contact = Some(Shown {
                        value: rec.contact.clone(),
                        because,
                    });
                }
                Section::Demographics => {
                    out.demographics = Some(Shown {
                        value: rec.demographics.clone(),
                        because,
                    });
                }
                Section::Financial => {
                    out.financial = Some(Shown {
                        value: self.open_financial(org, id, rec.financial_sealed.as_deref())?,
                        because,
                    });
                }
                Section::XeroMapping => {
                    out.xero_mapping = Some(Shown {
                        value: XeroMapping {
                            xero_employee_id: rec.xero_employee_id.clone(),
                            last_synced_at: rec.xero_synced_at,
                        },
                        because,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Opens a person's sealed financial section (ADR 0010); none stored reads as empty.
    fn open_financial(
        &self,
        org: roster_domain::OrgId,
        person: PersonId,
        sealed: Option<&[u8]>,
    ) -> Result<Financial> {
        let Some(bytes) = sealed else {
            return Ok(Financial::default());
        };
        let sealed = Sealed::from_bytes(bytes).map_err(Error::Vault)?;
        let plain = self
            .keys
            .decrypt(&sealed, &secrets::person_financial(org, person))
            .map_err(Error::Vault)?;
        serde_json::from_slice(plain.expose_secret())
            .map_err(|_| Error::Vault(roster_vault::Error::Malformed))
    }

    /// `GET /api/admin/squads` (executive): squads from the synced data with their members.
    pub async fn list_squads(&self, can: &Can<Executive>) -> Result<Vec<SquadListing>> {
        let mut tx = self.store.read_one().await?;
        let mut squads = tx.org(can.caller().org_id()).squads_with_members().await?;
        tx.rollback().await?;
        directory::sort_squads(&mut squads);
        Ok(squads)
    }
}
