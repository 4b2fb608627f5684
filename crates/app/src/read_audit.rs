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
            // The writer stopped before answering (it panicked): this event was not
            // committed by it, so write it alone.
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
