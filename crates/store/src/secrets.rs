//! Every sealed column seen from key rotation: counting its values by the key that sealed
//! them, reading a batch of values that are (or are not) under one key, and replacing one
//! value only while it is still the value read (compare-and-swap); plus the key canaries.
//!
//! Owns no cryptography: a sealed value is bytes here, and its key id is the 8 bytes at
//! `[1..9]` (the vault's layout, `crates/vault/src/sealed.rs`), compared in SQL as
//! `substr(col, 2, 8)`, which SQLite (BLOB) and PostgreSQL (BYTEA) both spell that way.
//! The reads run across organizations on purpose — a rotation re-seals every row — and each
//! write still names its row's organization.

use chrono::{DateTime, Utc};
use roster_domain::{AccountId, OrgId, PersonId, Provider};
use uuid::Uuid;

use crate::error::corrupt;
use crate::{Result, Tx};

/// A column that holds sealed values. The application's `secrets::SEALED_COLUMNS` names the
/// same five (a test there keeps the two lists equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealedColumn {
    /// `connections.secret_sealed`, keyed by organization and provider.
    Connections,
    /// `oauth_states.verifier_sealed`, keyed by organization and state hash.
    OauthStates,
    /// `people.financial_sealed` (nullable), keyed by organization and person.
    People,
    /// `integration_accounts.tokens_sealed`, keyed by organization and account.
    IntegrationAccounts,
    /// `sign_in_requests.verifier_sealed`, keyed by state hash (no organization yet).
    SignInRequests,
}

impl SealedColumn {
    pub const ALL: [Self; 5] = [
        Self::Connections,
        Self::OauthStates,
        Self::People,
        Self::IntegrationAccounts,
        Self::SignInRequests,
    ];

    pub const fn table(self) -> &'static str {
        match self {
            Self::Connections => "connections",
            Self::OauthStates => "oauth_states",
            Self::People => "people",
            Self::IntegrationAccounts => "integration_accounts",
            Self::SignInRequests => "sign_in_requests",
        }
    }

    pub const fn column(self) -> &'static str {
        match self {
            Self::Connections => "secret_sealed",
            Self::OauthStates | Self::SignInRequests => "verifier_sealed",
            Self::People => "financial_sealed",
            Self::IntegrationAccounts => "tokens_sealed",
        }
    }

    /// The migration that creates the table, so a check at start-up with migrations still
    /// pending looks only at tables that exist.
    pub const fn since_migration(self) -> i64 {
        match self {
            Self::SignInRequests => 2,
            _ => 1,
        }
    }
}

/// The migration that creates `key_canaries`.
pub const KEY_CANARIES_SINCE_MIGRATION: i64 = 4;

/// Which row of which sealed column: enough to build its vault context and to update it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowKey {
    Connection { org: OrgId, provider: Provider },
    OauthState { org: OrgId, state_hash: String },
    Person { org: OrgId, person: PersonId },
    IntegrationAccount { org: OrgId, account: AccountId },
    SignIn { state_hash: String },
}

impl RowKey {
    pub const fn column(&self) -> SealedColumn {
        match self {
            Self::Connection { .. } => SealedColumn::Connections,
            Self::OauthState { .. } => SealedColumn::OauthStates,
            Self::Person { .. } => SealedColumn::People,
            Self::IntegrationAccount { .. } => SealedColumn::IntegrationAccounts,
            Self::SignIn { .. } => SealedColumn::SignInRequests,
        }
    }

    /// The organization the row belongs to; none for a sign-in in flight.
    pub const fn org(&self) -> Option<OrgId> {
        match self {
            Self::Connection { org, .. }
            | Self::OauthState { org, .. }
            | Self::Person { org, .. }
            | Self::IntegrationAccount { org, .. } => Some(*org),
            Self::SignIn { .. } => None,
        }
    }
}

/// One stored sealed value and where it lives.
#[derive(Debug, Clone)]
pub struct SealedRow {
    pub key: RowKey,
    pub sealed: Vec<u8>,
}

/// How many values of a column name one key id. `key_id` is the raw bytes at `[1..9]`:
/// shorter when a stored value is too short to be a sealed value at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdCount {
    pub key_id: Vec<u8>,
    pub count: u64,
}

/// Which values of a column a batch reads, by the key id bytes they carry.
#[derive(Debug, Clone, Copy)]
pub enum KeyFilter<'a> {
    Under(&'a [u8]),
    NotUnder(&'a [u8]),
}

/// Where a batch starts: at the beginning of a column, or after a row of it (keyset paging in
/// row-key order, so one pass visits each row once even while rows are written).
#[derive(Debug, Clone, Copy)]
pub enum Page<'a> {
    First(SealedColumn),
    After(&'a RowKey),
}

impl Page<'_> {
    pub const fn column(&self) -> SealedColumn {
        match self {
            Self::First(column) => *column,
            Self::After(key) => key.column(),
        }
    }
}

