//! The bookkeeping every sync shares: one run of a kind at a time per organization across
//! every instance (a lease, so a crashed holder's claim lapses), a `sync_runs` row from
//! start to finish, the metrics, and `GET /api/admin/sync-runs`.
//!
//! A run starts in its own short transaction (take the lease, record `running`), fetches
//! outside any transaction, then finishes inside the transaction that applies its writes:
//! the lease is renewed there as a fence (a run whose lease lapsed and was taken cannot
//! commit), the row becomes `succeeded` and the lease is released, all or nothing. A failed
//! run is recorded as `failed` with its reason in a transaction of its own.

use std::time::Instant;

use chrono::Duration;
use roster_domain::{OrgId, Provider, UserId};
use roster_store::OrgTx;
pub use roster_store::sync_runs::SyncRunRecord;
use roster_store::sync_runs::{Finish, Outcome};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{Actor, record};
use crate::{App, Can, Error, Executive, Result};

/// How long a run may hold its claim. A sync of 100,000 people fetches 500 pages; at
/// Productive's published limit that is minutes, so this leaves room. A crashed instance's
/// claim lapses after it, and the next run proceeds.
pub const SYNC_LEASE: Duration = Duration::minutes(15);

/// The kinds of sync, one lease each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    Productive,
    Xero,
    Google,
}

impl SyncKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Productive => "productive",
            Self::Xero => "xero",
            Self::Google => "google",
        }
    }

    /// The provider a run of this kind reads.
    pub const fn provider(self) -> Provider {
        match self {
            Self::Productive => Provider::Productive,
            Self::Xero => Provider::Xero,
            Self::Google => Provider::GoogleWorkspace,
        }
    }

    fn lease(self) -> &'static str {
        match self {
            Self::Productive => "sync:productive",
            Self::Xero => "sync:xero",
            Self::Google => "sync:google",
        }
    }
}

/// A run in progress: the claim this instance holds.
#[derive(Debug)]
pub(crate) struct Run {
    pub id: Uuid,
    pub org: OrgId,
    pub kind: SyncKind,
    holder: String,
    started: Instant,
}

/// What a successful run records.
#[derive(Debug, Default)]
pub(crate) struct RunResult {
    pub counts: serde_json::Value,
    pub coverage: serde_json::Value,
    pub warnings: Vec<String>,
}

/// A page of runs, newest first.
#[derive(Debug)]
pub struct SyncRunPage {
    pub runs: Vec<SyncRunRecord>,
    /// The id to pass as `cursor` for the next page, when there is one.
    pub next_cursor: Option<Uuid>,
}

/// Runs per page of `GET /api/admin/sync-runs`.
const RUNS_PAGE: u32 = 50;

