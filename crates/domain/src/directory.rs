//! A person of the directory with the ids other sources know them by: what the user
//! mappings list, and what the matchers compare. Plain records, no rules.

use crate::matching::{Identity, NameKey};
use crate::{Email, PersonId, UserId};

/// An active person and their external ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub person: PersonId,
    pub user: Option<UserId>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<Email>,
    pub xero_id: Option<String>,
    pub productive_id: Option<String>,
    pub remote_id: Option<String>,
}

impl DirectoryEntry {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    /// What the matcher compares.
    pub fn identity(&self) -> Identity {
        Identity::new(
            NameKey::from_parts(&self.first_name, &self.last_name),
            self.email.clone(),
        )
    }
}
