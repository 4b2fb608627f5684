//! The Productive sync (`POST /api/people/sync`, `POST /api/admin/users/sync-productive`,
//! and the background refresh a stale read starts): fetch every page outside any
//! transaction, plan with the pure planner (`roster_domain::people_sync`), apply the plan in
//! one transaction with the run's bookkeeping and audit event. Any failure changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use roster_domain::people_sync::{self, Counts, Coverage, Fetched, FetchedTeam, PlanError};
use roster_domain::{ConnectionStatus, OrgId, Provider};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{Actor, record};
use crate::sync_runs::{RunResult, SyncKind};
use crate::{App, Can, Error, Executive, ManagePeople, Result};

/// A coverage that falls by more than this many points since the last successful run
/// is reported as a warning.
const COVERAGE_WARNING_POINTS: f64 = 10.0;
/// After a background refresh of an organization, the next one waits at least this long,
/// so a Productive outage is not retried on every read.
const REFRESH_BACKOFF: StdDuration = StdDuration::from_secs(60);

/// A sync that adds or removes at least this many people refreshes the database's
/// statistics at once, so the directory's reads are planned for its real size (see
/// `Tx::analyze_directory`).
const ANALYZE_AFTER_ROWS: usize = 500;

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncSummary {
    pub run_id: Uuid,
    /// Active people Productive listed.
    pub synced: usize,
    /// Of them, how many are linked to a user after the sync.
    pub matched_users: usize,
    pub counts: Counts,
    pub coverage: Coverage,
    pub warnings: Vec<String>,
    /// SQL statements the apply ran (the bench divides them by pages).
    pub statements: usize,
}

/// Background refreshes this instance started, by organization, when each started.
#[derive(Debug, Default, Clone)]
pub(crate) struct Refreshes(Arc<Mutex<HashMap<OrgId, Instant>>>);

impl Refreshes {
    /// Claims the organization's next refresh on this instance: false while one runs or
    /// ran within the back-off. Other instances are kept out by the sync's lease.
    fn claim(&self, org: OrgId) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return false;
        };
        let now = Instant::now();
        match map.get(&org) {
            Some(at) if now.duration_since(*at) < REFRESH_BACKOFF => false,
            _ => {
                map.insert(org, now);
                true
            }
        }
    }
}

impl App {
    /// `POST /api/people/sync` (manage:people).
    pub async fn sync_people(
        &self,
        can: &Can<ManagePeople>,
        allow_mass_removal: bool,
    ) -> Result<SyncSummary> {
        let caller = can.caller();
        self.sync_productive(caller.org_id(), caller.actor(), allow_mass_removal)
            .await
    }

    /// `POST /api/admin/users/sync-productive` (executive): the same sync.
    pub async fn sync_people_admin(
        &self,
        can: &Can<Executive>,
        allow_mass_removal: bool,
    ) -> Result<SyncSummary> {
        let caller = can.caller();
        self.sync_productive(caller.org_id(), caller.actor(), allow_mass_removal)
            .await
    }

