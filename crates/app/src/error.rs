//! The operations' one error type. It says what happened in the contract's words and keeps
//! every cause as a `source`; the server alone chooses the HTTP status (in its `problem.rs`).

use roster_domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credentials, or credentials that are invalid, expired or of a deleted user.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but not allowed (level too low, or not a member of the organization).
    #[error("{0}")]
    Forbidden(&'static str),
    /// Input that is well formed but not acceptable, field by field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A business rule said no (the last executive, deleting oneself, ...).
    #[error(transparent)]
    Rule(roster_domain::Error),
    /// The store failed or refused (not found, a conflict, busy, unavailable).
    #[error(transparent)]
    Store(#[from] roster_store::Error),
    /// Signing a token failed: a bug, never the caller's input.
    #[error("signing a token failed")]
    TokenSigning(#[source] jsonwebtoken::errors::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<roster_domain::Error> for Error {
    fn from(e: roster_domain::Error) -> Self {
        match e {
            roster_domain::Error::Invalid(errors) => Self::Invalid(errors),
            rule => Self::Rule(rule),
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}
