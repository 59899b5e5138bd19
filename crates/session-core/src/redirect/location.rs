//! The pure rules of a redirect: which statuses redirect, how the method and
//! body change, how `Location` is read, and which headers an origin change
//! removes.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE,
    LOCATION, PROXY_AUTHORIZATION, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::{Method, StatusCode};
use url::Url;

use super::error::{InvalidLocation, UnsupportedScheme};
use super::MAX_LOCATION_LEN;
use crate::error::BoxError;

/// 301, 302, 303, 307 and 308 redirect; other 3xx come back as they are.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// requests' `rebuild_method`: 303 and 302 turn every method but HEAD into
/// GET, 301 turns POST into GET, 307 and 308 keep it.
pub(crate) fn next_method(status: StatusCode, method: &Method) -> Method {
    match status.as_u16() {
        302 | 303 if method != Method::HEAD => Method::GET,
        301 if method == Method::POST => Method::GET,
        _ => method.clone(),
    }
}

/// Only 307 and 308 send the body again.
pub(crate) fn keeps_body(status: StatusCode) -> bool {
    matches!(status.as_u16(), 307 | 308)
}

/// Removes the headers that describe a body that is no longer sent.
pub(crate) fn drop_body_headers(headers: &mut HeaderMap) {
    headers.remove(CONTENT_LENGTH);
    headers.remove(CONTENT_TYPE);
    headers.remove(TRANSFER_ENCODING);
}

/// The one `Location` of a response: `None` without one, an error for two
/// different values.
pub(crate) fn location(headers: &HeaderMap) -> Result<Option<&HeaderValue>, InvalidLocation> {
    let mut values = headers.get_all(LOCATION).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    for other in values {
        if other != first {
            return Err(InvalidLocation::new(
                first.as_bytes(),
                "two different Location headers",
            ));
        }
    }
    Ok(Some(first))
}

