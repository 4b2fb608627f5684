//! Credentials as the API receives them (API tokens, bot tokens, API keys, service-account
//! keys). Parsed once at the edge: trimmed, bounded, no whitespace or control characters
//! inside a token. A credential never prints: `Debug` is `[redacted]`, there is no
//! `Display`, and it serializes to nothing but `[redacted]`, so no log, error or response can
//! carry one by accident. Only [`Credential::expose`] hands out the text, for the provider
//! call and the vault.

use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::FieldError;
use crate::text::{MAX_CREDENTIAL_CHARS, MAX_SERVICE_ACCOUNT_KEY_BYTES};

/// A secret the caller handed in.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

impl Credential {
    /// A token: 1–4,096 characters, printable ASCII without spaces (every provider's tokens
    /// are; a pasted newline or space is a copy mistake, refused rather than sent).
    pub fn token(field: &str, raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if t.chars().count() > MAX_CREDENTIAL_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at most {MAX_CREDENTIAL_CHARS} characters"),
            ));
        }
        if !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                field,
                "must be printable ASCII without spaces",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// A JSON document (a service-account key): at most 64 KiB, not empty. Its content is
    /// checked by the provider client that parses it.
    pub fn document(field: &str, raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if t.len() > MAX_SERVICE_ACCOUNT_KEY_BYTES {
            return Err(FieldError::new(
                field,
                format!(
                    "must be at most {} KiB",
                    MAX_SERVICE_ACCOUNT_KEY_BYTES / 1024
                ),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The secret text, for the provider call and for sealing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A token field of a request body: `#[serde(deserialize_with = "token")]`.
pub fn token<'de, D: Deserializer<'de>>(d: D) -> Result<Credential, D::Error> {
    let raw = String::deserialize(d)?;
    Credential::token("", &raw).map_err(|e| serde::de::Error::custom(e.message))
}

/// An optional token field (absent or `null`: keep the stored one).
pub fn optional_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Credential>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|raw| Credential::token("", &raw).map_err(|e| serde::de::Error::custom(e.message)))
        .transpose()
}

/// An optional JSON-document credential field (a service-account key).
pub fn optional_document<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Credential>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|raw| Credential::document("", &raw).map_err(|e| serde::de::Error::custom(e.message)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bounded_printable_and_never_print() {
        for (raw, ok) in [
            ("pk_live_abc123", true),
            ("  xoxb-1-2-3  ", true),
            ("", false),
            ("   ", false),
            ("two words", false),
            ("new\nline", false),
            ("naïve", false),
            (&"x".repeat(4096) as &str, true),
            (&"x".repeat(4097) as &str, false),
        ] {
            assert_eq!(Credential::token("api_token", raw).is_ok(), ok, "{raw:?}");
        }
        let c = Credential::token("api_token", "canary-secret-123").unwrap();
        assert_eq!(format!("{c:?}"), "[redacted]");
        assert_eq!(c.expose(), "canary-secret-123");
        let err = Credential::token("api_token", "bad token").unwrap_err();
        assert!(!err.message.contains("bad token"), "{err}");
    }

    #[test]
    fn optional_fields_parse_what_is_there() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "optional_token")]
            token: Option<Credential>,
            #[serde(default, deserialize_with = "optional_document")]
            key: Option<Credential>,
        }
        let b: Body = serde_json::from_str(r#"{"token": " t1 ", "key": "{}"}"#).unwrap();
        assert_eq!(b.token.unwrap().expose(), "t1");
        assert_eq!(b.key.unwrap().expose(), "{}");
        let b: Body = serde_json::from_str("{}").unwrap();
        assert!(b.token.is_none() && b.key.is_none());
        assert!(serde_json::from_str::<Body>(r#"{"token": "a b"}"#).is_err());
    }

    #[test]
    fn documents_are_bounded() {
        assert!(
            Credential::document("k", &"x".repeat(64 * 1024)).is_ok(),
            "64 KiB is allowed"
        );
        assert!(Credential::document("k", "{}").is_ok());
        assert!(Credential::document("k", " ").is_err());
        assert!(Credential::document("k", &"x".repeat(64 * 1024 + 1)).is_err());
    }
}
