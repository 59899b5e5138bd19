//! [`MemoryStore`]: entries in this process, bounded in bytes, least
//! recently used evicted first.

use std::collections::BTreeMap;

use super::KeyMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;

use super::{
    BoxError, BoxFuture, ChunkStream, EntryId, EntryWriter, Key, Meta, Store, Stored, TooLarge,
    MAX_VARIANTS,
};

/// The default capacity of a [`MemoryStore`]: 64 MiB.
pub const DEFAULT_MEMORY_CAPACITY: u64 = 64 * 1024 * 1024;

/// The cache's default store: entries in this process's memory, at most
/// `capacity` bytes of them (bodies and heads), the least recently used
/// evicted first. An entry bigger than a quarter of the capacity (or than
/// [`max_entry_size`](Self::max_entry_size)) is not stored. Clones share
/// the entries.
///
/// ```
/// use session_cache::store::MemoryStore;
///
/// let store = MemoryStore::new(16 * 1024 * 1024).max_entry_size(1024 * 1024);
/// assert_eq!(store.size(), 0);
/// ```
///
/// See the [module docs](super) for what every store does.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    max_entry: u64,
}

struct Inner {
    capacity: u64,
    size: u64,
    next_id: u64,
    tick: u64,
    keys: KeyMap<Vec<Entry>>,
    /// Recency: tick of last use → entry.
    lru: BTreeMap<u64, (Key, EntryId)>,
    commits: u64,
}

struct Entry {
    id: EntryId,
    meta: Arc<Meta>,
    body: Arc<[Bytes]>,
    size: u64,
    tick: u64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new(DEFAULT_MEMORY_CAPACITY)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryStore")
            .field("capacity", &inner.capacity)
            .field("size", &inner.size)
            .field("entries", &inner.lru.len())
            .finish()
    }
}

impl MemoryStore {
    /// A store of at most `capacity` bytes.
    pub fn new(capacity: u64) -> Self {
        MemoryStore {
            inner: Arc::new(Mutex::new(Inner {
                capacity,
                size: 0,
                next_id: 1,
                tick: 0,
                keys: KeyMap::default(),
                lru: BTreeMap::new(),
                commits: 0,
            })),
            max_entry: capacity / 4,
        }
    }

    /// The biggest entry stored, in bytes (default: a quarter of the
    /// capacity; never more than the capacity).
    #[must_use]
    pub fn max_entry_size(mut self, bytes: u64) -> Self {
        let capacity = self.lock().capacity;
        self.max_entry = bytes.min(capacity);
        self
    }

    /// The bytes held now (bodies and estimated heads).
    pub fn size(&self) -> u64 {
        self.lock().size
    }

    /// The number of entries held now (variants counted one by one).
    pub fn len(&self) -> usize {
        self.lock().lru.len()
    }

