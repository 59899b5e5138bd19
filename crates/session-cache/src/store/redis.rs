//! [`RedisStore`]: entries in Redis, shared by every process that uses the
//! same server and prefix, with a TTL on every key.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, RedisResult, Script};
use bytes::{Bytes, BytesMut};
use tokio::sync::OnceCell;

use super::{
    BoxError, BoxFuture, ChunkStream, EntryId, EntryWriter, Key, Meta, Store, Stored, TooLarge,
    MAX_VARIANTS,
};

/// Chunks fetched per round trip when a body is read.
const READ_BATCH: usize = 4;

/// Lua shared by the scripts. `ARGV[1]` is the prefix of the request's
/// chunk keys (`{prefix}{K}:`).
const PRELUDE: &str = r#"
local base = ARGV[1]
local function chunk(gen, i) return base .. gen .. ':chunk:' .. i end
local function drop(gen, n)
  for i = 0, n - 1 do redis.call('DEL', chunk(gen, i)) end
end
local function parse(record)
  local gen, n, exp = string.match(record, '^(%d+) (%d+) (%d+)\n')
  if gen then return gen, tonumber(n), tonumber(exp) end
end
-- Drops expired or unreadable variants, then the oldest beyond `max` (never
-- `keep`), and gives the index the TTL of its longest-lived variant.
local function tidy(idx, now, max, keep)
  local all = redis.call('HGETALL', idx)
  local live = {}
  for i = 1, #all, 2 do
    local gen, n, exp = parse(all[i + 1])
    if not gen or exp <= now then
      redis.call('HDEL', idx, all[i])
      if gen then drop(gen, n) end
    else
      live[#live + 1] = {tonumber(gen), all[i], gen, n, exp}
    end
  end
  if #live > max then
    table.sort(live, function(a, b) return a[1] < b[1] end)
    local extra = #live - max
    local kept = {}
    for _, v in ipairs(live) do
      if extra > 0 and v[2] ~= keep then
        redis.call('HDEL', idx, v[2])
        drop(v[3], v[4])
        extra = extra - 1
      else
        kept[#kept + 1] = v
      end
    end
    live = kept
  end
  local last = 0
  for _, v in ipairs(live) do
    if v[5] > last then last = v[5] end
  end
  if #live == 0 then
    redis.call('DEL', idx)
  else
    redis.call('PEXPIRE', idx, last - now)
  end
end
"#;

/// KEYS[1] index; ARGV: base, variant, generation, chunk count, TTL ms,
/// now ms, max variants, record.
const COMMIT: &str = r#"
local idx, variant, gen = KEYS[1], ARGV[2], ARGV[3]
local n, ttl, now, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
for i = 0, n - 1 do
  if redis.call('PEXPIRE', chunk(gen, i), ttl) == 0 then
    drop(gen, n)
    return redis.error_reply('cache entry chunks expired before commit')
  end
end
local old = redis.call('HGET', idx, variant)
if old then
  local g, c = parse(old)
  if g and g ~= gen then drop(g, c) end
end
redis.call('HSET', idx, variant, ARGV[8])
tidy(idx, now, max, variant)
return 1
"#;

/// KEYS[1] index; ARGV: base, variant, generation, TTL ms, now ms, max
/// variants, expiry ms, meta. Returns 0 when the generation is gone.
const UPDATE: &str = r#"
local idx, variant, gen = KEYS[1], ARGV[2], ARGV[3]
local ttl, now, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local old = redis.call('HGET', idx, variant)
if not old then return 0 end
local g, n = parse(old)
if g ~= gen then return 0 end
for i = 0, n - 1 do
  if redis.call('PEXPIRE', chunk(g, i), ttl) == 0 then
    redis.call('HDEL', idx, variant)
    drop(g, n)
    tidy(idx, now, max, variant)
    return 0
  end
end
redis.call('HSET', idx, variant, g .. ' ' .. n .. ' ' .. ARGV[7] .. '\n' .. ARGV[8])
tidy(idx, now, max, variant)
return 1
"#;

/// KEYS[1] index; ARGV: base.
const REMOVE: &str = r#"
for _, record in ipairs(redis.call('HVALS', KEYS[1])) do
  local g, n = parse(record)
  if g then drop(g, n) end
end
redis.call('DEL', KEYS[1])
return 1
"#;

/// Cached responses in Redis (feature `redis`): chunked bodies, variants
/// per key, atomic commits, a TTL on every key and a cap per entry. Clones
/// share one connection.
///
/// # Data model
///
/// Every key starts with the prefix `P` (default `session-cache:`). `K` is
/// the hex of the request's [`Key::digest`], `V` the hex of a
/// [`VariantKey`](super::VariantKey), `G` an entry's generation (its
/// [`EntryId`]); the braces around `K` are part of the key:
///
/// | Key                | Type   | Holds                                                   |
/// |--------------------|--------|---------------------------------------------------------|
/// | `P{K}:index`       | hash   | field `V` → `"G N EXPIRES_MS\n"` + [`Meta::encode`]     |
/// | `P{K}:G:chunk:i`   | string | chunk `i` (of `N`) of generation `G`'s body             |
/// | `Pids`             | string | the counter that hands out generations                  |
///
/// Keys are built from the 32-byte digests alone, so two requests never
/// share one, and the braces make every key of one request hash to the same
/// cluster slot. The variants of a key coexist as fields of its index (at
/// most [`MAX_VARIANTS`], the oldest dropped first).
///
/// # Writes and atomicity
///
/// [`Store::begin`] takes a fresh generation from the counter (`INCR`). Each
/// [`EntryWriter::write`] adds to a buffer and, once it holds
/// [`chunk_size`](Self::chunk_size) bytes, stores it as the next chunk
/// key of that generation with a short TTL
/// ([`write_ttl`](Self::write_ttl)), so a body is never held whole in
/// memory. Nothing points at those keys yet: a reader cannot find them.
///
/// [`EntryWriter::commit`] runs one Lua script. Redis runs a script with no
/// other command in between, and it:
/// 1. checks that every chunk of the generation is still there (a write that
///    outlived `write_ttl` is not committed) and sets their entry TTL;
/// 2. points the variant's index field at the new generation, with its chunk
///    count, and deletes the chunks of the generation it replaces;
/// 3. drops expired variants and those beyond [`MAX_VARIANTS`], and sets the
///    index's TTL to that of its longest-lived variant.
///
/// A reader finds chunks only through the index, and chunk keys are named
/// by generation, so it reads the old entry or the new one, never a mix: a
/// reader of a replaced or removed generation finds its keys gone and gets
/// `Ok(None)` (or, mid-body, an error), never another generation's bytes.
/// A writer dropped without commit deletes its chunks (a task on the
/// current tokio runtime); if that fails or the process dies, they expire
/// after `write_ttl`.
///
/// # Every key has a TTL
///
/// An entry's chunks and its index field live until [`Meta::expires_at`]
/// (freshness plus the time it may be served stale), at most
/// [`max_ttl`](Self::max_ttl); the index lives as long as its
/// longest-lived variant; uncommitted chunks live `write_ttl`; the counter
/// twice `max_ttl` from its last use. Nothing this store writes grows
/// without bound, but Redis alone caps its memory: give the server a
/// `maxmemory` and an eviction policy that evicts keys with a TTL, such as
/// `maxmemory-policy volatile-lru` (or `allkeys-lru` on a server kept for
/// the cache). An evicted chunk makes its entry unreadable (a miss, or a
/// body that ends with an error), never wrong. Each entry is capped by
/// [`max_entry_size`](Self::max_entry_size): past it `write` returns
/// [`TooLarge`] and the response is not stored.
///
/// # Faults
///
/// Every operation is bounded by [`timeout`](Self::timeout) (default
/// 250 ms) and returns an error when Redis is down, slow or restarting; the
/// cache layer then fails open (a miss, or a response not stored, with a
/// warning). The store connects on first use, so it can be built while
/// Redis is down, and reconnects by itself after a restart (one
/// `redis::aio::ConnectionManager` shared by the store's clones; an
/// operation that finds the connection broken retries once on a new one
/// within its timeout). Tested with a standalone Redis 7.0; not with a
/// cluster.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
///
/// use session_cache::store::{Key, RedisStore, Store};
///
/// # async fn run() -> Result<(), session_cache::store::BoxError> {
/// let store = RedisStore::open("redis://127.0.0.1:6379/")?
///     .prefix("my-app:http-cache:")
///     .max_entry_size(4 * 1024 * 1024)
///     .timeout(Duration::from_millis(100));
/// let found = store.lookup(&Key::from_bytes([0; 32])).await?;
/// assert!(found.is_empty());
/// # Ok(())
/// # }
/// ```
///
/// See the [module docs](super) for what every store does.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    client: Client,
    conn: OnceCell<ConnectionManager>,
    prefix: String,
    max_entry: u64,
    max_ttl: Duration,
    write_ttl: Duration,
    timeout: Duration,
    chunk_size: usize,
    commit: Script,
    update: Script,
    remove: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may hold a password.
        let inner = &self.inner;
        f.debug_struct("RedisStore")
            .field("prefix", &inner.prefix)
            .field("max_entry_size", &inner.max_entry)
            .field("max_ttl", &inner.max_ttl)
            .field("write_ttl", &inner.write_ttl)
            .field("timeout", &inner.timeout)
            .field("chunk_size", &inner.chunk_size)
            .finish()
    }
}

