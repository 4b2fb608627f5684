//! Statements with a variable number of arguments: the bulk writes of a sync, which send
//! hundreds of rows per statement so the statement count grows with rows ÷ batch size.
//! The fixed-arity macros of `db.rs` cannot bind a list; this binds [`Arg`]s one by one on
//! whichever connection the transaction holds.

use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::{Database, Encode, Type};
use uuid::Uuid;

use crate::db::TxInner;

/// Rows per bulk statement. PostgreSQL binds at most 65,535 parameters and SQLite 32,766;
/// at 7–11 per row, 500 rows stay far below both.
pub(crate) const BATCH_ROWS: usize = 500;

/// One bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
}

fn bind_all<'q, DB>(
    mut q: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    args: &'q [Arg],
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Uuid: Encode<'q, DB> + Type<DB>,
    Option<Uuid>: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    for a in args {
        q = match a {
            Arg::Uuid(v) => q.bind(*v),
            Arg::OptUuid(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.as_str()),
            Arg::OptText(v) => q.bind(v.as_deref()),
            Arg::Time(v) => q.bind(*v),
        };
    }
    q
}

/// Runs one statement with `args` bound to `$1…$n` in order; the rows it affected.
pub(crate) async fn execute(
    inner: &mut TxInner,
    sql: &str,
    args: &[Arg],
) -> Result<u64, sqlx::Error> {
    match inner {
        TxInner::Sqlite(c) => bind_all(sqlx::query(sql), args)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected()),
        TxInner::Postgres(c) => bind_all(sqlx::query(sql), args)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected()),
        TxInner::SqliteConn(c) => bind_all(sqlx::query(sql), args)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected()),
        TxInner::PostgresConn(c) => bind_all(sqlx::query(sql), args)
            .execute(&mut **c)
            .await
            .map(|r| r.rows_affected()),
    }
}

/// Runs one query with `args` bound to `$1…$n` in order; every row it returned.
pub(crate) async fn fetch_all<R>(
    inner: &mut TxInner,
    sql: &str,
    args: &[Arg],
) -> Result<Vec<R>, sqlx::Error>
where
    R: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    match inner {
        TxInner::Sqlite(c) => {
            bind_all_as(sqlx::query_as(sql), args)
                .fetch_all(&mut **c)
                .await
        }
        TxInner::Postgres(c) => {
            bind_all_as(sqlx::query_as(sql), args)
                .fetch_all(&mut **c)
                .await
        }
        TxInner::SqliteConn(c) => {
            bind_all_as(sqlx::query_as(sql), args)
                .fetch_all(&mut **c)
                .await
        }
        TxInner::PostgresConn(c) => {
            bind_all_as(sqlx::query_as(sql), args)
                .fetch_all(&mut **c)
                .await
        }
    }
}

fn bind_all_as<'q, DB, R>(
    mut q: sqlx::query::QueryAs<'q, DB, R, <DB as Database>::Arguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::QueryAs<'q, DB, R, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Uuid: Encode<'q, DB> + Type<DB>,
    Option<Uuid>: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    for a in args {
        q = match a {
            Arg::Uuid(v) => q.bind(*v),
            Arg::OptUuid(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.as_str()),
            Arg::OptText(v) => q.bind(v.as_deref()),
            Arg::Time(v) => q.bind(*v),
        };
    }
    q
}

/// `($a, $b, …)` groups for `rows` rows of `width` fresh placeholders each, numbered from
/// `first`, with `fixed` (e.g. `$1` for the organization) spliced in where a row's template
/// says `{}`: `template` is one row with `?` for each fresh placeholder.
pub(crate) fn values(template: &str, rows: usize, first: usize) -> String {
    let width = template.matches('?').count();
    let mut out = String::with_capacity(rows * template.len() * 2);
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        for c in template.chars() {
            if c == '?' {
                out.push('$');
                out.push_str(&n.to_string());
                n += 1;
            } else {
                out.push(c);
            }
        }
    }
    debug_assert_eq!(n, first + rows * width);
    out
}

/// `$first, $first+step, …` for `rows` rows: the ids of an `IN (…)` list whose values sit
/// every `step` arguments.
pub(crate) fn list(rows: usize, first: usize, step: usize) -> String {
    (0..rows)
        .map(|r| format!("${}", first + r * step))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(
            super::values("($1, ?, ?, $2)", 2, 3),
            "($1, $3, $4, $2), ($1, $5, $6, $2)"
        );
        assert_eq!(super::list(3, 3, 2), "$3, $5, $7");
    }
}
