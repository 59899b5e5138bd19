//! [`Cache`]: the cache's settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Uri};

use crate::store::{MemoryStore, Store};

/// Who the cache serves (RFC 9111 §1 and §3.5).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// One user (a session, a CLI): responses marked `private` and answers
    /// to requests with credentials may be stored and served again (the
    /// default).
    #[default]
    Private,
    /// A cache in front of several identities (a fleet of workers, a
    /// gateway): `private` responses, answers to requests with
    /// `Authorization` (unless `public`, `s-maxage` or `must-revalidate`
    /// allow it) or with cookies (unless `public` or `s-maxage`), and
    /// responses with `Set-Cookie` (unless `public`) are not stored;
    /// `s-maxage` and `proxy-revalidate` apply; a stored entry never holds
    /// `Set-Cookie`.
    Shared,
}

/// How long responses stay fresh: the headers' word, or an override
/// (requests-cache's `expire_after` and `urls_expire_after`).
///
/// An override never makes the cache store what RFC 9111 forbids it to
/// (`no-store`, and `private` or credentials in a shared cache), and never
/// extends a response with `must-revalidate` or `no-cache`: those keep the
/// freshness their headers give.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// As the headers say (`max-age`, `Expires`, heuristics): the default.
    Headers,
    /// Fresh for this long after it is received (`After(Duration::ZERO)`:
    /// revalidated every time, requests-cache's `EXPIRE_IMMEDIATELY`).
    After(Duration),
    /// Fresh for ever (requests-cache's `NEVER_EXPIRE`).
    Never,
    /// Not stored (requests-cache's `DO_NOT_CACHE`).
    DoNotCache,
}

/// The `Cookie` header a layer below the cache adds to a request (see
/// [`Cache::request_cookies`]).
pub type CookieSource = Arc<dyn Fn(&Uri) -> Option<HeaderValue> + Send + Sync>;

/// The cache's settings, for [`CacheLayer::new`](crate::CacheLayer::new).
///
/// ```
/// use std::time::Duration;
/// use http::Method;
/// use session_cache::{Cache, Expiry};
/// use session_cache::store::MemoryStore;
///
/// let cache = Cache::private()
///     .store(MemoryStore::new(32 * 1024 * 1024))
///     .methods([Method::GET, Method::HEAD, Method::POST])
///     .ignored_parameters(["api_key", "ts"])
///     .expire_after(Expiry::Headers)
///     .expire_urls("api.example.com/static/*", Expiry::After(Duration::from_secs(3600)))
///     .expire_urls("*/live/*", Expiry::DoNotCache)
///     .stale_if_error(Duration::from_secs(300));
/// # let _ = cache;
/// ```
///
/// See the [crate docs](crate) for more details.
#[must_use]
#[derive(Clone)]
pub struct Cache {
    pub(crate) mode: Mode,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) methods: Vec<Method>,
    pub(crate) ignored_params: Vec<String>,
    pub(crate) expire_after: Expiry,
    pub(crate) url_rules: Vec<(String, Expiry)>,
    pub(crate) stale_if_error: Option<Duration>,
    pub(crate) stale_while_revalidate: Option<Duration>,
    pub(crate) max_entry_size: u64,
    pub(crate) keep_stale: Duration,
    pub(crate) collapse_stall: Duration,
    pub(crate) request_cookies: Option<CookieSource>,
}

/// The default [`Cache::max_entry_size`]: 16 MiB.
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 16 * 1024 * 1024;

/// The default [`Cache::keep_stale`]: one day.
pub const DEFAULT_KEEP_STALE: Duration = Duration::from_secs(24 * 3600);

impl Default for Cache {
    fn default() -> Self {
        Cache::private()
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("mode", &self.mode)
            .field("store", &self.store)
            .field("methods", &self.methods)
            .field("ignored_params", &self.ignored_params)
            .field("expire_after", &self.expire_after)
            .field("url_rules", &self.url_rules)
            .field("stale_if_error", &self.stale_if_error)
            .field("stale_while_revalidate", &self.stale_while_revalidate)
            .field("max_entry_size", &self.max_entry_size)
            .field("keep_stale", &self.keep_stale)
            .field("request_cookies", &self.request_cookies.is_some())
            .finish()
    }
}

impl Cache {
    /// A private cache (one user) in a [`MemoryStore`] of the default
    /// capacity, caching `GET` and `HEAD` as the headers say.
    pub fn private() -> Self {
        Cache {
            mode: Mode::Private,
            store: Arc::new(MemoryStore::default()),
            methods: vec![Method::GET, Method::HEAD],
            ignored_params: Vec::new(),
            expire_after: Expiry::Headers,
            url_rules: Vec::new(),
            stale_if_error: None,
            stale_while_revalidate: None,
            max_entry_size: DEFAULT_MAX_ENTRY_SIZE,
            keep_stale: DEFAULT_KEEP_STALE,
            collapse_stall: Duration::from_secs(1),
            request_cookies: None,
        }
    }

    /// A shared cache (several identities; see [`Mode::Shared`]).
    pub fn shared() -> Self {
        Cache::private().mode(Mode::Shared)
    }

    /// Private or shared.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Where entries are kept (default: a [`MemoryStore`] of 64 MiB).
    pub fn store<S: Store>(mut self, store: S) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// The same, already shared (several layers on one store).
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// The methods whose answers are stored: `GET` and `HEAD` by default;
    /// `POST` is opt-in, and keyed by its body's bytes (a streamed body,
    /// whose bytes are not known before it is sent, is not cached). Other
    /// methods are left out.
    pub fn methods<I: IntoIterator<Item = Method>>(mut self, methods: I) -> Self {
        self.methods = methods
            .into_iter()
            .filter(|m| *m == Method::GET || *m == Method::HEAD || *m == Method::POST)
            .collect();
        self
    }