impl RedisStore {
    /// A store on the Redis server at `url` (`redis://[:password@]host[:port][/db]`,
    /// `rediss://` needs the `redis` crate's TLS features, `redis+unix:///path`).
    /// It connects on first use: opening succeeds while the server is down.
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    pub fn open(url: &str) -> Result<RedisStore, BoxError> {
        let client = Client::open(url)?;
        Ok(RedisStore {
            inner: Arc::new(Inner {
                client,
                conn: OnceCell::new(),
                prefix: "session-cache:".to_owned(),
                max_entry: 8 * 1024 * 1024,
                max_ttl: Duration::from_secs(7 * 24 * 60 * 60),
                write_ttl: Duration::from_secs(5 * 60),
                timeout: Duration::from_millis(250),
                chunk_size: 64 * 1024,
                commit: Script::new(&format!("{PRELUDE}{COMMIT}")),
                update: Script::new(&format!("{PRELUDE}{UPDATE}")),
                remove: Script::new(&format!("{PRELUDE}{REMOVE}")),
            }),
        })
    }

    /// The start of every key the store writes (default `session-cache:`),
    /// so that several caches or applications share a server. [`clear`]
    /// removes every key under it.
    ///
    /// [`clear`]: Store::clear
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.inner_mut().prefix = prefix.into();
        self
    }

    /// The biggest entry stored, body and head, in bytes (default 8 MiB).
    #[must_use]
    pub fn max_entry_size(mut self, bytes: u64) -> Self {
        self.inner_mut().max_entry = bytes;
        self
    }

    /// The longest an entry is kept, whatever its freshness (default 7
    /// days; at least one second).
    #[must_use]
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.inner_mut().max_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// How long the chunks of an entry being written live until it is
    /// committed (default 5 minutes; at least one second). A body that
    /// takes longer to arrive is not stored; the chunks of a writer that
    /// vanished without cleaning up expire after it.
    #[must_use]
    pub fn write_ttl(mut self, ttl: Duration) -> Self {
        self.inner_mut().write_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// The longest one operation waits for Redis (connecting included)
    /// before it fails (default 250 ms). Set it before the store's first
    /// use.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner_mut().timeout = timeout;
        self
    }

    /// The size in bytes of the chunks a body is stored in (default 64
    /// KiB): smaller chunks are gathered up to it, bigger ones stored as
    /// they come.
    #[must_use]
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.inner_mut().chunk_size = bytes.max(1);
        self
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    fn index_key(&self, key: &Key) -> String {
        format!("{}{{{}}}:index", self.inner.prefix, key.to_hex())
    }

    /// What the chunk keys of `key` start with.
    fn chunk_base(&self, key: &Key) -> String {
        format!("{}{{{}}}:", self.inner.prefix, key.to_hex())
    }

    fn chunk_key(&self, key: &Key, generation: u64, index: u64) -> String {
        format!("{}{generation}:chunk:{index}", self.chunk_base(key))
    }

    fn ids_key(&self) -> String {
        format!("{}ids", self.inner.prefix)
    }

    async fn connection(&self) -> RedisResult<ConnectionManager> {
        let inner = &self.inner;
        inner
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(inner.timeout))
                    .set_response_timeout(Some(inner.timeout))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(10))
                    .set_max_delay(Duration::from_millis(100));
                ConnectionManager::new_lazy_with_config(inner.client.clone(), config)
            })
            .await
            .cloned()
    }

    /// Runs `op` on the connection, once more if the connection turned out
    /// broken, all within the store's timeout.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, BoxError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let attempts = async {
            let mut retried = false;
            loop {
                let result = match self.connection().await {
                    Ok(conn) => op(conn).await,
                    Err(e) => Err(e),
                };
                match result {
                    Err(e) if !retried && is_connection_error(&e) => retried = true,
                    other => return other,
                }
            }
        };
        match tokio::time::timeout(self.inner.timeout, attempts).await {
            Ok(result) => result.map_err(BoxError::from),
            Err(_) => Err(Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "redis did not answer in time",
            ))),
        }
    }

    /// The index records of `key`.
    async fn records(&self, key: &Key) -> Result<Vec<Vec<u8>>, BoxError> {
        let index = self.index_key(key);
        let index = &index;
        self.run(|mut conn| async move {
            ::redis::cmd("HVALS")
                .arg(index)
                .query_async(&mut conn)
                .await
        })
        .await
    }

    /// The entry's TTL (capped) and when it ends, in Unix milliseconds.
    fn entry_ttl(&self, meta: &Meta, now: SystemTime) -> (u64, u64) {
        let ttl = meta.ttl(now).min(self.inner.max_ttl);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        (ttl_ms, unix_ms(now).saturating_add(ttl_ms))
    }
}

fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal()
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// An index record: `"G N EXPIRES_MS\n"` then the encoded head.
struct Record<'a> {
    generation: u64,
    chunks: u64,
    expires_ms: u64,
    meta: &'a [u8],
}

impl<'a> Record<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Record<'a>> {
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let head = std::str::from_utf8(&bytes[..newline]).ok()?;
        let mut fields = head.split(' ').map(str::parse::<u64>);
        let record = Record {
            generation: fields.next()?.ok()?,
            chunks: fields.next()?.ok()?,
            expires_ms: fields.next()?.ok()?,
            meta: &bytes[newline + 1..],
        };
        fields.next().is_none().then_some(record)
    }
}

impl Store for RedisStore {
    fn lookup<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Vec<Stored>, BoxError>> {
        Box::pin(async move {
            let records = self.records(key).await?;
            let now = SystemTime::now();
            let now_ms = unix_ms(now);
            let mut found = Vec::with_capacity(records.len());
            for bytes in &records {
                let Some(record) = Record::parse(bytes) else {
                    continue;
                };
                if record.expires_ms <= now_ms {
                    continue;
                }
                match Meta::decode(record.meta) {
                    Ok(meta) if meta.is_live(now) => found.push(Stored {
                        id: EntryId(record.generation),
                        meta: Arc::new(meta),
                    }),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "skipping a cache entry of another format")
                    }
                }
            }
            Ok(found)
        })
    }

    fn body<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
    ) -> BoxFuture<'a, Result<Option<ChunkStream>, BoxError>> {
        Box::pin(async move {
            let records = self.records(key).await?;
            let Some(chunks) = records
                .iter()
                .filter_map(|bytes| Record::parse(bytes))
                .find(|r| r.generation == id.0)
                .map(|r| r.chunks)
            else {
                return Ok(None);
            };
            let mut reader = Reader {
                store: self.clone(),
                key: key.clone(),
                generation: id.0,
                chunks,
                next: 0,
                ready: VecDeque::new(),
                done: false,
            };
            // The first chunks now: an entry replaced since the lookup is
            // `None` rather than a stream that fails.
            if chunks > 0 && !reader.fetch().await? {
                return Ok(None);
            }
            Ok(Some(Box::pin(reader.into_stream()) as ChunkStream))
        })
    }

    fn begin<'a>(
        &'a self,
        key: &'a Key,
        meta: Meta,
    ) -> BoxFuture<'a, Result<Box<dyn EntryWriter>, BoxError>> {
        Box::pin(async move {
            let size = meta.size();
            if size > self.inner.max_entry {
                return Err(TooLarge.into());
            }
            let ids = self.ids_key();
            let ids = &ids;
            let ids_ttl = millis(self.inner.max_ttl).saturating_mul(2);
            let (generation,): (u64,) = self
                .run(|mut conn| async move {
                    ::redis::pipe()
                        .atomic()
                        .incr(ids, 1)
                        .cmd("PEXPIRE")
                        .arg(ids)
                        .arg(ids_ttl)
                        .ignore()
                        .query_async(&mut conn)
                        .await
                })
                .await?;
            Ok(Box::new(RedisWriter {
                store: self.clone(),
                key: key.clone(),
                meta,
                generation,
                size,
                pending: BytesMut::new(),
                chunks: 0,
                failed: false,
                done: false,
            }) as Box<dyn EntryWriter>)
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
        meta: Meta,
    ) -> BoxFuture<'a, Result<bool, BoxError>> {
        Box::pin(async move {
            let now = SystemTime::now();
            let (ttl_ms, expires_ms) = self.entry_ttl(&meta, now);
            let encoded = meta.encode()?;
            let (index, base) = (self.index_key(key), self.chunk_base(key));
            let variant = meta.variant().to_hex();
            let (index, base, variant, encoded) = (&index, &base, &variant, &encoded);
            let updated: i64 = self
                .run(|mut conn| async move {
                    self.inner
                        .update
                        .key(index)
                        .arg(base)
                        .arg(variant)
                        .arg(id.0)
                        .arg(ttl_ms)
                        .arg(unix_ms(now))
                        .arg(MAX_VARIANTS)
                        .arg(expires_ms)
                        .arg(&encoded[..])
                        .invoke_async(&mut conn)
                        .await
                })
                .await?;
            Ok(updated == 1)
        })
    }

    fn remove<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async move {
            let (index, base) = (self.index_key(key), self.chunk_base(key));
            let (index, base) = (&index, &base);
            self.run(|mut conn| async move {
                self.inner
                    .remove
                    .key(index)
                    .arg(base)
                    .invoke_async::<()>(&mut conn)
                    .await
            })
            .await
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            let pattern = format!("{}*", glob_escape(&self.inner.prefix));
            let ids = self.ids_key().into_bytes();
            let pattern = &pattern;
            let mut cursor = 0u64;
            loop {
                let (next, keys): (u64, Vec<Vec<u8>>) = self
                    .run(|mut conn| async move {
                        ::redis::cmd("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(pattern)
                            .arg("COUNT")
                            .arg(512)
                            .query_async(&mut conn)
                            .await
                    })
                    .await?;
                // The counter stays, so that generations are never reused.
                let keys: Vec<Vec<u8>> = keys.into_iter().filter(|k| *k != ids).collect();
                if !keys.is_empty() {
                    let keys = &keys;
                    self.run(|mut conn| async move {
                        ::redis::cmd("UNLINK")
                            .arg(keys)
                            .query_async::<()>(&mut conn)
                            .await
                    })
                    .await?;
                }
                if next == 0 {
                    return Ok(());
                }
                cursor = next;
            }
        })
    }
}

fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reads a body a few chunks per round trip.
struct Reader {
    store: RedisStore,
    key: Key,
    generation: u64,
    chunks: u64,
    next: u64,
    ready: VecDeque<Bytes>,
    done: bool,
}

impl Reader {
    /// Fetches the next chunks; `Ok(false)` when one is gone (the entry was
    /// replaced, removed, expired or evicted).
    async fn fetch(&mut self) -> Result<bool, BoxError> {
        let end = self.chunks.min(self.next + READ_BATCH as u64);
        let keys: Vec<String> = (self.next..end)
            .map(|i| self.store.chunk_key(&self.key, self.generation, i))
            .collect();
        let keys = &keys;
        let values: Vec<Option<Vec<u8>>> =
            self.store
                .run(|mut conn| async move {
                    ::redis::cmd("MGET").arg(keys).query_async(&mut conn).await
                })
                .await?;
        if values.len() != keys.len() || values.iter().any(Option::is_none) {
            return Ok(false);
        }
        self.ready
            .extend(values.into_iter().flatten().map(Bytes::from));
        self.next = end;
        Ok(true)
    }

    fn into_stream(self) -> impl futures_util::Stream<Item = Result<Bytes, BoxError>> + Send {
        futures_util::stream::unfold(self, |mut reader| async move {
            if let Some(chunk) = reader.ready.pop_front() {
                return Some((Ok(chunk), reader));
            }
            if reader.done || reader.next >= reader.chunks {
                return None;
            }
            let item = match reader.fetch().await {
                Ok(true) => Ok(reader.ready.pop_front()?),
                Ok(false) => Err(BoxError::from(
                    "cache entry removed while its body was read",
                )),
                Err(e) => Err(e),
            };
            reader.done = item.is_err();
            Some((item, reader))
        })
    }
}

