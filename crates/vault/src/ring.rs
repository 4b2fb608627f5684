//! The key ring: the configured keys, newest first, and every use of them — sealing, opening,
//! rewrapping and deriving keys for other purposes. Owns the choice of cipher and of which key
//! seals. Must never hand out a key itself, never seal with any key but the newest, and never
//! return plaintext except inside [`SecretBytes`] or [`SecretString`].

use std::fmt;

use chacha20poly1305::aead::{AeadInPlace as _, KeyInit as _};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::{Zeroize as _, Zeroizing};

use crate::key::{CIPHER_INFO, KEY_LEN};
use crate::sealed::{self, HEADER_LEN, MIN_LEN, NONCE_LEN};
use crate::{Context, Error, KeyId, Sealed, SecretBytes, SecretKey};

/// The keys the vault knows, newest first. Seals with the newest (the primary); opens with
/// whichever key a sealed value names, so older keys keep working until they are retired.
#[derive(Clone)]
pub struct KeyRing {
    /// Never empty: [`KeyRing::new`] refuses an empty list.
    entries: Vec<Entry>,
}

impl KeyRing {
    /// A ring of `keys`, newest first. Refuses an empty list and a key listed twice.
    pub fn new(keys: Vec<SecretKey>) -> Result<Self, Error> {
        if keys.is_empty() {
            return Err(Error::NoKey);
        }
        let mut entries: Vec<Entry> = Vec::with_capacity(keys.len());
        for (index, key) in keys.into_iter().enumerate() {
            let entry = Entry::new(key);
            // Compared by id: distinct keys with one id could not be told apart when opening,
            // so they are refused like a repeated key (and are, in practice, one).
            if entries.iter().any(|earlier| earlier.id == entry.id) {
                return Err(Error::DuplicateKey { index });
            }
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    /// A ring from base64 keys, newest first (the `ROSTER_SECRET_KEY` list). An error names the
    /// position of the bad item and why it is bad, never its text.
    pub fn parse_list(items: &[impl AsRef<str>]) -> Result<Self, Error> {
        let keys = items
            .iter()
            .enumerate()
            .map(|(index, item)| SecretKey::parse_at(item.as_ref(), index))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(keys)
    }

    /// The id of the key new values are sealed with.
    pub fn primary_id(&self) -> KeyId {
        self.primary().id
    }

    /// Every key id, newest first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.entries.iter().map(|entry| entry.id).collect()
    }

    /// Seals `plaintext` under the primary key, bound to `context`.
    pub fn encrypt(&self, plaintext: &[u8], context: &Context) -> Sealed {
        let entry = self.primary();
        let header = sealed::header(entry.id);
        // A fresh random 192-bit nonce per value, with no counter to keep in step across
        // processes, restored backups or rotations: after 2^48 values under one key the chance
        // of any repeat is still about 2^-97, so it is safe at any volume Roster could reach.
        let mut nonce = [0_u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);

        // Room for the tag up front, so the plaintext copied in is never left behind by a
        // reallocation; it is overwritten in place by the ciphertext.
        let mut out = Vec::with_capacity(MIN_LEN + plaintext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        #[expect(
            clippy::expect_used,
            reason = "XChaCha20-Poly1305 refuses only messages over 256 GiB, which no stored secret is"
        )]
        let tag = entry
            .cipher()
            .encrypt_in_place_detached(
                XNonce::from_slice(&nonce),
                &aad(&header, context),
                &mut out[HEADER_LEN + NONCE_LEN..],
            )
            .expect("plaintext is under the cipher's 256 GiB limit");
        out.extend_from_slice(&tag);
        Sealed::from_layout(out)
    }

    /// Opens a value sealed by [`KeyRing::encrypt`] under the same `context`.
    pub fn decrypt(&self, sealed: &Sealed, context: &Context) -> Result<SecretBytes, Error> {
        self.open(sealed, context).map(SecretBytes::from_vec)
    }

    /// Seals a string; open it with [`KeyRing::decrypt_str`].
    pub fn encrypt_str(&self, s: &SecretString, ctx: &Context) -> Sealed {
        self.encrypt(s.expose_secret().as_bytes(), ctx)
    }

