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
use std::net::{Ipv4Addr, Ipv6Addr};
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
    pub(crate) fn from_text(text: Bytes) -> std::result::Result<Target, url::ParseError> {
        if !text.contains(&b'#') {
            if let Ok(uri) = http::Uri::from_maybe_shared(text.clone()) {
                if is_sent_as_written(&uri) {
                    return Ok(Target::Written(uri));
                }
            }
        }
        let text =
            std::str::from_utf8(&text).map_err(|_| url::ParseError::InvalidDomainCharacter)?;
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

/// Can `uri` be sent as written (see the [module docs](self)): does the WHATWG parser
/// accept it and serialize it as written, up to the case of its scheme
/// and host?
fn is_sent_as_written(uri: &http::Uri) -> bool {
    let scheme = uri.scheme();
    if scheme != Some(&http::uri::Scheme::HTTP) && scheme != Some(&http::uri::Scheme::HTTPS) {
        return false;
    }
    let Some(authority) = uri.authority() else {
        return false;
    };
    let (written, host) = (authority.as_str(), authority.host());
    if written.contains('@') || !is_written_host(host) {
        return false;
    }
    // The WHATWG parser drops a default port, an empty one and leading
    // zeros, and refuses one past 16 bits.
    let port_as_written = match authority.port() {
        None => written.len() == host.len(),
        Some(port) => {
            let default = if scheme == Some(&http::uri::Scheme::HTTPS) {
                443
            } else {
                80
            };
            port.as_u16() != default
                && !port.as_str().starts_with('0')
                && written.len() == host.len() + 1 + port.as_str().len()
        }
    };
    if !port_as_written {
        return false;
    }
    let path_and_query = uri.path_and_query().map_or("", |p| p.as_str());
    if !path_and_query.starts_with('/') {
        return false;
    }
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let rewritten_in_path = |b: &u8| matches!(b, b'"' | b'<' | b'>' | b'`' | b'{' | b'}' | b'\\');
    let rewritten_in_query = |b: &u8| matches!(b, b'"' | b'<' | b'>' | b'\'' | b'\\');
    !(path.bytes().any(|b| rewritten_in_path(&b))
        || query.bytes().any(|b| rewritten_in_query(&b))
        || has_dot_segment(path))
}

/// A host the WHATWG parser accepts as it is (lowercased): an IPv4 address
/// in dotted-decimal form, a bracketed IPv6 address, or a name of ASCII
/// letters, digits, hyphens and dots whose last label does not start with
/// a digit (which would make it an IPv4 address to parse) and none of
/// whose labels is an IDNA A-label (`xn--`, which it decodes).
fn is_written_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok();
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let name_chars = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let last_label = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    let numeric_last = last_label.as_bytes().first().is_none_or(u8::is_ascii_digit);
    let a_label = host
        .split('.')
        .any(|label| label.len() >= 4 && label[..4].eq_ignore_ascii_case("xn--"));
    name_chars && !numeric_last && !a_label
}

/// Does a path have a `.` or `..` segment (also percent-encoded), which the
/// WHATWG parser removes?
fn has_dot_segment(path: &str) -> bool {
    const DOTS: [&str; 6] = [".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"];
    path.split('/')
        .any(|segment| DOTS.iter().any(|dots| segment.eq_ignore_ascii_case(dots)))
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
        matches!(
            Target::from_text(Bytes::copy_from_slice(text.as_bytes())),
            Ok(Target::Written(_))
        )
    }

    #[test]
    fn text_is_sent_as_the_url_crate_would_send_it() {
        let accepted = [
            "http://127.0.0.1:8080/small",
            "https://api.example.com/v1/users?id=7&x=a,b",
            "http://localhost/",
            "http://[::1]:3000/x",
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
            "http://1.2.3.999/",
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
            "/relative",
        ];
        for text in rejected {
            assert!(!written(text), "{text} must not be sent as written");
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
