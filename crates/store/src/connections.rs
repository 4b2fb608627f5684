//! An organization's connections (one credential per provider, sealed by the vault before it
//! gets here: the store sees only opaque bytes) and the OAuth authorizations in flight.
//! Every query carries `org_id`. A token rotation replaces the sealed bytes only if they are
//! still the ones the caller read (compare-and-swap), so two instances refreshing at once
//! can never store a token the provider has already replaced.

use chrono::{DateTime, Utc};
use roster_domain::{ConnectionStatus, Provider, UserId};
use uuid::Uuid;

use crate::error::corrupt;
use crate::{Error, OrgTx, Result, Store};

/// A stored connection. `secret` is the vault's sealed bytes; `settings` the non-secret
/// configuration (tenant, channel, calendar, environment, webhook URL) as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRecord {
    pub provider: Provider,
    pub org_name: Option<String>,
    pub connected_by: Option<UserId>,
    pub connected_at: DateTime<Utc>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub status: ConnectionStatus,
    /// The last failure, in plain words (never a secret).
    pub status_detail: Option<String>,
    pub secret: Vec<u8>,
    pub settings: serde_json::Value,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    provider: String,
    org_name: Option<String>,
    connected_by: Option<Uuid>,
    connected_at: DateTime<Utc>,
    token_expires_at: Option<DateTime<Utc>>,
    status: String,
    status_detail: Option<String>,
    secret_sealed: Vec<u8>,
    settings: String,
    updated_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl TryFrom<ConnectionRow> for ConnectionRecord {
    type Error = Error;
    fn try_from(r: ConnectionRow) -> Result<Self> {
        Ok(Self {
            provider: r
                .provider
                .parse()
                .map_err(|e| corrupt("connection provider", e))?,
            org_name: r.org_name,
            connected_by: r.connected_by.map(UserId::from_uuid),
            connected_at: r.connected_at,
            token_expires_at: r.token_expires_at,
            status: r
                .status
                .parse()
                .map_err(|e| corrupt("connection status", e))?,
            status_detail: r.status_detail,
            secret: r.secret_sealed,
            settings: serde_json::from_str(&r.settings)
                .map_err(|e| corrupt("connection settings", e))?,
            updated_at: r.updated_at,
            last_used_at: r.last_used_at,
        })
    }
}

const COLUMNS: &str = "provider, org_name, connected_by, connected_at, token_expires_at, status,
    status_detail, secret_sealed, settings, updated_at, last_used_at";

