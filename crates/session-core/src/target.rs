//! Where a request goes: its URI, parsed once, and the URL a response
//! reports, parsed from that URI only when it is asked for.
//!
//! A URL given as text is parsed by `http::Uri` (about a sixth of the work
//! of a WHATWG parse) and sent as written when the WHATWG parser would write it the same way: `http` or
//! `https`, no userinfo, no fragment, a host that is an IP address or a
//! name of letters, digits, dots and hyphens, a port that fits 16 bits, and
//! nothing in its path and query that the WHATWG parser rewrites (dot
//! segments, characters it percent-encodes). Any other text, a [`Url`]
//! value, a relative URL or a URL with query parameters to add goes through
//! the `url` crate and is sent as it serializes. Either way the request
//! goes where the WHATWG URL says.

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use url::Url;

use crate::defaults::Defaults;
use crate::error::{Error, Result};

/// Where a request was told to go, as given.
pub(crate) enum Target {
    /// Text sent as written (see the [module docs](self)), parsed by `http`.
    Written(http::Uri),
    /// Boxed: a request builder stays small to move.
    Absolute(Box<Url>),
    Relative(String),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A URI sent as written has no userinfo, and a relative URL no authority.
            Target::Written(uri) => write!(f, "{uri}"),
            Target::Absolute(url) => write!(f, "{}", crate::error::redacted(url)),
            Target::Relative(s) => f.write_str(s),
        }
    }
}

impl Target {
    pub(crate) fn from_text(text: &str) -> std::result::Result<Target, url::ParseError> {
        let written = http::Uri::from_maybe_shared(Bytes::copy_from_slice(text.as_bytes()));
        if let Ok(uri) = written {
            // `http` drops a fragment; a URI that holds every byte of the
            // text had none.
            if written_length(&uri) == text.len() && is_sent_as_written(&uri) {
                return Ok(Target::Written(uri));
            }
        }
        match Url::parse(text) {
            Ok(url) => Ok(Target::Absolute(Box::new(url))),
            Err(url::ParseError::RelativeUrlWithoutBase) => Ok(Target::Relative(text.to_owned())),
            Err(err) => Err(err),
        }
    }

    pub(crate) fn try_clone(&self) -> Target {
        match self {
            Target::Written(uri) => Target::Written(uri.clone()),
            Target::Absolute(url) => Target::Absolute(url.clone()),
            Target::Relative(s) => Target::Relative(s.clone()),
        }
    }

    /// The URI to send to, the URL a response reports, and the fragment
    /// (which is not sent).
    #[inline]
    pub(crate) fn resolve(
        self,
        query: &[(String, String)],
        defaults: &Defaults,
    ) -> Result<(http::Uri, TargetUrl, Option<String>)> {
        let needs_query = !query.is_empty() || !defaults.query.is_empty();
        let mut url = match self {
            Target::Written(uri) if !needs_query => {
                let url = TargetUrl::written(uri.clone());
                return Ok((uri, url, None));
            }
            Target::Written(uri) => Box::new(Url::parse(&uri.to_string()).map_err(Error::builder)?),
            Target::Absolute(url) => url,
            Target::Relative(relative) => Box::new(defaults.resolve(&relative)?),
        };
        defaults.merge_query(&mut url, query);
        let uri = http::Uri::try_from(url.as_str())
            .map_err(|err| Error::builder(err).with_url(Url::clone(&url)))?;
        let fragment = url.fragment().map(str::to_owned);
        Ok((uri, TargetUrl::parsed(url), fragment))
    }
}

/// The length of `uri` written out: scheme, `://`, authority, path and query.
fn written_length(uri: &http::Uri) -> usize {
    let part = |s: Option<&str>| s.map_or(0, str::len);
    part(uri.scheme_str())
        + 3
        + part(uri.authority().map(|a| a.as_str()))
        + part(uri.path_and_query().map(|p| p.as_str()))
}

/// Can `uri` be sent as written (see the [module docs](self)): does the
/// WHATWG parser accept it and serialize it as written, up to the case of
/// its scheme and host? One pass over the authority, one over the path and
/// query.
fn is_sent_as_written(uri: &http::Uri) -> bool {
    let https = match uri.scheme() {
        Some(s) if *s == http::uri::Scheme::HTTP => false,
        Some(s) if *s == http::uri::Scheme::HTTPS => true,
        _ => return false,
    };
    let Some(authority) = uri.authority() else {
        return false;
    };
    authority_as_written(authority.as_str(), https)
        && uri
            .path_and_query()
            .is_some_and(|p| path_and_query_as_written(p.as_str()))
}

