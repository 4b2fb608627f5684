//! The keys that seal stored secrets, seen from the database: which key ids are in use and
//! where (`roster keys status`), the start-up check that every one of them is configured and
//! still opens what it sealed, and online rotation (`roster keys rotate`), which re-seals every
//! value under the newest key while servers keep reading and writing. Owns the key canaries.
//!
//! Never sees a key and keeps no plaintext: the ring opens and seals, plaintext stays inside
//! the vault's wiped buffers, and only key ids (public fingerprints), places and counts leave
//! this module — in reports, errors and audit events alike.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use roster_domain::OrgId;
use roster_store::Tx;
use roster_store::secrets::{
    KEY_CANARIES_SINCE_MIGRATION, KeyFilter, Page, RowKey, SealedColumn, SealedRow,
};
use roster_vault::{ExposeSecret, KeyId, Sealed};
use serde_json::json;

use crate::audit::{Actor, record};
use crate::{App, secrets};

/// Rows re-sealed per transaction: short transactions keep the server's own writes waiting
/// for milliseconds at most, and a stopped rotation loses at most one batch of work.
pub const DEFAULT_BATCH_SIZE: u32 = 100;

/// A batch that found the database busy (after the store's own lock wait) is tried this many
/// times in all before the rotation stops; running it again resumes.
const BUSY_ATTEMPTS: u32 = 3;

/// What a canary seals. Not a secret: that it opens under its key is the whole point.
const CANARY: &[u8] = b"roster key canary v1";

/// Where sealed values live, as operators read it: `connections.secret_sealed`, `key_canaries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    Column(SealedColumn),
    Canaries,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Column(c) => write!(f, "{}.{}", c.table(), c.column()),
            Self::Canaries => f.write_str("key_canaries"),
        }
    }
}

/// How many values in one place name one key id. `key_id` is `None` for values too short to
/// name any key (corrupt rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCount {
    pub place: Place,
    pub key_id: Option<KeyId>,
    pub count: u64,
}

/// Which keys seal what: the configured ring and the counts found in the database.
#[derive(Debug, Clone)]
pub struct KeyStatus {
    /// The configured key ids, newest (the one that seals) first.
    pub ring: Vec<KeyId>,
    /// Per place and key id; a canary counts one.
    pub counts: Vec<KeyCount>,
}

impl KeyStatus {
    /// The key new values are sealed with.
    pub fn primary(&self) -> Option<KeyId> {
        self.ring.first().copied()
    }

    /// Stored secrets (canaries aside) per key id.
    pub fn secrets_by_key(&self) -> BTreeMap<Option<KeyId>, u64> {
        let mut totals = BTreeMap::new();
        for c in self.counts.iter().filter(|c| c.place != Place::Canaries) {
            *totals.entry(c.key_id).or_default() += c.count;
        }
        totals
    }

    /// Stored secrets under any key but the newest: what a rotation has still to do.
    pub fn remaining(&self) -> u64 {
        self.secrets_by_key()
            .into_iter()
            .filter(|(id, _)| *id != self.primary())
            .map(|(_, n)| n)
            .sum()
    }

    /// Key ids in use (by a secret or a canary) that the ring does not hold, with where.
    pub fn missing(&self) -> Vec<MissingKey> {
        let mut missing: BTreeMap<KeyId, Vec<(Place, u64)>> = BTreeMap::new();
        for c in &self.counts {
            if let Some(id) = c.key_id.filter(|id| !self.ring.contains(id)) {
                missing.entry(id).or_default().push((c.place, c.count));
            }
        }
        missing
            .into_iter()
            .map(|(key_id, uses)| MissingKey { key_id, uses })
            .collect()
    }
}

/// A key id in use that the ring lacks, and where it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingKey {
    pub key_id: KeyId,
    pub uses: Vec<(Place, u64)>,
}

impl MissingKey {
    /// True when nothing but its canary names the key: no stored secret would be lost.
    pub fn only_canary(&self) -> bool {
        self.uses.iter().all(|(place, _)| *place == Place::Canaries)
    }
}

