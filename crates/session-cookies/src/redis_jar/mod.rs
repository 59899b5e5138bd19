//! [`RedisJar`]: one cookie jar in Redis, shared by many processes (its
//! docs describe the data model, the reads and writes, and the faults).

mod codec;
mod link;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use redis::aio::MultiplexedConnection;
use url::Url;

use self::link::Link;
use crate::error::{Error, Result};
use crate::headers::{cookie_header_of, url_of};
use crate::jar::{buckets_of, shadow_scan_domains, Config, Model, Origin};
use crate::parse;
use crate::store::{CookieStore, RemoteStore};
use crate::stored::StoredCookie;
use crate::time::{to_micros, Clock, SystemClock};

/// The script that checks versions and applies a response's changes.
const APPLY: &str = include_str!("apply.lua");

/// How many locks writes of one jar queue on, by site.
const STRIPES: usize = 64;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A cookie jar kept in Redis and shared by every process that uses the
/// same server and prefix: a [`RemoteStore`] for
/// [`CookieLayer`](crate::CookieLayer).
///
/// It applies the same RFC 6265bis rules as [`Jar`](crate::Jar), with the
/// same code (the [crate docs](crate) list them), except for two things
/// that would make every read a write or every site's writes contend: the
/// last-access time of a cookie is the time it was last stored, not sent,
/// and there is no cap on the total number of cookies (each site keeps at
/// most [`max_cookies_per_domain`](RedisJarBuilder::max_cookies_per_domain),
/// and keys expire with their cookies).
///
/// It is a cheap [`Clone`] handle; clones share one connection, made when
/// first needed (building needs no server) and made again after Redis
/// restarts. It must be used from a tokio runtime, and from one runtime:
/// the connection's task runs on the runtime that first connected.
///
/// # Faults
///
/// When Redis is down, restarting, or slower than
/// [`response_timeout`](RedisJarBuilder::response_timeout), reads and
/// writes fail with an [`Error`] for which
/// [`is_unavailable`](Error::is_unavailable) is true, and so does a request
/// through [`CookieLayer`](crate::CookieLayer): a response whose cookies
/// cannot be stored is an error, not a response whose cookies were dropped.
/// There is no fallback to a local jar, which would split the fleet's
/// sessions. Once Redis answers again, the next call works.
///
/// ```no_run
/// use session_cookies::{RedisJar, Url};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> session_cookies::Result<()> {
/// let jar = RedisJar::builder("redis://127.0.0.1:6379/")?
///     .prefix("crawler:cookies")
///     .build();
/// let login = Url::parse("https://example.com/login").unwrap();
/// jar.store_set_cookie(&login, "sid=1; Path=/; Secure").await?;
///
/// // Any other process with the same URL and prefix sees it.
/// let other = RedisJar::builder("redis://127.0.0.1:6379/")?.prefix("crawler:cookies").build();
/// let page = Url::parse("https://example.com/account").unwrap();
/// assert_eq!(other.cookie_header(&page).await?.unwrap(), "sid=1");
/// # Ok(())
/// # }
/// ```
///
/// # Data model
///
/// - One hash per site: the key `{prefix}:{site}`, where the site is the
///   bucket of the local jar (the registrable domain, `example.co.uk`; an
///   IP address or a public suffix is its own site).
/// - One field per cookie identity (name, domain, host-only flag, path),
///   length-prefixed so that two identities never share a field; its value
///   is the cookie as JSON (the [`persist`](crate::persist) record) and its
///   creation order.
/// - The field `#v` holds the hash's version, taken from the counter
///   `{prefix}#version`, which only goes up.
/// - Each write sets the key's TTL to the longest time a cookie in it has
///   left (a session cookie counts as [`RedisJarBuilder::session_ttl`]), so
///   a site nobody writes to goes away with its last cookie.
///
/// # Reads and writes
///
/// A request reads (`HGETALL`, pipelined) the sites of its host and parent
/// domains, and the same retrieval code as the local jar picks and orders
/// the cookies. A response's `Set-Cookie` headers are applied in Rust, with
/// the local jar's storage code, to the sites read; what changed (cookies
/// set, replaced, deleted, evicted past the per-site cap, or expired) is
/// written by one Lua script that first checks that no site read has
/// changed version. If one has (another worker wrote), the jar reads again
/// and recomputes, a bounded number of times with a short random pause, so
/// two workers' different cookies both survive and, for the same cookie,
/// the write that lands last wins whole. No `WATCH`: it is unsound on a
/// multiplexed connection. Writes of one jar to one site also queue in the
/// process, so only other processes make a write try again.
///
/// See the [crate docs](crate) for the rules.
#[derive(Clone)]
pub struct RedisJar {
    shared: Arc<Shared>,
}

