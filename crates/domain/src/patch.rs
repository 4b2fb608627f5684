//! Deserializers for partial updates (`PUT` bodies whose fields are all optional), which
//! must tell a field that is absent (leave it) from one that is `null` (clear it).

use serde::{Deserialize, Deserializer};

/// A field that may be absent but not `null`: `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value (`Some(Some(v))`):
/// `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The names of the fields a request carried, for an audit event (names only: values may be
/// HR data or secrets).
pub fn present_fields<const N: usize>(fields: [(&'static str, bool); N]) -> Vec<&'static str> {
    fields
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
}