    /// Opens a value sealed by [`KeyRing::encrypt_str`]. Bytes that are not UTF-8 are
    /// [`Error::Malformed`].
    pub fn decrypt_str(&self, sealed: &Sealed, ctx: &Context) -> Result<SecretString, Error> {
        match String::from_utf8(self.open(sealed, ctx)?) {
            Ok(text) => Ok(SecretString::from(text)),
            Err(not_text) => {
                not_text.into_bytes().zeroize();
                Err(Error::Malformed)
            }
        }
    }

    /// True when `sealed` names a key other than the primary, so a rewrap job should reseal it.
    pub fn needs_rewrap(&self, sealed: &Sealed) -> bool {
        sealed.key_id() != self.primary_id()
    }

    /// Opens `sealed` and seals it again under the primary key with a fresh nonce. It always
    /// reseals, so check [`KeyRing::needs_rewrap`] first to skip needless writes.
    pub fn rewrap(&self, sealed: &Sealed, ctx: &Context) -> Result<Sealed, Error> {
        let plaintext = Zeroizing::new(self.open(sealed, ctx)?);
        Ok(self.encrypt(&plaintext, ctx))
    }

    /// A 32-byte key derived for another purpose (e.g. signing session tokens) from each key of
    /// the ring, newest first, with that key's id: sign with the first, accept any. HKDF-SHA256
    /// with `info` behind a vault prefix, so no `info` can reproduce the vault's own keys.
    pub fn derive(&self, info: &[u8]) -> Vec<(KeyId, SecretBytes)> {
        self.entries
            .iter()
            .map(|entry| (entry.id, entry.key.derive(info)))
            .collect()
    }

    /// The primary (newest) key's derived key: what new signatures use. A ring always holds
    /// one, so this cannot fail.
    pub fn derive_primary(&self, info: &[u8]) -> (KeyId, SecretBytes) {
        let entry = self.primary();
        (entry.id, entry.key.derive(info))
    }

    fn primary(&self) -> &Entry {
        &self.entries[0]
    }

    /// The plaintext in a vector whose capacity equals its length (callers box it as is).
    fn open(&self, sealed: &Sealed, context: &Context) -> Result<Vec<u8>, Error> {
        let id = sealed.key_id();
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.id == id)
            .ok_or(Error::UnknownKey(id))?;
        // `to_vec` allocates exactly the length. The tag is checked before anything is
        // decrypted, so on failure the buffer still holds only ciphertext.
        let mut buffer = sealed.ciphertext().to_vec();
        entry
            .cipher()
            .decrypt_in_place_detached(
                XNonce::from_slice(sealed.nonce()),
                &aad(sealed.header(), context),
                &mut buffer,
                Tag::from_slice(sealed.tag()),
            )
            .map_err(|_| Error::Decrypt)?;
        Ok(buffer)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("ids", &self.ids()).finish()
    }
}

/// The header is authenticated too: a value cannot be relabelled with another version or key.
fn aad(header: &[u8], context: &Context) -> Vec<u8> {
    let mut aad = header.to_vec();
    context.encode_into(&mut aad);
    aad
}

/// One key with what is computed from it once.
struct Entry {
    id: KeyId,
    key: SecretKey,
    /// The cipher gets its own HKDF output rather than the configured key, so keys handed out
    /// by [`KeyRing::derive`] can never be the one that seals secrets.
    cipher_key: SecretBox<[u8; KEY_LEN]>,
}

impl Entry {
    fn new(key: SecretKey) -> Self {
        let cipher_key = SecretBox::init_with_mut(|cipher_key: &mut [u8; KEY_LEN]| {
            key.expand(&[CIPHER_INFO], cipher_key);
        });
        Self {
            id: key.id(),
            key,
            cipher_key,
        }
    }

    /// Built per use; the cipher wipes its copy of the key when dropped.
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.cipher_key.expose_secret()))
    }
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        Self::new(self.key.clone())
    }
}
