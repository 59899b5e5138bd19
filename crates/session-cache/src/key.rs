//! Keys: what the cache sees of a request ([`View`]), its primary [`Key`]
//! and the [`VariantKey`] of a response; and the few `Cache-Control`
//! directives the policy crate leaves to us (RFC 5861's, `only-if-cached`).

use std::borrow::Cow;
use std::sync::OnceLock;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};
use http_cache_semantics::RequestLike;
use sha2::{Digest, Sha256};

use crate::config::{Cache, Mode};
use crate::control::CachePartition;
use crate::store::{Key, VariantKey};

/// Headers that carry credentials: kept in an entry only as digests.
const CREDENTIALS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

/// What the cache judges of a request besides its headers: the URL
/// without ignored parameters, the method (`POST` judged as a `GET` of its
/// body), the cookies a layer below will add and whether the request
/// carries credentials. Owned, so it outlives a borrow of the headers.
#[derive(Debug)]
pub(crate) struct Judged {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// The `Cookie` header the jar below will add, asked for once, before
    /// the request is sent (the jar takes the response's `Set-Cookie` before
    /// the cache sees the response).
    jar: Option<HeaderValue>,
    /// Whether the request's own headers carry a credential.
    credentials: bool,
}

impl Judged {
    /// `credentials`: whether the request's headers carry one
    /// ([`Seen::credentials`]).
    pub(crate) fn new(config: &Cache, method: &Method, uri: &Uri, credentials: bool) -> Judged {
        let uri = strip_params(uri, &config.ignored_params);
        let jar = config
            .request_cookies
            .as_ref()
            .and_then(|source| source(&uri));
        // A POST the cache was told to store is judged as a GET of its body.
        let method = if *method == Method::POST {
            Method::GET
        } else {
            method.clone()
        };
        Judged {
            method,
            uri,
            jar,
            credentials,
        }
    }
}

/// A request as the cache judges it: [`Judged`] and the request's headers.
///
/// The headers the policy sees ([`RequestLike::headers`]) are the request's
/// own when it carries no credential and the jar adds no cookie; else a copy
/// with the jar's `Cookie` merged in and credentials as digests, made the
/// first time they are asked for.
#[derive(Debug)]
pub(crate) struct View<'a> {
    pub(crate) judged: Judged,
    own: Cow<'a, HeaderMap>,
    headers: OnceLock<HeaderMap>,
}

impl View<'_> {
    pub(crate) fn new<'a>(
        config: &Cache,
        method: &Method,
        uri: &Uri,
        headers: &'a HeaderMap,
    ) -> View<'a> {
        let credentials = Seen::of(headers).credentials;
        View::with(Judged::new(config, method, uri, credentials), headers)
    }

    /// The view of a request judged already, with its headers (the same
    /// ones it was judged with).
    pub(crate) fn with(judged: Judged, headers: &HeaderMap) -> View<'_> {
        View {
            judged,
            own: Cow::Borrowed(headers),
            headers: OnceLock::new(),
        }
    }

    /// The URL, without the ignored parameters.
    pub(crate) fn uri(&self) -> &Uri {
        &self.judged.uri
    }

    /// The view with its own copy of the headers (the request goes on
    /// without them).
    pub(crate) fn into_owned(self) -> View<'static> {
        View {
            judged: self.judged,
            own: Cow::Owned(self.own.into_owned()),
            headers: self.headers,
        }
    }

    /// The headers as the policy judges them.
    pub(crate) fn headers(&self) -> &HeaderMap {
        if !self.judged.credentials && self.judged.jar.is_none() {
            return &self.own;
        }
        self.headers
            .get_or_init(|| judge(&self.own, self.judged.jar.clone()))
    }

    /// Whether the request carries a cookie (its own or the jar's).
    pub(crate) fn has_cookie(&self) -> bool {
        self.judged.jar.is_some() || self.own.contains_key(header::COOKIE)
    }
}

/// What one pass over a request's header names finds: a conditional or
/// range field, `Cache-Control` or `Pragma`, a credential.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Seen {
    pub(crate) conditional: bool,
    pub(crate) directives: bool,
    pub(crate) credentials: bool,
}

