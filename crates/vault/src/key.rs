//! One secret key, its public fingerprint ([`KeyId`]), HKDF derivation from it, and
//! [`SecretBytes`], the wrapper that carries plaintext and derived keys out of the vault.
//! Owns key parsing and generation. Must never print, log or serialize key material: `Debug`
//! is redacted, there is no `Display`, and buffers that held a key are wiped on drop.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD as STANDARD_PADDED;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hkdf::Hkdf;
use rand::RngCore as _;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretBox, SecretSlice, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{Error, ParseKeyIdError};

/// XChaCha20-Poly1305 and HMAC-SHA256 both want 256-bit keys.
pub(crate) const KEY_LEN: usize = 32;
/// 64 bits of fingerprint: accidental collisions between an installation's handful of keys
/// are out of reach (about 2^32 keys before one is likely), and 16 hex digits stay readable.
pub(crate) const KEY_ID_LEN: usize = 8;

/// HKDF `info` labels. Each use of a key gets its own label so that no output of one use is
/// ever an output of another; `derive` callers get a prefix no internal label starts with.
const KEY_ID_INFO: &[u8] = b"roster-vault/v1/key-id";
pub(crate) const CIPHER_INFO: &[u8] = b"roster-vault/v1/xchacha20poly1305";
const DERIVE_INFO_PREFIX: &[u8] = b"roster-vault/v1/derive/";

/// Operators paste keys from `openssl rand -base64 32` (standard, padded) as often as from
/// URL-safe tools that drop the padding; both spell the same 32 bytes.
const DECODE_CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE_CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE_CONFIG);

/// A 32-byte key is 43 or 44 base64 characters. Longer input is the wrong length whatever it
/// holds, and capping it lets a fixed stack buffer (64 characters decode to at most 48 bytes)
/// take any decode without a heap copy of the key.
const MAX_ENCODED_LEN: usize = 64;
const DECODE_BUFFER_LEN: usize = MAX_ENCODED_LEN / 4 * 3;

const EMPTY: &str = "empty";
const NOT_BASE64: &str = "not base64 (standard or URL-safe alphabet)";
const WRONG_LENGTH: &str = "wrong length: a key is 32 bytes, 43 or 44 base64 characters";

/// One 256-bit key. Parse it from configuration or generate one; there is no `Display`, and
/// `Debug` prints `[redacted]`. The bytes live in one heap allocation, wiped on drop.
pub struct SecretKey(SecretBox<[u8; KEY_LEN]>);

impl SecretKey {
    /// Parses base64 of exactly 32 bytes, standard or URL-safe alphabet, padded or not.
    /// Surrounding whitespace is ignored (keys read from files end with a newline).
    /// Errors report the position as 0; [`crate::KeyRing::parse_list`] reports the real one.
    pub fn parse(b64: &str) -> Result<Self, Error> {
        Self::parse_at(b64, 0)
    }

    pub(crate) fn parse_at(b64: &str, index: usize) -> Result<Self, Error> {
        let bad = |reason| Error::BadKey { index, reason };
        let text = b64.trim();
        if text.is_empty() {
            return Err(bad(EMPTY));
        }
        if text.len() > MAX_ENCODED_LEN {
            return Err(bad(WRONG_LENGTH));
        }
        let mut buffer = Zeroizing::new([0_u8; DECODE_BUFFER_LEN]);
        let len = STANDARD
            .decode_slice(text, &mut *buffer)
            .or_else(|_| URL_SAFE.decode_slice(text, &mut *buffer))
            .map_err(|_| bad(NOT_BASE64))?;
        if len != KEY_LEN {
            return Err(bad(WRONG_LENGTH));
        }
        Ok(Self(SecretBox::init_with_mut(|key: &mut [u8; KEY_LEN]| {
            key.copy_from_slice(&buffer[..KEY_LEN]);
        })))
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        // OsRng panics only if the OS has no randomness to give; no key is better than a weak one.
        Self(SecretBox::init_with_mut(|key: &mut [u8; KEY_LEN]| {
            OsRng.fill_bytes(key);
        }))
    }

    /// The key as standard padded base64, the form `ROSTER_SECRET_KEY` takes.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD_PADDED.encode(self.bytes()))
    }

    /// The key's public fingerprint.
    pub fn id(&self) -> KeyId {
        let mut id = [0_u8; KEY_ID_LEN];
        self.expand(&[KEY_ID_INFO], &mut id);
        KeyId(id)
    }

    /// 32 bytes derived for a caller's purpose. The vault prefixes `info` so that no caller can
    /// ask for the cipher key or the key id.
    pub(crate) fn derive(&self, info: &[u8]) -> SecretBytes {
        let mut out = vec![0_u8; KEY_LEN];
        self.expand(&[DERIVE_INFO_PREFIX, info], &mut out);
        SecretBytes::from_vec(out)
    }

    /// HKDF-SHA256 with no salt: the input is already a uniformly random key, which is the case
    /// RFC 5869 §3.1 allows without one.
    pub(crate) fn expand(&self, info: &[&[u8]], out: &mut [u8]) {
        #[expect(
            clippy::expect_used,
            reason = "HKDF-SHA256 refuses only outputs over 8160 bytes; callers ask for 8 or 32"
        )]
        Hkdf::<Sha256>::new(None, self.bytes())
            .expand_multi_info(info, out)
            .expect("HKDF output length is within 255 hash blocks");
    }

    fn bytes(&self) -> &[u8; KEY_LEN] {
        self.0.expose_secret()
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self(SecretBox::init_with_mut(|key: &mut [u8; KEY_LEN]| {
            key.copy_from_slice(self.bytes());
        }))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A short, stable fingerprint of a [`SecretKey`]: the first 8 bytes of HKDF-SHA256 of the key,
/// shown as 16 lowercase hex digits. One-way, so it is safe to store, log and show operators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    pub(crate) const fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// The 8 bytes a sealed value carries at `[1..9]`; a store compares them in SQL to find
    /// the values under one key without reading the rest.
    pub const fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }
}

