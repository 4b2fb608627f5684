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

/// An id at `provider` as a user typed it, checked: Xero employee ids are UUIDs (written
/// lower case, hyphenated, as Xero sends them); the others are opaque text. `field` names
/// the input in the error.
pub fn parse_external_id(
    provider: crate::MappedProvider,
    raw: &str,
    field: &str,
) -> Result<String, crate::FieldError> {
    let text = crate::text::required(field, raw, 1000)?;
    match provider {
        crate::MappedProvider::Xero => uuid::Uuid::try_parse(&text)
            .map(|u| u.to_string())
            .map_err(|_| crate::FieldError::new(field, "must be a Xero employee id (a UUID)")),
        crate::MappedProvider::Productive | crate::MappedProvider::Remote => Ok(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MappedProvider;

    #[test]
    fn external_ids_are_checked_per_provider() {
        for (provider, raw, want) in [
            (
                MappedProvider::Xero,
                "CDFB8371-0B21-4B8A-8903-1024DF6C391E",
                Some("cdfb8371-0b21-4b8a-8903-1024df6c391e"),
            ),
            (MappedProvider::Xero, "12345", None),
            (MappedProvider::Productive, " 12345 ", Some("12345")),
            (MappedProvider::Remote, "", None),
        ] {
            assert_eq!(
                parse_external_id(provider, raw, "external_id")
                    .ok()
                    .as_deref(),
                want,
                "{provider:?} {raw:?}"
            );
        }
    }
}