impl Seen {
    /// Each name is matched as text once (names are lowercase), rather than
    /// compared with each of the eleven in turn.
    pub(crate) fn of(headers: &HeaderMap) -> Seen {
        let mut seen = Seen::default();
        for name in headers.keys() {
            match name.as_str() {
                "if-none-match"
                | "if-modified-since"
                | "if-match"
                | "if-unmodified-since"
                | "if-range"
                | "range" => seen.conditional = true,
                "cache-control" | "pragma" => seen.directives = true,
                "authorization" | "proxy-authorization" | "cookie" => seen.credentials = true,
                _ => {}
            }
        }
        seen
    }
}

/// Whether `headers` has any of `names`: one pass over the (few) fields of a
/// request rather than a lookup per name.
pub(crate) fn has_any(headers: &HeaderMap, names: &[HeaderName]) -> bool {
    !headers.is_empty() && headers.keys().any(|name| names.contains(name))
}

/// The request's headers with the jar's `Cookie` merged in and credentials
/// as digests.
fn judge(own: &HeaderMap, jar: Option<HeaderValue>) -> HeaderMap {
    let mut owned = own.clone();
    if let Some(jar) = jar {
        let merged = match owned.get(header::COOKIE) {
            Some(own) => {
                let mut v = own.as_bytes().to_vec();
                v.extend_from_slice(b"; ");
                v.extend_from_slice(jar.as_bytes());
                HeaderValue::from_bytes(&v).unwrap_or(jar)
            }
            None => jar,
        };
        owned.insert(header::COOKIE, merged);
    }
    for name in CREDENTIALS {
        let values: Vec<HeaderValue> = owned.get_all(&name).iter().map(digest).collect();
        owned.remove(&name);
        for value in values {
            owned.append(&name, value);
        }
    }
    owned
}

impl RequestLike for View<'_> {
    fn uri(&self) -> Uri {
        self.judged.uri.clone()
    }

    fn is_same_uri(&self, other: &Uri) -> bool {
        self.judged.uri == *other
    }

    fn method(&self) -> &Method {
        &self.judged.method
    }

    fn headers(&self) -> &HeaderMap {
        View::headers(self)
    }
}

/// `sha256:<hex>` of a credential.
fn digest(value: &HeaderValue) -> HeaderValue {
    let mut hasher = Sha256::new();
    hasher.update(b"session-cache credential\0");
    hasher.update(value.as_bytes());
    let hex = crate::store::hex(&hasher.finalize());
    HeaderValue::from_str(&format!("sha256:{hex}")).expect("hex is a valid header value")
}

/// The URL without the ignored query parameters.
fn strip_params(uri: &Uri, ignored: &[String]) -> Uri {
    let Some(query) = uri.query() else {
        return uri.clone();
    };
    if ignored.is_empty() {
        return uri.clone();
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n);
            !ignored.iter().any(|i| i == name)
        })
        .collect();
    let mut parts = uri.clone().into_parts();
    let path = uri.path();
    let pq = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    parts.path_and_query = pq.parse().ok();
    Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// The most bytes a field's length prefix takes (a LEB128 `usize`).
const LEN_MAX: usize = 10;

/// Bytes for a canonical form kept on the stack: a typical URL's key fits,
/// and the key then allocates once, for its own copy of the bytes.
const STACK: usize = 256;

/// Length-prefixed fields written into one buffer sized beforehand (an
/// upper bound of what is written), then keyed or hashed once: no two field
/// lists give the same bytes (each length is a LEB128 varint, a prefix-free
/// code), so none hash the same input.
struct Fields<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Fields<'_> {
    /// Writes the fields `write` gives into a buffer of at most `bound`
    /// bytes (on the stack when small), then hands the written bytes to
    /// `done`.
    fn with<R>(
        tag: &[u8],
        bound: usize,
        write: impl FnOnce(&mut Fields<'_>),
        done: impl FnOnce(&[u8]) -> R,
    ) -> R {
        let bound = bound + tag.len() + LEN_MAX;
        let mut stack = [0u8; STACK];
        let mut heap = Vec::new();
        let buf = if bound <= STACK {
            &mut stack[..]
        } else {
            heap.resize(bound, 0);
            &mut heap[..]
        };
        let mut f = Fields { buf, at: 0 };
        f.field(tag);
        write(&mut f);
        done(&f.buf[..f.at])
    }

    fn len(&mut self, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.marker(byte);
                return;
            }
            self.marker(byte | 0x80);
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        let end = self.at + bytes.len();
        self.buf[self.at..end].copy_from_slice(bytes);
        self.at = end;
    }

    /// A field written in ASCII lowercase, without a copy of it first.
    fn field_lowercase(&mut self, bytes: &[u8]) {
        self.len(bytes.len());
        let end = self.at + bytes.len();
        for (out, byte) in self.buf[self.at..end].iter_mut().zip(bytes) {
            *out = byte.to_ascii_lowercase();
        }
        self.at = end;
    }

    fn marker(&mut self, byte: u8) {
        self.buf[self.at] = byte;
        self.at += 1;
    }
}

