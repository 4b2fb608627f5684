//! Bounded text fields. The contract caps a text field at 1,000 characters (a credential at
//! 4,096, a service-account key at 64 KiB); a longer value is a 422 naming the field.
//!
//! [`BoundedText`] and [`Slug`] deserialize through their `parse`, so a request body that
//! reaches `app` holds only valid values: the field name comes from the body's path.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::FieldError;

pub const MAX_TEXT_CHARS: usize = 1_000;
pub const MAX_CREDENTIAL_CHARS: usize = 4_096;
pub const MAX_SERVICE_ACCOUNT_KEY_BYTES: usize = 64 * 1024;

/// Trims and checks a free-text value: at most `max` characters, no control characters
/// except tab and newline.
pub fn bounded(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Like [`bounded`] but also refuses an empty value.
pub fn required(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = bounded(field, raw, max)?;
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    Ok(value)
}

/// A trimmed text field of at most [`MAX_TEXT_CHARS`] characters without control
/// characters (tab and newline allowed). It may be empty: a patch reads `""` as "clear".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BoundedText(String);

impl BoundedText {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        bounded(field, raw, MAX_TEXT_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The text, or `None` when it is empty (a cleared field).
    pub fn non_empty(self) -> Option<Self> {
        (!self.0.is_empty()).then_some(self)
    }
}

impl fmt::Display for BoundedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BoundedText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        // The field name is the body's path, which the caller adds; the message stands alone.
        Self::parse("", &raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A required text field of a request body (`#[serde(deserialize_with = "required_text")]`):
/// a [`BoundedText`] that is not empty once trimmed.
pub fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<BoundedText, D::Error> {
    let text = BoundedText::deserialize(d)?;
    if text.as_str().is_empty() {
        return Err(serde::de::Error::custom("must not be empty"));
    }
    Ok(text)
}

/// An organization's (or a squad's) URL-safe key: lowercase ASCII letters, digits and inner
/// dashes, 1–63 characters (a DNS label, so it fits a subdomain or a path segment).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

/// The longest slug: one DNS label.
pub const MAX_SLUG_LEN: usize = 63;

impl Slug {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "must be 1-63 lowercase letters, digits or dashes, not starting or ending with a dash",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse("", &raw).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_limits() {
        for (raw, ok) in [
            ("Melbourne", true),
            ("  padded  ", true),
            (&"x".repeat(1000) as &str, true),
            (&"é".repeat(1000) as &str, true),
            (&"x".repeat(1001) as &str, false),
            ("bell\u{7}", false),
            ("two\nlines", true),
            ("tab\there", true),
        ] {
            assert_eq!(BoundedText::parse("location", raw).is_ok(), ok, "{raw:?}");
        }
        assert_eq!(required("name", "   ", 10).unwrap_err().field, "name");
        assert_eq!(
            BoundedText::parse("location", "  Hobart ")
                .unwrap()
                .as_str(),
            "Hobart"
        );
        assert_eq!(BoundedText::parse("x", " ").unwrap().non_empty(), None);
        assert_eq!(
            BoundedText::parse("x", " Perth ").unwrap().to_string(),
            "Perth"
        );
        assert_eq!(MAX_SERVICE_ACCOUNT_KEY_BYTES, 65_536);
    }

    #[test]
    fn bounded_text_deserializes_through_parse() {
        let ok: BoundedText = serde_json::from_str("\" Perth \"").unwrap();
        assert_eq!(ok.as_str(), "Perth");
        let long = format!("\"{}\"", "x".repeat(1001));
        let err = serde_json::from_str::<BoundedText>(&long).unwrap_err();
        assert!(err.to_string().contains("at most 1000"), "{err}");
        assert!(serde_json::from_str::<BoundedText>("7").is_err());
    }

    #[test]
    fn slugs() {
        for (raw, ok) in [
            ("acme", true),
            ("acme-2", true),
            ("a", true),
            (&"a".repeat(63) as &str, true),
            (&"a".repeat(64) as &str, false),
            ("Acme", false),
            ("-a", false),
            ("a-", false),
            ("", false),
            ("a b", false),
            ("ünï", false),
            ("a_b", false),
        ] {
            assert_eq!(Slug::parse("org", raw).is_ok(), ok, "{raw:?}");
        }
        assert_eq!(Slug::parse("org", "Acme").unwrap_err().field, "org");
        assert_eq!(Slug::parse("org", " acme ").unwrap().to_string(), "acme");
        assert!(serde_json::from_str::<Slug>("\"Acme\"").is_err());
    }

    proptest! {
        #[test]
        fn a_parsed_slug_parses_again_to_itself(raw in "[a-z0-9][a-z0-9-]{0,61}[a-z0-9]") {
            let s = Slug::parse("org", &raw).unwrap();
            prop_assert_eq!(Slug::parse("org", s.as_str()).unwrap(), s);
        }

        #[test]
        fn bounded_text_never_holds_more_than_the_limit(raw in ".{0,1100}") {
            if let Ok(t) = BoundedText::parse("f", &raw) {
                prop_assert!(t.as_str().chars().count() <= MAX_TEXT_CHARS);
                prop_assert_eq!(t.as_str(), t.as_str().trim());
            }
        }
    }
}
