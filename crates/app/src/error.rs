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
    /// A provider failed or refused (an outage, a rate limit, a rejected token on use).
    #[error(transparent)]
    Provider(roster_providers::Error),
    /// The provider is not connected in this organization.
    #[error("{0} is not connected")]
    NotConnected(roster_domain::Provider),
    /// The provider's connection needs an executive to connect it again.
    #[error("the {0} connection needs to be reconnected")]
    NeedsReauth(roster_domain::Provider),
    /// The operator has not configured what this needs (the words say what).
    #[error("{0}")]
    NotConfigured(&'static str),
    /// An OAuth callback's `state` is unknown, expired, already used or another user's.
    #[error("the authorization is unknown, expired or already used; start again")]
    InvalidState,
    /// Another instance is refreshing the token and did not finish in time.
    #[error("a token refresh is still in progress")]
    RefreshInProgress,
    /// A stored secret did not open (a missing or wrong key, or a corrupt row).
    #[error("a stored secret could not be opened")]
    Vault(#[source] roster_vault::Error),
    /// Another run of this sync holds the organization's claim.
    #[error("a {0} sync is already running for this organization; try again when it finishes")]
    SyncInProgress(&'static str),
    /// The sync would retire too many people; nothing was changed.
    #[error(
        "the sync would retire {retiring} of {active} active people, more than the allowed share; nothing was changed (repeat with allow_mass_removal=true if that is right)"
    )]
    MassRemovalBlocked { retiring: usize, active: usize },
    /// A provider sent a record Roster cannot store; the sync changed nothing.
    #[error("{provider} sync, checking the records: {message}")]
    SyncData {
        provider: roster_domain::Provider,
        message: String,
    },
    /// The person is not linked to the provider the operation reads from.
    #[error("the person is not linked to {0}; link them first")]
    NotLinked(roster_domain::Provider),
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
