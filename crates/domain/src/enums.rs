//! The contract's closed vocabularies. Each enum parses from its canonical snake_case
//! string once, at the edge; anything else is a [`FieldError`] naming the field.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Declares a closed string enum with its wire names, `as_str`, `FromStr`, and `ALL`.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }

            /// Parses the wire name; the error names `field`.
            pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
                match raw {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(FieldError::new(
                        field,
                        format!("must be one of: {}", [$($wire),+].join(", ")),
                    )),
                }
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::parse_field(s, $field)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Access levels, highest first. The derived order is not used: compare with [`AccessLevel::rank`].
    AccessLevel, "access_level" {
        Executive => "executive",
        Head => "head",
        Manager => "manager",
        Lead => "lead",
        Employee => "employee",
    }
);

impl AccessLevel {
    /// 4 for executive down to 0 for employee.
    pub const fn rank(self) -> u8 {
        match self {
            Self::Executive => 4,
            Self::Head => 3,
            Self::Manager => 2,
            Self::Lead => 1,
            Self::Employee => 0,
        }
    }

    pub const fn is_at_least(self, other: Self) -> bool {
        self.rank() >= other.rank()
    }
}

string_enum!(
    EmploymentStatus, "employment_status" {
        Active => "active",
        Terminated => "terminated",
        OnLeave => "on_leave",
    }
);

string_enum!(
    EmploymentBasis, "employment_basis" {
        FullTime => "full_time",
        PartTime => "part_time",
        Casual => "casual",
        Contractor => "contractor",
    }
);

string_enum!(
    Gender, "gender" {
        Male => "male",
        Female => "female",
        NonBinary => "non-binary",
        NotStated => "not_stated",
    }
);

string_enum!(
    /// The providers an organization connects.
    Provider, "provider" {
        Xero => "xero",
        Productive => "productive",
        GoogleWorkspace => "google-workspace",
        Slack => "slack",
        Remote => "remote",
        Scrapin => "scrapin",
    }
);

string_enum!(
    /// Providers whose ids can be mapped to a person by hand.
    MappedProvider, "provider" {
        Xero => "xero",
        Productive => "productive",
        Remote => "remote",
    }
);

string_enum!(
    /// Health of a stored connection.
    ConnectionStatus, "status" {
        Ok => "ok",
        NeedsReauth => "needs_reauth",
        Error => "error",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_wire_name() {
        for l in AccessLevel::ALL {
            assert_eq!(l.as_str().parse::<AccessLevel>().unwrap(), *l);
        }
        for g in Gender::ALL {
            assert_eq!(g.as_str().parse::<Gender>().unwrap(), *g);
        }
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), *p);
        }
    }

    #[test]
    fn unknown_values_name_the_field_and_the_choices() {
        let err = "boss".parse::<AccessLevel>().unwrap_err();
        assert_eq!(err.field, "access_level");
        assert!(
            err.message
                .contains("executive, head, manager, lead, employee"),
            "{}",
            err.message
        );
        assert!(
            "Executive".parse::<AccessLevel>().is_err(),
            "wire names are case-sensitive"
        );
    }

    #[test]
    fn ranks_order_levels_highest_first() {
        let ranks: Vec<u8> = AccessLevel::ALL.iter().map(|l| l.rank()).collect();
        assert_eq!(ranks, [4, 3, 2, 1, 0]);
        assert!(AccessLevel::Head.is_at_least(AccessLevel::Manager));
        assert!(!AccessLevel::Lead.is_at_least(AccessLevel::Manager));
    }
}
