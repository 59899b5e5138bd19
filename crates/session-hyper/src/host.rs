//! The `Host` header of plain-HTTP requests, written by this transport.
//!
//! hyper-util's client writes `Host` itself on HTTP/1 connections: it
//! copies the URI, parses its port again, formats `host:port` into a new
//! string and validates it, on every request (about 2,000 instructions, a
//! fifteenth of a whole keep-alive GET on loopback). For `http://` this
//! transport writes the same value from the authority the request already
//! holds (most often the authority as written, copied once), and sends
//! through a hyper-util client that leaves `Host` alone (see `Clients` in
//! the crate root).
//!
//! A plain-HTTP request goes over HTTP/1 (a TLS proxy is offered HTTP/1.1
//! only) unless HTTP/2 is spoken by prior knowledge, where `:authority`
//! names the host and no `Host` is written by anyone. Over TLS, ALPN decides
//! the version after the request is handed over, so hyper-util keeps that
//! job for `https://`.

use http::header::{Entry, HOST};
use http::uri::Authority;
use http::{HeaderValue, Request};

/// Sets `Host` on a plain-HTTP request that has none, as hyper-util would:
/// the URI's host, and its port unless it is 80. Returns whether the
/// request now has a `Host` (its own or this one): only then may it go
/// through the client that leaves `Host` alone. A request that is not
/// plain HTTP, or whose URI has no authority, is left to hyper-util.
#[inline]
pub(crate) fn set_http1_host<B>(req: &mut Request<B>) -> bool {
    let uri = req.uri();
    if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
        return false;
    }
    let Some(authority) = uri.authority() else {
        return false;
    };
    // The value first, so the header map is looked up once; a request with
    // its own `Host` (rare) keeps it and drops the value.
    let Some(value) = host_value(authority) else {
        return false;
    };
    if let Entry::Vacant(vacant) = req.headers_mut().entry(HOST) {
        vacant.insert(value);
    }
    true
}

/// hyper-util's rule for a plain-HTTP URI: the host (without userinfo),
/// then `:port` unless the port is absent or 80. Most authorities are
/// written that way already (no userinfo, a port that is not 80 and has
/// no leading zero), and one backward scan tells: their value is the
/// authority as written. `None` (never seen: a URI's host is always a
/// valid header value) leaves the request to the client that writes
/// `Host` itself.
fn host_value(authority: &Authority) -> Option<HeaderValue> {
    let written = authority.as_str();
    let bytes = written.as_bytes();
    if bytes.contains(&b'@') {
        // Userinfo is never part of `Host`.
        return formatted(authority);
    }
    // The port starts after the last `:` that follows every `]` (an IPv6
    // host has colons of its own).
    let port_start = bytes
        .iter()
        .rposition(|&b| b == b':' || b == b']')
        .filter(|&i| bytes[i] == b':')
        .map(|i| i + 1);
    let as_written = match port_start {
        None => true,
        // Written as hyper-util would write it: 1 to 5 digits, no leading
        // zero, at most 65535, and not 80.
        Some(start) => {
            let port = &bytes[start..];
            let value = port.iter().try_fold(0u32, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            });
            (1..=5).contains(&port.len())
                && port[0] != b'0'
                && value.is_some_and(|p| p <= u32::from(u16::MAX) && p != 80)
        }
    };
    if as_written {
        HeaderValue::from_str(written).ok()
    } else {
        formatted(authority)
    }
}

/// The value formatted from the parsed host and port.
fn formatted(authority: &Authority) -> Option<HeaderValue> {
    let host = authority.host();
    let text = match authority.port_u16() {
        Some(port) if port != 80 => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(uri: &str) -> Option<String> {
        let mut req = Request::new(());
        *req.uri_mut() = uri.parse().unwrap();
        let has_host = set_http1_host(&mut req);
        assert_eq!(has_host, req.headers().contains_key(HOST), "{uri}");
        req.headers()
            .get(HOST)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn the_port_is_written_unless_it_is_the_default() {
        assert_eq!(host_of("http://a.test/x").as_deref(), Some("a.test"));
        assert_eq!(host_of("http://a.test:80/x").as_deref(), Some("a.test"));
        assert_eq!(
            host_of("http://a.test:8080/x").as_deref(),
            Some("a.test:8080")
        );
        assert_eq!(host_of("http://[::1]:8080/").as_deref(), Some("[::1]:8080"));
        assert_eq!(host_of("http://[::1]/").as_deref(), Some("[::1]"));
    }

    #[test]
    fn each_request_gets_the_value_of_its_own_authority() {
        assert_eq!(host_of("http://a.test:1/").as_deref(), Some("a.test:1"));
        assert_eq!(host_of("http://b.test:1/").as_deref(), Some("b.test:1"));
        assert_eq!(host_of("http://a.test:01/").as_deref(), Some("a.test:1"));
        assert_eq!(host_of("http://a.test:080/").as_deref(), Some("a.test"));
        assert_eq!(host_of("http://a.test:/").as_deref(), Some("a.test"));
        assert_eq!(
            host_of("http://u@a.test:8080/").as_deref(),
            Some("a.test:8080")
        );
        assert_eq!(host_of("http://[::1]/").as_deref(), Some("[::1]"));
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(
            host_of("http://user:pw@[::1]:8080/").as_deref(),
            Some("[::1]:8080")
        );
        assert_eq!(
            host_of("http://a.test:+8080/").as_deref(),
            Some("a.test:8080")
        );
        assert_eq!(host_of("http://a.test:+80/").as_deref(), Some("a.test"));
    }

    #[test]
    fn userinfo_is_not_part_of_the_host() {
        assert_eq!(
            host_of("http://user:pw@a.test:81/").as_deref(),
            Some("a.test:81")
        );
    }

    #[test]
    fn https_and_an_own_host_are_left_alone() {
        assert_eq!(host_of("https://a.test/"), None);
        let mut req = Request::new(());
        *req.uri_mut() = "http://a.test:81/".parse().unwrap();
        req.headers_mut()
            .insert(HOST, HeaderValue::from_static("other.test"));
        assert!(set_http1_host(&mut req));
        assert_eq!(req.headers()[HOST], "other.test");
    }
}
