#![doc = include_str!("../README.md")]

#[macro_use]
mod db;
pub mod audit;
pub mod auth;
mod batch;
pub mod changes;
pub mod connections;
pub mod doctor;
mod error;
pub mod google_sync;
pub mod leases;
pub mod links;
pub mod migrate;
pub mod orgs;
pub mod people;
pub mod people_reads;
pub mod people_sync;
pub mod permissions;
pub mod secrets;
pub mod snapshot;
pub mod squads;
pub mod sync_runs;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use roster_domain::OrgId;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use error::{Error, Result};

/// Which database a [`Store`] talks to. The SQL is the same; this names the few places
/// where the dialects differ (see `db.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection pool on SQLite or PostgreSQL. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Tells whether anything a caller depends on changed (`changes.rs`).
    changes: Arc<changes::Changes>,
}

/// How a [`Store`] connects.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// How long a write waits for a lock another writer holds (SQLite's busy timeout,
    /// PostgreSQL's `lock_timeout`) before it gives up with [`Error::Busy`], changing nothing.
    pub lock_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(10),
        }
    }
}

impl Store {
    /// Connects to `sqlite://PATH` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// [`Store::connect`] with options.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        let (pool, changes) = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("invalid SQLite URL: {e}")))?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(options.lock_timeout);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts.clone())
                .await?;
            (Pool::Sqlite(pool), changes::Changes::sqlite(&opts).await)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // Without a lock timeout a write waits for a row lock forever; with one it answers
            // `busy` like SQLite does, and the caller may retry.
            let lock_timeout = format!("{}ms", options.lock_timeout.as_millis());
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Config(format!("invalid PostgreSQL URL: {e}")))?
                .options([("lock_timeout", lock_timeout.as_str())]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            let changes = changes::Changes::postgres(&pool);
            (Pool::Postgres(pool), changes)
        } else {
            return Err(Error::Config(
                "database URL must start with sqlite:// or postgres://".to_owned(),
            ));
        };
        Ok(Self { pool, changes })
    }

    /// A SQLite file of its own for a backup snapshot: one connection, a rollback journal
    /// (no `-wal` beside the file: each commit is in the file itself, so it can be renamed
    /// or copied as soon as a transaction commits, however late the connection closes), no
    /// change detector. `read_only` opens an existing file without changing it.
    pub(crate) async fn connect_snapshot(path: &std::path::Path, read_only: bool) -> Result<Self> {
        let mut opts = SqliteConnectOptions::new()
            .filename(path)
            .read_only(read_only)
            .create_if_missing(!read_only)
            .foreign_keys(true);
        if !read_only {
            opts = opts
                .journal_mode(SqliteJournalMode::Delete)
                .synchronous(SqliteSynchronous::Full);
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            changes: changes::Changes::blind(),
        })
    }

    pub const fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of failing
    /// when a read transaction tries to upgrade.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => db::TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => db::TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            changes: Some(self.changes.clone()),
        })
    }

    /// A connection for one read statement, with no transaction around it: a single
    /// statement is its own consistent snapshot, so this saves the `BEGIN` and `ROLLBACK`
    /// round trips. Use [`Store::read`] when several statements must agree.
    pub async fn read_one(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => db::TxInner::SqliteConn(p.acquire().await?),
            Pool::Postgres(p) => db::TxInner::PostgresConn(p.acquire().await?),
        };
        Ok(Tx {
            inner,
            changes: None,
        })
    }

    /// A transaction that only reads: a consistent snapshot, no write lock.
    pub async fn read(&self) -> Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => db::TxInner::Sqlite(p.begin().await?),
            Pool::Postgres(p) => db::TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            changes: None,
        })
    }

    /// Closes every connection, the change detector's included: on SQLite the file is
    /// whole (its WAL checkpointed) when this returns.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        self.changes.close().await;
    }
}

/// One database transaction. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub struct Tx {
    inner: db::TxInner,
    /// Told of the commit when the transaction may have written (see `changes.rs`).
    changes: Option<Arc<changes::Changes>>,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.inner {
            db::TxInner::Sqlite(t) => t.commit().await?,
            db::TxInner::Postgres(t) => t.commit().await?,
            db::TxInner::SqliteConn(_) | db::TxInner::PostgresConn(_) => {}
        }
        if let Some(changes) = self.changes {
            changes.bump();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            db::TxInner::Sqlite(t) => t.rollback().await?,
            db::TxInner::Postgres(t) => t.rollback().await?,
            db::TxInner::SqliteConn(_) | db::TxInner::PostgresConn(_) => {}
        }
        Ok(())
    }

    pub const fn dialect(&self) -> Dialect {
        match self.inner {
            db::TxInner::Sqlite(_) | db::TxInner::SqliteConn(_) => Dialect::Sqlite,
            db::TxInner::Postgres(_) | db::TxInner::PostgresConn(_) => Dialect::Postgres,
        }
    }

    /// The same transaction, every query scoped to one organization.
    pub fn org(&mut self, org: OrgId) -> OrgTx<'_> {
        OrgTx { tx: self, org }
    }
}

/// A transaction scoped to one organization: every query it runs carries `org_id`, so a
/// row of another organization is simply not found.
#[derive(Debug)]
pub struct OrgTx<'t> {
    tx: &'t mut Tx,
    org: OrgId,
}

impl OrgTx<'_> {
    pub const fn org_id(&self) -> OrgId {
        self.org
    }
}
