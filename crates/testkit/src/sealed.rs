//! Sealed values written straight to the database, for the key-rotation tests: a row in any
//! of the five sealed columns, holding whatever bytes the test sealed (or garbled). The
//! operations that will save these rows (connections, OAuth, sign-in) are built elsewhere;
//! until then, and for the rows no operation may write (a tampered value), tests write them
//! here, with SQL of their own like `db.rs`, on either store.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use roster_domain::{AccountId, OrgId, PersonId, Provider, UserId};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use crate::db::Result;

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A pool of its own on the test's database (as another process would have).
#[derive(Debug, Clone)]
pub struct SealedTables {
    pool: Pool,
}

/// Runs one statement with binds on whichever pool; evaluates to the rows it changed.
macro_rules! execute {
    ($self:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match &$self.pool {
            Pool::Sqlite(p) => sqlx::query($sql)$(.bind($arg))*.execute(p).await.map(|r| r.rows_affected()),
            Pool::Postgres(p) => sqlx::query($sql)$(.bind($arg))*.execute(p).await.map(|r| r.rows_affected()),
        }
    };
}

impl SealedTables {
    /// Connects to the database at `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = if url.starts_with("postgres") {
            Pool::Postgres(PgPoolOptions::new().max_connections(8).connect(url).await?)
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .connect_with(opts)
                    .await?,
            )
        };
        Ok(Self { pool })
    }

    /// Saves an organization's credential for a provider, replacing any earlier one, as the
    /// connections API will.
    pub async fn put_connection(
        &self,
        org: OrgId,
        provider: Provider,
        sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self,
            "INSERT INTO connections (org_id, provider, connected_at, status, secret_sealed, settings, updated_at)
             VALUES ($1, $2, $3, 'ok', $4, '{}', $3)
             ON CONFLICT (org_id, provider) DO UPDATE
                SET secret_sealed = excluded.secret_sealed, updated_at = excluded.updated_at",
            org.as_uuid(),
            provider.as_str(),
            now,
            sealed
        )?;
        Ok(())
    }

    /// The stored credential of an organization for a provider.
    pub async fn connection(&self, org: OrgId, provider: Provider) -> Result<Option<Vec<u8>>> {
        let sql = "SELECT secret_sealed FROM connections WHERE org_id = $1 AND provider = $2";
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_scalar(sql)
                    .bind(org.as_uuid())
                    .bind(provider.as_str())
                    .fetch_optional(p)
                    .await
            }
            Pool::Postgres(p) => {
                sqlx::query_scalar(sql)
                    .bind(org.as_uuid())
                    .bind(provider.as_str())
                    .fetch_optional(p)
                    .await
            }
        }
    }

    /// Sets a person's sealed financial section.
    pub async fn put_person_financial(
        &self,
        org: OrgId,
        person: PersonId,
        sealed: &[u8],
    ) -> Result<()> {
        execute!(
            self,
            "UPDATE people SET financial_sealed = $1 WHERE org_id = $2 AND person_id = $3",
            sealed,
            org.as_uuid(),
            person.as_uuid()
        )?;
        Ok(())
    }

    /// Adds an OAuth authorization in flight with a sealed PKCE verifier.
    pub async fn put_oauth_state(
        &self,
        org: OrgId,
        user: UserId,
        state_hash: &str,
        sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self,
            "INSERT INTO oauth_states (state_hash, org_id, user_id, purpose, verifier_sealed, extra, created_at, expires_at)
             VALUES ($1, $2, $3, 'connect', $4, '{}', $5, $5)",
            state_hash,
            org.as_uuid(),
            user.as_uuid(),
            sealed,
            now
        )?;
        Ok(())
    }

    /// Adds a user's integration account with sealed tokens.
    pub async fn put_integration_account(
        &self,
        org: OrgId,
        account: AccountId,
        user: UserId,
        sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self,
            "INSERT INTO integration_accounts (org_id, account_id, user_id, integration_slug, account_identifier, tokens_sealed, status, created_at, updated_at)
             VALUES ($1, $2, $3, 'github', $4, $5, 'ok', $6, $6)",
            org.as_uuid(),
            account.as_uuid(),
            user.as_uuid(),
            account.to_string(),
            sealed,
            now
        )?;
        Ok(())
    }

    /// Adds a web sign-in in flight (`state_hash` is 64 characters) with a sealed verifier.
    pub async fn put_sign_in(
        &self,
        state_hash: &str,
        sealed: &[u8],
        now: DateTime<Utc>,
    ) -> Result<()> {
        execute!(
            self,
            "INSERT INTO sign_in_requests (state_hash, nonce_hash, verifier_sealed, return_to, created_at, expires_at)
             VALUES ($1, $1, $2, '/', $3, $3)",
            state_hash,
            sealed,
            now
        )?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