struct Shared {
    config: Config,
    clock: Box<dyn Clock>,
    prefix: String,
    session_ttl: Duration,
    max_attempts: u32,
    link: Link,
    script: redis::Script,
    stripes: Vec<tokio::sync::Mutex<()>>,
}

/// Builds a [`RedisJar`]: the server, the prefix of its keys, the jar's
/// rules and the timeouts.
///
/// See [`RedisJar`] for more details.
#[must_use]
pub struct RedisJarBuilder {
    client: redis::Client,
    prefix: String,
    config: Config,
    clock: Box<dyn Clock>,
    session_ttl: Duration,
    max_attempts: u32,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl fmt::Debug for RedisJarBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisJarBuilder")
            .field("prefix", &self.prefix)
            .field("config", &self.config)
            .field("session_ttl", &self.session_ttl)
            .field("max_attempts", &self.max_attempts)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisJarBuilder {
    /// Keys start with `prefix` and `:` (default `"cookies"`). Jars that
    /// share a server and a prefix share their cookies.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Whether to refuse `Domain` attributes that are public suffixes; on by
    /// default (see [`JarBuilder::public_suffix_list`](crate::JarBuilder::public_suffix_list)).
    pub fn public_suffix_list(mut self, enabled: bool) -> Self {
        self.config.public_suffix_list = enabled;
        self
    }

    /// Most cookies kept per site; default 180, at least 1.
    pub fn max_cookies_per_domain(mut self, max: usize) -> Self {
        self.config.max_per_domain = max.max(1);
        self
    }

    /// Where the jar reads the time (cookie expiry and key TTLs are
    /// computed with it); the system clock by default.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// How long a site's key lives after its last write when it holds a
    /// session cookie (one without `Expires` or `Max-Age`); default 7 days.
    /// Persistent cookies keep their key until they expire.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// How many times a write is tried when other processes keep writing
    /// the same site first; default 32, at least 1. Past it the write
    /// fails ([`Error::is_unavailable`]).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How long connecting to Redis may take; default 1 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long Redis may take to answer a command; default 500 ms.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Builds the jar; nothing connects until it is first used.
    pub fn build(self) -> RedisJar {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout));
        RedisJar {
            shared: Arc::new(Shared {
                config: Config {
                    max_total: usize::MAX,
                    ..self.config
                },
                clock: self.clock,
                prefix: self.prefix,
                session_ttl: self.session_ttl,
                max_attempts: self.max_attempts,
                link: Link::new(self.client, config),
                script: redis::Script::new(APPLY),
                stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            }),
        }
    }
}

