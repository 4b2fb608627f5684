//! The audit events of reads (a profile's contact, demographics or financial sections),
//! written in groups. A read still answers only after its event is committed; what changes
//! is that the events of reads arriving while one group is being written go together in the
//! next transaction (group commit): one commit for many readers, where a transaction each
//! made the database's writer the bottleneck of every audited read (docs/benchmarks.md).
//!
//! Writes that change data keep recording their event in their own transaction
//! ([`crate::audit::record`]): the event and the change commit or roll back together.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use roster_domain::OrgId;
use roster_domain::model::AuditEvent;
use roster_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::Result;

/// Events one group takes at most.
const MAX_GROUP: usize = 256;
/// Reads that may wait for the writer before the next one waits to be queued.
const QUEUE: usize = 4_096;

/// One event and the reader waiting for it.
struct Pending {
    event: AuditEvent,
    done: oneshot::Sender<Result<()>>,
}

/// The group writer of one store. Its task starts with the first event and ends when every
/// clone of the app that owns it is dropped.
#[derive(Debug, Default)]
pub(crate) struct ReadAudit {
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl ReadAudit {
    /// Commits `event`, in a group with the events of the reads waiting at the same time.
    pub(crate) async fn record(&self, store: &Store, event: AuditEvent) -> Result<()> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(write_groups(store.clone(), rx));
            tx
        });
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            event: event.clone(),
            done,
        };
        if queue.send(pending).await.is_err() {
            // The writer is gone (its runtime shut down): write this one alone.
            return write_one(store, &event).await;
        }
        match committed.await {
            Ok(result) => result,
            // The writer stopped before answering (it panicked), so whether its group was
            // committed is unknown: write the event alone. Had it been committed, its id is
            // refused the second time and this reader gets an error, never an answer
            // without its event.
            Err(_) => write_one(store, &event).await,
        }
    }
}

async fn write_groups(store: Store, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let events: Vec<&AuditEvent> = group.iter().map(|p| &p.event).collect();
        match write_group(&store, &events).await {
            Ok(()) => {
                for p in group {
                    let _ = p.done.send(Ok(()));
                }
            }
            // A lone event's failure is its reader's answer.
            Err(e) if group.len() == 1 => {
                if let Some(p) = group.pop() {
                    let _ = p.done.send(Err(e));
                }
            }
            // Each on its own, so every reader gets its own answer (a busy database, or
            // the one event the store refused).
            Err(_) => {
                for p in group {
                    let result = write_one(&store, &p.event).await;
                    let _ = p.done.send(result);
                }
            }
        }
    }
}

/// One transaction; one insert for each organization the events are of.
async fn write_group(store: &Store, events: &[&AuditEvent]) -> Result<()> {
    let mut by_org: BTreeMap<OrgId, Vec<&AuditEvent>> = BTreeMap::new();
    for e in events {
        by_org.entry(e.org).or_default().push(e);
    }
    let mut tx = store.begin().await?;
    for (org, events) in by_org {
        tx.org(org).append_audits(&events).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn write_one(store: &Store, event: &AuditEvent) -> Result<()> {
    write_group(store, &[event]).await
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use roster_domain::model::Organization;
    use roster_domain::{EventId, Slug};
    use roster_store::audit::AuditQuery;

    use super::*;

    /// A fixed time: these tests need no clock.
    fn noon() -> DateTime<Utc> {
        "2026-12-06T12:00:00Z".parse().unwrap()
    }

    fn event(org: OrgId, subject: &str) -> AuditEvent {
        AuditEvent {
            id: EventId::new(),
            org,
            at: noon(),
            actor: None,
            action: "people.profile.read".to_owned(),
            subject_type: "person".to_owned(),
            subject_id: Some(subject.to_owned()),
            detail: serde_json::json!({ "sections": ["contact"] }),
            request_id: None,
        }
    }

    /// A group with an event the store refuses (of an organization that does not exist) is
    /// written again event by event: that reader gets the error, the others their event.
    #[tokio::test]
    async fn a_refused_event_fails_its_own_reader_only() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("audit.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate(noon()).await.unwrap();
        let org = Organization {
            id: OrgId::new(),
            slug: Slug::parse("slug", "acme").unwrap(),
            name: "Acme".to_owned(),
            created_at: noon(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.create_org(&org).await.unwrap();
        tx.commit().await.unwrap();

        let audit = ReadAudit::default();
        let reads = (0..12).map(|i| {
            let (audit, store) = (&audit, &store);
            let of = if i == 5 { OrgId::new() } else { org.id };
            async move { audit.record(store, event(of, &i.to_string())).await }
        });
        let results = futures::future::join_all(reads).await;
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i == 5, "read {i}: {r:?}");
        }
        let mut tx = store.read().await.unwrap();
        let logged = tx
            .org(org.id)
            .list_audit(&AuditQuery {
                since: None,
                until: None,
                actor: None,
                subject: None,
                action: None,
                after: None,
                limit: 100,
            })
            .await
            .unwrap();
        let mut subjects: Vec<String> = logged.into_iter().filter_map(|e| e.subject_id).collect();
        subjects.sort_by_key(|s| s.parse::<u32>().unwrap());
        let expected: Vec<String> = (0..12).filter(|i| *i != 5).map(|i| i.to_string()).collect();
        assert_eq!(subjects, expected, "every other read's event, once");
    }
}
