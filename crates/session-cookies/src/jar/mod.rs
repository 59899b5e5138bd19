//! [`Jar`] and [`JarBuilder`]: the RFC 6265bis storage model.
//!
//! This module is the handle, [`Jar`]: how it is made and locked, its
//! lookups, storing and listing. Each other job has its own module:
//!
//! - `builder`: [`JarBuilder`], the settings it sets and their defaults;
//! - `insert`: [`Jar::insert`], a hand-made `cookie::Cookie` through the
//!   same rules as a received one;
//! - `remove`: the methods that remove cookies;
//! - `origin`: the parts of a request URL the model reads, and the rules
//!   that match hosts and paths (domain-match, path-match, buckets, …);
//! - `store`: the cookies behind the lock, the storage algorithm
//!   (RFC 6265bis §5.7) and eviction;
//! - `retrieve`: which stored cookies a request gets, in `Cookie` header
//!   order (RFC 6265bis §5.8.3);
//! - `restore`: saved records back into the store;
//! - `lock`: the lock over the store, which recovers from poisoning and
//!   publishes the cookie count;
//! - `model`: the same store and rules over cookies read from a store
//!   outside this process (a [`RedisJar`](crate::RedisJar)), and what
//!   changed, to write back.

mod builder;
mod insert;
mod lock;
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
mod model;
mod origin;
mod remove;
mod restore;
mod retrieve;
mod store;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::HeaderValue;
use url::Url;

use self::lock::Locked;
use self::retrieve::send_order;
use self::store::{Entry, Source, Store};
use crate::error::{Error, Result};
use crate::parse::{self, Parsed};
use crate::stored::StoredCookie;
use crate::time::{to_micros, Clock};

#[cfg_attr(not(feature = "redis"), allow(unused_imports))]
pub(crate) use self::builder::Config;
pub use self::builder::JarBuilder;
#[cfg_attr(not(feature = "redis"), allow(unused_imports))]
pub(crate) use self::model::{buckets_of, shadow_scan_domains, Model};
pub(crate) use self::origin::Origin;

/// A cookie jar: a cheap [`Clone`] handle over shared, thread-safe state.
///
/// It applies the RFC 6265bis storage model for a non-browser client; the
/// rules are listed in the [crate docs](crate). Build one with [`Jar::new`]
/// (the defaults) or [`Jar::builder`].
///
/// All clones see the same cookies. A panic in another thread while it uses
/// the jar does not break it: the lock recovers from poisoning.
///
/// ```
/// use session_cookies::Jar;
/// use url::Url;
///
/// let jar = Jar::new();
/// let login = Url::parse("https://example.com/login").unwrap();
/// jar.store_set_cookie(&login, "sid=abc; Path=/; HttpOnly").unwrap();
///
/// let page = Url::parse("https://example.com/account").unwrap();
/// assert_eq!(jar.cookie_header(&page).unwrap(), "sid=abc");
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct Jar {
    shared: Arc<Shared>,
}

struct Shared {
    config: Config,
    clock: Box<dyn Clock>,
    store: Mutex<Store>,
    /// `store.total` as of the last unlock, readable without the lock.
    len: AtomicUsize,
}

impl Default for Jar {
    fn default() -> Self {
        Jar::new()
    }
}

impl Jar {
    /// A jar with the defaults: public suffix list on, 180 cookies per site,
    /// 3300 in all, the system clock.
    pub fn new() -> Self {
        Jar::builder().build()
    }

    /// A [`JarBuilder`] to change the defaults.
    pub fn builder() -> JarBuilder {
        JarBuilder::new()
    }

    /// A jar with these settings and clock, and no cookies.
    fn from_parts(config: Config, clock: Box<dyn Clock>) -> Jar {
        Jar {
            shared: Arc::new(Shared {
                config,
                clock,
                store: Mutex::new(Store::default()),
                len: AtomicUsize::new(0),
            }),
        }
    }