/// Stores chunks as they come; the index learns of them at commit.
struct RedisWriter {
    store: RedisStore,
    key: Key,
    meta: Meta,
    generation: u64,
    /// Bytes so far, head included.
    size: u64,
    pending: BytesMut,
    /// Chunks stored so far.
    chunks: u64,
    /// A write failed: never commit.
    failed: bool,
    done: bool,
}

impl RedisWriter {
    async fn store_chunk(&mut self, chunk: Bytes) -> Result<(), BoxError> {
        let key = self
            .store
            .chunk_key(&self.key, self.generation, self.chunks);
        let ttl = millis(self.store.inner.write_ttl);
        let (key, chunk) = (&key, &chunk);
        self.store
            .run(|mut conn| async move {
                ::redis::cmd("SET")
                    .arg(key)
                    .arg(&chunk[..])
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await?;
        self.chunks += 1;
        Ok(())
    }

    async fn append(&mut self, chunk: Bytes) -> Result<(), BoxError> {
        self.size += chunk.len() as u64;
        if self.size > self.store.inner.max_entry {
            self.pending = BytesMut::new();
            return Err(TooLarge.into());
        }
        let chunk_size = self.store.inner.chunk_size;
        if self.pending.is_empty() && chunk.len() >= chunk_size {
            return self.store_chunk(chunk).await;
        }
        self.pending.extend_from_slice(&chunk);
        if self.pending.len() >= chunk_size {
            let full = self.pending.split().freeze();
            self.store_chunk(full).await?;
        }
        Ok(())
    }
}

/// After a failed `write` the body has a hole: the entry is never
/// committed.
const WRITER_FAILED: &str = "a write of this cache entry failed: it is not stored";

impl EntryWriter for RedisWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async move {
            if self.failed {
                return Err(WRITER_FAILED.into());
            }
            let result = self.append(chunk).await;
            self.failed = result.is_err();
            result
        })
    }

    fn commit(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BoxError>> {
        Box::pin(async move {
            if self.failed {
                return Err(WRITER_FAILED.into());
            }
            if !self.pending.is_empty() {
                let last = self.pending.split().freeze();
                self.store_chunk(last).await?;
            }
            let now = SystemTime::now();
            if !self.meta.is_live(now) {
                // Of no use already: not stored (`Drop` frees the chunks).
                return Ok(());
            }
            let (ttl_ms, expires_ms) = self.store.entry_ttl(&self.meta, now);
            let mut record =
                format!("{} {} {expires_ms}\n", self.generation, self.chunks).into_bytes();
            record.extend_from_slice(&self.meta.encode()?);
            let store = &self.store;
            let (index, base) = (store.index_key(&self.key), store.chunk_base(&self.key));
            let variant = self.meta.variant().to_hex();
            let (index, base, variant, record) = (&index, &base, &variant, &record);
            let (generation, chunks) = (self.generation, self.chunks);
            store
                .run(|mut conn| async move {
                    store
                        .inner
                        .commit
                        .key(index)
                        .arg(base)
                        .arg(variant)
                        .arg(generation)
                        .arg(chunks)
                        .arg(ttl_ms)
                        .arg(unix_ms(now))
                        .arg(MAX_VARIANTS)
                        .arg(&record[..])
                        .invoke_async::<()>(&mut conn)
                        .await
                })
                .await?;
            self.done = true;
            Ok(())
        })
    }
}

impl Drop for RedisWriter {
    fn drop(&mut self) {
        if self.done || self.chunks == 0 {
            return;
        }
        // Aborted: delete the chunks now if a runtime is at hand; otherwise
        // (or if this fails) they expire after `write_ttl`.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let keys: Vec<String> = (0..self.chunks)
            .map(|i| self.store.chunk_key(&self.key, self.generation, i))
            .collect();
        let store = self.store.clone();
        runtime.spawn(async move {
            let keys = &keys;
            let result = store
                .run(|mut conn| async move {
                    ::redis::cmd("DEL")
                        .arg(keys)
                        .query_async::<()>(&mut conn)
                        .await
                })
                .await;
            if let Err(e) = result {
                tracing::debug!(error = %e, "aborted cache entry left to expire in redis");
            }
        });
    }
}
