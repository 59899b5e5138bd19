//! [`Jar`] and [`JarBuilder`]: the RFC 6265bis storage model.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use http::HeaderValue;
use url::Url;

use crate::error::{Error, Result};
use crate::parse::{self, is_forbidden_ctl, Expiry, Parsed, MAX_ATTRIBUTE, MAX_NAME_VALUE};
use crate::stored::{SameSite, StoredCookie};
use crate::time::{to_micros, Clock, SystemClock};

/// The longest a cookie may live: 400 days (RFC 6265bis §5.5).
const MAX_AGE_SECS: i64 = 400 * 86_400;
/// Default per-domain cap (Chromium's value; RFC 6265bis asks for at least 50).
pub(crate) const DEFAULT_PER_DOMAIN: usize = 180;
/// Default total cap (Chromium's value; RFC 6265bis asks for at least 3000).
pub(crate) const DEFAULT_TOTAL: usize = 3300;

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

/// The locked store; on unlock it publishes the cookie count to
/// `Shared::len`, so [`Jar::is_empty`] needs no lock.
struct Locked<'a> {
    guard: MutexGuard<'a, Store>,
    len: &'a AtomicUsize,
}

impl Deref for Locked<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.len.store(self.guard.total, Ordering::Release);
    }
}

#[derive(Debug, Clone)]
struct Config {
    public_suffix_list: bool,
    max_per_domain: usize,
    max_total: usize,
}

/// Cookies indexed by the registrable domain (eTLD+1) of their domain, or by
/// the domain itself when it has none (an IP address, a public suffix). A
/// lookup walks the request host's parent domains, so it never looks at
/// another site's cookies.
#[derive(Default)]
struct Store {
    buckets: HashMap<Box<str>, Vec<Entry>>,
    total: usize,
    next_seq: u64,
}

struct Entry {
    cookie: StoredCookie,
    /// Creation order, to break ties between equal creation times.
    seq: u64,
    /// Updated under a shared borrow while building a header.
    last_access: Cell<i64>,
}

impl Entry {
    fn expired(&self, now_s: i64) -> bool {
        self.cookie.expires.is_some_and(|e| e <= now_s)
    }

    fn snapshot(&self) -> StoredCookie {
        let mut c = self.cookie.clone();
        c.last_access = self.last_access.get();
        c
    }

    fn lru_key(&self) -> (i64, u64) {
        (self.last_access.get(), self.seq)
    }
}

/// The parts of a request URL the storage model needs.
#[derive(Debug)]
pub(crate) struct Origin<'a> {
    host: String,
    is_ip: bool,
    secure: bool,
    path: &'a str,
}

impl<'a> Origin<'a> {
    /// The origin of a request URI, as RFC 6265bis reads it: the host
    /// canonicalized (lowercase; an IP address in its usual form) and the
    /// path as sent. `None` for a URI without scheme or host, and for a host
    /// only a URL parser can canonicalize (percent-encoded, or ending in a
    /// number that is not a dotted-decimal IPv4 address): the caller then
    /// goes through [`Origin::from_url`].
    pub(crate) fn from_uri(uri: &'a http::Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?;
        let written = uri.host()?;
        let (host, is_ip, loopback) = if let Some(inner) = written.strip_prefix('[') {
            let ip: std::net::Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
            (format!("[{ip}]"), true, ip.is_loopback())
        } else if let Ok(ip) = written.parse::<Ipv4Addr>() {
            // `std` reads only the dotted-decimal form, which is how an
            // address is written back: the host as written.
            (written.to_owned(), true, ip.is_loopback())
        } else {
            let last = written.trim_end_matches('.').rsplit('.').next()?;
            let numeric = last.as_bytes().first().is_none_or(u8::is_ascii_digit);
            if numeric || written.contains('%') {
                return None;
            }
            let host = written.to_ascii_lowercase();
            let loopback = is_loopback(&host);
            (host, false, loopback)
        };
        let secure =
            scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("wss") || loopback;
        Some(Origin {
            host,
            is_ip,
            secure,
            path: uri.path(),
        })
    }