    fn lock(&self) -> Locked<'_> {
        Locked::new(&self.shared.store, &self.shared.len)
    }

    fn now(&self) -> (i64, i64) {
        let us = to_micros(self.shared.clock.now());
        (us, us.div_euclid(1_000_000))
    }

    /// The `Cookie` header to send to `url`, or `None` when no cookie applies.
    ///
    /// Cookies come longest path first, then oldest first; each one's
    /// last-access time is updated. Secure cookies go only to `https`/`wss`
    /// URLs and to loopback hosts.
    ///
    /// ```
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// let jar = Jar::new();
    /// let url = Url::parse("http://example.com/a/b").unwrap();
    /// jar.store_set_cookie(&url, "short=1; Path=/").unwrap();
    /// jar.store_set_cookie(&url, "long=2; Path=/a").unwrap();
    /// assert_eq!(jar.cookie_header(&url).unwrap(), "long=2; short=1");
    /// ```
    pub fn cookie_header(&self, url: &Url) -> Option<HeaderValue> {
        let s = self.header_string(url, |_| false)?;
        HeaderValue::from_str(&s).ok()
    }

    /// Like [`cookie_header`](Self::cookie_header), as a `String`, leaving
    /// out cookies for which `skip(name)` is true.
    pub(crate) fn header_string(&self, url: &Url, skip: impl Fn(&str) -> bool) -> Option<String> {
        self.header_string_for(&Origin::from_url(url)?, skip)
    }

    /// [`header_string`](Self::header_string) for an origin.
    pub(crate) fn header_string_for(
        &self,
        origin: &Origin<'_>,
        skip: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let (now_us, now_s) = self.now();
        let store = self.lock();
        let hits = store.sent_to(origin, now_s, skip);
        if hits.is_empty() {
            return None;
        }
        let len = hits
            .iter()
            .map(|e| e.cookie.name.len() + e.cookie.value.len() + 3)
            .sum();
        let mut out = String::with_capacity(len);
        for e in hits {
            if !out.is_empty() {
                out.push_str("; ");
            }
            if !e.cookie.name.is_empty() {
                out.push_str(&e.cookie.name);
                out.push('=');
            }
            out.push_str(&e.cookie.value);
            e.last_access.set(now_us);
        }
        Some(out)
    }

    /// The cookies sent to `origin`, in `Cookie` header order; their
    /// last-access time is updated (what [`CookieStore`](crate::CookieStore)
    /// answers).
    pub(crate) fn send_to(&self, origin: &Origin<'_>) -> Vec<StoredCookie> {
        if self.is_empty() {
            return Vec::new();
        }
        let (now_us, now_s) = self.now();
        let store = self.lock();
        let hits = store.sent_to(origin, now_s, |_| false);
        hits.into_iter()
            .map(|e| {
                e.last_access.set(now_us);
                e.snapshot()
            })
            .collect()
    }

    /// The cookies that would be sent to `url`, in `Cookie` header order.
    /// Does not change their last-access time.
    pub fn matching(&self, url: &Url) -> Vec<StoredCookie> {
        let Some(origin) = Origin::from_url(url) else {
            return Vec::new();
        };
        let (_, now_s) = self.now();
        let store = self.lock();
        let hits = store.sent_to(&origin, now_s, |_| false);
        hits.into_iter().map(Entry::snapshot).collect()
    }

    /// The cookie named `name` that would be sent first to `url`.
    pub fn get(&self, url: &Url, name: &str) -> Option<StoredCookie> {
        self.matching(url).into_iter().find(|c| c.name == name)
    }

    /// Stores every `Set-Cookie` header of a response to `url`; returns how
    /// many cookies were stored, replaced or deleted. Rejected headers are
    /// skipped (see [`store_set_cookie`](Self::store_set_cookie) to learn why
    /// one was rejected).
    ///
    /// ```
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// use http::{header::SET_COOKIE, HeaderMap, HeaderValue};
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.append(SET_COOKIE, HeaderValue::from_static("a=1"));
    /// headers.append(SET_COOKIE, HeaderValue::from_static("b=2; Domain=com"));
    ///
    /// let jar = Jar::new();
    /// let url = Url::parse("http://example.com/").unwrap();
    /// let stored = jar.store_response_cookies(&url, headers.get_all(SET_COOKIE));
    /// assert_eq!(stored, 1); // `Domain=com` is a public suffix
    /// ```
    pub fn store_response_cookies<'a, I>(&self, url: &Url, set_cookie: I) -> usize
    where
        I: IntoIterator<Item = &'a HeaderValue>,
    {
        match Origin::from_url(url) {
            Some(origin) => self.store_response_cookies_for(&origin, set_cookie),
            None => 0,
        }
    }

    /// [`store_response_cookies`](Self::store_response_cookies) for an
    /// origin.
    pub(crate) fn store_response_cookies_for<'a, I>(
        &self,
        origin: &Origin<'_>,
        set_cookie: I,
    ) -> usize
    where
        I: IntoIterator<Item = &'a HeaderValue>,
    {
        let (now_us, now_s) = self.now();
        let mut store = self.lock();
        let mut stored = 0;
        for value in set_cookie {
            // Most lines are visible ASCII, which `to_str` checks with a
            // plain scan; other bytes are read as UTF-8, lossily.
            let line = match value.to_str() {
                Ok(line) => std::borrow::Cow::Borrowed(line),
                Err(_) => String::from_utf8_lossy(value.as_bytes()),
            };
            if let Ok(parsed) = parse::parse_set_cookie(&line) {
                if store
                    .store_parsed(
                        &self.shared.config,
                        origin,
                        parsed,
                        now_us,
                        now_s,
                        Source::Received,
                    )
                    .is_ok()
                {
                    stored += 1;
                }
            }
        }
        stored
    }

    /// Stores one `Set-Cookie` header value received from `url`.
    ///
    /// # Errors
    ///
    /// [`Error::is_rejected`] when a rule of the storage model refuses it; the
    /// message names the rule.
    ///
    /// ```
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// let jar = Jar::new();
    /// let http = Url::parse("http://example.com/").unwrap();
    /// let err = jar.store_set_cookie(&http, "__Host-id=1; Secure; Path=/").unwrap_err();
    /// assert!(err.is_rejected()); // Secure needs a secure origin
    /// ```
    pub fn store_set_cookie(&self, url: &Url, set_cookie: &str) -> Result<()> {
        let origin = Origin::from_url(url).ok_or(Error::rejected("URL has no host"))?;
        let parsed = parse::parse_set_cookie(set_cookie).map_err(Error::rejected)?;
        self.store_received(&origin, parsed)
    }

    /// Stores one cookie received from `origin`, through the storage model.
    pub(super) fn store_received(&self, origin: &Origin<'_>, parsed: Parsed<'_>) -> Result<()> {
        let (now_us, now_s) = self.now();
        let mut store = self.lock();
        store.store_parsed(
            &self.shared.config,
            origin,
            parsed,
            now_us,
            now_s,
            Source::Received,
        )
    }

    /// Restores saved records (see [`persist`](crate::persist)).
    pub(crate) fn restore(&self, records: Vec<StoredCookie>) -> (usize, usize) {
        let (now_us, now_s) = self.now();
        self.lock()
            .restore(&self.shared.config, records, now_us, now_s)
    }

    /// Restores cookie records kept elsewhere (a session file, another
    /// tool's format) through the checks [`load`](Self::load) makes: an
    /// expired record is skipped, one a storage rule refuses (public suffix,
    /// size, control characters, prefix, bad domain or path) is rejected,
    /// and the report counts each.
    pub fn restore_cookies(
        &self,
        records: impl IntoIterator<Item = StoredCookie>,
    ) -> crate::persist::LoadReport {
        let records: Vec<StoredCookie> = records.into_iter().collect();
        let total = records.len();
        let (loaded, rejected) = self.restore(records);
        crate::persist::LoadReport {
            loaded,
            rejected,
            expired: total - loaded - rejected,
        }
    }

    /// Every stored cookie that has not expired, oldest first, as
    /// [`save`](Self::save) writes them (session cookies only when
    /// `include_session`); for saving in another format.
    pub fn cookies_to_save(&self, include_session: bool) -> Vec<StoredCookie> {
        self.all_for_save(include_session)
    }

    /// Every stored cookie that has not expired, sorted by domain, then in
    /// `Cookie` header order.
    pub fn cookies(&self) -> Vec<StoredCookie> {
        self.live(
            |_| true,
            |a, b| {
                a.cookie
                    .domain
                    .cmp(&b.cookie.domain)
                    .then_with(|| send_order(a, b))
            },
        )
    }

    /// Every stored cookie that has not expired, oldest first; for saving
    /// (session cookies only when `include_session`).
    pub(crate) fn all_for_save(&self, include_session: bool) -> Vec<StoredCookie> {
        self.live(
            |e| include_session || e.cookie.expires.is_some(),
            |a, b| (a.cookie.creation, a.seq).cmp(&(b.cookie.creation, b.seq)),
        )
    }

    /// The cookies that have not expired and that `keep` keeps, in `order`.
    fn live(
        &self,
        keep: impl Fn(&Entry) -> bool,
        order: impl Fn(&Entry, &Entry) -> std::cmp::Ordering,
    ) -> Vec<StoredCookie> {
        let (_, now_s) = self.now();
        let store = self.lock();
        let mut all: Vec<&Entry> = store
            .buckets
            .values()
            .flatten()
            .filter(|e| !e.expired(now_s) && keep(e))
            .collect();
        all.sort_unstable_by(|a, b| order(a, b));
        all.into_iter().map(Entry::snapshot).collect()
    }

    /// The number of cookies stored (expired ones not yet evicted included).
    pub fn len(&self) -> usize {
        self.lock().total
    }

    /// `true` when the jar holds no cookie.
    ///
    /// This reads a count published on every unlock, without taking the lock,
    /// so the layer skips all work for a session that has no cookies.
    pub fn is_empty(&self) -> bool {
        self.shared.len.load(Ordering::Acquire) == 0
    }
}

impl fmt::Debug for Jar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jar")
            .field("len", &self.len())
            .field("public_suffix_list", &self.shared.config.public_suffix_list)
            .field("max_cookies_per_domain", &self.shared.config.max_per_domain)
            .field("max_cookies", &self.shared.config.max_total)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assert_impls() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<Jar>();
    }
}