/// A host and port the WHATWG parser keeps: no userinfo; a host that is an
/// IPv4 address in dotted-decimal form, a bracketed IPv6 address, or a
/// name of ASCII letters, digits, hyphens and dots whose last label does
/// not start with a digit (it would be an IPv4 address to parse) and none
/// of whose labels is an IDNA A-label (`xn--`, which it decodes); a port
/// that is not the scheme's default, has no leading zero and fits 16 bits.
fn authority_as_written(authority: &str, https: bool) -> bool {
    let bytes = authority.as_bytes();
    // The port follows the last `:` that comes after every `]`.
    let colon = bytes
        .iter()
        .rposition(|&b| b == b':' || b == b']')
        .filter(|&i| bytes[i] == b':');
    let host = match colon {
        None => bytes,
        Some(i) => {
            let port = &bytes[i + 1..];
            let value = port.iter().try_fold(0u32, |n, &b| {
                (b.is_ascii_digit() && n <= u32::from(u16::MAX))
                    .then(|| n * 10 + u32::from(b - b'0'))
            });
            let default = if https { 443 } else { 80 };
            let fits = value.is_some_and(|v| v <= u32::from(u16::MAX) && v != default);
            if !fits || port.is_empty() || port[0] == b'0' {
                return false;
            }
            &bytes[..i]
        }
    };
    if host.starts_with(b"[") {
        // An IPv6 address has many spellings; the WHATWG parser writes one.
        return false;
    }
    let mut label_start = 0;
    let mut last_label = None;
    for (i, &b) in host.iter().enumerate() {
        if !NAME_BYTES[usize::from(b)] {
            return false;
        }
        if b == b'.' {
            if i > label_start {
                last_label = Some(label_start);
            }
            label_start = i + 1;
        } else if i == label_start
            && b | 0x20 == b'x'
            && host.len() - i >= 4
            && host[i..i + 4].eq_ignore_ascii_case(b"xn--")
        {
            return false;
        }
    }
    if host.len() > label_start {
        last_label = Some(label_start);
    }
    match last_label.map(|start| host[start]) {
        None => false,
        // `std` reads only the dotted-decimal form, which the WHATWG parser
        // keeps as written.
        Some(b) if b.is_ascii_digit() => is_dotted_decimal(host),
        Some(_) => true,
    }
}

/// Is `host` an IPv4 address in dotted-decimal form (four numbers from 0
/// to 255, no leading zero): the one spelling the WHATWG parser keeps as
/// written (and the one `std::net::Ipv4Addr` reads).
fn is_dotted_decimal(host: &[u8]) -> bool {
    let mut parts = 0;
    for part in host.split(|&b| b == b'.') {
        parts += 1;
        let fits = match part {
            [d] => d.is_ascii_digit(),
            [b'1'..=b'9', d] => d.is_ascii_digit(),
            [b'1', d, e] => d.is_ascii_digit() && e.is_ascii_digit(),
            [b'2', b'0'..=b'4', e] => e.is_ascii_digit(),
            [b'2', b'5', b'0'..=b'5'] => true,
            _ => false,
        };
        if !fits || parts > 4 {
            return false;
        }
    }
    parts == 4
}

/// A table of the bytes a byte-wise check allows.
const fn byte_table(allowed: &[u8], alphanumeric: bool, non_ascii: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (alphanumeric && (b as u8).is_ascii_alphanumeric()) || (non_ascii && b >= 0x80);
        b += 1;
    }
    let mut i = 0;
    while i < allowed.len() {
        table[allowed[i] as usize] = true;
        i += 1;
    }
    table
}

/// The bytes of a host name sent as written: ASCII letters, digits, `-`, `.`.
static NAME_BYTES: [bool; 256] = byte_table(b"-.", true, false);

/// The bytes the WHATWG parser percent-encodes (or rewrites) in the path of
/// a special URL that `http` lets through (UTF-8 included).
static REWRITTEN_IN_PATH: [bool; 256] = byte_table(b"\"<>`{}\\", false, true);

/// The same for the query of a special URL.
static REWRITTEN_IN_QUERY: [bool; 256] = byte_table(b"\"<>'\\", false, true);

/// A path and query the WHATWG parser keeps: an absolute path with no `.`
/// or `..` segment (also percent-encoded), and no character it
/// percent-encodes in a path or, for a special scheme, in a query.
fn path_and_query_as_written(path_and_query: &str) -> bool {
    let bytes = path_and_query.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    let mut segment_start = 1;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        if REWRITTEN_IN_PATH[usize::from(b)] {
            return false;
        }
        if b == b'/' || b == b'?' {
            if is_dot_segment(&bytes[segment_start..i]) {
                return false;
            }
            if b == b'?' {
                return !bytes[i + 1..]
                    .iter()
                    .any(|&b| REWRITTEN_IN_QUERY[usize::from(b)]);
            }
            segment_start = i + 1;
        }
    }
    !is_dot_segment(&bytes[segment_start..])
}

/// Is a path segment `.` or `..`, also percent-encoded (which the WHATWG
/// parser removes)?
fn is_dot_segment(segment: &[u8]) -> bool {
    if !matches!(segment.first(), Some(b'.' | b'%')) {
        return false;
    }
    const DOTS: [&[u8]; 6] = [b".", b"..", b"%2e", b".%2e", b"%2e.", b"%2e%2e"];
    (1..=6).contains(&segment.len()) && DOTS.iter().any(|dots| segment.eq_ignore_ascii_case(dots))
}