/// An OAuth authorization in flight: who asked, in which organization, for what, and its
/// sealed PKCE verifier. Found by the hash of its `state`; usable once, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    pub state_hash: String,
    pub user: UserId,
    pub purpose: String,
    pub verifier: Vec<u8>,
    pub extra: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct OAuthStateRow {
    state_hash: String,
    user_id: Uuid,
    purpose: String,
    verifier_sealed: Vec<u8>,
    extra: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl OrgTx<'_> {
    /// Every connection of the organization, by provider name.
    pub async fn list_connections(&mut self) -> Result<Vec<ConnectionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE org_id = $1 ORDER BY provider");
        rows!(self.tx, fetch_all, ConnectionRow, &sql, self.org.as_uuid())?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    pub async fn get_connection(&mut self, provider: Provider) -> Result<Option<ConnectionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND provider = $2");
        rows!(
            self.tx,
            fetch_optional,
            ConnectionRow,
            &sql,
            self.org.as_uuid(),
            provider.as_str()
        )?
        .map(TryInto::try_into)
        .transpose()
    }

    /// Inserts or replaces the organization's connection to `c.provider`.
    pub async fn save_connection(&mut self, c: &ConnectionRecord) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO connections (org_id, provider, org_name, connected_by, connected_at,
                token_expires_at, status, status_detail, secret_sealed, settings, updated_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (org_id, provider) DO UPDATE SET org_name = excluded.org_name,
                connected_by = excluded.connected_by, connected_at = excluded.connected_at,
                token_expires_at = excluded.token_expires_at, status = excluded.status,
                status_detail = excluded.status_detail, secret_sealed = excluded.secret_sealed,
                settings = excluded.settings, updated_at = excluded.updated_at,
                last_used_at = excluded.last_used_at",
            self.org.as_uuid(),
            c.provider.as_str(),
            c.org_name.as_deref(),
            c.connected_by.map(|u| u.as_uuid()),
            c.connected_at,
            c.token_expires_at,
            c.status.as_str(),
            c.status_detail.as_deref(),
            &c.secret,
            c.settings.to_string(),
            c.updated_at,
            c.last_used_at
        )?;
        Ok(())
    }

    /// Removes the connection; `false` when there was none.
    pub async fn delete_connection(&mut self, provider: Provider) -> Result<bool> {
        let n = execute!(
            self.tx,
            "DELETE FROM connections WHERE org_id = $1 AND provider = $2",
            self.org.as_uuid(),
            provider.as_str()
        )?;
        Ok(n > 0)
    }

    /// Replaces the sealed secret (a refreshed token) only if it still holds `expected`:
    /// `false` when another writer replaced it first.
    pub async fn replace_connection_secret(
        &mut self,
        provider: Provider,
        expected: &[u8],
        secret: &[u8],
        token_expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let n = execute!(
            self.tx,
            "UPDATE connections SET secret_sealed = $4, token_expires_at = $5, status = 'ok',
                status_detail = NULL, updated_at = $6, last_used_at = $6
             WHERE org_id = $1 AND provider = $2 AND secret_sealed = $3",
            self.org.as_uuid(),
            provider.as_str(),
            expected,
            secret,
            token_expires_at,
            now
        )?;
        Ok(n > 0)
    }

    /// Records the connection's health after a use: `ok` moves `last_used_at`, anything else
    /// keeps the detail (plain words, no secret) for the connections list.
    pub async fn set_connection_status(
        &mut self,
        provider: Provider,
        status: ConnectionStatus,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self.tx,
            "UPDATE connections SET status = $3, status_detail = $4, updated_at = $5,
                last_used_at = CASE WHEN $3 = 'ok' THEN $5 ELSE last_used_at END
             WHERE org_id = $1 AND provider = $2",
            self.org.as_uuid(),
            provider.as_str(),
            status.as_str(),
            detail,
            now
        )?;
        Ok(())
    }

    /// Forgets every person's id at `provider` (a disconnect that unlinks people).
    pub async fn clear_external_ids(&mut self, provider: &str) -> Result<u64> {
        Ok(execute!(
            self.tx,
            "DELETE FROM external_ids WHERE org_id = $1 AND provider = $2",
            self.org.as_uuid(),
            provider
        )?)
    }

    pub async fn create_oauth_state(&mut self, s: &OAuthState) -> Result<()> {
        execute!(
            self.tx,
            "INSERT INTO oauth_states (state_hash, org_id, user_id, purpose, verifier_sealed, extra,
                created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &s.state_hash,
            self.org.as_uuid(),
            s.user.as_uuid(),
            &s.purpose,
            &s.verifier,
            &s.extra,
            s.created_at,
            s.expires_at
        )?;
        Ok(())
    }

    /// Consumes the authorization `state_hash` names, if it is this organization's, for
    /// `purpose`, asked by `user`, unexpired and unused; marks it used in the same statement,
    /// so a replayed `state` (even at the same moment) finds nothing.
    pub async fn take_oauth_state(
        &mut self,
        state_hash: &str,
        purpose: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<OAuthState>> {
        let row = rows!(
            self.tx,
            fetch_optional,
            OAuthStateRow,
            "UPDATE oauth_states SET consumed_at = $5
             WHERE state_hash = $1 AND org_id = $2 AND purpose = $3 AND user_id = $4
               AND consumed_at IS NULL AND expires_at > $5
             RETURNING state_hash, user_id, purpose, verifier_sealed, extra, created_at, expires_at",
            state_hash,
            self.org.as_uuid(),
            purpose,
            user.as_uuid(),
            now
        )?;
        Ok(row.map(|r| OAuthState {
            state_hash: r.state_hash,
            user: UserId::from_uuid(r.user_id),
            purpose: r.purpose,
            verifier: r.verifier_sealed,
            extra: r.extra,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }

    /// Deletes authorizations that expired before `before` (housekeeping on each new one).
    pub async fn purge_oauth_states(&mut self, before: DateTime<Utc>) -> Result<u64> {
        Ok(execute!(
            self.tx,
            "DELETE FROM oauth_states WHERE org_id = $1 AND expires_at < $2",
            self.org.as_uuid(),
            before
        )?)
    }
}

impl Store {
    /// One connection, read outside any transaction (the token path reads it on every call).
    pub async fn read_connection(
        &self,
        org: roster_domain::OrgId,
        provider: Provider,
    ) -> Result<Option<ConnectionRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM connections WHERE org_id = $1 AND provider = $2");
        pool_rows!(
            self,
            fetch_optional,
            ConnectionRow,
            &sql,
            org.as_uuid(),
            provider.as_str()
        )?
        .map(TryInto::try_into)
        .transpose()
    }
}
