//! The operations' one error type. It says what happened in the contract's words; the
//! server alone turns it into HTTP.

use roster_domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credentials, or credentials that are invalid, expired or of a deleted user.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but not allowed (level too low, or not a member of the organization).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A request the contract answers with 400 beyond malformed JSON (e.g. a bad cursor).
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(roster_store::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<roster_store::Error> for Error {
    fn from(e: roster_store::Error) -> Self {
        match e {
            roster_store::Error::NotFound(what) => Self::NotFound(what),
            roster_store::Error::Conflict(what) => Self::Conflict(what.to_owned()),
            other => Self::Store(other),
        }
    }
}

impl From<roster_domain::Error> for Error {
    fn from(e: roster_domain::Error) -> Self {
        use roster_domain::Error as D;
        match e {
            D::Invalid(errors) => Self::Invalid(errors),
            D::LastExecutive | D::DeleteSelf => Self::Conflict(e.to_string()),
            D::NoLinkedPerson => Self::Invalid(vec![FieldError::new(
                "user",
                "has no linked person to hold employment fields",
            )]),
            D::ExecutiveKeepsEveryRight(m) => {
                Self::Invalid(vec![FieldError::new("permissions", m)])
            }
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}
