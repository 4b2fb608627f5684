//! Database support for tests, outside the production build (this crate is a
//! dev-dependency only): a fresh, empty database per test on a shared PostgreSQL server, and
//! attempts to tamper with the audit log that its triggers must refuse. They speak to the
//! database directly, as an attacker with its credentials would, not through `roster-store`.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// What a test database operation can fail with.
pub type Result<T> = std::result::Result<T, sqlx::Error>;

/// Creates database `name` on the server `server_url` points at and returns its URL.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(sqlx::Error::Configuration(
            format!("unsafe database name {name:?}").into(),
        ));
    }
    let opts = PgConnectOptions::from_str(server_url)?;
    let mut conn = opts.clone().database("postgres").connect().await?;
    // The name is checked above: identifiers cannot be bound as parameters.
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let (base, query) = split_url(server_url);
    Ok(match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    })
}

/// `postgres://user@host:port/db?x=y` → (`postgres://user@host:port`, `Some("x=y")`).
fn split_url(server_url: &str) -> (&str, Option<&str>) {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    (base, query)
}

/// A way to tamper with the audit log, which its triggers must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditTamper {
    Update,
    Delete,
    /// PostgreSQL only: `TRUNCATE` skips row triggers, so it has a statement trigger.
    Truncate,
}

/// Tries one kind of tampering on the database at `url`, in a transaction that is rolled
/// back either way, and returns the rows it changed, or the database's refusal.
pub async fn try_tamper_audit(url: &str, how: AuditTamper) -> Result<u64> {
    let sql = match how {
        AuditTamper::Update => "UPDATE audit_events SET action = 'forged'",
        AuditTamper::Delete => "DELETE FROM audit_events",
        AuditTamper::Truncate => "TRUNCATE audit_events",
    };
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let mut tx = conn.begin().await?;
        let changed = sqlx::query(sql).execute(&mut *tx).await;
        tx.rollback().await?;
        changed.map(|r| r.rows_affected())
    } else {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let mut tx = conn.begin().await?;
        let changed = sqlx::query(sql).execute(&mut *tx).await;
        tx.rollback().await?;
        changed.map(|r| r.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_server_urls() {
        assert_eq!(
            super::split_url("postgres://u@h:5/db?sslmode=disable"),
            ("postgres://u@h:5", Some("sslmode=disable"))
        );
        assert_eq!(
            super::split_url("postgres://u@h:5"),
            ("postgres://u@h:5", None)
        );
    }
}
