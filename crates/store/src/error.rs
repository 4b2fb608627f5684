//! The store's one error type. Constraint violations become [`Error::Conflict`] with a
//! message the caller chose (safe to show); everything about the database itself becomes
//! [`Error::Unavailable`] or [`Error::Internal`], whose text is for logs only.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such row in this organization.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A uniqueness or reference rule of the schema refused the write.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database could not be reached or timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The configuration names no usable database.
    #[error("{0}")]
    Config(String),
    /// The schema is not what this binary expects (pending or unknown migrations).
    #[error("schema: {0}")]
    Schema(String),
    /// A bug or a corrupt row: logged, never shown.
    #[error("database error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound("row"),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e.to_string())
            }
            sqlx::Error::Database(ref db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => Self::Conflict("already exists"),
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    Self::Conflict("refers to a record that does not exist")
                }
                _ => Self::Internal(e.to_string()),
            },
            other => Self::Internal(other.to_string()),
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
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} is invalid: {e}"))
}
