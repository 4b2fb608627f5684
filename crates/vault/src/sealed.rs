//! The stored form of an encrypted value and its byte layout. Owns parsing and slicing that
//! layout. Must never decrypt (that needs a key, which only `ring` handles) and must never
//! panic on bytes read back from the database, whatever they are.
//!
//! Layout, version 1:
//!
//! ```text
//! [0]        version = 1
//! [1..9]     key id (8 bytes)
//! [9..33]    XChaCha20 nonce (24 bytes)
//! [33..n-16] ciphertext (as long as the plaintext)
//! [n-16..n]  Poly1305 tag
//! ```

use std::fmt;

use crate::key::KEY_ID_LEN;
use crate::{Error, KeyId};

pub(crate) const VERSION: u8 = 1;
pub(crate) const HEADER_LEN: usize = 1 + KEY_ID_LEN;
pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const TAG_LEN: usize = 16;
/// An empty plaintext still carries a header, a nonce and a tag.
pub(crate) const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// An encrypted value as stored in a BLOB column: version, key id, nonce, ciphertext and tag.
/// Only [`crate::KeyRing`] makes or opens one; `Debug` shows the key id and length, not bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// Checks the layout of bytes read back from storage. Whether they decrypt is only known
    /// when opened; anything too short or of an unknown version is [`Error::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() < MIN_LEN || bytes[0] != VERSION {
            return Err(Error::Malformed);
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The bytes to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.clone()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The key this value was sealed with.
    pub fn key_id(&self) -> KeyId {
        let mut id = [0_u8; KEY_ID_LEN];
        id.copy_from_slice(&self.0[1..HEADER_LEN]);
        KeyId::from_bytes(id)
    }

    /// Wraps bytes laid out by `ring`, which writes the header it was given.
    pub(crate) fn from_layout(bytes: Vec<u8>) -> Self {
        debug_assert!(bytes.len() >= MIN_LEN && bytes[0] == VERSION);
        Self(bytes)
    }

    /// Version and key id: authenticated along with the context, so neither can be swapped.
    pub(crate) fn header(&self) -> &[u8] {
        &self.0[..HEADER_LEN]
    }

    pub(crate) fn nonce(&self) -> &[u8] {
        &self.0[HEADER_LEN..HEADER_LEN + NONCE_LEN]
    }

    pub(crate) fn ciphertext(&self) -> &[u8] {
        &self.0[HEADER_LEN + NONCE_LEN..self.0.len() - TAG_LEN]
    }

    pub(crate) fn tag(&self) -> &[u8] {
        &self.0[self.0.len() - TAG_LEN..]
    }
}

/// The header of a value sealed under `key_id` with the current format.
pub(crate) fn header(key_id: KeyId) -> [u8; HEADER_LEN] {
    let mut header = [0_u8; HEADER_LEN];
    header[0] = VERSION;
    header[1..].copy_from_slice(key_id.as_bytes());
    header
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("version", &self.0[0])
            .field("key_id", &self.key_id())
            .field("len", &self.0.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_checked_before_anything_is_sliced() {
        let mut valid = vec![0_u8; MIN_LEN];
        valid[0] = VERSION;
        let mut future = valid.clone();
        future[0] = 2;
        for (bytes, ok) in [
            (valid.clone(), true),
            (valid[..MIN_LEN - 1].to_vec(), false),
            (Vec::new(), false),
            (future, false),
        ] {
            assert_eq!(
                Sealed::from_bytes(&bytes).is_ok(),
                ok,
                "{} bytes",
                bytes.len()
            );
        }
        let sealed = Sealed::from_bytes(&valid).unwrap();
        assert!(sealed.ciphertext().is_empty());
        assert_eq!(sealed.tag().len(), TAG_LEN);
        assert_eq!(sealed.nonce().len(), NONCE_LEN);
    }
}
