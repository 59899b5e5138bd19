//! A fast path for the common request URL: a string that `url::Url` would
//! keep exactly as it is is kept as its text, parsed straight into an
//! `http::Uri` when it is sent, and the `Url` is only parsed when someone
//! asks for it (an error, `Response::url`).
//!
//! The check is deliberately narrow; anything outside it takes the full
//! WHATWG parse. A URL is *simple* when it is `http://` or `https://`, a
//! lowercase ASCII host name (or a canonical dotted IPv4 address) without
//! `xn--` labels, an optional non-default port without leading zeros, and a
//! path (required, starting with `/`) and query made only of characters
//! `url` never rewrites, with no dot segments and no fragment.
//!
//! Clients send most requests to a few origins, so each thread remembers the
//! origin (`scheme://host:port`) of the last simple URL it checked, and a URL
//! with the same origin only has its path and query checked.

use std::cell::RefCell;
use std::sync::OnceLock;

use bytes::Bytes;
use url::Url;

/// The longest origin a thread remembers; longer ones are checked each time.
const MAX_REMEMBERED_ORIGIN: usize = 128;

thread_local! {
    /// The origin of the last simple URL this thread checked (empty at first).
    static LAST_ORIGIN: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Is `s` simple (see the [module docs](self))?
pub(crate) fn is_simple(s: &str) -> bool {
    let path_query = match after_last_origin(s) {
        Some(path_query) => path_query,
        None => {
            let (rest, default_port) = if let Some(rest) = s.strip_prefix("http://") {
                (rest, "80")
            } else if let Some(rest) = s.strip_prefix("https://") {
                (rest, "443")
            } else {
                return false;
            };
            let Some(slash) = rest.bytes().position(|b| b == b'/') else {
                return false;
            };
            let (authority, path_query) = rest.split_at(slash);
            if !simple_authority(authority, default_port) {
                return false;
            }
            remember_origin(&s[..s.len() - path_query.len()]);
            path_query
        }
    };
    simple_path_and_query(path_query)
}

/// The path and query of `s` (from its first `/` on) when `s` starts with
/// the origin this thread checked last and then a `/`: the origin is then
/// `s`'s own (an authority has no `/`), and simple.
#[inline]
fn after_last_origin(s: &str) -> Option<&str> {
    let len = LAST_ORIGIN
        .try_with(|last| {
            let last = last.try_borrow().ok()?;
            let len = last.len();
            let bytes = s.as_bytes();
            (len > 0 && bytes.get(len) == Some(&b'/') && bytes[..len] == *last.as_bytes())
                .then_some(len)
        })
        .ok()
        .flatten()?;
    Some(&s[len..])
}

fn remember_origin(origin: &str) {
    if origin.len() > MAX_REMEMBERED_ORIGIN {
        return;
    }
    let _ = LAST_ORIGIN.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            last.clear();
            last.push_str(origin);
        }
    });
}

/// A host and optional port, as `url` would keep them for a scheme whose
/// default port is `default_port`.
fn simple_authority(authority: &str, default_port: &str) -> bool {
    let (host, port) = match authority.bytes().rposition(|b| b == b':') {
        Some(i) => (&authority[..i], Some(&authority[i + 1..])),
        None => (authority, None),
    };
    if !simple_host(host) {
        return false;
    }
    let Some(port) = port else {
        return true;
    };
    let canonical = !port.is_empty()
        && port.len() <= 5
        && !port.starts_with('0')
        && port
            .bytes()
            .try_fold(0u32, |n, b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            })
            .is_some_and(|p| p <= 65535);
    canonical && port != default_port
}

/// Byte classes of the fast path, one table lookup per byte.
const HOST_CHAR: u8 = 1;
const PLAIN_CHAR: u8 = 2;

static CLASSES: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' {
            table[b] |= HOST_CHAR;
        }
        // Characters `url` keeps as they are in paths and queries of
        // special URLs.
        if c.is_ascii_alphanumeric() {
            table[b] |= PLAIN_CHAR;
        }
        b += 1;
    }
    let extra = b"-._~!$&()*+,;=:@";
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] |= PLAIN_CHAR;
        i += 1;
    }
    table
}

/// One pass over a host: lowercase ASCII letters, digits, `-` and `.`; no
/// empty label, no `xn--` or `0x` label; and when the last label is numeric
/// (WHATWG then reads the host as IPv4) exactly the canonical dotted form.
fn simple_host(host: &str) -> bool {
    let bytes = host.as_bytes();
    if bytes.first().is_none_or(|&b| b == b'-') {
        return false;
    }
    let mut labels = 0u32;
    // Whether every label so far is a canonical IPv4 octet.
    let mut all_octets = true;
    // The current label: where it starts, its value while it is all digits.
    let mut start = 0;
    let mut value = 0u32;
    let mut numeric = true;
    // One pass, with a virtual `.` after the last byte to close the last label.
    for i in 0..=bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(b'.');
        if b != b'.' {
            if CLASSES[usize::from(b)] & HOST_CHAR == 0 {
                return false;
            }
            if b.is_ascii_digit() {
                value = value.saturating_mul(10).saturating_add(u32::from(b - b'0'));
            } else {
                numeric = false;
            }
            continue;
        }
        let label = &bytes[start..i];
        if label.is_empty() || label.starts_with(b"xn--") || label.starts_with(b"0x") {
            return false;
        }
        all_octets &= numeric && value <= 255 && (label.len() == 1 || label[0] != b'0');
        labels += 1;
        if i == bytes.len() {
            // The last label: a numeric one makes WHATWG read the host as IPv4.
            return !numeric || (all_octets && labels == 4);
        }
        start = i + 1;
        value = 0;
        numeric = true;
    }
    false
}

