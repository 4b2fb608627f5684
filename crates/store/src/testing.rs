//! Test support, compiled only with the `testing` feature (never in the production build):
//! a fresh, empty database per test on a shared PostgreSQL server, and attempts to tamper
//! with the audit log that its triggers must refuse. Used by `roster-testkit` and the CLI's
//! tests only.

use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::{Error, Result};

/// Creates database `name` on the server `server_url` points at and returns its URL.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::Config(format!("unsafe database name {name:?}")));
    }
    let opts = PgConnectOptions::from_str(server_url).map_err(|e| Error::Config(e.to_string()))?;
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

/// Tries one kind of tampering in its own transaction (rolled back either way) and returns
/// the rows it changed, or the database's refusal.
pub async fn try_tamper_audit(store: &crate::Store, how: AuditTamper) -> Result<u64> {
    let mut tx = store.begin().await?;
    let changed = match how {
        AuditTamper::Update => execute!(tx, "UPDATE audit_events SET action = 'forged'"),
        AuditTamper::Delete => execute!(tx, "DELETE FROM audit_events"),
        AuditTamper::Truncate => execute!(tx, "TRUNCATE audit_events"),
    };
    drop(tx);
    Ok(changed?)
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