fn is_http(scheme: &str) -> bool {
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// The scheme of a URL reference, if it has one (RFC 3986 section 3.1).
fn scheme_of(reference: &str) -> Option<&str> {
    let end = reference.find(':')?;
    let scheme = &reference[..end];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Does `rest` (what follows `scheme:` or starts a network-path reference)
/// begin with `//` and a non-empty authority?
fn has_authority(rest: &str) -> bool {
    let mut rest = rest.chars().map(|c| if c == '\\' { '/' } else { c });
    if rest.next() != Some('/') || rest.next() != Some('/') {
        return false;
    }
    !matches!(rest.next(), None | Some('/' | '?' | '#'))
}

/// Resolves a `Location` value against the URL that answered.
///
/// Bytes outside printable ASCII (UTF-8 or not) are percent-encoded first.
/// A target keeps the fragment of `base` when it has none of its own, and
/// never has userinfo (it is removed, not used).
///
/// # Errors
/// [`InvalidLocation`] for an empty, over-long, host-less or unparsable
/// value; [`UnsupportedScheme`] for a scheme other than http and https.
pub(crate) fn resolve(base: &Url, raw: &[u8]) -> Result<Url, BoxError> {
    if raw.len() > MAX_LOCATION_LEN {
        return Err(InvalidLocation::new(raw, "longer than 8 KiB").into());
    }
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() {
        return Err(InvalidLocation::new(raw, "empty").into());
    }
    let mut encoded = String::with_capacity(trimmed.len());
    for &byte in trimmed {
        if byte.is_ascii_graphic() {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    match scheme_of(&encoded) {
        Some(scheme) if !is_http(scheme) => {
            return Err(UnsupportedScheme {
                scheme: scheme.to_ascii_lowercase(),
            }
            .into())
        }
        Some(scheme) => {
            if !has_authority(&encoded[scheme.len() + 1..]) {
                return Err(InvalidLocation::new(raw, "an http(s) URL without a host").into());
            }
        }
        None => {
            let network_path = encoded.starts_with("//") || encoded.starts_with("\\\\");
            if network_path && !has_authority(&encoded) {
                return Err(InvalidLocation::new(raw, "a network path without a host").into());
            }
        }
    }
    let mut target = base
        .join(&encoded)
        .map_err(|_| InvalidLocation::new(raw, "not a valid URL"))?;
    if !is_http(target.scheme()) {
        return Err(UnsupportedScheme {
            scheme: target.scheme().to_owned(),
        }
        .into());
    }
    if target.host_str().is_none_or(str::is_empty) {
        return Err(InvalidLocation::new(raw, "an http(s) URL without a host").into());
    }
    if target.fragment().is_none() {
        if let Some(fragment) = base.fragment() {
            target.set_fragment(Some(fragment));
        }
    }
    strip_userinfo(&mut target);
    Ok(target)
}

/// Removes the username and password of a URL.
pub(crate) fn strip_userinfo(url: &mut Url) {
    if !url.username().is_empty() || url.password().is_some() {
        // Both only fail for URLs that cannot have credentials at all.
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
}

/// The origin of a URL: scheme, host and effective port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// requests' one exception to stripping `Authorization`: `http` to `https`
/// on the same host, both on their default port.
pub(crate) fn is_default_port_upgrade(from: &Url, to: &Url) -> bool {
    from.scheme() == "http"
        && to.scheme() == "https"
        && from.host() == to.host()
        && from.port().is_none()
        && to.port().is_none()
}

/// Removes every credential header: `Authorization` (unless kept),
/// `Proxy-Authorization`, `Cookie`, the names in `sensitive`, and any value
/// marked sensitive.
pub(crate) fn strip_credentials(
    headers: &mut HeaderMap,
    sensitive: &[HeaderName],
    keep_authorization: bool,
) {
    let authorization = if keep_authorization {
        headers.remove(AUTHORIZATION)
    } else {
        None
    };
    headers.remove(AUTHORIZATION);
    headers.remove(PROXY_AUTHORIZATION);
    headers.remove(COOKIE);
    // A request's own `WWW-Authenticate` carries a challenge answer too
    // (reqwest strips it as well).
    headers.remove(WWW_AUTHENTICATE);
    for name in sensitive {
        headers.remove(name);
    }
    let marked: Vec<HeaderName> = headers
        .iter()
        .filter(|(_, value)| value.is_sensitive())
        .map(|(name, _)| name.clone())
        .collect();
    for name in marked {
        headers.remove(name);
    }
    if let Some(value) = authorization {
        headers.insert(AUTHORIZATION, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://a.test/dir/page?q=1#top").unwrap()
    }

    fn ok(raw: &[u8]) -> String {
        resolve(&base(), raw).unwrap().to_string()
    }

    fn err(raw: &[u8]) -> String {
        resolve(&base(), raw).unwrap_err().to_string()
    }

    #[test]
    fn methods_follow_requests() {
        use Method as M;
        let s = |n| StatusCode::from_u16(n).unwrap();
        for m in [M::GET, M::POST, M::PUT, M::DELETE, M::PATCH, M::OPTIONS] {
            assert_eq!(next_method(s(302), &m), M::GET);
            assert_eq!(next_method(s(303), &m), M::GET);
            assert_eq!(next_method(s(307), &m), m);
            assert_eq!(next_method(s(308), &m), m);
        }
        assert_eq!(next_method(s(303), &M::HEAD), M::HEAD);
        assert_eq!(next_method(s(302), &M::HEAD), M::HEAD);
        assert_eq!(next_method(s(301), &M::POST), M::GET);
        assert_eq!(next_method(s(301), &M::PUT), M::PUT);
        assert!(keeps_body(s(307)) && keeps_body(s(308)) && !keeps_body(s(301)));
        assert!(!is_redirect(s(304)) && !is_redirect(s(300)) && is_redirect(s(308)));
    }

    #[test]
    fn relative_and_network_path_locations() {
        assert_eq!(ok(b"next"), "http://a.test/dir/next#top");
        assert_eq!(ok(b"/root?x=1"), "http://a.test/root?x=1#top");
        assert_eq!(ok(b"//b.test/z"), "http://b.test/z#top");
        assert_eq!(ok(b"https://c.test/#own"), "https://c.test/#own");
        assert_eq!(ok(b"  /spaced  "), "http://a.test/spaced#top");
        assert_eq!(ok(b"https://u:p@d.test/"), "https://d.test/#top");
    }

    #[test]
    fn non_ascii_bytes_are_percent_encoded() {
        assert_eq!(ok("/café".as_bytes()), "http://a.test/caf%C3%A9#top");
        assert_eq!(ok(b"/caf\xe9 x"), "http://a.test/caf%E9%20x#top");
        assert_eq!(
            ok("http://bücher.test/".as_bytes()),
            "http://xn--bcher-kva.test/#top"
        );
    }

    #[test]
    fn bad_locations_are_clear_errors() {
        assert!(err(b"").contains("empty"));
        assert!(err(b"   ").contains("empty"));
        assert!(err(&[b'a'; 10 * 1024]).contains("longer than"));
        assert!(err(b"file:///etc/passwd").contains("\"file\""));
        assert!(err(b"ftp://b.test/").contains("\"ftp\""));
        assert!(err(b"javascript:alert(1)").contains("\"javascript\""));
        assert!(err(b"FILE:x").contains("\"file\""));
        assert!(err(b"http:///x").contains("without a host"));
        assert!(err(b"https:/x").contains("without a host"));
        assert!(err(b"http:x").contains("without a host"));
        assert!(err(b"///x").contains("without a host"));
        assert!(err(b"http://[::1").contains("not a valid URL"));
    }

    #[test]
    fn two_locations() {
        let mut h = HeaderMap::new();
        assert!(location(&h).unwrap().is_none());
        h.append(LOCATION, HeaderValue::from_static("/a"));
        h.append(LOCATION, HeaderValue::from_static("/a"));
        assert_eq!(location(&h).unwrap().unwrap(), "/a");
        h.append(LOCATION, HeaderValue::from_static("/b"));
        assert!(location(&h)
            .unwrap_err()
            .to_string()
            .contains("two different"));
    }

    #[test]
    fn origins() {
        let u = |s| Url::parse(s).unwrap();
        assert!(same_origin(&u("http://a.test/x"), &u("http://A.test:80/y")));
        assert!(!same_origin(&u("http://a.test/"), &u("http://a.test:81/")));
        assert!(!same_origin(&u("http://a.test/"), &u("https://a.test/")));
        assert!(!same_origin(&u("http://a.test/"), &u("http://xa.test/")));
        assert!(!same_origin(&u("http://a.test/"), &u("http://sub.a.test/")));
        assert!(is_default_port_upgrade(
            &u("http://a.test/"),
            &u("https://a.test/x")
        ));
        assert!(!is_default_port_upgrade(
            &u("http://a.test:8080/"),
            &u("https://a.test/")
        ));
        assert!(!is_default_port_upgrade(
            &u("http://a.test/"),
            &u("https://a.test:8443/")
        ));
        assert!(!is_default_port_upgrade(
            &u("https://a.test/"),
            &u("http://a.test/")
        ));
    }

    #[test]
    fn credentials_are_stripped() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic x"));
        h.insert(PROXY_AUTHORIZATION, HeaderValue::from_static("Basic y"));
        h.insert(COOKIE, HeaderValue::from_static("s=1"));
        h.insert("x-api-key", HeaderValue::from_static("k"));
        let mut marked = HeaderValue::from_static("m");
        marked.set_sensitive(true);
        h.insert("x-marked", marked);
        h.insert("accept", HeaderValue::from_static("*/*"));
        let mut kept = h.clone();
        strip_credentials(&mut h, &[HeaderName::from_static("x-api-key")], false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("accept"));
        strip_credentials(&mut kept, &[], true);
        assert_eq!(kept[AUTHORIZATION], "Basic x");
        assert_eq!(kept.len(), 3);
    }
}