/// The 8 bytes of a key id as read back from storage (`substr(sealed, 2, 8)`); any other
/// length is not a key id.
impl TryFrom<&[u8]> for KeyId {
    type Error = ParseKeyIdError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; KEY_ID_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| ParseKeyIdError)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = ParseKeyIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.as_bytes();
        if digits.len() != KEY_ID_LEN * 2 {
            return Err(ParseKeyIdError);
        }
        let mut id = [0_u8; KEY_ID_LEN];
        for (byte, pair) in id.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
        }
        Ok(Self(id))
    }
}

fn hex_digit(c: u8) -> Result<u8, ParseKeyIdError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(ParseKeyIdError),
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Bytes that must not leak: decrypted plaintext, derived keys. Read them with
/// [`ExposeSecret::expose_secret`]; `Debug` prints `[redacted]` and the memory is wiped on drop.
pub struct SecretBytes(SecretSlice<u8>);

impl SecretBytes {
    /// Takes ownership of the buffer as is. Callers hand over vectors whose capacity equals
    /// their length, so the boxing inside cannot reallocate and leave an unwiped copy.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Self {
        Self(SecretSlice::from(bytes))
    }
}

impl ExposeSecret<[u8]> for SecretBytes {
    fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_alphabets_with_and_without_padding_give_the_same_key() {
        // 0xfb 0xff repeated puts '+' and '/' (or '-' and '_') in the encoding.
        let bytes: Vec<u8> = [0xfb, 0xff].iter().copied().cycle().take(KEY_LEN).collect();
        let padded = STANDARD_PADDED.encode(&bytes);
        assert!(padded.contains('+') && padded.contains('/') && padded.ends_with('='));
        let url_safe = padded.replace('+', "-").replace('/', "_");
        for text in [
            padded.clone(),
            padded.trim_end_matches('=').to_owned(),
            url_safe.clone(),
            url_safe.trim_end_matches('=').to_owned(),
            format!("  {padded}\n"),
        ] {
            let key = SecretKey::parse(&text).unwrap();
            assert_eq!(key.bytes().as_slice(), bytes.as_slice(), "{text:?}");
        }
    }

    #[test]
    fn bad_keys_say_why() {
        let short = STANDARD_PADDED.encode([7_u8; 31]);
        let long = STANDARD_PADDED.encode([7_u8; 33]);
        let very_long = STANDARD_PADDED.encode([7_u8; 200]);
        let garbage = "!".repeat(44);
        let mixed = format!("{}+-", "A".repeat(41));
        for (text, reason) in [
            ("", EMPTY),
            ("  \n", EMPTY),
            (short.as_str(), WRONG_LENGTH),
            (long.as_str(), WRONG_LENGTH),
            (very_long.as_str(), WRONG_LENGTH),
            (garbage.as_str(), NOT_BASE64),
            (mixed.as_str(), NOT_BASE64),
        ] {
            assert_eq!(
                SecretKey::parse_at(text, 3).unwrap_err(),
                Error::BadKey { index: 3, reason },
                "{text:?}"
            );
        }
    }

    #[test]
    fn key_id_prints_and_parses_back() {
        let id = SecretKey::generate().id();
        let text = id.to_string();
        assert_eq!(text.len(), 16);
        assert_eq!(text.parse::<KeyId>(), Ok(id));
        assert_eq!(text.to_uppercase().parse::<KeyId>(), Ok(id));
        for bad in [
            "",
            "0123",
            "0123456789abcdefg",
            "0123456789abcdeg",
            "+123456789abcdef",
        ] {
            assert_eq!(bad.parse::<KeyId>(), Err(ParseKeyIdError), "{bad:?}");
        }
    }

    #[test]
    fn key_id_round_trips_through_its_bytes_and_only_eight_bytes_are_one() {
        let id = SecretKey::generate().id();
        assert_eq!(KeyId::try_from(id.as_bytes().as_slice()), Ok(id));
        for len in [0, 7, 9, 16] {
            assert_eq!(
                KeyId::try_from(vec![1_u8; len].as_slice()),
                Err(ParseKeyIdError),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn key_id_is_stable_and_not_a_prefix_of_the_key() {
        let key = SecretKey::parse(&STANDARD_PADDED.encode([0_u8; KEY_LEN])).unwrap();
        assert_eq!(key.id(), key.clone().id());
        assert_ne!(key.id().as_bytes(), &[0_u8; KEY_ID_LEN]);
    }

    #[test]
    fn derived_keys_differ_by_info_and_from_the_cipher_key() {
        let key = SecretKey::generate();
        let mut cipher_key = [0_u8; KEY_LEN];
        key.expand(&[CIPHER_INFO], &mut cipher_key);
        let sessions = key.derive(b"sessions");
        assert_eq!(sessions.expose_secret().len(), KEY_LEN);
        assert_eq!(
            sessions.expose_secret(),
            key.derive(b"sessions").expose_secret()
        );
        assert_ne!(
            sessions.expose_secret(),
            key.derive(b"csrf").expose_secret()
        );
        // Asking for the vault's own label through `derive` must not yield the cipher key.
        assert_ne!(
            key.derive(CIPHER_INFO).expose_secret(),
            cipher_key.as_slice()
        );
    }
}