impl fmt::Display for MissingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {} is in use (", self.key_id)?;
        for (i, (place, n)) in self.uses.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{place}: {n}")?;
        }
        f.write_str(") but is not in the key ring")
    }
}

/// Why the keys cannot be used as configured, or why the database could not tell.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key ids that stored values name but the ring lacks: those values would not open.
    #[error("{}", join(.0))]
    Missing(Vec<MissingKey>),
    /// A value names a key of the ring but does not open with it: altered, or copied from
    /// another row.
    #[error(
        "a value in {place} sealed with key {key_id} does not open with that key: it was altered or belongs to another row"
    )]
    WontOpen { place: Place, key_id: KeyId },
    /// A stored value is not a sealed value of a format this binary knows.
    #[error("a value in {place} is not a sealed value of a known format")]
    Malformed { place: Place },
    #[error(transparent)]
    Store(#[from] roster_store::Error),
    #[error(transparent)]
    Operation(#[from] crate::Error),
}

fn join(missing: &[MissingKey]) -> String {
    missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl KeyError {
    /// True when the database was busy: nothing was written and trying again may succeed.
    const fn is_busy(&self) -> bool {
        matches!(
            self,
            Self::Store(roster_store::Error::Busy(_))
                | Self::Operation(crate::Error::Store(roster_store::Error::Busy(_)))
        )
    }
}

/// What the start-up check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    /// Every key id stored values and canaries name, all of them in the ring.
    pub in_use: Vec<KeyId>,
    /// Values opened: one per key id per place.
    pub opened: usize,
    /// Whether the newest key got its canary now.
    pub canary_added: bool,
}

/// One batch of a rotation, committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDone {
    pub column: SealedColumn,
    /// 1 for the column's first batch.
    pub number: u32,
    pub resealed: u64,
    /// Rows written by someone else between this batch's read and its write (left alone).
    pub changed_meanwhile: u64,
    /// Rows that could not be opened (see [`RotateReport::failures`]).
    pub failed: u64,
    /// Re-sealed so far in this run, every column.
    pub total_resealed: u64,
}

/// Why a value could not be re-sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureReason {
    /// It names a key the ring does not hold.
    KeyNotInRing,
    /// It names a key of the ring but does not open with it.
    WontOpen,
    /// It is not a sealed value of a known format.
    Malformed,
}

/// Values of one column under one key id that could not be re-sealed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub column: SealedColumn,
    pub key_id: Option<KeyId>,
    pub reason: FailureReason,
    pub count: u64,
}

/// What a rotation did and what is left.
#[derive(Debug, Clone)]
pub struct RotateReport {
    /// The key every value was re-sealed under.
    pub to: KeyId,
    pub resealed: u64,
    pub changed_meanwhile: u64,
    pub failures: Vec<Failure>,
    /// Canaries of keys nothing uses any more, removed so the key can leave the ring.
    pub canaries_retired: Vec<String>,
    /// The counts once the rotation ended.
    pub after: KeyStatus,
}

/// One batch's work before it is committed (a busy retry starts it again from nothing).
#[derive(Debug, Default)]
struct Batch {
    last: Option<RowKey>,
    resealed: u64,
    changed_meanwhile: u64,
    failures: Vec<(SealedColumn, Option<KeyId>, FailureReason)>,
}

impl App {
    /// Which key ids seal what, per place. Changes nothing.
    pub async fn key_status(&self) -> Result<KeyStatus, KeyError> {
        let mut tx = self.store.read().await?;
        let status = self.status_in(&mut tx, &SealedColumn::ALL, true).await?;
        tx.rollback().await?;
        Ok(status)
    }