/// A canary: a fixed value sealed under the key `key_id` (16 hex digits) names.
#[derive(Debug, Clone)]
pub struct KeyCanary {
    pub key_id: String,
    pub sealed: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    key_id: Vec<u8>,
    n: i64,
}

/// A row keyed by organization and a text key (provider, state hash).
#[derive(sqlx::FromRow)]
struct OrgNameRow {
    org_id: Uuid,
    name: String,
    sealed: Vec<u8>,
}

/// A row keyed by organization and a UUID (person, account).
#[derive(sqlx::FromRow)]
struct OrgIdRow {
    org_id: Uuid,
    id: Uuid,
    sealed: Vec<u8>,
}

/// A row keyed by a text key alone (a sign-in's state hash).
#[derive(sqlx::FromRow)]
struct NameRow {
    name: String,
    sealed: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct CanaryRow {
    key_id: String,
    sealed: Vec<u8>,
}

impl Tx {
    /// How many values of `column` each key id seals, by key id bytes. NULLs are not values.
    pub async fn count_sealed_by_key(&mut self, column: SealedColumn) -> Result<Vec<KeyIdCount>> {
        let (table, col) = (column.table(), column.column());
        let sql = format!(
            "SELECT substr({col}, 2, 8) AS key_id, COUNT(*) AS n FROM {table}
             WHERE {col} IS NOT NULL GROUP BY substr({col}, 2, 8) ORDER BY key_id"
        );
        Ok(rows!(self, fetch_all, CountRow, &sql)?
            .into_iter()
            .map(|r| KeyIdCount {
                key_id: r.key_id,
                count: r.n.max(0) as u64,
            })
            .collect())
    }

    /// Up to `limit` values of one column chosen by `filter`, in row-key order from `page`.
    pub async fn sealed_rows(
        &mut self,
        page: Page<'_>,
        filter: KeyFilter<'_>,
        limit: u32,
    ) -> Result<Vec<SealedRow>> {
        let (op, key_id) = match filter {
            KeyFilter::Under(id) => ("=", id),
            KeyFilter::NotUnder(id) => ("<>", id),
        };
        let limit = i64::from(limit);
        let column = page.column();
        let (table, col) = (column.table(), column.column());
        // The key columns of each table, with the cursor's binds: `$2 IS NULL` on the first page.
        match column {
            SealedColumn::Connections | SealedColumn::OauthStates => {
                let name = if column == SealedColumn::Connections {
                    "provider"
                } else {
                    "state_hash"
                };
                let (org, after) = match page {
                    Page::After(RowKey::Connection { org, provider }) => {
                        (Some(org.as_uuid()), Some(provider.as_str().to_owned()))
                    }
                    Page::After(RowKey::OauthState { org, state_hash }) => {
                        (Some(org.as_uuid()), Some(state_hash.clone()))
                    }
                    _ => (None, None),
                };
                let sql = format!(
                    "SELECT org_id, {name} AS name, {col} AS sealed FROM {table}
                     WHERE {col} IS NOT NULL AND substr({col}, 2, 8) {op} $1
                       AND ($2 IS NULL OR (org_id, {name}) > ($2, $3))
                     ORDER BY org_id, {name} LIMIT $4"
                );
                rows!(self, fetch_all, OrgNameRow, &sql, key_id, org, after, limit)?
                    .into_iter()
                    .map(|r| {
                        let org = OrgId::from_uuid(r.org_id);
                        let key = if column == SealedColumn::Connections {
                            RowKey::Connection {
                                org,
                                provider: r
                                    .name
                                    .parse()
                                    .map_err(|e| corrupt("connection provider", e))?,
                            }
                        } else {
                            RowKey::OauthState {
                                org,
                                state_hash: r.name,
                            }
                        };
                        Ok(SealedRow {
                            key,
                            sealed: r.sealed,
                        })
                    })
                    .collect()
            }
            SealedColumn::People | SealedColumn::IntegrationAccounts => {
                let id = if column == SealedColumn::People {
                    "person_id"
                } else {
                    "account_id"
                };
                let (org, after) = match page {
                    Page::After(RowKey::Person { org, person }) => {
                        (Some(org.as_uuid()), Some(person.as_uuid()))
                    }
                    Page::After(RowKey::IntegrationAccount { org, account }) => {
                        (Some(org.as_uuid()), Some(account.as_uuid()))
                    }
                    _ => (None, None),
                };
                let sql = format!(
                    "SELECT org_id, {id} AS id, {col} AS sealed FROM {table}
                     WHERE {col} IS NOT NULL AND substr({col}, 2, 8) {op} $1
                       AND ($2 IS NULL OR (org_id, {id}) > ($2, $3))
                     ORDER BY org_id, {id} LIMIT $4"
                );
                Ok(
                    rows!(self, fetch_all, OrgIdRow, &sql, key_id, org, after, limit)?
                        .into_iter()
                        .map(|r| {
                            let org = OrgId::from_uuid(r.org_id);
                            let key = if column == SealedColumn::People {
                                RowKey::Person {
                                    org,
                                    person: PersonId::from_uuid(r.id),
                                }
                            } else {
                                RowKey::IntegrationAccount {
                                    org,
                                    account: AccountId::from_uuid(r.id),
                                }
                            };
                            SealedRow {
                                key,
                                sealed: r.sealed,
                            }
                        })
                        .collect(),
                )
            }
            SealedColumn::SignInRequests => {
                let after = match page {
                    Page::After(RowKey::SignIn { state_hash }) => Some(state_hash.clone()),
                    _ => None,
                };
                let sql = format!(
                    "SELECT state_hash AS name, {col} AS sealed FROM {table}
                     WHERE {col} IS NOT NULL AND substr({col}, 2, 8) {op} $1
                       AND ($2 IS NULL OR state_hash > $2)
                     ORDER BY state_hash LIMIT $3"
                );
                Ok(rows!(self, fetch_all, NameRow, &sql, key_id, after, limit)?
                    .into_iter()
                    .map(|r| SealedRow {
                        key: RowKey::SignIn { state_hash: r.name },
                        sealed: r.sealed,
                    })
                    .collect())
            }
        }
    }