impl Run {
    fn record_metrics(&self, outcome: &'static str) {
        metrics::counter!("roster_sync_runs_total", "kind" => self.kind.as_str(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("roster_sync_run_duration_seconds", "kind" => self.kind.as_str(), "outcome" => outcome)
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl App {
    /// Claims the organization's `kind` sync and records the run, or
    /// [`Error::SyncInProgress`] when another run holds the claim.
    pub(crate) async fn start_run(
        &self,
        org: OrgId,
        kind: SyncKind,
        actor: Option<UserId>,
    ) -> Result<Run> {
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let holder = id.to_string();
        let mut tx = self.store.begin().await?;
        let mut scoped = tx.org(org);
        if !scoped
            .acquire_lease(kind.lease(), &holder, now, SYNC_LEASE)
            .await?
        {
            tx.rollback().await?;
            metrics::counter!("roster_sync_runs_total", "kind" => kind.as_str(), "outcome" => "refused")
                .increment(1);
            return Err(Error::SyncInProgress(kind.as_str()));
        }
        scoped.start_sync_run(id, kind.as_str(), actor, now).await?;
        tx.commit().await?;
        Ok(Run {
            id,
            org,
            kind,
            holder,
            started: Instant::now(),
        })
    }

    /// Inside the transaction that applies the run's writes: checks the claim still holds,
    /// records success and gives the claim up. The caller commits, then calls
    /// [`App::run_committed`].
    pub(crate) async fn succeed_run(
        &self,
        scoped: &mut OrgTx<'_>,
        run: &Run,
        result: &RunResult,
    ) -> Result<()> {
        let now = self.clock.now();
        if !scoped
            .renew_lease(run.kind.lease(), &run.holder, now, SYNC_LEASE)
            .await?
        {
            return Err(Error::SyncInProgress(run.kind.as_str()));
        }
        scoped
            .finish_sync_run(
                run.id,
                &Finish {
                    outcome: Outcome::Succeeded,
                    counts: &result.counts,
                    coverage: &result.coverage,
                    warnings: &result.warnings,
                    detail: None,
                },
                now,
            )
            .await?;
        scoped.release_lease(run.kind.lease(), &run.holder).await?;
        Ok(())
    }

    /// [`App::succeed_run`] for a run that reports counts only (no coverage, no warnings),
    /// and its audit event `action`, naming the run's provider, the run and the counts: both
    /// in the transaction that applies the run's writes.
    pub(crate) async fn succeed_counted_run(
        &self,
        scoped: &mut OrgTx<'_>,
        run: &Run,
        now: chrono::DateTime<chrono::Utc>,
        actor: Actor<'_>,
        action: &str,
        counts: serde_json::Value,
    ) -> Result<()> {
        let result = RunResult {
            counts,
            coverage: json!({}),
            warnings: Vec::new(),
        };
        self.succeed_run(scoped, run, &result).await?;
        record(
            scoped,
            now,
            actor,
            action,
            ("organization", Some(run.org.to_string())),
            json!({ "provider": run.kind.provider().as_str(), "run_id": run.id, "counts": result.counts }),
        )
        .await
    }

    /// After the successful run's transaction committed.
    pub(crate) fn run_committed(run: &Run) {
        run.record_metrics("succeeded");
    }

    /// Records a failed run and gives its claim up. Best effort: the run's own error is what
    /// the caller reports, so a failure to record it is logged, not returned.
    pub(crate) async fn fail_run(&self, run: &Run, error: &Error) {
        run.record_metrics("failed");
        let detail = error.to_string();
        let now = self.clock.now();
        let recorded = async {
            let mut tx = self.store.begin().await?;
            let mut scoped = tx.org(run.org);
            scoped
                .finish_sync_run(
                    run.id,
                    &Finish {
                        outcome: Outcome::Failed,
                        counts: &serde_json::json!({}),
                        coverage: &serde_json::json!({}),
                        warnings: &[],
                        detail: Some(&detail),
                    },
                    now,
                )
                .await?;
            scoped.release_lease(run.kind.lease(), &run.holder).await?;
            tx.commit().await?;
            Ok::<_, roster_store::Error>(())
        };
        if let Err(e) = recorded.await {
            tracing::error!(run = %run.id, error = %e, "recording a failed sync run failed; its claim lapses on its own");
        }
    }

    /// Finishes `run` with `outcome`: on error, records the failure; passes the outcome on.
    pub(crate) async fn finish_run<T>(&self, run: &Run, outcome: Result<T>) -> Result<T> {
        match outcome {
            Ok(v) => {
                Self::run_committed(run);
                Ok(v)
            }
            Err(e) => {
                self.fail_run(run, &e).await;
                Err(e)
            }
        }
    }

    /// `GET /api/admin/sync-runs`: newest first, [`RUNS_PAGE`] at a time.
    pub async fn list_sync_runs(
        &self,
        can: &Can<Executive>,
        cursor: Option<Uuid>,
    ) -> Result<SyncRunPage> {
        let mut tx = self.store.read_one().await?;
        let mut runs = tx
            .org(can.caller().org_id())
            .list_sync_runs(cursor, RUNS_PAGE + 1)
            .await?;
        tx.rollback().await?;
        let next_cursor = if runs.len() > RUNS_PAGE as usize {
            runs.truncate(RUNS_PAGE as usize);
            runs.last().map(|r| r.id)
        } else {
            None
        };
        Ok(SyncRunPage { runs, next_cursor })
    }
}
