//! Where entries are kept: the [`Store`] trait and its backends.
//!
//! The cache layer decides *what* is stored and *when* it is served (RFC
//! 9111); a store only keeps bytes under keys. The backends: [`MemoryStore`]
//! (the default: bounded in bytes, least recently used evicted first),
//! [`SqliteStore`] (feature `sqlite`: one file that several processes on a
//! machine share) and `RedisStore` (feature `redis`: one server that many
//! processes and machines share, a TTL on every key).
//!
//! # The model
//!
//! - A [`Key`] is the primary key of a request: the exact bytes of a
//!   length-prefixed canonical form (method, normalized URL, body digest for
//!   a POST, partition), so two different requests never share one. A store
//!   that needs a fixed-size name (SQLite, Redis) uses its SHA-256
//!   ([`Key::digest`]), computed when asked for; the memory store compares
//!   the bytes themselves.
//! - Under one key live several **variants** ([`VariantKey`]: the SHA-256 of
//!   the request header values that the response's `Vary` selects). They
//!   coexist: storing the `Accept-Language: de` answer does not evict the
//!   `en` one.
//! - An entry is a [`Meta`] (the response head and everything the layer
//!   needs to judge it; bytes through [`Meta::encode`] and [`Meta::decode`])
//!   plus a body: a sequence of chunks. A store gives each entry it commits
//!   an [`EntryId`], never reused while the store lives; [`Store::body`]
//!   reads by it.
//!
//! # What a backend must do
//!
//! - **Writes stream, and only committed entries are served.**
//!   [`Store::begin`] returns an [`EntryWriter`]; the layer calls
//!   [`write`](EntryWriter::write) for each chunk while the response streams
//!   to the caller, then [`commit`](EntryWriter::commit) when the body has
//!   ended. Dropping the writer without committing aborts: nothing of the
//!   entry is ever returned by [`lookup`](Store::lookup) or
//!   [`body`](Store::body), and its chunks are freed (at once, or by a later
//!   sweep for a store that a killed process may leave with orphans). A
//!   half-written entry is never served, not even after a crash mid-write.
//! - **Commit replaces atomically.** Committing replaces the entry of the
//!   same key and variant, if any, in one step: a reader sees the old entry
//!   or the new one, never a mix. [`body`](Store::body) of an `EntryId`
//!   that was since replaced or removed returns `Ok(None)` (the layer then
//!   treats the request as a miss), never another entry's bytes; a stream
//!   whose entry goes away while it is read ends with an error rather than
//!   with another entry's chunks.
//! - **Variants per key.** Committing leaves the other variants of the key
//!   in place. A store keeps at most [`MAX_VARIANTS`] per key, dropping the
//!   oldest.
//! - **Size caps.** Every store caps its total size in bytes and may refuse
//!   an entry bigger than its own per-entry cap: `write` then returns an
//!   error ([`TooLarge`]), the layer drops the writer (an abort) and the
//!   response goes on streaming to the caller, only not stored. A full
//!   store evicts (least recently used where it can tell) rather than grow.
//! - **TTL.** [`Meta::expires_at`] is when the entry is of no more use (its
//!   freshness plus the time it may be served stale or revalidated). A store
//!   never returns an entry past that instant, and frees it then or soon
//!   after (Redis: a TTL on every key it writes, chunks included, from
//!   [`Meta::ttl`]; memory and SQLite: dropped on lookup and by sweeps).
//! - **Concurrency.** A store is shared by every clone of the layer (and,
//!   for disk and Redis, by other processes): every method takes `&self` and
//!   may run from many tasks at once.
//! - **Errors** are [`BoxError`]s. The layer fails open: a store error is a
//!   miss (or a response not stored), with a `tracing` warning.
//!
//! The methods return boxed futures, so the trait is object safe (the layer
//! keeps an `Arc<dyn Store>`). A store doing blocking I/O (SQLite) does it
//! off the async workers (`tokio::task::spawn_blocking`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

mod key;
mod memory;
mod meta;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::RedisStore;
pub use key::Key;
pub(crate) use key::KeyMap;
pub use memory::{MemoryStore, DEFAULT_MEMORY_CAPACITY};
pub use meta::Meta;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SqliteStore, DEFAULT_SQLITE_CAPACITY};

/// An error from a store (or from the layer).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, sendable future, as the [`Store`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The chunks of a stored body, in order, as [`Store::body`] returns them.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// The most variants a store keeps under one key (a response that varies
/// on more values than this evicts the oldest variant).
pub const MAX_VARIANTS: usize = 16;