    /// Replaces the sealed value of one row with `new`, only if it still holds exactly `old`:
    /// a value saved since it was read (a fresh credential) is never overwritten. True when
    /// the row was replaced.
    pub async fn replace_sealed(&mut self, key: &RowKey, old: &[u8], new: &[u8]) -> Result<bool> {
        let column = key.column();
        let (table, col) = (column.table(), column.column());
        let changed = match key {
            RowKey::Connection { org, provider } => execute!(
                self,
                &format!(
                    "UPDATE {table} SET {col} = $1 WHERE org_id = $2 AND provider = $3 AND {col} = $4"
                ),
                new,
                org.as_uuid(),
                provider.as_str(),
                old
            )?,
            RowKey::OauthState { org, state_hash } => execute!(
                self,
                &format!(
                    "UPDATE {table} SET {col} = $1 WHERE org_id = $2 AND state_hash = $3 AND {col} = $4"
                ),
                new,
                org.as_uuid(),
                state_hash.as_str(),
                old
            )?,
            RowKey::Person { org, person } => execute!(
                self,
                &format!(
                    "UPDATE {table} SET {col} = $1 WHERE org_id = $2 AND person_id = $3 AND {col} = $4"
                ),
                new,
                org.as_uuid(),
                person.as_uuid(),
                old
            )?,
            RowKey::IntegrationAccount { org, account } => execute!(
                self,
                &format!(
                    "UPDATE {table} SET {col} = $1 WHERE org_id = $2 AND account_id = $3 AND {col} = $4"
                ),
                new,
                org.as_uuid(),
                account.as_uuid(),
                old
            )?,
            RowKey::SignIn { state_hash } => execute!(
                self,
                &format!("UPDATE {table} SET {col} = $1 WHERE state_hash = $2 AND {col} = $3"),
                new,
                state_hash.as_str(),
                old
            )?,
        };
        Ok(changed == 1)
    }

    /// Every key canary, by key id.
    pub async fn key_canaries(&mut self) -> Result<Vec<KeyCanary>> {
        Ok(rows!(
            self,
            fetch_all,
            CanaryRow,
            "SELECT key_id, sealed FROM key_canaries ORDER BY key_id"
        )?
        .into_iter()
        .map(|r| KeyCanary {
            key_id: r.key_id,
            sealed: r.sealed,
        })
        .collect())
    }

    /// Stores the canary of `key_id` unless one is there already (two instances starting at
    /// once both try); true when this call stored it.
    pub async fn add_key_canary(
        &mut self,
        key_id: &str,
        sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let added = execute!(
            self,
            "INSERT INTO key_canaries (key_id, sealed, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (key_id) DO NOTHING",
            key_id,
            sealed,
            now
        )?;
        Ok(added == 1)
    }

    /// Removes every canary but `keep`'s; answers the key ids removed.
    pub async fn retire_key_canaries_except(&mut self, keep: &str) -> Result<Vec<String>> {
        Ok(scalar!(
            self,
            fetch_all,
            String,
            "DELETE FROM key_canaries WHERE key_id <> $1 RETURNING key_id",
            keep
        )?)
    }
}
