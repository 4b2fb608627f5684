//! Deserialization helpers shared by every provider's wire structs.
//!
//! Each helper validates while deserializing, so `serde_path_to_error` reports the JSON path
//! of a bad value (`data[3].attributes.email`) and the public types hold only checked values.
//! These helpers never see credentials and never panic.

use roster_domain::Email;
use serde::{Deserialize, Deserializer};

/// An optional text field: absent, `null` and blank all mean "not given".
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    Ok(raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}

/// An optional email: absent, `null` and blank mean "none"; anything else must parse.
pub(crate) fn opt_email<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Email>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(raw) => Email::parse(&raw)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("email {}", e.message))),
    }
}

/// A required email.
pub(crate) fn email<'de, D: Deserializer<'de>>(d: D) -> Result<Email, D::Error> {
    opt_email(d)?.ok_or_else(|| serde::de::Error::custom("email must not be empty"))
}

/// A list that providers send as `null` or leave out when empty.
pub(crate) fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An id: a non-empty string. Providers that document string ids get no leniency here: a
/// number where an id belongs means the body is not what we think it is.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    if id.trim().is_empty() {
        return Err(serde::de::Error::custom("id must not be empty"));
    }
    Ok(id)
}

/// Text that some writers send as a number (a membership number made of digits).
pub(crate) fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    match Raw::deserialize(d) {
        Ok(Raw::Text(s)) if !s.trim().is_empty() => Ok(s),
        Ok(Raw::Text(_)) => Err(serde::de::Error::custom("must not be empty")),
        Ok(Raw::Number(n)) => Ok(n.to_string()),
        Err(_) => Err(serde::de::Error::custom("expected a string or a number")),
    }
}

pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Row {
        #[serde(default, deserialize_with = "opt_email")]
        email: Option<Email>,
        #[serde(default, deserialize_with = "opt_text")]
        name: Option<String>,
        #[serde(deserialize_with = "id")]
        id: String,
    }

    #[test]
    fn blank_values_are_absent_and_ids_are_strings() {
        for (json, email, name, id) in [
            (
                r#"{"email":"A@B.co","name":" Ann ","id":"7"}"#,
                Some("a@b.co"),
                Some("Ann"),
                "7",
            ),
            (r#"{"email":"","name":null,"id":"8"}"#, None, None, "8"),
            (r#"{"id":"x"}"#, None, None, "x"),
        ] {
            let row: Row = serde_json::from_str(json).unwrap();
            assert_eq!(row.email.as_ref().map(Email::as_str), email, "{json}");
            assert_eq!(row.name.as_deref(), name, "{json}");
            assert_eq!(row.id, id, "{json}");
        }
        assert!(serde_json::from_str::<Row>(r#"{"email":"nope","id":"1"}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"id":""}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"id":8}"#).is_err());
    }
}