/// The URL of a request's target: parsed, or the URI of a target sent as written,
/// parsed on first use. The parsed URL is boxed: the futures and responses
/// that carry it stay small to move.
#[derive(Debug)]
pub(crate) struct TargetUrl {
    url: OnceLock<Box<Url>>,
    /// The URI sent as written the URL is parsed from, when it was not parsed yet.
    written: Option<http::Uri>,
}

impl TargetUrl {
    pub(crate) fn parsed(url: Box<Url>) -> Self {
        TargetUrl {
            url: OnceLock::from(url),
            written: None,
        }
    }

    /// The URL of a URI sent as written (see [`is_sent_as_written`]).
    fn written(uri: http::Uri) -> Self {
        TargetUrl {
            url: OnceLock::new(),
            written: Some(uri),
        }
    }

    /// The URL, parsed now if it was not yet.
    pub(crate) fn get(&self) -> &Url {
        self.url.get_or_init(|| {
            let uri = self
                .written
                .as_ref()
                .expect("a target URL holds its URL or the URI it was sent to");
            // `is_sent_as_written` admits only URIs the WHATWG parser accepts; its
            // tests hold it to that.
            let url = Url::parse(&uri.to_string()).expect("a URI sent as written is a valid URL");
            Box::new(url)
        })
    }

    pub(crate) fn into_url(self) -> Url {
        self.get();
        *self.url.into_inner().expect("initialised just above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> bool {
        matches!(Target::from_text(text), Ok(Target::Written(_)))
    }

    #[test]
    fn text_is_sent_as_the_url_crate_would_send_it() {
        let accepted = [
            "http://127.0.0.1:8080/small",
            "https://api.example.com/v1/users?id=7&x=a,b",
            "http://localhost/",
            "https://a-b.c-d.test:8443/p/q.json",
            "http://a.test:443/",
            "http://a.test/x?y=%20z",
            "http://a.test/.well-known/x",
            "http://a.test/a..b/",
            "http://a.test/e/2/%2/",
            "http://a.test/a?b=../c",
        ];
        for text in accepted {
            assert!(written(text), "{text} should be sent as written");
            let uri: http::Uri = text.parse().unwrap();
            let url = Url::parse(text).unwrap();
            assert_eq!(
                http::Uri::try_from(url.as_str()).unwrap().path_and_query(),
                uri.path_and_query(),
                "{text}"
            );
        }
    }

    #[test]
    fn other_text_goes_through_the_url_crate() {
        let rejected = [
            "http://a.test/a/../b",
            "http://a.test/a/./b",
            "http://a.test/a/%2e%2E/b",
            "http://user:pw@a.test/",
            "http://a.test/#frag",
            "http://a.test/x#",
            "http://a.test#f",
            "http://1.2.3.999/",
            "http://01.2.3.4/",
            "http://1.2.3/",
            "http://999999999999/",
            "http://a.1/",
            "http://xn--a.test/",
            "http://a%25b.test/",
            "http://a.test:99999/",
            "http://a.test:80/",
            "https://a.test:443/",
            "http://a.test:/",
            "http://a.test:0080/",
            "http://a.test/{x}",
            "http://a.test/?q=it's",
            "ftp://a.test/",
            "http://a b/",
            "http://a.test/café",
            "http://a.test/x?q=ü",
            "http://[::1]:3000/x",
            "http://[0:0::1]/",
            "http://./",
            "http://a.test.1./",
            "/relative",
        ];
        for text in rejected {
            assert!(!written(text), "{text} must not be sent as written");
        }
    }

    #[test]
    fn dotted_decimal_is_what_std_reads() {
        let numbers = [
            "0", "1", "9", "10", "01", "99", "100", "199", "200", "249", "250", "255", "256",
            "300", "1000", "", "a",
        ];
        for a in numbers {
            for b in numbers {
                for tail in ["", ".1", ".1.2", ".1.2.3", ".1.", "..1"] {
                    let host = format!("{a}.{b}{tail}");
                    assert_eq!(
                        is_dotted_decimal(host.as_bytes()),
                        host.parse::<std::net::Ipv4Addr>().is_ok(),
                        "{host}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_host_sent_as_written_parses_as_a_url() {
        let labels = [
            "a", "Z9", "0", "12", "x-y", "xn--", "-", "", "1a", "a1", "0x1", "255",
        ];
        let mut checked = 0;
        for first in labels {
            for second in labels {
                for third in ["", ".", ".com", ".1", ".0x10"] {
                    let host = format!("{first}.{second}{third}");
                    let text = format!("http://{host}:81/p");
                    if let Ok(uri) = text.parse::<http::Uri>() {
                        if is_sent_as_written(&uri) {
                            checked += 1;
                            assert!(Url::parse(&text).is_ok(), "{text}");
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} hosts sent as written");
    }
}