/// Checks a path (starting with `/`) and its query in one pass: only
/// characters `url` keeps, well-formed `%XX` that is not an encoded dot, and
/// no `.` or `..` segment in the path.
fn simple_path_and_query(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    let is_dot_segment = |segment: &[u8]| matches!(segment, b"." | b"..");
    let mut in_path = true;
    let mut segment_start = 1;
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if CLASSES[usize::from(b)] & PLAIN_CHAR != 0 {
            i += 1;
            continue;
        }
        match b {
            b'%' => {
                let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
                    return false;
                };
                if !h.is_ascii_hexdigit() || !l.is_ascii_hexdigit() {
                    return false;
                }
                // `%2e` is a dot to the path parser.
                if h == b'2' && (l == b'e' || l == b'E') {
                    return false;
                }
                i += 3;
                continue;
            }
            b'/' | b'?' if in_path => {
                if is_dot_segment(&bytes[segment_start..i]) {
                    return false;
                }
                segment_start = i + 1;
                in_path = b == b'/';
            }
            b'\'' if in_path => {}
            b'/' | b'?' => {}
            _ => return false,
        }
        i += 1;
    }
    !(in_path && is_dot_segment(&bytes[segment_start..]))
}

/// A request's URL: parsed, or kept as the text of a simple URL and parsed
/// on first use. The parsed URL is boxed: the common case never parses it,
/// and the futures and responses that carry a `LazyUrl` stay small to move.
#[derive(Debug)]
pub(crate) struct LazyUrl {
    url: OnceLock<Box<Url>>,
    unparsed: Unparsed,
}

/// What a [`LazyUrl`] parses on first use.
#[derive(Debug)]
enum Unparsed {
    /// Nothing: the URL was parsed from the start.
    Nothing,
    /// The text of a simple URL (see [`is_simple`]).
    Simple(Bytes),
    /// An absolute URI (boxed: it is rare, and a `LazyUrl` stays small).
    Uri(Box<http::Uri>),
}

impl LazyUrl {
    pub(crate) fn parsed(url: Url) -> Self {
        LazyUrl::boxed(Box::new(url))
    }

    pub(crate) fn boxed(url: Box<Url>) -> Self {
        LazyUrl {
            url: OnceLock::from(url),
            unparsed: Unparsed::Nothing,
        }
    }

    /// The URL of a simple URL's text.
    pub(crate) fn simple(text: Bytes) -> Self {
        LazyUrl {
            url: OnceLock::new(),
            unparsed: Unparsed::Simple(text),
        }
    }

    /// Was it made from a simple URL's text (see [`is_simple`])?
    #[inline]
    pub(crate) fn is_simple(&self) -> bool {
        matches!(self.unparsed, Unparsed::Simple(_))
    }

    /// The URL an absolute `uri` names.
    pub(crate) fn from_uri(uri: http::Uri) -> Self {
        LazyUrl {
            url: OnceLock::new(),
            unparsed: Unparsed::Uri(Box::new(uri)),
        }
    }

    pub(crate) fn get(&self) -> &Url {
        self.url.get_or_init(|| {
            // Only simple URLs and absolute URIs are stored unparsed, and
            // those parse.
            let url = match &self.unparsed {
                Unparsed::Simple(text) => std::str::from_utf8(text)
                    .ok()
                    .and_then(|text| Url::parse(text).ok()),
                Unparsed::Uri(uri) => Url::parse(&uri.to_string()).ok(),
                Unparsed::Nothing => None,
            };
            Box::new(url.unwrap_or_else(|| Url::parse("about:blank").expect("a valid URL")))
        })
    }

    /// The URL as an `http::Uri`.
    pub(crate) fn to_uri(&self) -> Result<http::Uri, http::uri::InvalidUri> {
        match &self.unparsed {
            Unparsed::Simple(text) => http::Uri::from_maybe_shared(text.clone()),
            Unparsed::Uri(uri) => Ok(http::Uri::clone(uri)),
            Unparsed::Nothing => http::Uri::try_from(self.get().as_str()),
        }
    }