/// Which variant of a key an entry is: the SHA-256 of the request header
/// values its response's `Vary` names ([`VariantKey::NONE`] without
/// `Vary`).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct VariantKey([u8; 32]);

impl VariantKey {
    /// The variant of a response without `Vary`.
    pub const NONE: VariantKey = VariantKey([0; 32]);

    /// A variant from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        VariantKey(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Debug for VariantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VariantKey({})", &self.to_hex()[..16])
    }
}

/// Names one committed entry of a store, for [`Store::body`] and
/// [`Store::update`]: a counter or a row id, never reused while the store
/// lives.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct EntryId(pub u64);

/// One stored variant, as [`Store::lookup`] returns it.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The entry's id, to read its body.
    pub id: EntryId,
    /// The entry's head.
    pub meta: Arc<Meta>,
}

/// An entry bigger than a store takes: the error of [`EntryWriter::write`]
/// past a store's per-entry cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("entry larger than the store's cap")
    }
}

impl std::error::Error for TooLarge {}

/// Storage for cached responses. See the [module docs](self) for the rules
/// every backend follows.
pub trait Store: fmt::Debug + Send + Sync + 'static {
    /// Every committed, unexpired variant stored under `key`, in any order
    /// (empty when none). A store that keeps recency (LRU) counts this as a
    /// use of the variants returned.
    fn lookup<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Vec<Stored>, BoxError>>;

    /// [`lookup`](Self::lookup) answered at once, for a store that needs no
    /// I/O to answer (memory): the layer then handles a miss without a
    /// boxed future of its own. `None` (the default) means "ask `lookup`";
    /// a store that answers here answers as `lookup` would.
    fn lookup_now(&self, key: &Key) -> Option<Result<Vec<Stored>, BoxError>> {
        let _ = key;
        None
    }

    /// The body of entry `id` under `key`, chunk by chunk; `Ok(None)` when
    /// that entry is gone (replaced, removed, expired or evicted since its
    /// lookup). Never another entry's chunks.
    fn body<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
    ) -> BoxFuture<'a, Result<Option<ChunkStream>, BoxError>>;

    /// Starts writing an entry for `key` and `meta.variant()`. Nothing of it
    /// is visible until [`EntryWriter::commit`].
    fn begin<'a>(
        &'a self,
        key: &'a Key,
        meta: Meta,
    ) -> BoxFuture<'a, Result<Box<dyn EntryWriter>, BoxError>>;

    /// Replaces the head of entry `id` (a `304` merged into it) and keeps its
    /// body and id; `Ok(false)` when that entry is gone. The new head has the
    /// same variant; its [`Meta::expires_at`] is the entry's new TTL.
    fn update<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
        meta: Meta,
    ) -> BoxFuture<'a, Result<bool, BoxError>>;

    /// Removes every variant stored under `key`.
    fn remove<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<(), BoxError>>;

    /// Removes every entry.
    fn clear(&self) -> BoxFuture<'_, Result<(), BoxError>>;
}

/// An entry being written: see [`Store::begin`]. Dropping it without
/// [`commit`](Self::commit) aborts the entry.
pub trait EntryWriter: Send {
    /// Appends a chunk. An error (such as [`TooLarge`]) means the entry will
    /// not be stored: the layer drops the writer.
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, Result<(), BoxError>>;

    /// Makes the entry visible, replacing the entry of the same key and
    /// variant in one step.
    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), BoxError>>;
}

impl<S: Store + ?Sized> Store for Arc<S> {
    fn lookup<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Vec<Stored>, BoxError>> {
        (**self).lookup(key)
    }

    fn lookup_now(&self, key: &Key) -> Option<Result<Vec<Stored>, BoxError>> {
        (**self).lookup_now(key)
    }

    fn body<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
    ) -> BoxFuture<'a, Result<Option<ChunkStream>, BoxError>> {
        (**self).body(key, id)
    }

    fn begin<'a>(
        &'a self,
        key: &'a Key,
        meta: Meta,
    ) -> BoxFuture<'a, Result<Box<dyn EntryWriter>, BoxError>> {
        (**self).begin(key, meta)
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
        meta: Meta,
    ) -> BoxFuture<'a, Result<bool, BoxError>> {
        (**self).update(key, id, meta)
    }

    fn remove<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<(), BoxError>> {
        (**self).remove(key)
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        (**self).clear()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}