    /// The start-up check: every key id that a stored value or a canary names must be in the
    /// ring, and one value per key id per place must open with it. Then the newest key gets
    /// its canary if it has none. Tables of migrations not applied yet are skipped.
    pub async fn check_keys(&self) -> Result<KeyCheck, KeyError> {
        let applied = self.store.migration_status().await?.applied;
        let columns: Vec<SealedColumn> = SealedColumn::ALL
            .into_iter()
            .filter(|c| applied.contains(&c.since_migration()))
            .collect();
        let canaries = applied.contains(&KEY_CANARIES_SINCE_MIGRATION);
        let ring = self.keys.ids();

        let mut tx = self.store.read().await?;
        let status = self.status_in(&mut tx, &columns, canaries).await?;
        // One value per place and key id: opened when the ring holds its key, else only
        // checked to be a sealed value, so a corrupt row is not taken for a missing key.
        let mut opened = 0;
        for count in &status.counts {
            let Place::Column(column) = count.place else {
                continue;
            };
            let Some(key_id) = count.key_id else {
                return Err(KeyError::Malformed { place: count.place });
            };
            let sample = tx
                .sealed_rows(Page::First(column), KeyFilter::Under(key_id.as_bytes()), 1)
                .await?;
            // None: the rows were deleted since they were counted; nothing to open.
            let Some(row) = sample.first() else {
                continue;
            };
            if ring.contains(&key_id) {
                self.open_row(row)?;
                opened += 1;
            } else if Sealed::from_bytes(&row.sealed).is_err() {
                return Err(KeyError::Malformed { place: count.place });
            }
        }
        let missing = status.missing();
        if !missing.is_empty() {
            return Err(KeyError::Missing(missing));
        }
        let mut canary_ids = BTreeSet::new();
        if canaries {
            for canary in tx.key_canaries().await? {
                let key_id = self.open_canary(&canary.key_id, &canary.sealed)?;
                canary_ids.insert(key_id);
                opened += 1;
            }
        }
        tx.rollback().await?;

        let primary = self.keys.primary_id();
        let canary_added = if canaries && !canary_ids.contains(&primary) {
            let mut tx = self.store.begin().await?;
            let added = self.add_canary(&mut tx).await?;
            tx.commit().await?;
            added
        } else {
            false
        };
        let mut in_use: BTreeSet<KeyId> = status.counts.iter().filter_map(|c| c.key_id).collect();
        if canary_added {
            in_use.insert(primary);
        }
        debug_assert!(in_use.iter().all(|id| ring.contains(id)));
        Ok(KeyCheck {
            in_use: in_use.into_iter().collect(),
            opened,
            canary_added,
        })
    }

    /// Re-seals every stored secret that is not under the newest key, `batch_size` rows per
    /// transaction, calling `progress` after each committed batch. Safe while servers run and
    /// against another rotation: each batch reads its rows inside its write transaction and
    /// replaces a value only if it is still the one read. Resumable: values already under the
    /// newest key are never read. A value that cannot be opened is counted and left as it is.
    /// Each batch records `keys.rotate` (counts only) in every organization it touched.
    /// Finally the newest key gets its canary and, when no secret is left under an older key,
    /// the older keys' canaries are retired.
    pub async fn rotate_keys(
        &self,
        batch_size: u32,
        mut progress: impl FnMut(&BatchDone) + Send,
    ) -> Result<RotateReport, KeyError> {
        let batch_size = batch_size.max(1);
        let mut resealed = 0;
        let mut changed_meanwhile = 0;
        let mut failures: BTreeMap<(SealedColumn, Option<KeyId>, FailureReason), u64> =
            BTreeMap::new();
        for column in SealedColumn::ALL {
            let mut cursor: Option<RowKey> = None;
            let mut number = 0;
            loop {
                let page = cursor.as_ref().map_or(Page::First(column), Page::After);
                let batch = self.rotate_batch_retrying(page, batch_size).await?;
                let Some(last) = batch.last else {
                    break;
                };
                number += 1;
                resealed += batch.resealed;
                changed_meanwhile += batch.changed_meanwhile;
                for failure in &batch.failures {
                    *failures.entry(*failure).or_default() += 1;
                }
                progress(&BatchDone {
                    column,
                    number,
                    resealed: batch.resealed,
                    changed_meanwhile: batch.changed_meanwhile,
                    failed: batch.failures.len() as u64,
                    total_resealed: resealed,
                });
                cursor = Some(last);
            }
        }

        let primary = self.keys.primary_id();
        let mut tx = self.store.begin().await?;
        self.add_canary(&mut tx).await?;
        let mut after = self.status_in(&mut tx, &SealedColumn::ALL, true).await?;
        let canaries_retired = if after.remaining() == 0 {
            tx.retire_key_canaries_except(&primary.to_string()).await?
        } else {
            Vec::new()
        };
        if !canaries_retired.is_empty() {
            after = self.status_in(&mut tx, &SealedColumn::ALL, true).await?;
        }
        tx.commit().await?;
        Ok(RotateReport {
            to: primary,
            resealed,
            changed_meanwhile,
            failures: failures
                .into_iter()
                .map(|((column, key_id, reason), count)| Failure {
                    column,
                    key_id,
                    reason,
                    count,
                })
                .collect(),
            canaries_retired,
            after,
        })
    }

