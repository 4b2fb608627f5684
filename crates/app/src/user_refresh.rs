//! `POST /api/admin/users/{id}/sync`: one user refreshed from every connected provider
//! they are linked to. Google (the profile: name, picture, job title) and Productive (the
//! linked person's directory fields) are refreshed before the answer; the Xero payroll pull
//! is queued in the background and the answer does not wait for it.
//!
//! A provider that is not connected, or that the user is not linked to, is skipped; one
//! that fails fails the request (502), since the caller asked for a refresh.

use roster_domain::google_sync::{Plan, UserFields};
use roster_domain::{Provider, UserId};
use roster_store::links::ProfileFields;
use serde_json::json;

use crate::audit::{Actor, record};
use crate::{App, Can, Error, Executive, Result};

impl App {
    /// Returns the providers that refreshed the user or were queued, in the order
    /// google, productive, xero.
    pub async fn refresh_user(
        &self,
        can: &Can<Executive>,
        user: UserId,
    ) -> Result<Vec<&'static str>> {
        let caller = can.caller();
        let org = caller.org_id();
        let mut tx = self.store.read_one().await?;
        let target = tx.org(org).get_user(user).await?;
        tx.rollback().await?;
        let mut synced = Vec::new();
        let now = self.clock.now();

        if self
            .store
            .read_connection(org, Provider::GoogleWorkspace)
            .await?
            .is_some()
        {
            let client = self.google_client(org).await?;
            let users = match client.users().await {
                Ok(u) => u,
                Err(e) => {
                    self.note_provider_failure(org, Provider::GoogleWorkspace, &e)
                        .await;
                    return Err(Error::Provider(e));
                }
            };
            if let Some(g) = users
                .into_iter()
                .find(|g| g.primary_email == target.user.email)
            {
                let name = g
                    .full_name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| target.user.name.clone());
                let changed = name != target.user.name
                    || g.photo_url != target.user.picture_url
                    || g.title != target.user.job_title;
                if changed {
                    let plan = Plan {
                        update: vec![UserFields {
                            id: user,
                            email: target.user.email.clone(),
                            name,
                            picture_url: g.photo_url,
                            job_title: g.title,
                        }],
                        ..Plan::default()
                    };
                    let mut tx = self.store.begin().await?;
                    let mut scoped = tx.org(org);
                    scoped.apply_google_plan(&plan, now).await?;
                    audit_refresh(&mut scoped, now, caller.actor(), user, "google").await?;
                    tx.commit().await?;
                }
                synced.push("google");
            }
        }

        let person = match target.person_id {
            Some(p) => Some(self.directory_entry(org, p).await?),
            None => None,
        };
        if let Some(person) = &person
            && let Some(productive_id) = &person.productive_id
            && self
                .store
                .read_connection(org, Provider::Productive)
                .await?
                .is_some()
        {
            let client = self.productive_client(org).await?;
            let people = match client.people().await {
                Ok(p) => p,
                Err(e) => {
                    self.note_provider_failure(org, Provider::Productive, &e)
                        .await;
                    return Err(Error::Provider(e));
                }
            };
            if let Some(p) = people.into_iter().find(|p| &p.id == productive_id) {
                let fields = ProfileFields {
                    first_name: p.first_name,
                    last_name: p.last_name,
                    email: p.email,
                    title: p.title,
                    avatar_url: p.avatar_url,
                };
                let mut tx = self.store.begin().await?;
                let mut scoped = tx.org(org);
                if scoped
                    .refresh_person_profile(person.person, &fields, now)
                    .await?
                {
                    audit_refresh(&mut scoped, now, caller.actor(), user, "productive").await?;
                }
                tx.commit().await?;
                synced.push("productive");
            }
        }

        if let Some(person) = &person
            && person.xero_id.is_some()
            && self
                .store
                .read_connection(org, Provider::Xero)
                .await?
                .is_some()
        {
            let app = self.clone();
            let person_id = person.person;
            let actor_user = caller.user.id;
            tokio::spawn(async move {
                let actor = Actor {
                    user: Some(actor_user),
                    request_id: None,
                };
                if let Err(e) = app.pull_payroll(org, actor, person_id).await {
                    tracing::warn!(%org, person = %person_id, error = %e, "queued Xero payroll pull failed");
                }
            });
            synced.push("xero");
        }
        Ok(synced)
    }

    async fn directory_entry(
        &self,
        org: roster_domain::OrgId,
        person: roster_domain::PersonId,
    ) -> Result<roster_domain::identities::DirectoryEntry> {
        let mut tx = self.store.read_one().await?;
        Ok(tx.org(org).directory_entry(person).await?)
    }
}

async fn audit_refresh(
    scoped: &mut roster_store::OrgTx<'_>,
    now: chrono::DateTime<chrono::Utc>,
    actor: Actor<'_>,
    user: UserId,
    provider: &str,
) -> Result<()> {
    record(
        scoped,
        now,
        actor,
        "user.refresh",
        ("user", Some(user.to_string())),
        json!({ "provider": provider }),
    )
    .await
}
