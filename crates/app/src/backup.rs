//! `roster backup` and `roster restore` (ADR 0021): the snapshot itself is the store's
//! (`roster_store::snapshot`); this adds what only the application knows — the key ids the
//! secrets are sealed with, and, after a restore, whether every secret opens with the
//! configured keys.

use std::collections::BTreeSet;
use std::path::Path;

use roster_store::secrets::{KeyFilter, Page, SealedColumn};
use roster_store::snapshot::{RestoreReport, SnapshotError, SnapshotMeta};
use roster_vault::KeyId;

use crate::App;
use crate::keys::{KeyError, MissingKey, Place};

/// Rows opened per read while checking every secret.
const VERIFY_PAGE: u32 = 500;

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Keys(#[from] KeyError),
}

/// Whether every stored secret opens with the configured keys.
#[derive(Debug, Clone, Default)]
pub struct SecretsCheck {
    /// Sealed values (and canaries) that opened.
    pub opened: u64,
    /// Key ids in use that the configured keys lack, and where they are used.
    pub missing: Vec<MissingKey>,
    /// Values that name a configured key but do not open (altered, or another row's).
    pub wont_open: Vec<(Place, Option<KeyId>)>,
}

impl SecretsCheck {
    pub fn all_open(&self) -> bool {
        self.missing.is_empty() && self.wont_open.is_empty()
    }
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub report: RestoreReport,
    pub secrets: SecretsCheck,
}

impl App {
    /// Writes a consistent snapshot of the whole database to `path` while servers run.
    pub async fn backup(&self, path: &Path) -> Result<SnapshotMeta, BackupError> {
        let status = self.key_status().await?;
        let key_ids: BTreeSet<String> = status
            .counts
            .iter()
            .filter_map(|c| c.key_id)
            .map(|id| id.to_string())
            .collect();
        let meta = SnapshotMeta {
            roster_version: env!("CARGO_PKG_VERSION").to_owned(),
            schema_version: 0,
            key_ids: key_ids.into_iter().collect(),
            source: String::new(),
            taken_at: self.clock.now(),
        };
        Ok(self.store.backup_to(path, meta).await?)
    }

    /// Restores the snapshot at `path` into this app's database (empty unless `force`),
    /// then checks that every secret opens with the configured keys.
    pub async fn restore(&self, path: &Path, force: bool) -> Result<Restored, BackupError> {
        let report = self.store.restore_from(path, force).await?;
        let secrets = self.verify_secrets().await?;
        Ok(Restored { report, secrets })
    }

    /// Opens every stored secret and canary whose key is configured; names the key ids in
    /// use that are not. Changes nothing.
    pub async fn verify_secrets(&self) -> Result<SecretsCheck, KeyError> {
        let status = self.key_status().await?;
        let ring = self.keys.ids();
        let mut check = SecretsCheck {
            missing: status.missing(),
            ..SecretsCheck::default()
        };
        let mut tx = self.store.read().await?;
        for column in SealedColumn::ALL {
            let mut last = None;
            loop {
                let page = match &last {
                    None => Page::First(column),
                    Some(key) => Page::After(key),
                };
                let rows = tx
                    .sealed_rows(page, KeyFilter::NotUnder(&[]), VERIFY_PAGE)
                    .await?;
                for row in &rows {
                    let key_id = row.sealed.get(1..9).and_then(|b| KeyId::try_from(b).ok());
                    if key_id.is_some_and(|id| !ring.contains(&id)) {
                        continue; // counted in `missing`
                    }
                    match self.open_row(row) {
                        Ok(()) => check.opened += 1,
                        Err(_) => check.wont_open.push((Place::Column(column), key_id)),
                    }
                }
                match rows.last() {
                    Some(row) if rows.len() == VERIFY_PAGE as usize => {
                        last = Some(row.key.clone());
                    }
                    _ => break,
                }
            }
        }
        for canary in tx.key_canaries().await? {
            let key_id = canary.key_id.parse::<KeyId>().ok();
            if key_id.is_some_and(|id| !ring.contains(&id)) {
                continue;
            }
            match self.open_canary(&canary.key_id, &canary.sealed) {
                Ok(_) => check.opened += 1,
                Err(_) => check.wont_open.push((Place::Canaries, key_id)),
            }
        }
        tx.rollback().await?;
        Ok(check)
    }
}