/// The primary key: method, scheme, authority (lowercase), path and kept
/// query, the body's digest for a `POST`, the partition.
pub(crate) fn primary_key(
    method: &Method,
    uri: &Uri,
    body: Option<&[u8]>,
    partition: Option<&CachePartition>,
    mode: Mode,
) -> Key {
    let method = method.as_str().as_bytes();
    let scheme = uri.scheme_str().unwrap_or("").as_bytes();
    let authority = uri.authority().map_or("", |a| a.as_str()).as_bytes();
    let path = uri.path().as_bytes();
    let query = uri.query().map(str::as_bytes);
    let body = body.map(|body| <[u8; 32]>::from(Sha256::digest(body)));
    let partition = partition.map(|p| p.0.as_bytes());
    // Six fields, each with its length and a marker before it at most.
    let bound = 6 * (LEN_MAX + 1)
        + 1
        + method.len()
        + scheme.len()
        + authority.len()
        + path.len()
        + query.map_or(0, <[u8]>::len)
        + body.map_or(0, |b| b.len())
        + partition.map_or(0, <[u8]>::len);
    Fields::with(
        b"sck2",
        bound,
        |f| {
            f.field(method);
            f.field_lowercase(scheme);
            f.field_lowercase(authority);
            f.field(path);
            match query {
                Some(q) => {
                    f.marker(1);
                    f.field(q);
                }
                None => f.marker(0),
            }
            match &body {
                Some(body) => {
                    f.marker(1);
                    f.field(body);
                }
                None => f.marker(0),
            }
            match partition {
                Some(p) => {
                    f.marker(1);
                    f.field(p);
                }
                None => f.marker(0),
            }
            f.marker(match mode {
                Mode::Private => 0,
                Mode::Shared => 1,
            });
        },
        Key::exact,
    )
}

/// The header names a response's `Vary` selects (lowercase, sorted, no
/// duplicates); `None` for `Vary: *`.
pub(crate) fn vary_names(response: &HeaderMap) -> Option<Vec<String>> {
    let mut names: Vec<String> = response
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.iter().any(|n| n == "*") {
        return None;
    }
    names.sort();
    names.dedup();
    Some(names)
}

/// The variant of a response with these `Vary` names, for this request.
pub(crate) fn variant_key(names: &[String], request: &HeaderMap) -> VariantKey {
    if names.is_empty() {
        return VariantKey::NONE;
    }
    // Each name with its length and end marker, each value with its
    // length and marker.
    let bound = names
        .iter()
        .map(|name| {
            LEN_MAX
                + 1
                + name.len()
                + request
                    .get_all(name.as_str())
                    .iter()
                    .map(|v| LEN_MAX + 1 + v.len())
                    .sum::<usize>()
        })
        .sum();
    let digest = Fields::with(
        b"scv2",
        bound,
        |f| {
            for name in names {
                f.field(name.as_bytes());
                let mut any = false;
                for value in request.get_all(name.as_str()) {
                    any = true;
                    f.marker(1);
                    f.field(value.as_bytes());
                }
                f.marker(if any { 2 } else { 0 });
            }
        },
        |bytes| <[u8; 32]>::from(Sha256::digest(bytes)),
    );
    VariantKey::from_bytes(digest)
}

/// The `Cache-Control` directives the layer reads itself.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Directives {
    pub(crate) no_cache: bool,
    pub(crate) no_store: bool,
    pub(crate) must_revalidate: bool,
    pub(crate) proxy_revalidate: bool,
    pub(crate) public: bool,
    pub(crate) s_maxage: bool,
    pub(crate) max_age_zero: bool,
    pub(crate) only_if_cached: bool,
    pub(crate) stale_if_error: Option<u64>,
    pub(crate) stale_while_revalidate: Option<u64>,
}