    /// Query parameters left out of the key (and out of the stored URL):
    /// `?q=1&api_key=..` and `?q=1` are one entry (requests-cache's
    /// `ignored_parameters`).
    pub fn ignored_parameters<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignored_params = names.into_iter().map(Into::into).collect();
        self
    }

    /// How long responses stay fresh when no URL rule matches (default:
    /// [`Expiry::Headers`]).
    pub fn expire_after(mut self, expiry: Expiry) -> Self {
        self.expire_after = expiry;
        self
    }

    /// An expiry for URLs matching `pattern` (requests-cache's
    /// `urls_expire_after`): a glob (`*` matches any run of characters)
    /// over the URL without its scheme (`host[:port]/path?query`), or over
    /// the whole URL when the pattern has a scheme; it matches a prefix (an
    /// implicit `*` ends it). The first rule added that matches wins.
    pub fn expire_urls(mut self, pattern: &str, expiry: Expiry) -> Self {
        self.url_rules.push((pattern.to_owned(), expiry));
        self
    }

    /// Serves a stale response when the origin fails (a connection error or
    /// a `500`, `502`, `503` or `504`; never a `404` or `403`) for up to
    /// this long past its freshness, on top of the response's own
    /// `stale-if-error` (RFC 5861). Never for a response with
    /// `must-revalidate` or `no-cache` (nor, in a shared cache,
    /// `proxy-revalidate` or `s-maxage`).
    pub fn stale_if_error(mut self, window: Duration) -> Self {
        self.stale_if_error = Some(window);
        self
    }

    /// Serves a stale response at once, revalidating it in the background,
    /// for up to this long past its freshness, on top of the response's
    /// own `stale-while-revalidate` (RFC 5861); same exceptions as
    /// [`stale_if_error`](Self::stale_if_error).
    pub fn stale_while_revalidate(mut self, window: Duration) -> Self {
        self.stale_while_revalidate = Some(window);
        self
    }

    /// The biggest body stored, in bytes (default 16 MiB): a bigger one
    /// streams to the caller and is not stored. Stores have caps of their
    /// own too.
    pub fn max_entry_size(mut self, bytes: u64) -> Self {
        self.max_entry_size = bytes;
        self
    }

    /// How long a stale response with validators (`ETag`,
    /// `Last-Modified`) is kept to be revalidated (default one day): the
    /// entry's TTL is its freshness plus this (or the stale windows, if
    /// longer).
    pub fn keep_stale(mut self, keep: Duration) -> Self {
        self.keep_stale = keep;
        self
    }

    /// How long a request waiting for another one's answer to the same key
    /// (single-flight) waits while that answer's body makes no progress,
    /// before it asks the origin itself (default 1 s). It waits for the
    /// answer's head without limit (the request's own timeout applies).
    pub fn collapse_stall(mut self, stall: Duration) -> Self {
        self.collapse_stall = stall;
        self
    }

    /// Tells the cache which `Cookie` header a layer *below* it will add to
    /// a request (a session's cookie jar): the cache treats it as part of
    /// the request, for `Vary: Cookie` and for the shared-cache rules. The
    /// `http-session` facade sets it to its jar.
    pub fn request_cookies<F>(mut self, source: F) -> Self
    where
        F: Fn(&Uri) -> Option<HeaderValue> + Send + Sync + 'static,
    {
        self.request_cookies = Some(Arc::new(source));
        self
    }

    /// Whether [`request_cookies`](Self::request_cookies) was set.
    pub fn has_request_cookies(&self) -> bool {
        self.request_cookies.is_some()
    }

    /// The store.
    pub fn get_store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The expiry for a URL: the first matching rule, else the default.
    pub(crate) fn expiry_for(&self, uri: &Uri) -> Expiry {
        if self.url_rules.is_empty() {
            return self.expire_after;
        }
        let full = uri.to_string();
        let without_scheme = full
            .split_once("://")
            .map_or(full.as_str(), |(_, rest)| rest);
        for (pattern, expiry) in &self.url_rules {
            let subject = if pattern.contains("://") {
                full.as_str()
            } else {
                without_scheme
            };
            if glob_prefix(pattern.as_bytes(), subject.as_bytes()) {
                return *expiry;
            }
        }
        self.expire_after
    }
}

/// Whether `pattern` (with `*` wildcards) matches a prefix of `text`.
fn glob_prefix(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative wildcard matching with one backtrack point; a pattern that
    // is used up matches (an implicit trailing `*`).
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p == pattern.len() {
            return true;
        }
        if pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
            continue;
        }
        if t < text.len() && pattern[p].eq_ignore_ascii_case(&text[t]) {
            p += 1;
            t += 1;
            continue;
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_prefix(b"api.test/static", b"api.test/static/a.js"));
        assert!(glob_prefix(b"*.test/x/*", b"a.b.test/x/y"));
        assert!(!glob_prefix(b"*.test/x/*", b"a.b.test/y/x"));
        assert!(glob_prefix(b"*/live/", b"h:1/a/live/b"));
        assert!(!glob_prefix(b"api.test/static", b"api.test/stat"));
        let cache = Cache::private()
            .expire_urls("a.test/s/*", Expiry::Never)
            .expire_urls("http://a.test/", Expiry::DoNotCache);
        assert_eq!(
            cache.expiry_for(&"http://a.test/s/1".parse().unwrap()),
            Expiry::Never
        );
        assert_eq!(
            cache.expiry_for(&"http://a.test/x".parse().unwrap()),
            Expiry::DoNotCache
        );
        assert_eq!(
            cache.expiry_for(&"https://a.test/x".parse().unwrap()),
            Expiry::Headers
        );
    }
}