    pub(crate) fn from_url(url: &'a Url) -> Option<Self> {
        let (host, is_ip) = match url.host()? {
            url::Host::Domain(d) => (d.to_ascii_lowercase(), false),
            url::Host::Ipv4(ip) => (ip.to_string(), true),
            url::Host::Ipv6(ip) => (format!("[{ip}]"), true),
        };
        if host.is_empty() {
            return None;
        }
        let secure = matches!(url.scheme(), "https" | "wss") || is_loopback(&host);
        Some(Origin {
            host,
            is_ip,
            secure,
            path: url.path(),
        })
    }
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`: potentially
/// trustworthy origins even over plain http.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok()
}

/// RFC 6265bis §5.1.3.
fn domain_match(host: &str, host_is_ip: bool, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    !host_is_ip
        && !domain.is_empty()
        && host.len() > domain.len()
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// RFC 6265bis §5.1.4 default-path.
fn default_path(uri_path: &str) -> &str {
    if !uri_path.starts_with('/') {
        return "/";
    }
    match uri_path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &uri_path[..i],
    }
}

/// RFC 6265bis §5.1.4 path-match.
fn path_match(request_path: &str, cookie_path: &str) -> bool {
    if request_path == cookie_path {
        return true;
    }
    request_path.starts_with(cookie_path)
        && (cookie_path.ends_with('/') || request_path.as_bytes()[cookie_path.len()] == b'/')
}

/// The bucket a cookie with this domain lives in (`is_ip`: the domain is
/// an IP address, its own bucket).
fn bucket_key(domain: &str, is_ip: bool) -> &str {
    if is_ip {
        return domain;
    }
    match psl::domain_str(domain) {
        Some(base)
            if domain.ends_with(base)
                && (domain.len() == base.len()
                    || domain.as_bytes()[domain.len() - base.len() - 1] == b'.') =>
        {
            &domain[domain.len() - base.len()..]
        }
        _ => domain,
    }
}

fn is_public_suffix(domain: &str) -> bool {
    psl::suffix_str(domain) == Some(domain)
}

/// `host` and each of its parent domains (only `host` for an IP address).
fn parents(host: &str, is_ip: bool) -> impl Iterator<Item = &str> {
    let mut next = Some(host);
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.find('.') {
            Some(i) if !is_ip && i + 1 < cur.len() => Some(&cur[i + 1..]),
            _ => None,
        };
        Some(cur)
    })
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Sort order of the Cookie header (RFC 6265bis §5.8.3): longer paths first,
/// then earlier creation.
fn send_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    b.cookie
        .path
        .len()
        .cmp(&a.cookie.path.len())
        .then(a.cookie.creation.cmp(&b.cookie.creation))
        .then(a.seq.cmp(&b.seq))
}

/// Where a cookie comes from; loaded ones keep their times.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    Received,
    Loaded { creation: i64, last_access: i64 },
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

    fn lock(&self) -> Locked<'_> {
        let guard = match self.shared.store.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // A thread panicked while holding the lock. Every mutation
                // here leaves the buckets valid, so recount and go on.
                let mut guard = poisoned.into_inner();
                guard.total = guard.buckets.values().map(Vec::len).sum();
                self.shared.store.clear_poison();
                guard
            }
        };
        Locked {
            guard,
            len: &self.shared.len,
        }
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
        let mut hits: Vec<&Entry> = Vec::new();
        for key in parents(&origin.host, origin.is_ip) {
            if let Some(bucket) = store.buckets.get(key) {
                hits.extend(
                    bucket
                        .iter()
                        .filter(|e| matches(e, origin, now_s) && !skip(&e.cookie.name)),
                );
            }
        }
        if hits.is_empty() {
            return None;
        }
        hits.sort_unstable_by(|a, b| send_order(a, b));
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

    /// The cookies that would be sent to `url`, in `Cookie` header order.
    /// Does not change their last-access time.
    pub fn matching(&self, url: &Url) -> Vec<StoredCookie> {
        let Some(origin) = Origin::from_url(url) else {
            return Vec::new();
        };
        let (_, now_s) = self.now();
        let store = self.lock();
        let mut hits: Vec<&Entry> = Vec::new();
        for key in parents(&origin.host, origin.is_ip) {
            if let Some(bucket) = store.buckets.get(key) {
                hits.extend(bucket.iter().filter(|e| matches(e, &origin, now_s)));
            }
        }
        hits.sort_unstable_by(|a, b| send_order(a, b));
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
            let line = match std::str::from_utf8(value.as_bytes()) {
                Ok(line) => std::borrow::Cow::Borrowed(line),
                Err(_) => String::from_utf8_lossy(value.as_bytes()),
            };
            if let Ok(parsed) = parse::parse_set_cookie(&line) {
                if self
                    .store_parsed(&mut store, origin, parsed, now_us, now_s, Source::Received)
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
        let (now_us, now_s) = self.now();
        let mut store = self.lock();
        self.store_parsed(&mut store, &origin, parsed, now_us, now_s, Source::Received)
    }

    /// Stores a hand-made cookie as if `url` had sent it, through the same
    /// rules as a received one.
    ///
    /// # Errors
    ///
    /// [`Error::is_rejected`] when a rule refuses it, or when the name
    /// contains `=` or `;` or the value contains `;`.
    ///
    /// ```
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// use cookie::Cookie;
    ///
    /// let jar = Jar::new();
    /// let url = Url::parse("https://api.example.com/").unwrap();
    /// let c = Cookie::build(("token", "t0k")).domain("example.com").path("/").secure(true);
    /// jar.insert(&url, &c.build()).unwrap();
    ///
    /// let other = Url::parse("https://www.example.com/x").unwrap();
    /// assert_eq!(jar.cookie_header(&other).unwrap(), "token=t0k");
    /// ```
    pub fn insert(&self, url: &Url, cookie: &cookie::Cookie<'_>) -> Result<()> {
        let origin = Origin::from_url(url).ok_or(Error::rejected("URL has no host"))?;
        let parsed = from_cookie(cookie)?;
        let (now_us, now_s) = self.now();
        let mut store = self.lock();
        self.store_parsed(&mut store, &origin, parsed, now_us, now_s, Source::Received)
    }

