//! [`SqliteStore`]: entries in one SQLite file, shared by the processes of a
//! machine.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    BoxError, BoxFuture, ChunkStream, EntryId, EntryWriter, Key, Meta, Store, Stored, TooLarge,
    MAX_VARIANTS,
};

/// The default capacity of a [`SqliteStore`]: 1 GiB.
pub const DEFAULT_SQLITE_CAPACITY: u64 = 1024 * 1024 * 1024;

/// Chunks are gathered to this size before they are written (one row each).
const ROW_BYTES: usize = 256 * 1024;

/// An entry left uncommitted this long was abandoned (a killed process).
const ORPHAN_AGE: Duration = Duration::from_secs(600);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key BLOB NOT NULL,
    variant BLOB NOT NULL,
    meta BLOB NOT NULL,
    size INTEGER NOT NULL,
    chunks INTEGER NOT NULL DEFAULT 0,
    stored_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created INTEGER NOT NULL,
    committed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_key ON entries (key, committed);
CREATE INDEX IF NOT EXISTS entries_expiry ON entries (committed, expires_at);
CREATE TABLE IF NOT EXISTS chunks (
    entry INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (entry, seq)
) WITHOUT ROWID;
";

/// An on-disk store: one SQLite file (through `rusqlite`), which several
/// processes on one machine can share.
///
/// - WAL mode, a busy timeout (5 s by default), and every write in a
///   `BEGIN IMMEDIATE` transaction: a writer takes the write lock when it
///   starts instead of upgrading a read lock midway, the cause of the
///   "database is locked" errors requests-cache users report.
/// - An entry is written in rows of about 256 KiB while the response
///   streams, under an uncommitted entry row; committing flips it visible
///   and deletes the entry it replaces in one transaction. A process killed
///   mid-write leaves an uncommitted row, never served, swept when the
///   store is next opened (after ten minutes, so another process's write in
///   progress is left alone).
/// - Capacity: at most `capacity` bytes of bodies and heads; past it, the
///   entries that expire soonest are dropped first. An entry bigger than a
///   quarter of the capacity (or [`max_entry_size`](Self::max_entry_size))
///   is not stored. Expired entries are never returned and are swept as
///   entries are committed.
/// - Blocking SQLite calls run on tokio's blocking threads.
///
/// ```no_run
/// use session_cache::store::SqliteStore;
///
/// let store = SqliteStore::open("http-cache.sqlite")?;
/// # Ok::<(), session_cache::BoxError>(())
/// ```
///
/// See the [module docs](super) for what every store does.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    max_entry: u64,
}

struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
    capacity: u64,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("capacity", &self.inner.capacity)
            .field("max_entry", &self.max_entry)
            .finish()
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` with the default capacity.
    ///
    /// # Errors
    /// The file cannot be opened or is not a SQLite database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BoxError> {
        SqliteStore::open_with(path, DEFAULT_SQLITE_CAPACITY, Duration::from_secs(5))
    }

    /// Opens (or creates) the store at `path`, at most `capacity` bytes,
    /// waiting up to `busy_timeout` for another writer's lock.
    ///
    /// # Errors
    /// The file cannot be opened or is not a SQLite database.
    pub fn open_with(
        path: impl AsRef<Path>,
        capacity: u64,
        busy_timeout: Duration,
    ) -> Result<Self, BoxError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path)?;
        // A pragma, not `Connection::busy_timeout`: that one installs a busy
        // handler through `sqlite3_set_clientdata`, which Debian 12's SQLite
        // (3.40) does not have.
        conn.pragma_update(None, "busy_timeout", busy_timeout.as_millis() as i64)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let store = SqliteStore {
            inner: Arc::new(Inner {
                path,
                conn: Mutex::new(conn),
                capacity,
            }),
            max_entry: capacity / 4,
        };
        store.with_write(|tx| {
            tx.execute_batch(SCHEMA)?;
            let orphan = unix(SystemTime::now()) - ORPHAN_AGE.as_secs() as i64;
            tx.execute(
                "DELETE FROM chunks WHERE entry IN \
                 (SELECT id FROM entries WHERE committed = 0 AND created < ?1)",
                params![orphan],
            )?;
            tx.execute(
                "DELETE FROM entries WHERE committed = 0 AND created < ?1",
                params![orphan],
            )?;
            Ok(())
        })?;
        Ok(store)
    }

    /// The biggest entry stored, in bytes (default: a quarter of the
    /// capacity).
    #[must_use]
    pub fn max_entry_size(mut self, bytes: u64) -> Self {
        self.max_entry = bytes.min(self.inner.capacity);
        self
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The bytes of committed entries (bodies and heads).
    ///
    /// # Errors
    /// A SQLite error.
    pub fn size(&self) -> Result<u64, BoxError> {
        let conn = self.lock();
        let size: i64 = conn.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM entries WHERE committed = 1",
            [],
            |row| row.get(0),
        )?;
        Ok(size as u64)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction (this thread blocks).
    fn with_write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, BoxError>,
    ) -> Result<T, BoxError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs blocking work off the async workers.
    fn blocking<'a, T, F>(&self, f: F) -> BoxFuture<'a, Result<T, BoxError>>
    where
        T: Send + 'static,
        F: FnOnce(SqliteStore) -> Result<T, BoxError> + Send + 'static,
    {
        let store = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(store))
                .await
                .map_err(|e| Box::new(e) as BoxError)?
        })
    }
}

/// Deletes entry `id` and its chunks.
fn delete_entry(tx: &rusqlite::Transaction<'_>, id: i64) -> Result<(), BoxError> {
    tx.execute("DELETE FROM chunks WHERE entry = ?1", params![id])?;
    tx.execute("DELETE FROM entries WHERE id = ?1", params![id])?;
    Ok(())
}

impl Store for SqliteStore {
    fn lookup<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<Vec<Stored>, BoxError>> {
        let key = key.digest();
        self.blocking(move |store| {
            let now = unix(SystemTime::now());
            let conn = store.lock();
            let mut stmt = conn.prepare_cached(
                "SELECT id, meta FROM entries WHERE key = ?1 AND committed = 1 AND expires_at > ?2",
            )?;
            let rows = stmt.query_map(params![&key[..], now], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })?;
            let mut found = Vec::new();
            for row in rows {
                let (id, meta) = row?;
                match Meta::decode(&meta) {
                    Ok(meta) if meta.is_live(SystemTime::now()) => found.push(Stored {
                        id: EntryId(id as u64),
                        meta: Arc::new(meta),
                    }),
                    Ok(_) => {}
                    // An entry of another format: skipped (a miss).
                    Err(err) => tracing::debug!(error = %err, "session-cache: unreadable entry"),
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
        let key = key.digest();
        self.blocking(move |store| {
            let chunks: Option<i64> = store
                .lock()
                .query_row(
                    "SELECT chunks FROM entries WHERE id = ?1 AND key = ?2 AND committed = 1",
                    params![id.0 as i64, &key[..]],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(chunks) = chunks else {
                return Ok(None);
            };
            let stream = futures_util::stream::unfold(0i64, move |seq| {
                let store = store.clone();
                async move {
                    if seq >= chunks {
                        return None;
                    }
                    let read = tokio::task::spawn_blocking(move || -> Result<Bytes, BoxError> {
                        let data: Option<Vec<u8>> = store
                            .lock()
                            .query_row(
                                "SELECT data FROM chunks WHERE entry = ?1 AND seq = ?2",
                                params![id.0 as i64, seq],
                                |row| row.get(0),
                            )
                            .optional()?;
                        data.map(Bytes::from)
                            .ok_or_else(|| "the entry was replaced while it was read".into())
                    })
                    .await;
                    let item = match read {
                        Ok(Ok(bytes)) => Ok(bytes),
                        Ok(Err(err)) => Err(err),
                        Err(join) => Err(Box::new(join) as BoxError),
                    };
                    // After an error the stream ends.
                    let next = if item.is_ok() { seq + 1 } else { chunks };
                    Some((item, next))
                }
            });
            Ok(Some(Box::pin(stream) as ChunkStream))
        })
    }

    fn begin<'a>(
        &'a self,
        key: &'a Key,
        meta: Meta,
    ) -> BoxFuture<'a, Result<Box<dyn EntryWriter>, BoxError>> {
        let key = key.digest();
        self.blocking(move |store| {
            let bytes = meta.encode()?;
            let size = bytes.len() as u64;
            if size > store.max_entry {
                return Err(TooLarge.into());
            }
            let id = store.with_write(|tx| {
                tx.execute(
                    "INSERT INTO entries (key, variant, meta, size, stored_at, expires_at, created) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        &key[..],
                        &meta.variant().as_bytes()[..],
                        bytes,
                        size as i64,
                        unix(meta.stored_at()),
                        unix(meta.expires_at()),
                        unix(SystemTime::now()),
                    ],
                )?;
                Ok(tx.last_insert_rowid())
            })?;
            Ok(Box::new(SqliteWriter {
                store,
                key,
                variant: meta.variant(),
                id,
                buffer: BytesMut::new(),
                seq: 0,
                size,
                committed: false,
            }) as Box<dyn EntryWriter>)
        })
    }

    fn update<'a>(
        &'a self,
        key: &'a Key,
        id: EntryId,
        meta: Meta,
    ) -> BoxFuture<'a, Result<bool, BoxError>> {
        let key = key.digest();
        self.blocking(move |store| {
            let bytes = meta.encode()?;
            store.with_write(|tx| {
                let changed = tx.execute(
                    "UPDATE entries SET meta = ?1, stored_at = ?2, expires_at = ?3 \
                     WHERE id = ?4 AND key = ?5 AND committed = 1",
                    params![
                        bytes,
                        unix(meta.stored_at()),
                        unix(meta.expires_at()),
                        id.0 as i64,
                        &key[..],
                    ],
                )?;
                Ok(changed == 1)
            })
        })
    }

    fn remove<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Result<(), BoxError>> {
        let key = key.digest();
        self.blocking(move |store| {
            store.with_write(|tx| {
                tx.execute(
                    "DELETE FROM chunks WHERE entry IN (SELECT id FROM entries WHERE key = ?1 AND committed = 1)",
                    params![&key[..]],
                )?;
                tx.execute(
                    "DELETE FROM entries WHERE key = ?1 AND committed = 1",
                    params![&key[..]],
                )?;
                Ok(())
            })
        })
    }

    fn clear(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        self.blocking(move |store| {
            store.with_write(|tx| {
                tx.execute("DELETE FROM chunks", [])?;
                tx.execute("DELETE FROM entries", [])?;
                Ok(())
            })
        })
    }
}

/// Writes rows of an uncommitted entry; commits by flipping it visible.
struct SqliteWriter {
    store: SqliteStore,
    /// The digest of the entry's key.
    key: [u8; 32],
    variant: super::VariantKey,
    id: i64,
    buffer: BytesMut,
    seq: i64,
    size: u64,
    committed: bool,
}

impl SqliteWriter {
    /// Writes the gathered bytes as one row (blocking).
    fn flush_blocking(store: &SqliteStore, id: i64, seq: i64, data: &[u8]) -> Result<(), BoxError> {
        store.with_write(|tx| {
            tx.execute(
                "INSERT INTO chunks (entry, seq, data) VALUES (?1, ?2, ?3)",
                params![id, seq, data],
            )?;
            Ok(())
        })
    }
}

impl EntryWriter for SqliteWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, Result<(), BoxError>> {
        self.size += chunk.len() as u64;
        if self.size > self.store.max_entry {
            return Box::pin(std::future::ready(Err(TooLarge.into())));
        }
        self.buffer.extend_from_slice(&chunk);
        if self.buffer.len() < ROW_BYTES {
            return Box::pin(std::future::ready(Ok(())));
        }
        let data = self.buffer.split().freeze();
        let (store, id, seq) = (self.store.clone(), self.id, self.seq);
        self.seq += 1;
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                SqliteWriter::flush_blocking(&store, id, seq, &data)
            })
            .await
            .map_err(|e| Box::new(e) as BoxError)?
        })
    }

    fn commit(mut self: Box<Self>) -> BoxFuture<'static, Result<(), BoxError>> {
        self.committed = true;
        let data = self.buffer.split().freeze();
        let (store, key, variant, id, seq, size) = (
            self.store.clone(),
            self.key,
            self.variant,
            self.id,
            self.seq,
            self.size,
        );
        Box::pin(async move {
            tokio::task::spawn_blocking(move || -> Result<(), BoxError> {
                let chunks = if data.is_empty() {
                    seq
                } else {
                    SqliteWriter::flush_blocking(&store, id, seq, &data)?;
                    seq + 1
                };
                let now = unix(SystemTime::now());
                let capacity = store.inner.capacity;
                store.with_write(|tx| {
                    // The entry it replaces, and variants past the limit.
                    let old: Vec<i64> = {
                        let mut stmt = tx.prepare_cached(
                            "SELECT id FROM entries WHERE key = ?1 AND committed = 1 \
                             AND (variant = ?2 OR expires_at <= ?3)",
                        )?;
                        let rows = stmt.query_map(
                            params![&key[..], &variant.as_bytes()[..], now],
                            |row| row.get(0),
                        )?;
                        rows.collect::<Result<_, _>>()?
                    };
                    for old in old {
                        delete_entry(tx, old)?;
                    }
                    let extra: Vec<i64> = {
                        let mut stmt = tx.prepare_cached(
                            "SELECT id FROM entries WHERE key = ?1 AND committed = 1 \
                             ORDER BY stored_at DESC, id DESC LIMIT -1 OFFSET ?2",
                        )?;
                        let rows = stmt.query_map(
                            params![&key[..], (MAX_VARIANTS - 1) as i64],
                            |row| row.get(0),
                        )?;
                        rows.collect::<Result<_, _>>()?
                    };
                    for old in extra {
                        delete_entry(tx, old)?;
                    }
                    let changed = tx.execute(
                        "UPDATE entries SET committed = 1, size = ?1, chunks = ?2 WHERE id = ?3",
                        params![size as i64, chunks, id],
                    )?;
                    if changed != 1 {
                        return Err("the entry was swept before its commit".into());
                    }
                    // A few expired entries, then the soonest to expire
                    // while over capacity.
                    let expired: Vec<i64> = {
                        let mut stmt = tx.prepare_cached(
                            "SELECT id FROM entries WHERE committed = 1 AND expires_at <= ?1 LIMIT 64",
                        )?;
                        let rows = stmt.query_map(params![now], |row| row.get(0))?;
                        rows.collect::<Result<_, _>>()?
                    };
                    for old in expired {
                        delete_entry(tx, old)?;
                    }
                    loop {
                        let total: i64 = tx.query_row(
                            "SELECT COALESCE(SUM(size), 0) FROM entries WHERE committed = 1",
                            [],
                            |row| row.get(0),
                        )?;
                        if (total as u64) <= capacity {
                            break;
                        }
                        let victim: Option<i64> = tx
                            .query_row(
                                "SELECT id FROM entries WHERE committed = 1 AND id != ?1 \
                                 ORDER BY expires_at ASC, id ASC LIMIT 1",
                                params![id],
                                |row| row.get(0),
                            )
                            .optional()?;
                        match victim {
                            Some(victim) => delete_entry(tx, victim)?,
                            None => break,
                        }
                    }
                    Ok(())
                })
            })
            .await
            .map_err(|e| Box::new(e) as BoxError)?
        })
    }
}

impl Drop for SqliteWriter {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Aborted: free the rows now (a crash leaves them to the sweep).
        let (store, id) = (self.store.clone(), self.id);
        let cleanup = move || {
            let _ = store.with_write(|tx| delete_entry(tx, id));
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(cleanup);
            }
            Err(_) => cleanup(),
        }
    }
}
