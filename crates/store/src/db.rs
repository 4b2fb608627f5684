//! The one place that knows there are two databases.
//!
//! Every query is written once, with `$N` placeholders (SQLite accepts them too), and run
//! through these macros, which bind the same arguments on whichever connection the
//! transaction holds. Where the dialects truly differ, the two spellings sit side by side in
//! `match tx.dialect()` arms — nowhere else.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite, Transaction};

/// What a [`crate::Tx`] runs on: a transaction, or (for a read of a single statement, which
/// is its own snapshot) a pooled connection without `BEGIN`/`ROLLBACK` round trips.
#[derive(Debug)]
pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    SqliteConn(PoolConnection<Sqlite>),
    PostgresConn(PoolConnection<Postgres>),
}

/// Runs `sqlx::query_as::<_, Row>(sql)` with `.bind(arg)…` and the fetch method given.
macro_rules! rows {
    ($tx:expr, $method:ident, $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &str = $sql;
        match &mut $tx.inner {
            $crate::db::TxInner::Sqlite(c) => {
                sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
            $crate::db::TxInner::Postgres(c) => {
                sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
            $crate::db::TxInner::SqliteConn(c) => {
                sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
            $crate::db::TxInner::PostgresConn(c) => {
                sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
        }
    }};
}

/// Runs `sqlx::query_scalar::<_, T>(sql)` with binds.
macro_rules! scalar {
    ($tx:expr, $method:ident, $t:ty, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &str = $sql;
        match &mut $tx.inner {
            $crate::db::TxInner::Sqlite(c) => {
                sqlx::query_scalar::<_, $t>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
            $crate::db::TxInner::Postgres(c) => {
                sqlx::query_scalar::<_, $t>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
            $crate::db::TxInner::SqliteConn(c) => {
                sqlx::query_scalar::<_, $t>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
            $crate::db::TxInner::PostgresConn(c) => {
                sqlx::query_scalar::<_, $t>(sql)$(.bind($arg))*.$method(&mut **c).await
            }
        }
    }};
}

/// Runs a statement; evaluates to `Result<u64 /* rows affected */, sqlx::Error>`.
macro_rules! execute {
    ($tx:expr, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &str = $sql;
        match &mut $tx.inner {
            $crate::db::TxInner::Sqlite(c) => sqlx::query(sql)$(.bind($arg))*
                .execute(&mut **c).await.map(|r| r.rows_affected()),
            $crate::db::TxInner::Postgres(c) => sqlx::query(sql)$(.bind($arg))*
                .execute(&mut **c).await.map(|r| r.rows_affected()),
            $crate::db::TxInner::SqliteConn(c) => sqlx::query(sql)$(.bind($arg))*
                .execute(&mut **c).await.map(|r| r.rows_affected()),
            $crate::db::TxInner::PostgresConn(c) => sqlx::query(sql)$(.bind($arg))*
                .execute(&mut **c).await.map(|r| r.rows_affected()),
        }
    }};
}

/// Runs `sqlx::query_as::<_, Row>(sql)` with binds straight on a [`crate::Store`]'s pool:
/// one statement, its own implicit transaction, no `BEGIN`/`ROLLBACK` round trips. For the
/// hot paths that read one consistent statement and nothing else.
macro_rules! pool_rows {
    ($store:expr, $method:ident, $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &str = $sql;
        match &$store.pool {
            $crate::Pool::Sqlite(p) => sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$method(p).await,
            $crate::Pool::Postgres(p) => sqlx::query_as::<_, $row>(sql)$(.bind($arg))*.$method(p).await,
        }
    }};
}