    /// The heads of every entry held now (to inspect what is stored).
    pub fn heads(&self) -> Vec<Arc<Meta>> {
        let inner = self.lock();
        inner
            .keys
            .values()
            .flat_map(|entries| entries.iter().map(|e| e.meta.clone()))
            .collect()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live variants under `key` (the expired ones dropped), each
    /// counted as used.
    fn lookup_at_once(&self, key: &Key) -> Vec<Stored> {
        let now = SystemTime::now();
        let mut inner = self.lock();
        let Some(entries) = inner.keys.get(key) else {
            return Vec::new();
        };
        let expired: Vec<EntryId> = entries
            .iter()
            .filter(|e| !e.meta.is_live(now))
            .map(|e| e.id)
            .collect();
        for id in expired {
            inner.remove_entry(key, id);
        }
        let found: Vec<Stored> = inner.keys.get(key).map_or_else(Vec::new, |entries| {
            entries
                .iter()
                .map(|e| Stored {
                    id: e.id,
                    meta: e.meta.clone(),
                })
                .collect()
        });
        for index in 0..found.len() {
            inner.touch(key, index);
        }
        found
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every
        // change is made in full before anything can panic).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn touch(&mut self, key: &Key, index: usize) -> Option<()> {
        self.tick += 1;
        let tick = self.tick;
        let entry = self.keys.get_mut(key)?.get_mut(index)?;
        self.lru.remove(&entry.tick);
        entry.tick = tick;
        self.lru.insert(tick, (key.clone(), entry.id));
        Some(())
    }

    fn remove_entry(&mut self, key: &Key, id: EntryId) {
        let Some(entries) = self.keys.get_mut(key) else {
            return;
        };
        if let Some(pos) = entries.iter().position(|e| e.id == id) {
            let entry = entries.swap_remove(pos);
            self.lru.remove(&entry.tick);
            self.size -= entry.size;
        }
        if entries.is_empty() {
            self.keys.remove(key);
        }
    }

    fn remove_key(&mut self, key: &Key) {
        if let Some(entries) = self.keys.remove(key) {
            for entry in entries {
                self.lru.remove(&entry.tick);
                self.size -= entry.size;
            }
        }
    }

    fn evict(&mut self) {
        while self.size > self.capacity {
            let Some((_, (key, id))) = self.lru.pop_first() else {
                break;
            };
            self.remove_entry(&key, id);
        }
    }

    fn sweep(&mut self, now: SystemTime) {
        let expired: Vec<(Key, EntryId)> = self
            .keys
            .iter()
            .flat_map(|(key, entries)| {
                entries
                    .iter()
                    .filter(|e| !e.meta.is_live(now))
                    .map(|e| (key.clone(), e.id))
            })
            .collect();
        for (key, id) in expired {
            self.remove_entry(&key, id);
        }
    }

    fn insert(&mut self, key: Key, meta: Arc<Meta>, body: Arc<[Bytes]>, size: u64) {
        let now = SystemTime::now();
        self.commits += 1;
        if self.commits.is_multiple_of(1024) {
            self.sweep(now);
        }
        let variant = meta.variant();
        let old: Vec<EntryId> = self.keys.get(&key).map_or_else(Vec::new, |entries| {
            let mut ids: Vec<(SystemTime, EntryId, bool)> = entries
                .iter()
                .map(|e| (e.meta.stored_at(), e.id, e.meta.variant() == variant))
                .collect();
            ids.sort_by_key(|(at, _, _)| *at);
            let others = ids.iter().filter(|(_, _, same)| !same).count();
            let drop_oldest = (others + 1).saturating_sub(MAX_VARIANTS);
            ids.iter()
                .filter(|(_, _, same)| *same)
                .map(|(_, id, _)| *id)
                .chain(
                    ids.iter()
                        .filter(|(_, _, same)| !same)
                        .take(drop_oldest)
                        .map(|(_, id, _)| *id),
                )
                .collect()
        });
        for id in old {
            self.remove_entry(&key, id);
        }
        let id = EntryId(self.next_id);
        self.next_id += 1;
        self.tick += 1;
        let tick = self.tick;
        self.keys.entry(key.clone()).or_default().push(Entry {
            id,
            meta,
            body,
            size,
            tick,
        });
        self.lru.insert(tick, (key, id));
        self.size += size;
        self.evict();
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Store for MemoryStore {
    fn lookup<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Vec<Stored>, BoxError>> {
        ready(Ok(self.lookup_at_once(key)))
    }

    fn lookup_now(&self, key: &Key) -> Option<Result<Vec<Stored>, BoxError>> {
        Some(Ok(self.lookup_at_once(key)))
    }

    fn body<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
    ) -> BoxFuture<'a, Result<Option<ChunkStream>, BoxError>> {
        let inner = self.lock();
        let body = inner
            .keys
            .get(key)
            .and_then(|entries| entries.iter().find(|e| e.id == id))
            .map(|e| e.body.clone());
        drop(inner);
        ready(Ok(body.map(|chunks| {
            let stream = futures_util::stream::iter(
                (0..chunks.len()).map(move |i| Ok::<_, BoxError>(chunks[i].clone())),
            );
            Box::pin(stream) as ChunkStream
        })))
    }

    fn begin<'a>(
        &'a self,
        key: &'a Key,
        meta: Meta,
    ) -> BoxFuture<'a, Result<Box<dyn EntryWriter>, BoxError>> {
        let size = meta.size();
        let writer = MemoryWriter {
            store: self.clone(),
            key: key.clone(),
            meta,
            chunks: Vec::new(),
            size,
        };
        if size > self.max_entry {
            return ready(Err(TooLarge.into()));
        }
        ready(Ok(Box::new(writer) as Box<dyn EntryWriter>))
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
        meta: Meta,
    ) -> BoxFuture<'a, Result<bool, BoxError>> {
        let mut inner = self.lock();
        let new_size = meta.size();
        let Some(entry) = inner
            .keys
            .get_mut(key)
            .and_then(|entries| entries.iter_mut().find(|e| e.id == id))
        else {
            return ready(Ok(false));
        };
        let old_size = entry.meta.size();
        entry.meta = Arc::new(meta);
        entry.size = entry.size - old_size + new_size;
        inner.size = inner.size - old_size + new_size;
        inner.evict();
        ready(Ok(true))
    }

    fn remove<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<(), BoxError>> {
        self.lock().remove_key(key);
        ready(Ok(()))
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        let mut inner = self.lock();
        inner.keys.clear();
        inner.lru.clear();
        inner.size = 0;
        ready(Ok(()))
    }
}

/// Collects an entry's chunks (bounded by the store's entry cap) and puts
/// them in the store at commit.
struct MemoryWriter {
    store: MemoryStore,
    key: Key,
    meta: Meta,
    chunks: Vec<Bytes>,
    size: u64,
}