    /// Restores a saved record (see [`persist`](crate::persist)).
    pub(crate) fn restore(&self, records: Vec<StoredCookie>) -> (usize, usize) {
        let (now_us, now_s) = self.now();
        let mut store = self.lock();
        let (mut ok, mut rejected) = (0, 0);
        for rec in records {
            match self.restore_one(&mut store, rec, now_us, now_s) {
                Ok(true) => ok += 1,
                Ok(false) => {}
                Err(_) => rejected += 1,
            }
        }
        (ok, rejected)
    }

    fn restore_one(
        &self,
        store: &mut Store,
        rec: StoredCookie,
        now_us: i64,
        now_s: i64,
    ) -> Result<bool> {
        if rec.expires.is_some_and(|e| e <= now_s) {
            return Ok(false);
        }
        let domain = rec.domain.to_ascii_lowercase();
        let valid_host = !domain.is_empty()
            && (is_ip_literal(&domain)
                || domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')));
        if !valid_host || domain.len() > MAX_ATTRIBUTE {
            return Err(Error::rejected("invalid domain"));
        }
        if !rec.path.starts_with('/') {
            return Err(Error::rejected("path does not start with '/'"));
        }
        if !rec.host_only
            && self.shared.config.public_suffix_list
            && !is_ip_literal(&domain)
            && is_public_suffix(&domain)
        {
            return Err(Error::rejected("Domain is a public suffix"));
        }
        let origin = Origin {
            is_ip: is_ip_literal(&domain),
            host: domain.clone(),
            secure: true,
            path: "/",
        };
        let parsed = Parsed {
            name: rec.name,
            value: rec.value,
            max_age: None,
            expires: rec.expires,
            domain: (!rec.host_only).then_some(domain),
            path: Some(rec.path),
            secure: rec.secure,
            http_only: rec.http_only,
            same_site: rec.same_site,
        };
        // Netscape files have no times: `i64::MIN` means "now".
        let when = |t: i64| if t == i64::MIN { now_us } else { t.min(now_us) };
        let source = Source::Loaded {
            creation: when(rec.creation),
            last_access: when(rec.last_access),
        };
        self.store_parsed(store, &origin, parsed, now_us, now_s, source)?;
        Ok(true)
    }

    /// The storage model, RFC 6265bis §5.7.
    fn store_parsed(
        &self,
        store: &mut Store,
        origin: &Origin<'_>,
        p: Parsed,
        now_us: i64,
        now_s: i64,
        source: Source,
    ) -> Result<()> {
        check_name_value(&p.name, &p.value)?;
        let config = &self.shared.config;

        let expires = p.expiry().map(|e| match e {
            Expiry::MaxAge(secs) if secs <= 0 => i64::MIN,
            Expiry::MaxAge(secs) => now_s.saturating_add(secs.min(MAX_AGE_SECS)),
            Expiry::At(at) => at.min(now_s.saturating_add(MAX_AGE_SECS)),
        });

        let mut domain_attr = match p.domain {
            Some(d) if !d.is_ascii() => match url::Host::parse(&d) {
                Ok(url::Host::Domain(ascii)) => ascii,
                _ => return Err(Error::rejected("invalid Domain attribute")),
            },
            Some(d) => d,
            None => String::new(),
        };
        if config.public_suffix_list
            && !domain_attr.is_empty()
            && !is_ip_literal(&domain_attr)
            && is_public_suffix(&domain_attr)
        {
            if domain_attr == origin.host {
                domain_attr.clear();
            } else {
                return Err(Error::rejected("Domain is a public suffix"));
            }
        }
        let (domain, host_only) = if domain_attr.is_empty() {
            (origin.host.clone(), true)
        } else if domain_match(&origin.host, origin.is_ip, &domain_attr) {
            (domain_attr, false)
        } else {
            return Err(Error::rejected("Domain does not match the request host"));
        };

        let path = match p.path {
            Some(path) if !path.is_empty() => path,
            _ => default_path(origin.path).to_owned(),
        };
        if p.secure && !origin.secure {
            return Err(Error::rejected("Secure cookie from an insecure origin"));
        }
        if !p.secure && !origin.secure && shadows_secure(store, &p.name, &domain, &path) {
            return Err(Error::rejected(
                "would overwrite or shadow a Secure cookie from an insecure origin",
            ));
        }
        if starts_with_ignore_case(&p.name, "__Secure-") && !p.secure {
            return Err(Error::rejected("__Secure- prefix without Secure"));
        }
        if starts_with_ignore_case(&p.name, "__Host-") && !(p.secure && host_only && path == "/") {
            return Err(Error::rejected(
                "__Host- prefix needs Secure, no Domain and Path=/",
            ));
        }

        // A domain other than the host is a parent domain of a name (an IP
        // address domain-matches only itself).
        let key = bucket_key(&domain, origin.is_ip && domain == origin.host);
        let (mut creation, mut last_access) = match source {
            Source::Received => (now_us, now_us),
            Source::Loaded {
                creation,
                last_access,
            } => (creation, last_access),
        };
        let expired = expires.is_some_and(|e| e <= now_s);
        let Store {
            buckets,
            total,
            next_seq,
        } = &mut *store;
        // One lookup: the bucket's key is made only for a new bucket.
        let bucket = match buckets.get_mut(key) {
            Some(bucket) => bucket,
            None if expired => return Ok(()),
            None => buckets.entry(Box::from(key)).or_default(),
        };
        let replaced = bucket.iter().position(|e| {
            e.cookie.name == p.name
                && e.cookie.domain == domain
                && e.cookie.host_only == host_only
                && e.cookie.path == path
        });
        let mut seq = None;
        if let Some(i) = replaced {
            let old = bucket.swap_remove(i);
            *total -= 1;
            creation = old.cookie.creation;
            seq = Some(old.seq);
            if matches!(source, Source::Loaded { .. }) {
                last_access = last_access.max(old.last_access.get());
            }
        }
        if expired {
            // Deletion: the old cookie (if any) is gone, the new one expired.
            if bucket.is_empty() {
                buckets.remove(key);
            }
            return Ok(());
        }
        let seq = seq.unwrap_or_else(|| {
            *next_seq += 1;
            *next_seq
        });
        bucket.push(Entry {
            cookie: StoredCookie {
                name: p.name,
                value: p.value,
                domain,
                path,
                host_only,
                secure: p.secure,
                http_only: p.http_only,
                same_site: p.same_site,
                expires,
                creation,
                last_access,
            },
            seq,
            last_access: Cell::new(last_access),
        });
        *total += 1;
        if bucket.len() > config.max_per_domain {
            evict_bucket(bucket, config.max_per_domain, now_s, total);
        }
        if store.total > config.max_total {
            store.evict_total(config.max_total, now_s);
        }
        Ok(())
    }

    /// Every stored cookie that has not expired, sorted by domain, then in
    /// `Cookie` header order.
    pub fn cookies(&self) -> Vec<StoredCookie> {
        let (_, now_s) = self.now();
        let store = self.lock();
        let mut all: Vec<&Entry> = store
            .buckets
            .values()
            .flatten()
            .filter(|e| !e.expired(now_s))
            .collect();
        all.sort_unstable_by(|a, b| {
            a.cookie
                .domain
                .cmp(&b.cookie.domain)
                .then_with(|| send_order(a, b))
        });
        all.into_iter().map(Entry::snapshot).collect()
    }

    /// Every stored cookie, expired ones included, oldest first; for saving.
    pub(crate) fn all_for_save(&self, include_session: bool) -> Vec<StoredCookie> {
        let (_, now_s) = self.now();
        let store = self.lock();
        let mut all: Vec<&Entry> = store
            .buckets
            .values()
            .flatten()
            .filter(|e| !e.expired(now_s) && (include_session || e.cookie.expires.is_some()))
            .collect();
        all.sort_unstable_by_key(|e| (e.cookie.creation, e.seq));
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

    /// Removes the cookie with the same name, domain, host-only flag and path
    /// as `cookie`; returns whether one was there.
    pub fn remove(&self, cookie: &StoredCookie) -> bool {
        let mut store = self.lock();
        let key = bucket_key(&cookie.domain, is_ip_literal(&cookie.domain));
        let Some(bucket) = store.buckets.get_mut(key) else {
            return false;
        };
        let before = bucket.len();
        bucket.retain(|e| {
            !(e.cookie.name == cookie.name
                && e.cookie.domain == cookie.domain
                && e.cookie.host_only == cookie.host_only
                && e.cookie.path == cookie.path)
        });
        let removed = before - bucket.len();
        store.total -= removed;
        store.drop_empty(key);
        removed > 0
    }

    /// Removes every cookie named `name` that would be sent to `url`; returns
    /// how many.
    pub fn remove_for_url(&self, url: &Url, name: &str) -> usize {
        self.matching(url)
            .iter()
            .filter(|c| c.name == name)
            .filter(|c| self.remove(c))
            .count()
    }

    /// Removes every cookie.
    pub fn clear(&self) {
        let mut store = self.lock();
        store.buckets.clear();
        store.total = 0;
    }

    /// Removes the cookies whose domain is `domain` or one of its subdomains
    /// (`clear_domain("example.com")` also clears `www.example.com`); returns
    /// how many.
    pub fn clear_domain(&self, domain: &str) -> usize {
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        let is_ip = is_ip_literal(&domain);
        self.retain(|c| !domain_match(&c.domain, is_ip, &domain))
    }

    /// Removes expired cookies; returns how many.
    pub fn clear_expired(&self) -> usize {
        let (_, now_s) = self.now();
        self.retain(|c| c.expires.is_none_or(|e| e > now_s))
    }

    /// Removes session cookies (those without `Expires`/`Max-Age`), as a
    /// browser does when it closes; returns how many.
    pub fn clear_session(&self) -> usize {
        self.retain(|c| c.expires.is_some())
    }

    fn retain(&self, keep: impl Fn(&StoredCookie) -> bool) -> usize {
        let mut store = self.lock();
        let mut removed = 0;
        store.buckets.retain(|_, bucket| {
            let before = bucket.len();
            bucket.retain(|e| keep(&e.cookie));
            removed += before - bucket.len();
            !bucket.is_empty()
        });
        store.total -= removed;
        removed
    }
}

fn matches(e: &Entry, origin: &Origin<'_>, now_s: i64) -> bool {
    let c = &e.cookie;
    let domain_ok = if c.host_only {
        c.domain == origin.host
    } else {
        domain_match(&origin.host, origin.is_ip, &c.domain)
    };
    domain_ok
        && path_match(origin.path, &c.path)
        && (!c.secure || origin.secure)
        && !e.expired(now_s)
}

/// RFC 6265bis §5.7 step 16: an insecure origin may not overwrite or shadow a
/// Secure cookie with the same name.
fn shadows_secure(store: &Store, name: &str, domain: &str, path: &str) -> bool {
    let hit = |e: &Entry| {
        e.cookie.secure
            && e.cookie.name == name
            && (domain_match(domain, false, &e.cookie.domain)
                || domain_match(&e.cookie.domain, false, domain))
            && path_match(path, &e.cookie.path)
    };
    let is_ip = is_ip_literal(domain);
    if !is_ip && psl::domain_str(domain).is_none() {
        // No registrable domain (a public suffix, with the list off):
        // subdomain cookies may be in any bucket.
        return store.buckets.values().flatten().any(hit);
    }
    parents(domain, is_ip)
        .filter_map(|k| store.buckets.get(k))
        .flatten()
        .any(hit)
}

fn check_name_value(name: &str, value: &str) -> Result<()> {
    if name.bytes().chain(value.bytes()).any(is_forbidden_ctl) {
        return Err(Error::rejected("control character in name or value"));
    }
    if name.len() + value.len() > MAX_NAME_VALUE {
        return Err(Error::rejected("name and value longer than 4096 bytes"));
    }
    if name.is_empty() && value.is_empty() {
        return Err(Error::rejected("empty name and value"));
    }
    if name.contains(['=', ';']) || value.contains(';') {
        return Err(Error::rejected(
            "';' or '=' in the name, or ';' in the value",
        ));
    }
    if name.is_empty()
        && (starts_with_ignore_case(value, "__Secure-")
            || starts_with_ignore_case(value, "__Host-"))
    {
        return Err(Error::rejected("nameless cookie whose value has a prefix"));
    }
    Ok(())
}

fn from_cookie(c: &cookie::Cookie<'_>) -> Result<Parsed> {
    let attr_ok = |s: &str| s.len() <= MAX_ATTRIBUTE && !s.bytes().any(is_forbidden_ctl);
    let domain = c
        .domain()
        .map(|d| d.trim_start_matches('.').to_ascii_lowercase());
    let path = c.path().map(str::to_owned);
    if !domain.as_deref().is_none_or(attr_ok) || !path.as_deref().is_none_or(attr_ok) {
        return Err(Error::rejected(
            "attribute too long or with control characters",
        ));
    }
    if path.as_deref().is_some_and(|p| p.contains(';')) {
        return Err(Error::rejected("';' in the path"));
    }
    Ok(Parsed {
        name: c.name().to_owned(),
        value: c.value().to_owned(),
        max_age: c.max_age().map(|d| d.whole_seconds().max(0)),
        expires: c.expires_datetime().map(|t| t.unix_timestamp()),
        domain,
        path: path.map(|p| if p.starts_with('/') { p } else { String::new() }),
        secure: c.secure().unwrap_or(false),
        http_only: c.http_only().unwrap_or(false),
        same_site: match c.same_site() {
            Some(cookie::SameSite::Strict) => SameSite::Strict,
            Some(cookie::SameSite::Lax) => SameSite::Lax,
            Some(cookie::SameSite::None) => SameSite::None,
            None => SameSite::Default,
        },
    })
}

/// Brings a bucket back to `max`: expired cookies first, then the least
/// recently used.
fn evict_bucket(bucket: &mut Vec<Entry>, max: usize, now_s: i64, total: &mut usize) {
    let before = bucket.len();
    bucket.retain(|e| !e.expired(now_s));
    while bucket.len() > max {
        let Some(i) = (0..bucket.len()).min_by_key(|&i| bucket[i].lru_key()) else {
            break;
        };
        bucket.swap_remove(i);
    }
    *total -= before - bucket.len();
}

impl Store {
    fn drop_empty(&mut self, key: &str) {
        if self.buckets.get(key).is_some_and(Vec::is_empty) {
            self.buckets.remove(key);
        }
    }

    /// Brings the jar below `max`: expired cookies first, then the least
    /// recently used, down to 90% of `max` so that the next inserts do not
    /// each pay for a full scan.
    fn evict_total(&mut self, max: usize, now_s: i64) {
        let mut removed = 0;
        self.buckets.retain(|_, bucket| {
            let before = bucket.len();
            bucket.retain(|e| !e.expired(now_s));
            removed += before - bucket.len();
            !bucket.is_empty()
        });
        self.total -= removed;
        if self.total <= max {
            return;
        }
        let target = max - max / 10;
        let mut order: Vec<(i64, u64)> = self
            .buckets
            .values()
            .flatten()
            .map(Entry::lru_key)
            .collect();
        order.sort_unstable();
        let cut = order[self.total - target - 1];
        let mut removed = 0;
        self.buckets.retain(|_, bucket| {
            let before = bucket.len();
            bucket.retain(|e| e.lru_key() > cut);
            removed += before - bucket.len();
            !bucket.is_empty()
        });
        self.total -= removed;
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

/// Builds a [`Jar`] with other settings than [`Jar::new`]'s.
///
/// ```
/// use session_cookies::Jar;
///
/// let jar = Jar::builder()
///     .public_suffix_list(false) // accept `Domain=co.uk` (intranets, tests)
///     .max_cookies_per_domain(50)
///     .max_cookies(3000)
///     .build();
/// # let _ = jar;
/// ```
///
/// See the [crate docs](crate) for more details.
#[must_use]
pub struct JarBuilder {
    config: Config,
    clock: Box<dyn Clock>,
}

impl fmt::Debug for JarBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JarBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for JarBuilder {
    fn default() -> Self {
        JarBuilder::new()
    }
}

impl JarBuilder {
    /// The defaults of [`Jar::new`].
    pub fn new() -> Self {
        JarBuilder {
            config: Config {
                public_suffix_list: true,
                max_per_domain: DEFAULT_PER_DOMAIN,
                max_total: DEFAULT_TOTAL,
            },
            clock: Box::new(SystemClock),
        }
    }

    /// Whether to refuse `Domain` attributes that are public suffixes (`com`,
    /// `co.uk`, `github.io`, …) using the list bundled in the `psl` crate.
    /// On by default; turn it off only for private names the list does not
    /// know you need to share cookies across.
    pub fn public_suffix_list(mut self, enabled: bool) -> Self {
        self.config.public_suffix_list = enabled;
        self
    }

    /// Most cookies kept per site (registrable domain, or host for IP
    /// addresses); default 180, at least 1.
    pub fn max_cookies_per_domain(mut self, max: usize) -> Self {
        self.config.max_per_domain = max.max(1);
        self
    }

    /// Most cookies kept in all; default 3300, at least 1.
    pub fn max_cookies(mut self, max: usize) -> Self {
        self.config.max_total = max.max(1);
        self
    }

    /// Where the jar reads the time; the system clock by default. See
    /// [`ManualClock`](crate::ManualClock) for tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Builds the jar.
    pub fn build(self) -> Jar {
        Jar {
            shared: Arc::new(Shared {
                config: self.config,
                clock: self.clock,
                store: Mutex::new(Store::default()),
                len: AtomicUsize::new(0),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_gives_the_origin_its_url_gives() {
        for text in [
            "http://example.com/a/b",
            "https://Example.COM:8443/x?y=1",
            "http://127.0.0.1:8080/",
            "http://[0:0::1]:3000/p",
            "wss://a.test./",
            "http://localhost/",
            "http://sub.localhost:1/",
        ] {
            let uri: http::Uri = text.parse().unwrap();
            let url = Url::parse(text).unwrap();
            let from_uri = Origin::from_uri(&uri).expect(text);
            let from_url = Origin::from_url(&url).unwrap();
            assert_eq!(
                (
                    from_uri.host,
                    from_uri.is_ip,
                    from_uri.secure,
                    from_uri.path
                ),
                (
                    from_url.host,
                    from_url.is_ip,
                    from_url.secure,
                    from_url.path
                ),
                "{text}"
            );
        }
        // Left to a URL parser: a host only it canonicalizes.
        for text in [
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://1.2.3.4.5/",
            "/relative",
        ] {
            let uri: http::Uri = text.parse().unwrap();
            assert!(Origin::from_uri(&uri).is_none(), "{text}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(default_path("/a/b/c"), "/a/b");
        assert_eq!(default_path("/a"), "/");
        assert_eq!(default_path(""), "/");
        assert!(path_match("/a/b", "/a"));
        assert!(path_match("/a/", "/a/"));
        assert!(!path_match("/ab", "/a"));
        assert!(domain_match("a.example.com", false, "example.com"));
        assert!(!domain_match("aexample.com", false, "example.com"));
        assert!(!domain_match("1.2.3.4", true, "2.3.4"));
        assert_eq!(bucket_key("a.b.example.co.uk", false), "example.co.uk");
        assert_eq!(bucket_key("co.uk", false), "co.uk");
        assert_eq!(bucket_key("127.0.0.1", true), "127.0.0.1");
        assert!(is_public_suffix("co.uk"));
        assert!(!is_public_suffix("example.co.uk"));
        let p: Vec<_> = parents("a.b.c", false).collect();
        assert_eq!(p, ["a.b.c", "b.c", "c"]);
        assert!(is_loopback("127.0.0.2") && is_loopback("[::1]") && !is_loopback("10.0.0.1"));
    }

    #[test]
    fn recovers_from_a_poisoned_lock() {
        let jar = Jar::new();
        let url = Url::parse("http://example.com/").unwrap();
        jar.store_set_cookie(&url, "a=1").unwrap();
        let j = jar.clone();
        let res = std::thread::spawn(move || {
            let mut store = j.shared.store.lock().unwrap();
            store.total += 100; // left inconsistent by the panic below
            panic!("poison the lock");
        })
        .join();
        assert!(res.is_err());
        assert!(jar.shared.store.is_poisoned());
        assert_eq!(jar.len(), 1, "recounted");
        assert!(!jar.shared.store.is_poisoned());
        jar.store_set_cookie(&url, "b=1").unwrap();
        assert_eq!(jar.cookie_header(&url).unwrap(), "a=1; b=1");
    }

    #[test]
    fn assert_impls() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<Jar>();
    }
}