    pub(crate) fn into_url(self) -> Url {
        self.get();
        *self.url.into_inner().expect("initialised just above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path must agree with `url` on everything it accepts.
    #[test]
    fn simple_uris_are_exactly_what_url_would_produce() {
        let accepted = [
            "http://127.0.0.1:8080/small",
            "https://api.example.com/v1/users?id=7&x=a,b",
            "http://localhost:3000/",
            "https://a-b.c.test/p/q;r=1/%41~x?q=%20&y=1:2@3",
            "http://h.test/it's",
        ];
        for s in accepted {
            assert!(is_simple(s), "{s} should be simple");
            let url = Url::parse(s).unwrap();
            assert_eq!(url.as_str(), s, "url rewrites {s}");
            let uri = http::Uri::try_from(s).unwrap();
            assert_eq!(uri.to_string(), s);
        }
    }

    #[test]
    fn anything_url_would_rewrite_takes_the_full_parse() {
        let rejected = [
            "http://Example.com/",
            "http://example.com",
            "http://example.com:80/",
            "https://example.com:443/",
            "http://example.com:080/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://1.2.3.04/",
            "http://example.com./",
            "http://xn--nxasmq6b.com/",
            "http://example.com/a/../b",
            "http://example.com/a/%2e%2E/b",
            "http://example.com/a b",
            "http://example.com/?q=it's",
            "http://example.com/#frag",
            "http://user:pw@example.com/",
            "http://example.com/%zz",
            "http://exa mple.com/",
            "http://[::1]:8080/",
            "ftp://example.com/",
            "http://example.com/caf\u{e9}",
            "http://example.com/a\\b",
            "http://example.com:99999/",
        ];
        for s in rejected {
            assert!(!is_simple(s), "{s} must not be simple");
        }
    }

    /// Many generated URLs: whatever the fast path accepts, `url` keeps
    /// byte for byte.
    #[test]
    fn generated_urls_agree_with_url() {
        let pieces: [&[&str]; 5] = [
            &["http://", "https://"],
            &[
                "a.test",
                "127.0.0.1",
                "1.2.3.4",
                "01.2.3.4",
                "x-y.z",
                "A.test",
                "0x1.test",
                "b..c",
                "h.1",
                "-a.test",
                "a-.test",
                ".a.test",
                "a.test.",
                "1.2.3",
                "1.2.3.4.5",
                "256.1.1.1",
                "0.0.0.0",
                "a.0x1",
                "xn--a.test",
                "ax.test",
                "a.xn--b",
                "0.test",
                "1.2.3.a",
                "a.123",
                "1-2.3",
                "a_b.test",
                "",
            ],
            &["", ":80", ":443", ":8080", ":0", ":65536", ":"],
            &[
                "/",
                "/a/./b",
                "/a/../b",
                "/%2e/",
                "/%41",
                "/a%",
                "/it's",
                "/a b",
                "/x/.",
                "/..",
                "/~!$&()*+,;=:@",
                "/\\",
                "/\u{e9}",
            ],
            &["", "?", "?a=1&b=2", "?q='", "?%zz", "?a?b", "#f", "?x=%2e"],
        ];
        let mut seed = 0x2545_f491_u32;
        let mut pick = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize % n
        };
        let mut accepted = 0;
        for _ in 0..5000 {
            let s: String = pieces.iter().map(|p| p[pick(p.len())]).collect();
            if is_simple(&s) {
                accepted += 1;
                let url = Url::parse(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
                assert_eq!(url.as_str(), s, "url rewrites {s}");
                let uri = http::Uri::try_from(s.as_str()).unwrap();
                assert_eq!(uri.to_string(), s);
            }
        }
        assert!(accepted > 100, "only {accepted} generated URLs were simple");
    }

    #[test]
    fn a_remembered_origin_still_has_its_path_and_query_checked() {
        assert!(is_simple("http://a.test:8080/x"));
        assert!(!is_simple("http://a.test:8080/a/../b"));
        assert!(!is_simple("http://a.test:8080/a b"));
        assert!(!is_simple("http://a.test:8080/?q=it's"));
        assert!(is_simple("http://a.test:8080/y?z=1"));
        // Another origin is checked on its own.
        assert!(!is_simple("http://a.test:80/x"));
        assert!(!is_simple("http://A.test:8080/x"));
        assert!(is_simple("http://a.test:8080/z"));
        // Longer origins that start with the remembered one are their own.
        assert!(!is_simple("http://a.test:80800/x"));
        assert!(is_simple("http://a.test:8080/z"));
        assert!(!is_simple("http://a.test:8080@b.test/x"));
        assert!(!is_simple("http://a.test:8080"));
    }

    #[test]
    fn lazy_url_parses_on_first_use() {
        let lazy = LazyUrl::simple(Bytes::from_static(b"http://h.test:81/x?y=1"));
        assert_eq!(lazy.to_uri().unwrap(), "http://h.test:81/x?y=1");
        assert_eq!(lazy.get().as_str(), "http://h.test:81/x?y=1");
        assert_eq!(lazy.into_url().port(), Some(81));
    }
}
