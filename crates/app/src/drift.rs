//! `GET /api/admin/drift` (executive): who is active in one connected source and inactive or
//! absent in another, compared by work email. Each connected source is listed in full, in
//! parallel; a source that fails fails the answer (502/429), as a sync would, rather than
//! report everyone in it as missing.

use std::collections::{BTreeMap, BTreeSet};

use roster_domain::drift::{self, Kind, Source};
use roster_domain::{Email, EmploymentStatus, OrgId, PersonId, Provider};
use roster_providers::XeroTenantAccess;

use crate::{App, Can, Error, Executive, Result};

/// The drift report.
#[derive(Debug, Clone)]
pub struct Drift {
    /// The connected sources compared, in this order.
    pub sources: Vec<&'static str>,
    pub kinds: Vec<Kind>,
    /// Per source, records without an email (not comparable).
    pub without_email: BTreeMap<&'static str, usize>,
    /// The directory's active person for each email, to link the report to profiles.
    pub person_of: BTreeMap<Email, PersonId>,
}

fn note(src: &mut Source, email: Option<&Email>, name: impl FnOnce() -> String, active: bool) {
    match email {
        Some(e) if active => {
            src.active.insert(e.clone(), name());
        }
        Some(e) => {
            src.inactive.insert(e.clone());
        }
        None => src.without_email += 1,
    }
}

impl App {
    pub async fn drift(&self, can: &Can<Executive>) -> Result<Drift> {
        let org = can.caller().org_id();
        let (productive, google, xero, remote) = tokio::try_join!(
            self.productive_source(org),
            self.google_source(org),
            self.xero_source(org),
            self.remote_source(org),
        )?;
        let sources: Vec<Source> = [productive, google, xero, remote]
            .into_iter()
            .flatten()
            .collect();
        let mut tx = self.store.read_one().await?;
        let people = tx.org(org).sync_people().await?;
        tx.rollback().await?;
        let person_of = people
            .into_iter()
            .filter(|p| !p.retired)
            .filter_map(|p| p.email.map(|e| (e, p.id)))
            .collect();
        Ok(Drift {
            sources: sources.iter().map(|s| s.name).collect(),
            without_email: sources.iter().map(|s| (s.name, s.without_email)).collect(),
            kinds: drift::drift(&sources),
            person_of,
        })
    }

    async fn productive_source(&self, org: OrgId) -> Result<Option<Source>> {
        let client = match self.productive_client(org).await {
            Ok(c) => c,
            Err(Error::NotConnected(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let people = client.people().await.map_err(Error::Provider)?;
        let mut src = Source {
            name: Provider::Productive.as_str(),
            ..Source::default()
        };
        // The listing holds active people only (`filter[status]=1`).
        for p in &people {
            note(
                &mut src,
                p.email.as_ref(),
                || format!("{} {}", p.first_name, p.last_name),
                true,
            );
        }
        Ok(Some(src))
    }

    async fn google_source(&self, org: OrgId) -> Result<Option<Source>> {
        let client = match self.google_client(org).await {
            Ok(c) => c,
            Err(Error::NotConnected(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let users = client.users().await.map_err(Error::Provider)?;
        let mut src = Source {
            name: Provider::GoogleWorkspace.as_str(),
            ..Source::default()
        };
        for u in &users {
            let name = || {
                u.full_name
                    .clone()
                    .unwrap_or_else(|| u.primary_email.to_string())
            };
            note(
                &mut src,
                Some(&u.primary_email),
                name,
                !u.suspended && !u.archived,
            );
        }
        Ok(Some(src))
    }

    async fn xero_source(&self, org: OrgId) -> Result<Option<Source>> {
        let access = match self.xero_access(org).await {
            Ok(a) => a,
            Err(Error::NotConnected(_) | Error::NotConfigured(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let employees = self
            .xero_client()?
            .employees(
                &XeroTenantAccess {
                    access_token: &access.access_token,
                    tenant_id: access.tenant_id,
                },
                None,
            )
            .await
            .map_err(Error::Provider)?;
        let mut src = Source {
            name: Provider::Xero.as_str(),
            ..Source::default()
        };
        for e in &employees {
            note(
                &mut src,
                e.email.as_ref(),
                || format!("{} {}", e.first_name, e.last_name),
                e.status == EmploymentStatus::Active,
            );
        }
        Ok(Some(src))
    }

    async fn remote_source(&self, org: OrgId) -> Result<Option<Source>> {
        let Some((client, company_id)) = self.remote_client(org).await? else {
            return Ok(None);
        };
        let employments = client
            .employments(company_id.as_deref())
            .await
            .map_err(Error::Provider)?;
        let mut src = Source {
            name: Provider::Remote.as_str(),
            ..Source::default()
        };
        let mut seen = BTreeSet::new();
        for e in &employments {
            let email = e.work_email.as_ref();
            if email.is_some_and(|m| !seen.insert(m.clone())) {
                continue;
            }
            // Remote's statuses keep growing; only `active` counts as working there.
            let active = e.status.as_deref() == Some("active");
            let name = || e.full_name.clone().unwrap_or_default();
            note(&mut src, email, name, active);
        }
        Ok(Some(src))
    }
}
