//! The store's one error type. Constraint violations become [`Error::Conflict`] with a
//! message the caller chose (safe to show); everything about the database itself keeps its
//! cause as a `source`, for the logs only.

/// A cause the store keeps for the logs (a database driver's or a parser's error).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such row in this organization.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A uniqueness or reference rule of the schema refused the write.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Another writer held the database past the busy timeout (SQLite's single writer, or a
    /// PostgreSQL lock wait): nothing was written, and the same request may succeed shortly.
    #[error("the database is busy")]
    Busy(#[source] sqlx::Error),
    /// The database could not be reached or timed out.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The configuration names no usable database.
    #[error("{0}")]
    Config(String),
    /// The schema is not what this binary expects (pending or unknown migrations).
    #[error("schema: {0}")]
    Schema(String),
    /// A stored value the domain refuses: a bug or a corrupt row, never user input.
    #[error("stored {what} is invalid")]
    Corrupt {
        what: &'static str,
        #[source]
        cause: Cause,
    },
    /// Any other database error: a bug, logged, never shown.
    #[error("database error")]
    Internal(#[source] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// SQLite's primary result codes for "another connection holds the lock" (`SQLITE_BUSY`,
/// `SQLITE_LOCKED`); extended codes keep the primary one in their low byte.
fn is_sqlite_busy(code: &str) -> bool {
    code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// PostgreSQL's `lock_not_available` and `deadlock_detected`: a lock wait gave up.
fn is_postgres_busy(code: &str) -> bool {
    matches!(code, "55P03" | "40P01")
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound("row"),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e)
            }
            sqlx::Error::Database(ref db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => Self::Conflict("already exists"),
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    Self::Conflict("refers to a record that does not exist")
                }
                _ if db
                    .code()
                    .is_some_and(|c| is_sqlite_busy(&c) || is_postgres_busy(&c)) =>
                {
                    Self::Busy(e)
                }
                _ => Self::Internal(e),
            },
            other => Self::Internal(other),
        }
    }
}

/// Maps a unique violation to a conflict with a message that says what collided.
pub(crate) fn on_unique(message: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            Error::Conflict(message)
        }
        _ => e.into(),
    }
}

/// A value in the database that the domain refuses: corrupt data, never user input.
pub(crate) fn corrupt(what: &'static str, e: impl Into<Cause>) -> Error {
    Error::Corrupt {
        what,
        cause: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_codes_are_busy_and_others_are_not() {
        for (code, busy) in [
            ("5", true),
            ("6", true),
            ("517", true),
            ("261", true),
            ("1", false),
            ("19", false),
            ("2067", false),
            ("", false),
        ] {
            assert_eq!(is_sqlite_busy(code), busy, "sqlite {code}");
        }
        for (code, busy) in [("55P03", true), ("40P01", true), ("23505", false)] {
            assert_eq!(is_postgres_busy(code), busy, "postgres {code}");
        }
    }
}