    async fn rotate_batch_retrying(&self, page: Page<'_>, limit: u32) -> Result<Batch, KeyError> {
        let mut attempt = 1;
        loop {
            match self.rotate_batch(page, limit).await {
                Err(e) if e.is_busy() && attempt < BUSY_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// One batch in one write transaction: read up to `limit` rows not under the newest key,
    /// re-seal each, and replace each only if it still holds the bytes read.
    async fn rotate_batch(&self, page: Page<'_>, limit: u32) -> Result<Batch, KeyError> {
        let now = self.clock.now();
        let primary = self.keys.primary_id();
        let column = page.column();
        let mut tx = self.store.begin().await?;
        let rows = tx
            .sealed_rows(page, KeyFilter::NotUnder(primary.as_bytes()), limit)
            .await?;
        let mut batch = Batch {
            last: rows.last().map(|r| r.key.clone()),
            ..Batch::default()
        };
        let mut per_org: BTreeMap<OrgId, u64> = BTreeMap::new();
        for row in &rows {
            match self.reseal(row) {
                Ok(fresh) => {
                    if tx
                        .replace_sealed(&row.key, &row.sealed, fresh.as_bytes())
                        .await?
                    {
                        batch.resealed += 1;
                        if let Some(org) = row.key.org() {
                            *per_org.entry(org).or_default() += 1;
                        }
                    } else {
                        batch.changed_meanwhile += 1;
                    }
                }
                Err((key_id, reason)) => batch.failures.push((column, key_id, reason)),
            }
        }
        // A sign-in in flight belongs to no organization, so its re-sealing has no audit log
        // to go to; every other row's organization records what was done to it.
        for (org, count) in per_org {
            record(
                &mut tx.org(org),
                now,
                Actor::SYSTEM,
                "keys.rotate",
                ("organization", Some(org.to_string())),
                json!({ "column": Place::Column(column).to_string(), "resealed": count }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(batch)
    }

    /// The row's value sealed again under the newest key, or why it cannot be.
    fn reseal(&self, row: &SealedRow) -> Result<Sealed, (Option<KeyId>, FailureReason)> {
        let sealed =
            Sealed::from_bytes(&row.sealed).map_err(|_| (None, FailureReason::Malformed))?;
        let key_id = sealed.key_id();
        self.keys
            .rewrap(&sealed, &secrets::of_row(&row.key))
            .map_err(|e| {
                let reason = match e {
                    roster_vault::Error::UnknownKey(_) => FailureReason::KeyNotInRing,
                    roster_vault::Error::Malformed => FailureReason::Malformed,
                    _ => FailureReason::WontOpen,
                };
                (Some(key_id), reason)
            })
    }

    /// Opens one stored value and drops the plaintext at once (it is wiped on drop).
    pub(crate) fn open_row(&self, row: &SealedRow) -> Result<(), KeyError> {
        let place = Place::Column(row.key.column());
        let sealed = Sealed::from_bytes(&row.sealed).map_err(|_| KeyError::Malformed { place })?;
        self.keys
            .decrypt(&sealed, &secrets::of_row(&row.key))
            .map(drop)
            .map_err(|_| KeyError::WontOpen {
                place,
                key_id: sealed.key_id(),
            })
    }

    /// Opens a canary; it must name the key its row says and hold the canary value.
    pub(crate) fn open_canary(&self, row_key_id: &str, bytes: &[u8]) -> Result<KeyId, KeyError> {
        let place = Place::Canaries;
        let sealed = Sealed::from_bytes(bytes).map_err(|_| KeyError::Malformed { place })?;
        let key_id = sealed.key_id();
        if row_key_id.parse::<KeyId>() != Ok(key_id) {
            return Err(KeyError::Malformed { place });
        }
        let plaintext = self
            .keys
            .decrypt(&sealed, &secrets::key_canary(key_id))
            .map_err(|_| KeyError::WontOpen { place, key_id })?;
        if plaintext.expose_secret() != CANARY {
            return Err(KeyError::WontOpen { place, key_id });
        }
        Ok(key_id)
    }

    /// Stores the newest key's canary unless it has one; true when stored now.
    async fn add_canary(&self, tx: &mut Tx) -> Result<bool, KeyError> {
        let key_id = self.keys.primary_id();
        let sealed = self.keys.encrypt(CANARY, &secrets::key_canary(key_id));
        Ok(tx
            .add_key_canary(&key_id.to_string(), sealed.as_bytes(), self.clock.now())
            .await?)
    }

    /// Counts per place and key id, in `tx`.
    pub(crate) async fn status_in(
        &self,
        tx: &mut Tx,
        columns: &[SealedColumn],
        canaries: bool,
    ) -> Result<KeyStatus, KeyError> {
        let mut counts = Vec::new();
        for &column in columns {
            for c in tx.count_sealed_by_key(column).await? {
                counts.push(KeyCount {
                    place: Place::Column(column),
                    key_id: KeyId::try_from(c.key_id.as_slice()).ok(),
                    count: c.count,
                });
            }
        }
        if canaries {
            for canary in tx.key_canaries().await? {
                counts.push(KeyCount {
                    place: Place::Canaries,
                    key_id: canary.key_id.parse().ok(),
                    count: 1,
                });
            }
        }
        Ok(KeyStatus {
            ring: self.keys.ids(),
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use roster_vault::SecretKey;

    use super::*;

    fn id() -> KeyId {
        SecretKey::generate().id()
    }

    #[test]
    fn status_counts_what_is_left_and_what_is_missing() {
        let (new, old, lost) = (id(), id(), id());
        let column = |c, key_id, count| KeyCount {
            place: Place::Column(c),
            key_id,
            count,
        };
        let status = KeyStatus {
            ring: vec![new, old],
            counts: vec![
                column(SealedColumn::Connections, Some(new), 5),
                column(SealedColumn::Connections, Some(old), 2),
                column(SealedColumn::People, Some(old), 3),
                column(SealedColumn::People, None, 1),
                column(SealedColumn::OauthStates, Some(lost), 4),
                KeyCount {
                    place: Place::Canaries,
                    key_id: Some(new),
                    count: 1,
                },
            ],
        };
        assert_eq!(status.primary(), Some(new));
        assert_eq!(
            status.remaining(),
            2 + 3 + 1 + 4,
            "canaries are not secrets"
        );
        assert_eq!(status.secrets_by_key()[&Some(old)], 5);
        let missing = status.missing();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].key_id, lost);
        assert!(!missing[0].only_canary());
        assert_eq!(
            missing[0].to_string(),
            format!(
                "key {lost} is in use (oauth_states.verifier_sealed: 4) but is not in the key ring"
            )
        );
    }

    #[test]
    fn a_key_named_only_by_its_canary_says_so() {
        let (new, gone) = (id(), id());
        let status = KeyStatus {
            ring: vec![new],
            counts: vec![KeyCount {
                place: Place::Canaries,
                key_id: Some(gone),
                count: 1,
            }],
        };
        assert_eq!(status.remaining(), 0);
        let missing = status.missing();
        assert_eq!(missing.len(), 1);
        assert!(missing[0].only_canary());
    }
}
