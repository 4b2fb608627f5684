//! The record of every sync: one `sync_runs` row per run, written `running` when it starts
//! and finished, in the same transaction as the sync's writes on success, with its outcome,
//! counts, coverage and warnings.

use chrono::{DateTime, Utc};
use roster_domain::{OrgId, UserId};
use uuid::Uuid;

use crate::error::corrupt;
use crate::{OrgTx, Result};

/// How a run ended (`running` while it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Succeeded,
    Failed,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Running, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRunRecord {
    pub id: Uuid,
    pub org: OrgId,
    pub kind: String,
    pub actor: Option<UserId>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Outcome,
    /// A JSON object (empty until the run finishes).
    pub counts: serde_json::Value,
    pub coverage: serde_json::Value,
    pub warnings: Vec<String>,
    /// Why it failed, in plain words.
    pub detail: Option<String>,
}

/// How a run finished.
#[derive(Debug, Clone)]
pub struct Finish<'a> {
    pub outcome: Outcome,
    pub counts: &'a serde_json::Value,
    pub coverage: &'a serde_json::Value,
    pub warnings: &'a [String],
    pub detail: Option<&'a str>,
}

#[derive(sqlx::FromRow)]
struct Row {
    run_id: Uuid,
    org_id: Uuid,
    kind: String,
    actor_user_id: Option<Uuid>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    status: String,
    counts: Option<String>,
    coverage: Option<String>,
    warnings: Option<String>,
    detail: Option<String>,
}

const COLUMNS: &str = "run_id, org_id, kind, actor_user_id, started_at, finished_at, status,
    counts, coverage, warnings, detail";

fn json_or(raw: Option<String>, empty: serde_json::Value) -> Result<serde_json::Value> {
    raw.map_or(Ok(empty), |s| {
        serde_json::from_str(&s).map_err(|e| corrupt("sync run json", e))
    })
}

impl TryFrom<Row> for SyncRunRecord {
    type Error = crate::Error;
    fn try_from(r: Row) -> Result<Self> {
        let warnings = match r.warnings {
            Some(w) => serde_json::from_str(&w).map_err(|e| corrupt("sync run warnings", e))?,
            None => Vec::new(),
        };
        Ok(Self {
            id: r.run_id,
            org: OrgId::from_uuid(r.org_id),
            kind: r.kind,
            actor: r.actor_user_id.map(UserId::from_uuid),
            started_at: r.started_at,
            finished_at: r.finished_at,
            outcome: Outcome::parse(&r.status)
                .ok_or_else(|| corrupt("sync run status", r.status.clone()))?,
            counts: json_or(r.counts, serde_json::json!({}))?,
            coverage: json_or(r.coverage, serde_json::json!({}))?,
            warnings,
            detail: r.detail,
        })
    }
}

impl OrgTx<'_> {
    /// Records that a run of `kind` started.
    pub async fn start_sync_run(
        &mut self,
        id: Uuid,
        kind: &str,
        actor: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO sync_runs (run_id, org_id, kind, actor_user_id, started_at, status)
             VALUES ($1, $2, $3, $4, $5, 'running')",
            id,
            self.org.as_uuid(),
            kind,
            actor.map(|u| u.as_uuid()),
            now
        )?;
        Ok(())
    }

    /// Records how a run ended.
    pub async fn finish_sync_run(
        &mut self,
        id: Uuid,
        finish: &Finish<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let warnings =
            serde_json::to_string(finish.warnings).map_err(|e| corrupt("sync run warnings", e))?;
        execute!(
            self.tx,
            "UPDATE sync_runs SET status = $3, finished_at = $4, counts = $5, coverage = $6,
                warnings = $7, detail = $8
             WHERE org_id = $1 AND run_id = $2",
            self.org.as_uuid(),
            id,
            finish.outcome.as_str(),
            now,
            finish.counts.to_string(),
            finish.coverage.to_string(),
            warnings,
            finish.detail
        )?;
        Ok(())
    }

    /// The newest successful run of `kind`, if any.
    pub async fn last_successful_sync(&mut self, kind: &str) -> Result<Option<SyncRunRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_runs
             WHERE org_id = $1 AND kind = $2 AND status = 'succeeded'
             ORDER BY finished_at DESC, run_id DESC LIMIT 1"
        );
        rows!(self.tx, fetch_optional, Row, &sql, self.org.as_uuid(), kind)?
            .map(TryInto::try_into)
            .transpose()
    }

    /// Up to `limit` runs, newest first, older than the run `before` when given.
    pub async fn list_sync_runs(
        &mut self,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<SyncRunRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_runs
             WHERE org_id = $1 AND ($2 IS NULL OR run_id < $2)
             ORDER BY run_id DESC LIMIT $3"
        );
        rows!(
            self.tx,
            fetch_all,
            Row,
            &sql,
            self.org.as_uuid(),
            before,
            i64::from(limit)
        )?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
    }
}
