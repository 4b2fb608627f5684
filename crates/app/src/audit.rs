//! Recording and reading the audit log. Events are written in the same transaction as the
//! change they describe, so a rolled-back write leaves no event and a committed one always
//! has its event. `detail` carries names of what changed, never secrets or values read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use roster_domain::model::AuditEvent;
use roster_domain::{EventId, FieldError, UserId};
use roster_store::OrgTx;
use roster_store::audit::AuditQuery;

use crate::{App, Can, Error, Executive, Result};

/// Who did it: a user (absent for the operator's CLI) and the request that carried it.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: Option<UserId>,
    pub request_id: Option<&'a str>,
}

impl Actor<'_> {
    /// The operator at the command line.
    pub const SYSTEM: Actor<'static> = Actor {
        user: None,
        request_id: None,
    };
}

/// Appends one event inside the caller's transaction.
pub async fn record(
    tx: &mut OrgTx<'_>,
    at: DateTime<Utc>,
    actor: Actor<'_>,
    action: &str,
    subject: (&str, Option<String>),
    detail: serde_json::Value,
) -> Result<()> {
    let event = AuditEvent {
        id: EventId::new(),
        org: tx.org_id(),
        at,
        actor: actor.user,
        action: action.to_owned(),
        subject_type: subject.0.to_owned(),
        subject_id: subject.1,
        detail,
        request_id: actor.request_id.map(str::to_owned),
    };
    tx.append_audit(&event).await?;
    Ok(())
}

/// The filters of `GET /api/admin/audit`, parsed.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub actor: Option<UserId>,
    pub subject: Option<String>,
    pub action: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One page of events and the cursor of the next (absent on the last page).
#[derive(Debug)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

pub const DEFAULT_PAGE: u32 = 100;
pub const MAX_PAGE: u32 = 500;

fn encode_cursor(at: DateTime<Utc>, id: EventId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.to_rfc3339()))
}

fn decode_cursor(raw: &str) -> Result<(DateTime<Utc>, EventId)> {
    let bad = || {
        Error::Invalid(vec![FieldError::new(
            "cursor",
            "is not a cursor this server issued",
        )])
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    Ok((at, id.parse().map_err(|_| bad())?))
}

impl App {
    pub async fn list_audit(&self, can: &Can<Executive>, f: AuditFilter) -> Result<AuditPage> {
        let org = can.caller().org_id();
        let limit = f.limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(
                FieldError::new("limit", format!("must be between 1 and {MAX_PAGE}")).into(),
            );
        }
        if let (Some(s), Some(u)) = (f.since, f.until) {
            if s > u {
                return Err(FieldError::new("until", "must not be before since").into());
            }
        }
        let after = f.cursor.as_deref().map(decode_cursor).transpose()?;
        let query = AuditQuery {
            since: f.since,
            until: f.until,
            actor: f.actor,
            subject: f.subject,
            action: f.action,
            after,
            limit: limit + 1,
        };
        let mut tx = self.store.read_one().await?;
        let mut events = tx.org(org).list_audit(&query).await?;
        tx.rollback().await?;
        let next_cursor = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events.last().map(|e| encode_cursor(e.at, e.id))
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::parse_from_rfc3339("2026-03-02T09:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = EventId::new();
        let c = encode_cursor(at, id);
        assert_eq!(decode_cursor(&c).unwrap(), (at, id));
        for bad in [
            "",
            "!!!",
            "bm9waXBl",
            &URL_SAFE_NO_PAD.encode("2026-01-01T00:00:00Z|nope"),
        ] {
            assert!(
                matches!(decode_cursor(bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}