impl EntryWriter for MemoryWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, Result<(), BoxError>> {
        self.size += chunk.len() as u64;
        if self.size > self.store.max_entry {
            self.chunks = Vec::new();
            return ready(Err(TooLarge.into()));
        }
        if !chunk.is_empty() {
            self.chunks.push(chunk);
        }
        ready(Ok(()))
    }

    fn commit(self: Box<Self>) -> BoxFuture<'static, Result<(), BoxError>> {
        let MemoryWriter {
            store,
            key,
            meta,
            chunks,
            size,
        } = *self;
        store
            .lock()
            .insert(key, Arc::new(meta), chunks.into(), size);
        ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;
    use http::{HeaderMap, StatusCode};

    use super::*;
    use crate::store::VariantKey;

    fn meta(variant: u8, ttl: u64) -> Meta {
        let now = SystemTime::now();
        Meta::new(
            "http://a.test/",
            VariantKey::from_bytes([variant; 32]),
            StatusCode::OK,
            HeaderMap::new(),
            now,
            now + Duration::from_secs(ttl),
        )
    }

    async fn put(store: &MemoryStore, key: &Key, variant: u8, body: &[&'static [u8]]) {
        let mut w = store.begin(key, meta(variant, 60)).await.unwrap();
        for chunk in body {
            w.write(Bytes::from_static(chunk)).await.unwrap();
        }
        w.commit().await.unwrap();
    }

    async fn read(store: &MemoryStore, key: &Key, id: EntryId) -> Option<Vec<u8>> {
        let mut stream = store.body(key, id).await.unwrap()?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        Some(out)
    }

    #[tokio::test]
    async fn variants_coexist_and_commit_replaces() {
        let store = MemoryStore::default();
        let key = Key::from_bytes([1; 32]);
        put(&store, &key, 1, &[b"en"]).await;
        put(&store, &key, 2, &[b"de"]).await;
        let found = store.lookup(&key).await.unwrap();
        assert_eq!(found.len(), 2);
        put(&store, &key, 1, &[b"e", b"n2"]).await;
        let found = store.lookup(&key).await.unwrap();
        assert_eq!(found.len(), 2);
        let en = found
            .iter()
            .find(|s| s.meta.variant() == VariantKey::from_bytes([1; 32]))
            .unwrap();
        assert_eq!(read(&store, &key, en.id).await.unwrap(), b"en2");
        // The replaced entry's id reads nothing.
        assert_eq!(read(&store, &key, EntryId(1)).await, None);
    }

    #[tokio::test]
    async fn abort_stores_nothing() {
        let store = MemoryStore::default();
        let key = Key::from_bytes([2; 32]);
        let mut w = store.begin(&key, meta(0, 60)).await.unwrap();
        w.write(Bytes::from_static(b"half")).await.unwrap();
        drop(w);
        assert!(store.lookup(&key).await.unwrap().is_empty());
        assert_eq!(store.size(), 0);
    }

    #[tokio::test]
    async fn lru_by_bytes() {
        // Room for about three entries of 10 KB (plus heads).
        let store = MemoryStore::new(34_000).max_entry_size(20_000);
        let chunk: &'static [u8] = &[7; 10_000];
        let keys: Vec<Key> = (0..4).map(|i| Key::from_bytes([i; 32])).collect();
        put(&store, &keys[0], 0, &[chunk]).await;
        put(&store, &keys[1], 0, &[chunk]).await;
        put(&store, &keys[2], 0, &[chunk]).await;
        // Use key 0: key 1 is now the least recently used.
        assert_eq!(store.lookup(&keys[0]).await.unwrap().len(), 1);
        put(&store, &keys[3], 0, &[chunk]).await;
        assert!(store.size() <= 34_000);
        assert_eq!(store.lookup(&keys[0]).await.unwrap().len(), 1);
        assert!(store.lookup(&keys[1]).await.unwrap().is_empty());
        assert_eq!(store.lookup(&keys[3]).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn entry_cap_and_ttl() {
        let store = MemoryStore::new(100_000).max_entry_size(5_000);
        let key = Key::from_bytes([3; 32]);
        let mut w = store.begin(&key, meta(0, 60)).await.unwrap();
        let err = w.write(Bytes::from(vec![0; 6_000])).await.unwrap_err();
        assert!(err.is::<TooLarge>());
        drop(w);
        assert!(store.is_empty());

        let mut w = store.begin(&key, meta(0, 0)).await.unwrap();
        w.write(Bytes::from_static(b"x")).await.unwrap();
        w.commit().await.unwrap();
        // Expired at once: never returned, and freed.
        assert!(store.lookup(&key).await.unwrap().is_empty());
        assert_eq!(store.size(), 0);
    }

    #[tokio::test]
    async fn at_most_max_variants() {
        let store = MemoryStore::default();
        let key = Key::from_bytes([4; 32]);
        for v in 0..(MAX_VARIANTS as u8 + 4) {
            put(&store, &key, v, &[b"x"]).await;
        }
        assert_eq!(store.lookup(&key).await.unwrap().len(), MAX_VARIANTS);
    }
}
