//! [`Origin`], the parts of a request URL the storage model reads, and the
//! RFC 6265bis rules that match hosts and paths: loopback, IP literal,
//! domain-match, default-path, path-match, a host's parent domains, the
//! bucket of a domain, public suffixes.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use url::Url;

/// The parts of a request URL the storage model needs.
#[derive(Debug)]
pub(crate) struct Origin<'a> {
    /// Borrowed from the URI when it is written in canonical form already.
    pub(super) host: Cow<'a, str>,
    pub(super) is_ip: bool,
    pub(super) secure: bool,
    pub(super) path: &'a str,
}

impl<'a> Origin<'a> {
    /// The origin of a request URI, as RFC 6265bis reads it: the host
    /// canonicalized (lowercase; an IP address in its usual form) and the
    /// path as sent. `None` for a URI without scheme or host, and for a host
    /// only a URL parser can canonicalize (percent-encoded, or ending in a
    /// number that is not a dotted-decimal IPv4 address): the caller then
    /// goes through [`Origin::from_url`].
    ///
    /// The path is the one on the wire, as RFC 6265bis §5.1.4 takes it.
    /// For the URIs an `http-session` session sends (either written as the
    /// WHATWG parser would write them, or serialized by it) that is the
    /// URL's path too; a URI built by hand with dot segments or characters
    /// a URL would percent-encode is matched by the path it is sent with.
    pub(crate) fn from_uri(uri: &'a http::Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?;
        let written = host_of(uri.authority()?.as_str());
        let (host, is_ip, loopback) = if let Some(inner) = written.strip_prefix('[') {
            let ip: std::net::Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
            (Cow::Owned(format!("[{ip}]")), true, ip.is_loopback())
        } else if written.ends_with(|c: char| c.is_ascii_digit()) {
            // A host whose last label is a number is an IPv4 address; `std`
            // reads only the dotted-decimal form, which is how an address is
            // written back: the host as written. Other numbers go through
            // `from_url`.
            let ip = dotted_decimal(written)?;
            (Cow::Borrowed(written), true, ip.is_loopback())
        } else {
            let last = written.trim_end_matches('.').rsplit('.').next()?;
            let numeric = last.as_bytes().first().is_none_or(u8::is_ascii_digit);
            if numeric || !is_cookie_name(written) {
                return None;
            }
            let host = if written.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(written.to_ascii_lowercase())
            } else {
                Cow::Borrowed(written)
            };
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
            url::Host::Domain(d) => (Cow::Owned(d.to_ascii_lowercase()), false),
            url::Host::Ipv4(ip) => (Cow::Owned(ip.to_string()), true),
            url::Host::Ipv6(ip) => (Cow::Owned(format!("[{ip}]")), true),
        };
        if !is_ip && !is_cookie_name(&host) {
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

/// The host of an authority, as `http::Uri::host` reads it (after any
/// userinfo; an IPv6 address keeps its brackets), in one backward and one
/// forward byte scan.
fn host_of(authority: &str) -> &str {
    let bytes = authority.as_bytes();
    let start = bytes
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(0, |at| at + 1);
    let host_port = &authority[start..];
    let end = if host_port.starts_with('[') {
        host_port.bytes().position(|b| b == b']').map(|i| i + 1)
    } else {
        host_port.bytes().position(|b| b == b':')
    };
    &host_port[..end.unwrap_or(host_port.len())]
}

/// A dotted-decimal IPv4 address, the one form `std` reads and an address
/// is written back in (four numbers from 0 to 255, no leading zero).
fn dotted_decimal(host: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = host.as_bytes().split(|&b| b == b'.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut value = 0u16;
        for &b in part {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u16::from(b - b'0');
        }
        *octet = u8::try_from(value).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`: potentially
/// trustworthy origins even over plain http.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// A host name the jar keeps cookies for, and loads back from its files:
/// ASCII letters, digits, `.`, `-` and `_`, not empty, not starting with a
/// dot, and at most 1024 bytes (the attribute limit). A URL host outside
/// that (`a!b.test`, `~`, `.a.test`, reachable with other schemes or odd
/// URLs) gets no cookies.
pub(super) fn is_cookie_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= crate::parse::MAX_ATTRIBUTE
        && !host.starts_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// An IP address as a cookie domain: dotted-decimal IPv4, or IPv6 in
/// brackets.
pub(super) fn is_ip_address(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => inner.parse::<std::net::Ipv6Addr>().is_ok(),
        None => host.parse::<Ipv4Addr>().is_ok(),
    }
}

pub(super) fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok()
}

/// RFC 6265bis §5.1.3.
pub(super) fn domain_match(host: &str, host_is_ip: bool, domain: &str) -> bool {
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
pub(super) fn default_path(uri_path: &str) -> &str {
    if !uri_path.starts_with('/') {
        return "/";
    }
    match uri_path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &uri_path[..i],
    }
}

/// RFC 6265bis §5.1.4 path-match.
pub(super) fn path_match(request_path: &str, cookie_path: &str) -> bool {
    if request_path == cookie_path {
        return true;
    }
    request_path.starts_with(cookie_path)
        && (cookie_path.ends_with('/') || request_path.as_bytes()[cookie_path.len()] == b'/')
}

/// The bucket a cookie with this domain lives in (`is_ip`: the domain is
/// an IP address, its own bucket).
pub(super) fn bucket_key(domain: &str, is_ip: bool) -> &str {
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

/// Whether `domain` is a public suffix on the list bundled in `psl`. A
/// fully qualified name is looked up without its trailing dot, as the list
/// does (`co.uk.` is the suffix `co.uk`); only the lookup drops the dot, the
/// caller keeps the domain as written for matching.
pub(super) fn is_public_suffix(domain: &str) -> bool {
    let name = domain.strip_suffix('.').unwrap_or(domain);
    psl::suffix_str(name) == Some(name)
}

/// `host` and each of its parent domains (only `host` for an IP address).
pub(super) fn parents(host: &str, is_ip: bool) -> impl Iterator<Item = &str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_addresses_read_as_http_and_std_read_them() {
        for authority in [
            "a.test",
            "a.test:8",
            "u:p@a.test:8",
            "[::1]:80",
            "u@[::1]",
            "@x",
            "",
        ] {
            let uri: Option<http::Uri> = format!("http://{authority}/").parse().ok();
            if let Some(expected) = uri.as_ref().and_then(|u| u.host()) {
                assert_eq!(host_of(authority), expected, "{authority}");
            }
        }
        let numbers = ["0", "1", "01", "99", "127", "255", "256", "1000", "", "x"];
        for a in numbers {
            for tail in ["", ".0.0.1", ".1.2", ".1.2.3.4", ".0.0.", ".00.0.1"] {
                let host = format!("{a}{tail}");
                assert_eq!(dotted_decimal(&host), host.parse().ok(), "{host}");
            }
        }
    }

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
    fn public_suffix_with_a_trailing_dot() {
        // A fully qualified name is the same name for the list.
        for suffix in ["co.uk.", "com.", "test.", "github.io."] {
            assert!(is_public_suffix(suffix), "{suffix}");
        }
        for name in ["example.co.uk.", "example.com.", "x.test.", "."] {
            assert!(!is_public_suffix(name), "{name}");
        }
        // Only one trailing dot is that of a fully qualified name.
        assert!(!is_public_suffix("co.uk.."));
    }
}
