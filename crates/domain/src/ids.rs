//! Typed identifiers. A bare `Uuid` never crosses a crate boundary: a `PersonId` cannot be
//! passed where a `UserId` is expected. Ids are UUIDv7 (time-ordered, so indexes stay local).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
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
