//! [`Key`]: a request's primary key, and [`KeyMap`], a map keyed by them.
//!
//! A key is the exact bytes of the request's canonical form, so two
//! different requests never share one, by construction. The SHA-256 of
//! those bytes ([`Key::digest`]) is computed only when a store asks for a
//! fixed-size name; the hash a map needs is a foldhash of the bytes with a
//! seed drawn at random once per process, computed once when the key is
//! made.

use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

/// A request's primary key: the exact bytes of its canonical form (see the
/// [module docs](super)), or a 32-byte digest read back by a store
/// ([`Key::from_bytes`]).
///
/// Two keys are equal when their bytes are: two requests share a key only
/// when they are the same request. Cloning is cheap (a reference count).
#[derive(Clone)]
pub struct Key {
    /// The map hash of `form`, computed once.
    hash: u64,
    form: Form,
}

#[derive(Clone, PartialEq, Eq)]
enum Form {
    /// The canonical form, as the layer writes it.
    Exact(Arc<[u8]>),
    /// A digest, for a store that reads keys back (and for tests).
    Digest([u8; 32]),
}

/// The process's hash seed: one for every [`Key`], drawn at random once, so
/// that every map of keys agrees on a key's hash and no one can predict it.
/// foldhash (its `quality` variant, as the maps take the hash as it is)
/// rather than SipHash: a key is a short canonical form, hashed once, and
/// SipHash cost several times as much for it.
fn hash_keys() -> &'static foldhash::quality::RandomState {
    static KEYS: OnceLock<foldhash::quality::RandomState> = OnceLock::new();
    KEYS.get_or_init(foldhash::quality::RandomState::default)
}

impl Key {
    /// A key from its canonical form (the layer's).
    pub(crate) fn exact(form: &[u8]) -> Self {
        Key {
            hash: hash_keys().hash_one(form),
            form: Form::Exact(Arc::from(form)),
        }
    }

    /// A key from a 32-byte digest (for a store that reads the digests of
    /// [`digest`](Self::digest) back, and for tests). Such a key equals no
    /// key the layer makes, but a store that names entries by digest finds
    /// the same entries under it.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Key {
            hash: hash_keys().hash_one(bytes),
            form: Form::Digest(bytes),
        }
    }

    /// The SHA-256 of the canonical form (computed on each call), or the
    /// digest the key was made from: a fixed-size name for a store that
    /// keys by bytes (SQLite) or text (Redis).
    pub fn digest(&self) -> [u8; 32] {
        match &self.form {
            Form::Exact(form) => Sha256::digest(form).into(),
            Form::Digest(bytes) => *bytes,
        }
    }

    /// Lowercase hex of [`digest`](Self::digest), 64 characters (for a
    /// store that keys by text).
    pub fn to_hex(&self) -> String {
        super::hex(&self.digest())
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.form == other.form
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", &self.to_hex()[..16])
    }
}

/// A map keyed by [`Key`]s, hashed by the hash each key carries: hashing
/// its bytes again would only spend time.
pub(crate) type KeyMap<V> = std::collections::HashMap<Key, V, BuildHasherDefault<KeyHasher>>;

/// The [`Hasher`] of a [`KeyMap`]: the hash a [`Key`] writes, as it is.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only `Key`s are hashed here, and they write one `u64`; anything
        // else still hashes, if not as well.
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_keys_compare_their_bytes() {
        let a = Key::exact(b"\x04sck2 one");
        assert_eq!(a, Key::exact(b"\x04sck2 one"));
        assert_ne!(a, Key::exact(b"\x04sck2 two"));
        assert_eq!(
            a.digest(),
            <[u8; 32]>::from(Sha256::digest(b"\x04sck2 one"))
        );
        // A digest key is another key, with the same name in a store.
        let d = Key::from_bytes(a.digest());
        assert_ne!(a, d);
        assert_eq!(d.digest(), a.digest());
        assert_eq!(a.to_hex(), d.to_hex());
        let mut map = KeyMap::default();
        map.insert(a.clone(), 1);
        map.insert(d.clone(), 2);
        assert_eq!(map[&a], 1);
        assert_eq!(map[&d], 2);
    }
}