impl Directives {
    pub(crate) fn of(headers: &HeaderMap) -> Directives {
        if !has_any(headers, &[header::CACHE_CONTROL, header::PRAGMA]) {
            return Directives::default();
        }
        Directives::parse(headers)
    }

    /// A request's, when [`Seen`] found them.
    pub(crate) fn of_request(headers: &HeaderMap, seen: Seen) -> Directives {
        if !seen.directives {
            return Directives::default();
        }
        Directives::parse(headers)
    }

    fn parse(headers: &HeaderMap) -> Directives {
        let mut d = Directives::default();
        for value in headers.get_all(header::CACHE_CONTROL) {
            let Ok(value) = value.to_str() else { continue };
            for part in value.split(',') {
                let (name, arg) = match part.split_once('=') {
                    Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                    None => (part.trim(), None),
                };
                let secs = || arg.and_then(|a| a.parse::<u64>().ok());
                match name.to_ascii_lowercase().as_str() {
                    "no-cache" => d.no_cache = true,
                    "no-store" => d.no_store = true,
                    "must-revalidate" => d.must_revalidate = true,
                    "proxy-revalidate" => d.proxy_revalidate = true,
                    "public" => d.public = true,
                    "s-maxage" => d.s_maxage = true,
                    "max-age" => d.max_age_zero = secs() == Some(0),
                    "only-if-cached" => d.only_if_cached = true,
                    "stale-if-error" => d.stale_if_error = secs(),
                    "stale-while-revalidate" => d.stale_while_revalidate = secs(),
                    _ => {}
                }
            }
        }
        if !headers.contains_key(header::CACHE_CONTROL)
            && headers
                .get(header::PRAGMA)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("no-cache"))
        {
            d.no_cache = true;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(cache: &Cache, uri: &str, headers: &'a HeaderMap) -> View<'a> {
        View::new(cache, &Method::GET, &uri.parse().unwrap(), headers)
    }

    #[test]
    fn ignored_params_and_keys() {
        let cache = Cache::private().ignored_parameters(["api_key"]);
        let h = HeaderMap::new();
        let a = view(&cache, "http://a.test/x?q=1&api_key=s", &h);
        assert_eq!(*a.uri(), "http://a.test/x?q=1");
        let b = view(&cache, "http://a.test/x?api_key=t", &h);
        assert_eq!(*b.uri(), "http://a.test/x");
        let k = |v: &View<'_>, body: Option<&[u8]>| {
            primary_key(&Method::GET, v.uri(), body, None, Mode::Private)
        };
        assert_eq!(
            k(&a, None),
            k(&view(&cache, "http://A.test/x?q=1&api_key=other", &h), None)
        );
        // No collision between a query-less URL and one with an empty query,
        // nor between a body and none.
        assert_ne!(
            k(&view(&cache, "http://a.test/x?", &h), None),
            k(&view(&cache, "http://a.test/x", &h), None)
        );
        assert_ne!(k(&b, Some(b"")), k(&b, None));
        assert_ne!(k(&b, Some(b"a")), k(&b, Some(b"b")));
        let p = CachePartition::new("tenant");
        assert_ne!(
            primary_key(&Method::GET, b.uri(), None, Some(&p), Mode::Private),
            k(&b, None)
        );
    }

    #[test]
    fn credentials_become_digests() {
        let cache = Cache::private().request_cookies(|_| Some(HeaderValue::from_static("jar=1")));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());
        let v = view(&cache, "http://a.test/", &h);
        let auth = v.headers()[header::AUTHORIZATION].to_str().unwrap();
        assert!(auth.starts_with("sha256:") && !auth.contains("secret"));
        let cookie = v.headers()[header::COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("sha256:"));
    }

    #[test]
    fn variants() {
        let mut res = HeaderMap::new();
        res.append(header::VARY, "Accept-Language, accept".parse().unwrap());
        let names = vary_names(&res).unwrap();
        assert_eq!(names, ["accept", "accept-language"]);
        let mut de = HeaderMap::new();
        de.insert(header::ACCEPT_LANGUAGE, "de".parse().unwrap());
        let mut en = HeaderMap::new();
        en.insert(header::ACCEPT_LANGUAGE, "en".parse().unwrap());
        assert_ne!(variant_key(&names, &de), variant_key(&names, &en));
        assert_ne!(variant_key(&names, &de), VariantKey::NONE);
        res.insert(header::VARY, "*".parse().unwrap());
        assert!(vary_names(&res).is_none());
    }
}
