//! Typed identifiers. A bare `Uuid` never crosses a crate boundary: a `PersonId` cannot be
//! passed where a `UserId` is expected. Ids are UUIDv7 (time-ordered, so indexes stay local).
//!
//! An id is read only in the form the API prints: 36 characters, hex digits in groups of
//! 8-4-4-4-12 joined by hyphens. The other spellings `uuid` accepts (`urn:uuid:…`, braces,
//! 32 bare digits) are refused, so one id has one spelling in paths, bodies and logs.
//! Upper-case digits are accepted: RFC 9562 makes UUIDs case-insensitive on input, and a
//! client that upper-cases one still names the same id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// The length of the one accepted spelling: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
const CANONICAL_LEN: usize = 36;

/// Text that is not an id in its canonical hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an id: expected 36 characters like 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")]
pub struct ParseIdError;

/// Parses the canonical hyphenated form only. `uuid` itself reads four spellings and tells
/// them apart by length, so requiring 36 characters leaves exactly the hyphenated one.
fn parse_canonical(s: &str) -> Result<Uuid, ParseIdError> {
    if s.len() != CANONICAL_LEN {
        return Err(ParseIdError);
    }
    Uuid::try_parse(s).map_err(|_| ParseIdError)
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_canonical(s).map(Self)
            }
        }

        /// Through [`FromStr`], so a JSON body is held to the same spelling as a path.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// An organization (a company using Roster).
    OrgId
);
id_type!(
    /// A user: someone who can sign in.
    UserId
);
id_type!(
    /// A person in an organization's directory (may have no user).
    PersonId
);
id_type!(
    /// A squad (team) of an organization.
    SquadId
);
id_type!(
    /// An audit event.
    EventId
);
id_type!(
    /// A per-user connected integration account.
    AccountId
);

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    #[test]
    fn only_the_hyphenated_spelling_is_an_id() {
        let id = UserId::from_uuid(Uuid::parse_str(ID).unwrap());
        let upper = ID.to_uppercase();
        let urn = format!("urn:uuid:{ID}");
        let braced = format!("{{{ID}}}");
        let bare = ID.replace('-', "");
        let spaced = format!(" {ID}");
        let misplaced = format!("{}-{}", &bare[..9], &bare[9..]);
        for (text, accepted) in [
            (ID, true),
            (upper.as_str(), true),
            (urn.as_str(), false),
            (braced.as_str(), false),
            (bare.as_str(), false),
            (spaced.as_str(), false),
            (&ID[..35], false),
            (misplaced.as_str(), false),
            ("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", false),
            ("", false),
        ] {
            let parsed = text.parse::<UserId>();
            assert_eq!(parsed.is_ok(), accepted, "{text:?}");
            if accepted {
                assert_eq!(parsed, Ok(id), "{text:?}");
            }
            let json = serde_json::to_string(text).unwrap();
            assert_eq!(
                serde_json::from_str::<UserId>(&json).is_ok(),
                accepted,
                "JSON {json}"
            );
        }
    }

    #[test]
    fn an_id_reads_back_what_it_prints() {
        let id = PersonId::new();
        assert_eq!(id.to_string().len(), CANONICAL_LEN);
        assert_eq!(id.to_string().parse(), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<PersonId>(&json).unwrap(), id);
    }
}
