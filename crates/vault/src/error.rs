//! The vault's one error enum. Owns the wording operators see when a key or a sealed value is
//! wrong. Must never carry key material, plaintext or the text of a rejected key: variants hold
//! only positions, fixed reasons and public key ids.

use std::fmt;

use crate::KeyId;

/// Everything that can go wrong loading keys or opening a sealed value.
///
/// Positions (`index`) count from 0 in the configured list, newest key first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The key list is empty; the vault cannot seal or open anything without a key.
    #[error("no secret key: at least one is required")]
    NoKey,
    /// One configured key could not be used. `reason` is a fixed phrase, never the value.
    #[error("secret key {index} (counting from 0, newest first) is invalid: {reason}")]
    BadKey { index: usize, reason: &'static str },
    /// The value names a key that is not in the ring: a retired key, or another installation's.
    #[error("the value was sealed with key {0}, which is not in the key ring")]
    UnknownKey(KeyId),
    /// Authentication failed: the value was altered, or it is opened under another context
    /// (another row, org or field) than the one it was sealed for.
    #[error("could not decrypt: the value was altered or belongs to another context")]
    Decrypt,
    /// The bytes are not a sealed value (too short, unknown format version), or a value
    /// sealed from bytes that are not UTF-8 was opened as a string.
    #[error("not a sealed value of a known format")]
    Malformed,
    /// The same key appears twice in the list; `index` is the later copy.
    #[error("secret key {index} (counting from 0, newest first) repeats an earlier key")]
    DuplicateKey { index: usize },
}

/// A [`KeyId`] was not 16 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseKeyIdError;

impl fmt::Display for ParseKeyIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key id is 16 hexadecimal digits")
    }
}

impl std::error::Error for ParseKeyIdError {}
