//! Email addresses, parsed once. Stored lowercased so that uniqueness and matching are
//! case-insensitive everywhere (the contract matches people to users by email, ignoring case).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::FieldError;

/// A syntactically plausible, lowercased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// RFC 5321: a path is at most 254 octets.
pub const MAX_EMAIL_LEN: usize = 254;

impl Email {
    /// Parses and normalizes (trim, lowercase). Accepts `local@domain.tld`-shaped input only:
    /// the contract needs an address that can receive mail, not the full RFC 5322 grammar.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        let invalid = |m: &str| FieldError::new("email", m);
        if s.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if s.len() > MAX_EMAIL_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(invalid("must contain @"));
        };
        let ok_local = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let ok_domain = domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if !ok_local || !ok_domain {
            return Err(invalid("is not a valid email address"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(format!("email {}", e.message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_lowercases() {
        for (raw, ok) in [
            ("Jane.Doe@Example.com", Some("jane.doe@example.com")),
            ("  a@b.co ", Some("a@b.co")),
            ("", None),
            ("no-at.example.com", None),
            ("a@nodot", None),
            ("a@@b.com", None),
            (".a@b.com", None),
            ("a..b@c.com", None),
            ("a b@c.com", None),
            ("a@-b.com", None),
        ] {
            assert_eq!(
                Email::parse(raw).ok().map(|e| e.0),
                ok.map(str::to_owned),
                "{raw:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn printing_then_parsing_gives_the_value_back(local in "[a-z0-9]{1,20}", dom in "[a-z]{1,10}\\.[a-z]{2,4}") {
            let e = Email::parse(&format!("{local}@{dom}")).unwrap();
            prop_assert_eq!(Email::parse(&e.to_string()).unwrap(), e);
        }
    }
}