impl RedisJar {
    /// A builder for a jar in the Redis server at `url`
    /// (`redis://host:port/db`, `rediss://` for TLS when the `redis` crate
    /// has it, `redis+unix:///path`).
    ///
    /// # Errors
    ///
    /// [`Error::is_unavailable`] when `url` is not a Redis URL.
    pub fn builder(url: &str) -> Result<RedisJarBuilder> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::unavailable("invalid Redis URL", Some(Box::new(e))))?;
        Ok(RedisJarBuilder {
            client,
            prefix: "cookies".to_owned(),
            config: Config::default(),
            clock: Box::new(SystemClock),
            session_ttl: Duration::from_secs(7 * 86_400),
            max_attempts: 32,
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(500),
        })
    }

    /// The prefix of the jar's keys.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// The Redis key of a site's cookies (`{prefix}:{site}`).
    pub fn key_of(&self, site: &str) -> String {
        format!("{}:{site}", self.shared.prefix)
    }

    fn version_key(&self) -> String {
        format!("{}#version", self.shared.prefix)
    }

    fn now(&self) -> (i64, i64) {
        let us = to_micros(self.shared.clock.now());
        (us, us.div_euclid(1_000_000))
    }

    /// The `Cookie` header to send to `url`, or `None` when no cookie applies.
    ///
    /// # Errors
    ///
    /// [`Error::is_unavailable`] when Redis cannot be read.
    pub async fn cookie_header(&self, url: &Url) -> Result<Option<HeaderValue>> {
        Ok(cookie_header_of(&self.matching(url).await?))
    }

    /// The cookies that would be sent to `url`, in `Cookie` header order.
    ///
    /// # Errors
    ///
    /// [`Error::is_unavailable`] when Redis cannot be read.
    pub async fn matching(&self, url: &Url) -> Result<Vec<StoredCookie>> {
        match Origin::from_url(url) {
            Some(origin) => self.send_to(&origin).await,
            None => Ok(Vec::new()),
        }
    }

    /// Stores one `Set-Cookie` header value received from `url`.
    ///
    /// # Errors
    ///
    /// [`Error::is_rejected`] when a rule refuses it (nothing is written);
    /// [`Error::is_unavailable`] when Redis cannot be written.
    pub async fn store_set_cookie(&self, url: &Url, set_cookie: &str) -> Result<()> {
        let origin = Origin::from_url(url).ok_or(Error::rejected("URL has no host"))?;
        // A header the parser refuses costs no round trip.
        parse::parse_set_cookie(set_cookie).map_err(Error::rejected)?;
        let value = HeaderValue::from_str(set_cookie)
            .map_err(|_| Error::rejected("control character in the header"))?;
        self.apply(&origin, &[&value], true).await.map(drop)
    }

    /// Stores every `Set-Cookie` value of a response to `url`; returns how
    /// many cookies were stored, replaced or deleted (rejected ones are
    /// skipped).
    ///
    /// # Errors
    ///
    /// [`Error::is_unavailable`] when Redis cannot be written.
    pub async fn store_response_cookies<'a, I>(&self, url: &Url, set_cookie: I) -> Result<usize>
    where
        I: IntoIterator<Item = &'a HeaderValue>,
    {
        let values: Vec<&HeaderValue> = set_cookie.into_iter().collect();
        match Origin::from_url(url) {
            Some(origin) => self.apply(&origin, &values, false).await,
            None => Ok(0),
        }
    }

    /// The cookies sent to `origin`, from the sites its host reads.
    async fn send_to(&self, origin: &Origin<'_>) -> Result<Vec<StoredCookie>> {
        let sites: Vec<String> = buckets_of(origin).into_iter().map(str::to_owned).collect();
        let (mut generation, mut conn) = self.shared.link.get().await?;
        let mut reconnected = false;
        loop {
            match self.read(generation, &mut conn, &sites).await {
                Ok((model, _)) => {
                    let (_, now_s) = self.now();
                    return Ok(model.sent_to(origin, now_s));
                }
                Err(e) => {
                    (generation, conn) = self.reconnect(generation, &mut reconnected, e).await?;
                }
            }
        }
    }

    /// After a command failed with `e` on the connection of `generation`:
    /// when that connection broke (Redis restarted, say), a new one, once;
    /// otherwise `e`. A write may be tried again on the new connection
    /// because it is checked against the versions it read: if the first
    /// try did land, the next reads its result and has nothing to write.
    async fn reconnect(
        &self,
        generation: u64,
        reconnected: &mut bool,
        e: Error,
    ) -> Result<(u64, MultiplexedConnection)> {
        if *reconnected || self.shared.link.is_current(generation).await {
            return Err(e);
        }
        *reconnected = true;
        self.shared.link.get().await
    }

    /// Reads `sites`: the model over their cookies, and each one's version.
    async fn read(
        &self,
        generation: u64,
        conn: &mut MultiplexedConnection,
        sites: &[String],
    ) -> Result<(Model, Vec<String>)> {
        let mut pipe = redis::pipe();
        for site in sites {
            pipe.cmd("HGETALL").arg(self.key_of(site));
        }
        let hashes: Vec<HashMap<String, String>> = match pipe.query_async(conn).await {
            Ok(hashes) => hashes,
            Err(e) => return Err(self.shared.link.failed(generation, e).await),
        };
        let mut model = Model::default();
        let mut versions = Vec::with_capacity(sites.len());
        for (site, hash) in sites.iter().zip(hashes) {
            model.read_bucket(site);
            let mut version = "0".to_owned();
            for (field, value) in hash {
                if field == codec::VERSION_FIELD {
                    version = value;
                } else {
                    let (cookie, seq) = codec::decode(&value)?;
                    model.push_read(site, cookie, seq);
                }
            }
            versions.push(version);
        }
        Ok((model, versions))
    }

    /// The sites under `domain` (`*.domain`), for the shadowing rule.
    async fn sites_under(
        &self,
        generation: u64,
        conn: &mut MultiplexedConnection,
        domain: &str,
    ) -> Result<Vec<String>> {
        let head = format!("{}:", self.shared.prefix);
        let pattern = format!(
            "{}*.{}",
            codec::glob_escape(&head),
            codec::glob_escape(domain)
        );
        let mut cursor: u64 = 0;
        let mut out = Vec::new();
        loop {
            let answer: redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(conn)
                .await;
            let (next, keys) = match answer {
                Ok(answer) => answer,
                Err(e) => return Err(self.shared.link.failed(generation, e).await),
            };
            out.extend(
                keys.into_iter()
                    .filter_map(|k| k.strip_prefix(&head).map(str::to_owned)),
            );
            if next == 0 {
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// Applies `set_cookie` from `origin`: read, decide in Rust, write with
    /// a version check, again on a conflict. With `strict`, the one header
    /// a rule refuses is an error.
    async fn apply(
        &self,
        origin: &Origin<'_>,
        set_cookie: &[&HeaderValue],
        strict: bool,
    ) -> Result<usize> {
        if set_cookie.is_empty() {
            return Ok(0);
        }
        let mut sites: Vec<String> = buckets_of(origin).into_iter().map(str::to_owned).collect();
        let _queued = self.shared.stripes[stripe(sites.last().map_or("", String::as_str))]
            .lock()
            .await;
        let (mut generation, mut conn) = self.shared.link.get().await?;
        let mut reconnected = false;
        for domain in shadow_scan_domains(origin, set_cookie) {
            for site in self.sites_under(generation, &mut conn, &domain).await? {
                if !sites.contains(&site) {
                    sites.push(site);
                }
            }
        }
        let mut attempt = 0;
        while attempt < self.shared.max_attempts {
            let (mut model, versions) = match self.read(generation, &mut conn, &sites).await {
                Ok(read) => read,
                Err(e) => {
                    (generation, conn) = self.reconnect(generation, &mut reconnected, e).await?;
                    continue;
                }
            };
            let (now_us, now_s) = self.now();
            let stored = if strict {
                let line = String::from_utf8_lossy(set_cookie[0].as_bytes());
                let parsed = parse::parse_set_cookie(&line).map_err(Error::rejected)?;
                model.store_parsed(&self.shared.config, origin, parsed, now_us, now_s)?;
                1
            } else {
                model.store_response(
                    &self.shared.config,
                    origin,
                    set_cookie.iter().copied(),
                    now_us,
                    now_s,
                )
            };
            let changes = model.changes(now_s);
            if changes.is_empty() {
                return Ok(stored);
            }
            let mut call = self.shared.script.prepare_invoke();
            call.key(self.version_key());
            for site in &sites {
                call.key(self.key_of(site));
            }
            for version in &versions {
                call.arg(version);
            }
            for site in &sites {
                match changes.iter().find(|c| *c.key == **site) {
                    None => {
                        call.arg(0).arg(0).arg(0);
                    }
                    Some(change) => {
                        let ttl = if change.left == 0 {
                            0
                        } else {
                            let persistent = change.last_expiry.map_or(0, |e| e - now_s);
                            let session = if change.session {
                                i64::try_from(self.shared.session_ttl.as_secs()).unwrap_or(i64::MAX)
                            } else {
                                0
                            };
                            persistent.max(session).max(1)
                        };
                        call.arg(ttl).arg(change.set.len()).arg(change.delete.len());
                        for (cookie, seq) in &change.set {
                            call.arg(codec::field(cookie))
                                .arg(codec::value(cookie, *seq));
                        }
                        for cookie in &change.delete {
                            call.arg(codec::field(cookie));
                        }
                    }
                }
            }
            if changes.iter().any(|c| !sites.iter().any(|s| **s == *c.key)) {
                return Err(Error::unavailable(
                    "a cookie belongs to a site that was not read",
                    None,
                ));
            }
            let applied: i64 = match call.invoke_async(&mut conn).await {
                Ok(applied) => applied,
                Err(e) => {
                    let e = self.shared.link.failed(generation, e).await;
                    (generation, conn) = self.reconnect(generation, &mut reconnected, e).await?;
                    continue;
                }
            };
            if applied == 1 {
                return Ok(stored);
            }
            // Another process wrote one of these sites: read again.
            tokio::time::sleep(pause(attempt)).await;
            attempt += 1;
        }
        Err(Error::unavailable(
            "other processes kept writing the same site; the write was given up",
            None,
        ))
    }
}

/// Which lock writes to `site` queue on.
fn stripe(site: &str) -> usize {
    let mut h = std::hash::DefaultHasher::new();
    h.write(site.as_bytes());
    (h.finish() % STRIPES as u64) as usize
}

/// A random pause before attempt `attempt + 1`: up to 1, 2, 4, ... 32 ms.
fn pause(attempt: u32) -> Duration {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let max_ms = 1u64 << attempt.min(5);
    Duration::from_micros(random % (max_ms * 1000))
}

impl fmt::Debug for RedisJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisJar")
            .field("prefix", &self.shared.prefix)
            .field("public_suffix_list", &self.shared.config.public_suffix_list)
            .field("max_cookies_per_domain", &self.shared.config.max_per_domain)
            .field("session_ttl", &self.shared.session_ttl)
            .finish_non_exhaustive()
    }
}