    /// Starts one background sync of `org` when Productive is connected and none is running
    /// here (another instance's run holds the lease, so this one then stops at once). Never
    /// waits for it.
    pub fn refresh_people_in_background(&self, org: OrgId) {
        if !self.refreshes.claim(org) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move {
            match app.store.read_connection(org, Provider::Productive).await {
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(%org, error = %e, "background people refresh: reading the connection failed");
                    return;
                }
            }
            match app.sync_productive(org, Actor::SYSTEM, false).await {
                Ok(s) => {
                    tracing::info!(%org, run = %s.run_id, synced = s.synced, "background people refresh done");
                }
                Err(Error::SyncInProgress(_)) => {}
                Err(e) => tracing::warn!(%org, error = %e, "background people refresh failed"),
            }
        });
    }

    /// The sync itself, for any caller (the API, the background refresh, the demo).
    pub async fn sync_productive(
        &self,
        org: OrgId,
        actor: Actor<'_>,
        allow_mass_removal: bool,
    ) -> Result<SyncSummary> {
        let client = self.productive_client(org).await?;
        let run = self
            .start_run(org, SyncKind::Productive, actor.user)
            .await?;
        let outcome = self
            .productive_run(&run, &client, actor, allow_mass_removal)
            .await;
        self.finish_run(&run, outcome).await
    }

    async fn productive_run(
        &self,
        run: &crate::sync_runs::Run,
        client: &roster_providers::ProductiveClient,
        actor: Actor<'_>,
        allow_mass_removal: bool,
    ) -> Result<SyncSummary> {
        let org = run.org;
        // 1. Every page, outside any transaction; one failed page fails the sync.
        let fetched = tokio::try_join!(client.people(), client.squads());
        let (people, squads) = match fetched {
            Ok(v) => v,
            Err(e) => {
                self.note_provider_failure(org, Provider::Productive, &e)
                    .await;
                return Err(Error::Provider(e));
            }
        };
        let (fetched, teams) = to_planner(people, squads);

        // 2–7. Plan and apply in one transaction.
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        let input = people_sync::Input {
            people: scoped.sync_people().await?,
            users: scoped.sync_users().await?,
            squads: scoped.sync_squads().await?,
            fetched,
            teams,
        };
        let previous = scoped
            .last_successful_sync(SyncKind::Productive.as_str())
            .await?;
        let options = people_sync::Options {
            mass_removal_threshold: self.settings.mass_removal_threshold,
            allow_mass_removal,
        };
        let plan = people_sync::plan(&input, options, &mut Uuid::now_v7).map_err(|e| match e {
            PlanError::MassRemoval { retiring, active } => {
                Error::MassRemovalBlocked { retiring, active }
            }
            invalid @ PlanError::InvalidRecord { .. } => Error::SyncData {
                provider: Provider::Productive,
                message: invalid.to_string(),
            },
        })?;
        let statements = scoped.apply_sync_plan(&plan, now).await?;
        let warnings = previous
            .and_then(|p| serde_json::from_value::<Coverage>(p.coverage).ok())
            .map(|before| plan.coverage.drops_since(&before, COVERAGE_WARNING_POINTS))
            .unwrap_or_default();
        let result = RunResult {
            counts: json!(plan.counts),
            coverage: json!(plan.coverage),
            warnings: warnings.clone(),
        };
        self.succeed_run(&mut scoped, run, &result).await?;
        record(
            &mut scoped,
            now,
            actor,
            "people.sync",
            ("organization", Some(org.to_string())),
            json!({
                "provider": "productive",
                "run_id": run.id,
                "counts": plan.counts,
                "allow_mass_removal": allow_mass_removal,
            }),
        )
        .await?;
        tx.commit().await?;
        if plan.counts.created + plan.counts.retired + plan.counts.reactivated >= ANALYZE_AFTER_ROWS
        {
            self.analyze_directory().await;
        }
        self.note_provider_success(org, Provider::Productive).await;
        Ok(SyncSummary {
            run_id: run.id,
            synced: plan.counts.fetched,
            matched_users: plan.counts.matched_users,
            counts: plan.counts,
            coverage: plan.coverage,
            warnings,
            statements,
        })
    }

    /// Records a provider failure on the connection (`needs_reauth` for a dead credential),
    /// best effort: the failure itself is what the caller reports.
    pub(crate) async fn note_provider_failure(
        &self,
        org: OrgId,
        provider: Provider,
        e: &roster_providers::Error,
    ) {
        let status = if e.is_needs_reauth() {
            ConnectionStatus::NeedsReauth
        } else {
            ConnectionStatus::Error
        };
        if let Err(m) = self.mark(org, provider, status, Some(&e.to_string())).await {
            tracing::warn!(%org, error = %m, "recording the connection's failure failed");
        }
    }

    /// Best effort: a failure leaves the statistics to autovacuum.
    async fn analyze_directory(&self) {
        let analyzed = match self.store.read_one().await {
            Ok(mut tx) => tx.analyze_directory().await,
            Err(e) => Err(e),
        };
        if let Err(e) = analyzed {
            tracing::warn!(error = %e, "refreshing the directory's statistics failed");
        }
    }

    pub(crate) async fn note_provider_success(&self, org: OrgId, provider: Provider) {
        if let Err(m) = self.mark(org, provider, ConnectionStatus::Ok, None).await {
            tracing::warn!(%org, error = %m, "recording the connection's use failed");
        }
    }
}

/// Productive's people and teams in the planner's terms.
fn to_planner(
    people: Vec<roster_providers::ProductivePerson>,
    squads: Vec<roster_providers::ProductiveSquad>,
) -> (Vec<Fetched>, Vec<FetchedTeam>) {
    let mut teams_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut teams = Vec::with_capacity(squads.len());
    for s in squads {
        for member in &s.member_ids {
            teams_of
                .entry(member.clone())
                .or_default()
                .push(s.id.clone());
        }
        teams.push(FetchedTeam {
            productive_id: s.id,
            name: s.name,
        });
    }
    let fetched = people
        .into_iter()
        .map(|p| Fetched {
            team_ids: teams_of.remove(&p.id).unwrap_or_default(),
            productive_id: p.id,
            first_name: p.first_name,
            last_name: p.last_name,
            email: p.email,
            title: p.title,
            avatar_url: p.avatar_url,
            manager_productive_id: p.manager_id,
        })
        .collect();
    (fetched, teams)
}
