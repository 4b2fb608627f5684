#![doc = include_str!("../README.md")]

pub mod clock;
pub mod credential;
pub mod dates;
pub mod directory;
pub mod doctor;
pub mod drift;
pub mod duration;
pub mod email;
pub mod enums;
pub mod google_sync;
pub mod identities;
pub mod ids;
pub mod matching;
pub mod model;
pub mod org_chart;
pub mod outbound;
pub mod patch;
pub mod payroll;
pub mod people_sync;
pub mod permissions;
pub mod profile;
pub mod text;
pub mod users;

use std::fmt;

pub use clock::{Clock, ManualClock, SystemClock};
pub use credential::Credential;
pub use dates::HrDate;
pub use email::Email;
pub use enums::{
    AccessLevel, ConnectionStatus, EmploymentBasis, EmploymentStatus, Gender, MappedProvider,
    Provider,
};
pub use ids::{AccountId, EventId, OrgId, ParseIdError, PersonId, SquadId, UserId};
pub use text::{BoundedText, Slug};

/// One invalid input value: which field, and why. Many of these make a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, reported under another field name (a nested or renamed field).
    #[must_use]
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A business rule said no. Each variant is a decision the contract names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("the organization's last executive cannot lower their own access level")]
    LastExecutive,
    #[error("you cannot delete yourself")]
    DeleteSelf,
    #[error("the user has no linked person")]
    NoLinkedPerson,
    #[error("{0}")]
    ExecutiveKeepsEveryRight(String),
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}
