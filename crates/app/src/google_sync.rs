//! The Google directory sync (`POST /api/admin/users/sync-google`): every directory user,
//! all pages, outside any transaction; then one transaction creates the users Roster does
//! not have (they join the organization as employees), refreshes names, pictures and titles,
//! and links unlinked people by email. Runs under the shared sync bookkeeping (kind
//! `google`).

use roster_domain::google_sync::{self, DirectoryUser, display_name};
use roster_domain::{OrgId, Provider};
use serde_json::json;
use uuid::Uuid;

use crate::audit::Actor;
use crate::sync_runs::{Run, SyncKind};
use crate::{App, Can, Error, Executive, Result};

/// What the Google sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoogleSyncSummary {
    pub created: usize,
    pub updated: usize,
    pub linked: usize,
    /// Active directory users considered.
    pub total: usize,
}

impl App {
    /// `POST /api/admin/users/sync-google` (executive).
    pub async fn sync_google(&self, can: &Can<Executive>) -> Result<GoogleSyncSummary> {
        let caller = can.caller();
        self.sync_google_as(caller.org_id(), caller.actor()).await
    }

    /// The sync, for any caller (the API, the demo).
    pub async fn sync_google_as(&self, org: OrgId, actor: Actor<'_>) -> Result<GoogleSyncSummary> {
        let client = self.google_client(org).await?;
        let run = self.start_run(org, SyncKind::Google, actor.user).await?;
        let outcome = self.google_run(&run, &client, actor).await;
        self.finish_run(&run, outcome).await
    }

    async fn google_run(
        &self,
        run: &Run,
        client: &roster_providers::GoogleWorkspaceClient,
        actor: Actor<'_>,
    ) -> Result<GoogleSyncSummary> {
        let org = run.org;
        let users = match client.users().await {
            Ok(u) => u,
            Err(e) => {
                self.note_provider_failure(org, Provider::GoogleWorkspace, &e)
                    .await;
                return Err(Error::Provider(e));
            }
        };
        let directory: Vec<DirectoryUser> = users
            .into_iter()
            .map(|u| DirectoryUser {
                name: display_name(
                    u.full_name.as_deref(),
                    u.given_name.as_deref(),
                    u.family_name.as_deref(),
                    &u.primary_email,
                ),
                active: !u.suspended && !u.archived,
                email: u.primary_email,
                picture_url: u.photo_url,
                job_title: u.title,
            })
            .collect();
        let emails: Vec<_> = directory
            .iter()
            .filter(|d| d.active)
            .map(|d| d.email.clone())
            .collect();

        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let known = scoped.users_by_email(&emails).await?;
        let people = scoped.sync_people().await?;
        let plan = google_sync::plan(&directory, &known, &people, &mut Uuid::now_v7);
        scoped.apply_google_plan(&plan, now).await?;
        let summary = GoogleSyncSummary {
            created: plan.create.len() + plan.join.len(),
            updated: plan.update.len(),
            linked: plan.links.len(),
            total: plan.total,
        };
        let counts = json!({
            "created": plan.create.len(),
            "joined": plan.join.len(),
            "updated": summary.updated,
            "linked": summary.linked,
            "total": summary.total,
        });
        self.succeed_counted_run(&mut scoped, run, now, actor, "users.sync", counts)
            .await?;
        tx.commit().await?;
        self.note_provider_success(org, Provider::GoogleWorkspace)
            .await;
        Ok(summary)
    }
}