impl CookieStore for RedisJar {
    type CookiesFuture = BoxFuture<Result<Vec<StoredCookie>>>;
    type StoreFuture = BoxFuture<Result<usize>>;

    fn cookies_for(&self, uri: &http::Uri) -> Self::CookiesFuture {
        let (jar, uri) = (self.clone(), uri.clone());
        Box::pin(async move {
            match Origin::from_uri(&uri) {
                Some(origin) => jar.send_to(&origin).await,
                None => match url_of(&uri) {
                    Some(url) => jar.matching(&url).await,
                    None => Ok(Vec::new()),
                },
            }
        })
    }

    fn store_response(&self, uri: &http::Uri, headers: &HeaderMap) -> Self::StoreFuture {
        let values: Vec<HeaderValue> = headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        let (jar, uri) = (self.clone(), uri.clone());
        Box::pin(async move {
            if values.is_empty() {
                return Ok(0);
            }
            let values: Vec<&HeaderValue> = values.iter().collect();
            match Origin::from_uri(&uri) {
                Some(origin) => jar.apply(&origin, &values, false).await,
                None => match url_of(&uri) {
                    Some(url) => jar.store_response_cookies(&url, values).await,
                    None => Ok(0),
                },
            }
        })
    }
}

impl RemoteStore for RedisJar {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assert_impls() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<RedisJar>();
    }

    #[test]
    fn pauses_stay_short() {
        for attempt in 0..40 {
            assert!(pause(attempt) < Duration::from_millis(33));
        }
    }
}
