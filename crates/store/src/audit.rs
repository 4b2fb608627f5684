//! The append-only audit log. Rows are only ever inserted (triggers refuse UPDATE and
//! DELETE); listing pages newest first with an opaque cursor.

use chrono::{DateTime, Utc};
use roster_domain::model::AuditEvent;
use roster_domain::{EventId, OrgId, UserId};
use uuid::Uuid;

use crate::batch::Arg;
use crate::error::corrupt;
use crate::{Error, OrgTx, Result};

#[derive(sqlx::FromRow)]
struct EventRow {
    event_id: Uuid,
    org_id: Uuid,
    at: DateTime<Utc>,
    actor_user_id: Option<Uuid>,
    action: String,
    subject_type: String,
    subject_id: Option<String>,
    detail: String,
    request_id: Option<String>,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = Error;
    fn try_from(r: EventRow) -> Result<Self> {
        Ok(Self {
            id: EventId::from_uuid(r.event_id),
            org: OrgId::from_uuid(r.org_id),
            at: r.at,
            actor: r.actor_user_id.map(UserId::from_uuid),
            action: r.action,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            detail: serde_json::from_str(&r.detail).map_err(|e| corrupt("audit detail", e))?,
            request_id: r.request_id,
        })
    }
}

/// Filters of `GET /api/admin/audit`; `after` is the position of the last event of the
/// previous page (newest first, so "after" means older).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub actor: Option<UserId>,
    pub subject: Option<String>,
    pub action: Option<String>,
    pub after: Option<(DateTime<Utc>, EventId)>,
    pub limit: u32,
}

impl OrgTx<'_> {
    pub async fn append_audit(&mut self, e: &AuditEvent) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO audit_events (event_id, org_id, at, actor_user_id, action, subject_type, subject_id, detail, request_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            e.id.as_uuid(),
            self.org.as_uuid(),
            e.at,
            e.actor.map(|a| a.as_uuid()),
            &e.action,
            &e.subject_type,
            e.subject_id.as_deref(),
            e.detail.to_string(),
            e.request_id.as_deref()
        )?;
        Ok(())
    }

    /// Appends several events of this organization in one statement a 500 (the grouped
    /// audit events of reads). Each event keeps its own id, time and request id.
    pub async fn append_audits(&mut self, events: &[&AuditEvent]) -> Result<()> {
        for chunk in events.chunks(crate::batch::BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO audit_events (org_id, event_id, at, actor_user_id, action, subject_type, subject_id, detail, request_id)
                 VALUES {}",
                crate::batch::values("($1, ?, ?, ?, ?, ?, ?, ?, ?)", chunk.len(), 2)
            );
            let mut args = vec![Arg::Uuid(self.org.as_uuid())];
            for e in chunk {
                args.extend([
                    Arg::Uuid(e.id.as_uuid()),
                    Arg::Time(e.at),
                    Arg::OptUuid(e.actor.map(|a| a.as_uuid())),
                    Arg::Text(e.action.clone()),
                    Arg::Text(e.subject_type.clone()),
                    Arg::OptText(e.subject_id.clone()),
                    Arg::Text(e.detail.to_string()),
                    Arg::OptText(e.request_id.clone()),
                ]);
            }
            crate::batch::execute(&mut self.tx.inner, &sql, &args).await?;
        }
        Ok(())
    }

    /// One page, newest first; `limit` rows at most.
    pub async fn list_audit(&mut self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let (after_at, after_id) = q
            .after
            .map_or((None, None), |(at, id)| (Some(at), Some(id.as_uuid())));
        rows!(
            self.tx,
            fetch_all,
            EventRow,
            "SELECT event_id, org_id, at, actor_user_id, action, subject_type, subject_id, detail,
                request_id
             FROM audit_events
             WHERE org_id = $1
               AND ($2 IS NULL OR at >= $2)
               AND ($3 IS NULL OR at < $3)
               AND ($4 IS NULL OR actor_user_id = $4)
               AND ($5 IS NULL OR subject_id = $5)
               AND ($6 IS NULL OR action = $6)
               AND ($7 IS NULL OR at < $7 OR (at = $7 AND event_id < $8))
             ORDER BY at DESC, event_id DESC
             LIMIT $9",
            self.org.as_uuid(),
            q.since,
            q.until,
            q.actor.map(|a| a.as_uuid()),
            q.subject.as_deref(),
            q.action.as_deref(),
            after_at,
            after_id,
            i64::from(q.limit)
        )?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
    }
}
