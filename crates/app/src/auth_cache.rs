//! Authenticated callers (and the Admin API's user listing) kept in memory between requests
//! (ADR 0022).
//!
//! An entry is a verified token's caller record, keyed by the SHA-256 of the token and
//! filed under the store's [`AuthStamp`] of the moment before the record was read. It is
//! served only while the store's stamp is still that one: any committed change to the users,
//! organizations, memberships, permissions, people or credentials tables moves the stamp
//! (see `roster_store::changes`), and the first request after it reads the database again.
//! When the store cannot give a stamp, nothing is served from here or put here.
//!
//! The same rule keeps each organization's user listing (`GET /api/admin/users`), whose
//! tables (users, memberships, people, external ids) move the stamp too.
//!
//! Bounded: entries of an older stamp are dropped as soon as one of the new stamp is stored,
//! and a full cache is emptied before it grows past its capacity ([`CAPACITY`] callers).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use roster_store::auth::CallerRecord;
use roster_store::changes::AuthStamp;
use sha2::{Digest, Sha256};

/// Most callers kept at once: distinct tokens seen since the last change.
pub(crate) const CAPACITY: usize = 10_000;

/// The cache key of a bearer token: its hash, so the token itself is never kept.
pub(crate) type TokenKey = [u8; 32];

pub(crate) fn token_key(token: &str) -> TokenKey {
    Sha256::digest(token.as_bytes()).into()
}

/// A cached caller: their record and when the token expires (whole seconds, UTC).
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub(crate) expires_at: i64,
    pub(crate) record: Arc<CallerRecord>,
}

/// Values read under one store stamp, served only while the store still shows it; at most
/// `capacity` of them. `S` is the store's [`AuthStamp`] (any comparable stamp in tests).
#[derive(Debug)]
pub(crate) struct Stamped<K, V, S = AuthStamp> {
    capacity: usize,
    inner: Mutex<Inner<K, V, S>>,
}

#[derive(Debug)]
struct Inner<K, V, S> {
    /// The stamp every entry was read under.
    stamp: Option<S>,
    entries: HashMap<K, V>,
}

/// Authenticated callers by token.
pub(crate) type CallerCache = Stamped<TokenKey, Cached>;

impl Default for CallerCache {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl<K: Eq + Hash, V: Clone, S: PartialEq> Stamped<K, V, S> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner {
                stamp: None,
                entries: HashMap::new(),
            }),
        }
    }

    /// The value cached for `key`, when it was read under `stamp` (the store's current one).
    pub(crate) fn get(&self, key: &K, stamp: &S) -> Option<V> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.stamp.as_ref() != Some(stamp) {
            return None;
        }
        inner.entries.get(key).cloned()
    }

    /// Keeps a value read after the store showed `stamp`.
    pub(crate) fn put(&self, key: K, stamp: S, value: V) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.stamp.as_ref() != Some(&stamp) {
            // Entries of another stamp are stale (or this one is, and the next request
            // will read again): start over under the stamp of the newest read.
            inner.entries.clear();
            inner.stamp = Some(stamp);
        }
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&key) {
            inner.entries.clear();
        }
        inner.entries.insert(key, value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_a_hash_not_the_token() {
        let key = token_key("secret-token");
        assert_ne!(&key[..], b"secret-token".as_slice());
        assert_eq!(key, token_key("secret-token"));
        assert_ne!(key, token_key("secret-tokeN"));
        assert_eq!(CallerCache::default().len(), 0);
    }

    /// A cache of `&str` values under `u32` stamps: the rules do not depend on the store's.
    fn cache(capacity: usize) -> Stamped<u8, &'static str, u32> {
        Stamped::new(capacity)
    }

    #[test]
    fn a_value_is_served_only_under_the_stamp_it_was_read_under() {
        let c = cache(10);
        assert_eq!(c.get(&1, &7), None);
        c.put(1, 7, "ada");
        assert_eq!(c.get(&1, &7), Some("ada"));
        assert_eq!(c.get(&2, &7), None, "another key");
        assert_eq!(c.get(&1, &8), None, "the store moved on");
    }

    #[test]
    fn a_value_of_a_new_stamp_drops_every_older_one() {
        let c = cache(10);
        c.put(1, 7, "ada");
        c.put(2, 7, "grace");
        assert_eq!(c.len(), 2);
        c.put(3, 8, "edsger");
        assert_eq!(c.len(), 1, "the entries of stamp 7 are gone");
        assert_eq!(c.get(&3, &8), Some("edsger"));
        assert_eq!(c.get(&1, &8), None);
        assert_eq!(c.get(&1, &7), None, "and stamp 7 is no longer served");
    }

    #[test]
    fn a_full_cache_starts_over_but_a_known_key_is_replaced_in_place() {
        let c = cache(2);
        c.put(1, 7, "ada");
        c.put(2, 7, "grace");
        c.put(2, 7, "grace hopper");
        assert_eq!(c.len(), 2, "replacing a key does not empty the cache");
        assert_eq!(c.get(&2, &7), Some("grace hopper"));
        c.put(3, 7, "edsger");
        assert_eq!(c.len(), 1, "a new key past the capacity empties it first");
        assert_eq!(c.get(&3, &7), Some("edsger"));
        assert_eq!(c.get(&1, &7), None);
    }
}
