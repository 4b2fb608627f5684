//! Versioned migrations, applied in order inside one transaction.
//!
//! A migration is a common SQL file plus optional per-dialect files beside it; `{{bytes}}`
//! in the common file is the binary column type (BYTEA / BLOB). Applied versions are kept
//! in `roster_migrations` with a checksum: an edited migration, or a database newer than
//! this binary, is refused rather than guessed at. On PostgreSQL an advisory lock makes
//! concurrent `migrate` runs from several instances wait for each other.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{Dialect, Error, Result, Store, Tx};

struct Migration {
    version: i64,
    name: &'static str,
    common: &'static str,
    postgres: &'static str,
    sqlite: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schema",
        common: include_str!("../migrations/0001_schema.sql"),
        postgres: include_str!("../migrations/0001_schema.postgres.sql"),
        sqlite: include_str!("../migrations/0001_schema.sqlite.sql"),
    },
    Migration {
        version: 2,
        name: "sign_in",
        common: include_str!("../migrations/0002_sign_in.sql"),
        postgres: "",
        sqlite: "",
    },
    Migration {
        version: 3,
        name: "audit_triggers",
        common: "",
        postgres: include_str!("../migrations/0003_audit_triggers.postgres.sql"),
        sqlite: include_str!("../migrations/0003_audit_triggers.sqlite.sql"),
    },
    Migration {
        version: 4,
        name: "key_canaries",
        common: include_str!("../migrations/0004_key_canaries.sql"),
        postgres: "",
        sqlite: "",
    },
    Migration {
        version: 5,
        name: "connection_use",
        common: include_str!("../migrations/0005_connection_use.sql"),
        postgres: "",
        sqlite: "",
    },
    Migration {
        version: 6,
        name: "sync_runs",
        common: include_str!("../migrations/0006_sync_runs.sql"),
        postgres: "",
        sqlite: "",
    },
    Migration {
        version: 8,
        name: "auth_notify",
        common: "",
        postgres: include_str!("../migrations/0008_auth_notify.postgres.sql"),
        // SQLite needs none: the WAL index shows every commit (ADR 0022).
        sqlite: "",
    },
];

/// The newest migration this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Arbitrary, fixed: the key of the advisory lock that serializes migrations.
const MIGRATION_LOCK_KEY: i64 = 0x526f_7374_6572; // "Roster"

impl Migration {
    fn sql(&self, dialect: Dialect) -> String {
        let (bytes, extra) = match dialect {
            Dialect::Postgres => ("BYTEA", self.postgres),
            Dialect::Sqlite => ("BLOB", self.sqlite),
        };
        format!("{}\n{}", self.common.replace("{{bytes}}", bytes), extra)
    }

    fn checksum(&self, dialect: Dialect) -> String {
        use std::fmt::Write;
        let digest = Sha256::digest(self.sql(dialect).as_bytes());
        digest.iter().fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }
}

/// Where the schema stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub applied: Vec<i64>,
    pub pending: Vec<i64>,
}

impl Status {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
    }
}

#[derive(sqlx::FromRow)]
struct Applied {
    version: i64,
    checksum: String,
}

async fn ensure_table(tx: &mut Tx) -> Result<()> {
    execute!(
        tx,
        "CREATE TABLE IF NOT EXISTS roster_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL
        )"
    )?;
    Ok(())
}

async fn applied(tx: &mut Tx) -> Result<Vec<Applied>> {
    Ok(rows!(
        tx,
        fetch_all,
        Applied,
        "SELECT version, checksum FROM roster_migrations ORDER BY version"
    )?)
}

fn check(applied: &[Applied], dialect: Dialect) -> Result<Vec<i64>> {
    for a in applied {
        match MIGRATIONS.iter().find(|m| m.version == a.version) {
            None => {
                return Err(Error::Schema(format!(
                    "the database has migration {} which this binary does not know: it is newer than this Roster",
                    a.version
                )));
            }
            Some(m) if m.checksum(dialect) != a.checksum => {
                return Err(Error::Schema(format!(
                    "migration {} ({}) was changed after it was applied",
                    m.version, m.name
                )));
            }
            Some(_) => {}
        }
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .map(|m| m.version)
        .collect())
}

impl Store {
    /// What is applied and what is pending. Errors if the database is unreachable or its
    /// schema is unknown to this binary.
    pub async fn migration_status(&self) -> Result<Status> {
        let mut tx = self.read().await?;
        let exists = match self.dialect() {
            Dialect::Postgres => scalar!(
                tx,
                fetch_one,
                bool,
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'roster_migrations' AND table_schema = current_schema())"
            )?,
            Dialect::Sqlite => scalar!(
                tx,
                fetch_one,
                bool,
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'roster_migrations')"
            )?,
        };
        let applied_rows = if exists {
            applied(&mut tx).await?
        } else {
            Vec::new()
        };
        tx.rollback().await?;
        let pending = check(&applied_rows, self.dialect())?;
        Ok(Status {
            applied: applied_rows.iter().map(|a| a.version).collect(),
            pending,
        })
    }

    /// Applies every pending migration in one transaction; returns the versions applied.
    pub async fn migrate(&self, now: DateTime<Utc>) -> Result<Vec<i64>> {
        let dialect = self.dialect();
        let mut tx = self.begin().await?;
        if dialect == Dialect::Postgres {
            // Another instance may be migrating for longer than the pool's lock timeout:
            // wait for it, however long, rather than fail the start-up as `busy`.
            execute!(tx, "SET LOCAL lock_timeout = 0")?;
            execute!(tx, "SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)?;
        }
        ensure_table(&mut tx).await?;
        let pending = check(&applied(&mut tx).await?, dialect)?;
        for m in MIGRATIONS.iter().filter(|m| pending.contains(&m.version)) {
            let sql = m.sql(dialect);
            match &mut tx.inner {
                crate::db::TxInner::Sqlite(c) => {
                    sqlx::raw_sql(&sql).execute(&mut **c).await?;
                }
                crate::db::TxInner::Postgres(c) => {
                    sqlx::raw_sql(&sql).execute(&mut **c).await?;
                }
                crate::db::TxInner::SqliteConn(c) => {
                    sqlx::raw_sql(&sql).execute(&mut **c).await?;
                }
                crate::db::TxInner::PostgresConn(c) => {
                    sqlx::raw_sql(&sql).execute(&mut **c).await?;
                }
            }
            execute!(
                tx,
                "INSERT INTO roster_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                m.version,
                m.name,
                m.checksum(dialect),
                now
            )?;
            tracing::info!(version = m.version, name = m.name, "migration applied");
        }
        tx.commit().await?;
        Ok(pending)
    }
}
