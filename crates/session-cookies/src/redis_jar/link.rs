//! [`Link`]: a [`RedisJar`](super::RedisJar)'s connection to Redis, made
//! when first needed and made again after it broke, so that a jar built
//! while Redis is down, or used across a restart, works once Redis answers.

use std::sync::atomic::{AtomicU64, Ordering};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError};

use crate::error::{Error, Result};

/// One multiplexed connection, shared by every clone of the jar.
pub(super) struct Link {
    client: Client,
    config: AsyncConnectionConfig,
    /// The connection and its generation; `None` until connected, and
    /// again after it failed.
    conn: tokio::sync::Mutex<Option<(u64, MultiplexedConnection)>>,
    generation: AtomicU64,
}

impl Link {
    pub(super) fn new(client: Client, config: AsyncConnectionConfig) -> Self {
        Link {
            client,
            config,
            conn: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// The connection, made now if there is none.
    ///
    /// # Errors
    ///
    /// [`Error::is_unavailable`] when Redis cannot be reached.
    pub(super) async fn get(&self) -> Result<(u64, MultiplexedConnection)> {
        let mut conn = self.conn.lock().await;
        if let Some((generation, c)) = &*conn {
            return Ok((*generation, c.clone()));
        }
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
            .map_err(|e| Error::unavailable("cannot connect to Redis", Some(Box::new(e))))?;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        *conn = Some((generation, c.clone()));
        Ok((generation, c))
    }

    /// Whether the connection of `generation` is still the one in use (it
    /// is not after it broke).
    pub(super) async fn is_current(&self, generation: u64) -> bool {
        self.conn
            .lock()
            .await
            .as_ref()
            .is_some_and(|(g, _)| *g == generation)
    }

    /// Turns a failed command into the jar's error; a failure of the
    /// connection (closed, reset, timed out) drops it, so the next call
    /// connects again.
    pub(super) async fn failed(&self, generation: u64, e: RedisError) -> Error {
        let broken = e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_timeout()
            || e.is_unrecoverable_error();
        if broken {
            let mut conn = self.conn.lock().await;
            if conn.as_ref().is_some_and(|(g, _)| *g == generation) {
                *conn = None;
            }
        }
        Error::unavailable("Redis did not answer", Some(Box::new(e)))
    }
}
