//! The jar at the level of whole header maps: what a client (the tower
//! layer, or a session's cookie store) calls for each request and response.

use http::header::{HeaderMap, COOKIE, SET_COOKIE};
use http::HeaderValue;
use url::Url;

use crate::jar::Origin;
use crate::stored::StoredCookie;
use crate::Jar;

/// Names in a `Cookie` header value (`a=1; b=2; bare` gives `a`, `b`, ``).
fn explicit_names(value: &str) -> impl Iterator<Item = &str> {
    value.split(';').map(|pair| match pair.find('=') {
        Some(i) => pair[..i].trim(),
        None => "",
    })
}

impl Jar {
    /// Sets the `Cookie` header of a request to `url` from the jar.
    ///
    /// A `Cookie` header already there was set explicitly and is kept: the
    /// jar's cookies are appended to it, except those whose name it already
    /// carries, and the result is one `Cookie` header. Nothing changes when
    /// no cookie of the jar applies.
    ///
    /// ```
    /// use http::header::{HeaderMap, HeaderValue, COOKIE};
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// let jar = Jar::new();
    /// let url = Url::parse("http://example.com/").unwrap();
    /// jar.store_set_cookie(&url, "a=1").unwrap();
    /// jar.store_set_cookie(&url, "b=2").unwrap();
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, HeaderValue::from_static("b=mine"));
    /// jar.add_cookie_header(&url, &mut headers);
    /// assert_eq!(headers[COOKIE], "b=mine; a=1");
    /// ```
    pub fn add_cookie_header(&self, url: &Url, headers: &mut HeaderMap) {
        if let Some(origin) = Origin::from_url(url) {
            self.add_cookie_header_for(&origin, headers);
        }
    }

    /// Sets the `Cookie` header of a request to `uri` from the jar, as
    /// [`add_cookie_header`](Self::add_cookie_header) does for a URL. The
    /// host is read from the URI as RFC 6265bis canonicalizes it (lowercase;
    /// an IP address in its usual form) and the path as it is sent; a host
    /// only a URL parser can canonicalize (percent-encoded, or a number that
    /// is not a dotted-decimal IPv4 address) is parsed as a URL first. A URI
    /// without scheme or host gets no cookie.
    ///
    /// ```
    /// use http::header::{HeaderMap, COOKIE};
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// let jar = Jar::new();
    /// jar.store_set_cookie(&Url::parse("http://Example.com/").unwrap(), "a=1").unwrap();
    ///
    /// let mut headers = HeaderMap::new();
    /// let uri: http::Uri = "http://EXAMPLE.com/x".parse().unwrap();
    /// jar.add_request_cookies(&uri, &mut headers);
    /// assert_eq!(headers[COOKIE], "a=1");
    /// ```
    pub fn add_request_cookies(&self, uri: &http::Uri, headers: &mut HeaderMap) {
        match Origin::from_uri(uri) {
            Some(origin) => self.add_cookie_header_for(&origin, headers),
            None => {
                if let Some(url) = url_of(uri) {
                    self.add_cookie_header(&url, headers);
                }
            }
        }
    }

    /// Stores the `Set-Cookie` headers of a response to a request sent to
    /// `uri` (the URI read as [`add_request_cookies`](Self::add_request_cookies)
    /// reads it); returns how many cookies were stored.
    pub fn store_response_headers(&self, uri: &http::Uri, headers: &HeaderMap) -> usize {
        let mut values = headers.get_all(SET_COOKIE).iter().peekable();
        if values.peek().is_none() {
            return 0;
        }
        match Origin::from_uri(uri) {
            Some(origin) => self.store_response_cookies_for(&origin, values),
            None => url_of(uri).map_or(0, |url| self.store_response_cookies(&url, values)),
        }
    }

    fn add_cookie_header_for(&self, origin: &Origin<'_>, headers: &mut HeaderMap) {
        let mut explicit = headers.get_all(COOKIE).iter().peekable();
        if explicit.peek().is_none() {
            // The common case: only the jar's cookies.
            // The string's buffer becomes the value's, without a copy.
            if let Some(value) = self
                .header_string_for(origin, |_| false)
                .and_then(|s| HeaderValue::from_maybe_shared(bytes::Bytes::from(s)).ok())
            {
                headers.insert(COOKIE, value);
            }
            return;
        }
        let explicit: Vec<String> = explicit
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let from_jar = self.header_string_for(origin, |name| {
            explicit
                .iter()
                .any(|v| explicit_names(v).any(|n| n == name))
        });
        let Some(from_jar) = from_jar else {
            return;
        };
        let mut merged = explicit.join("; ");
        merged.push_str("; ");
        merged.push_str(&from_jar);
        if let Ok(value) = HeaderValue::from_str(&merged) {
            headers.insert(COOKIE, value);
        }
    }

    /// Stores the `Set-Cookie` headers of a response received from `url`;
    /// returns how many cookies were stored (see
    /// [`store_response_cookies`](Self::store_response_cookies)).
    pub fn store_from_headers(&self, url: &Url, headers: &HeaderMap) -> usize {
        let mut values = headers.get_all(SET_COOKIE).iter().peekable();
        if values.peek().is_none() {
            return 0;
        }
        self.store_response_cookies(url, values)
    }
}

/// Sets the `Cookie` header of a request from `cookies` (in `Cookie`
/// header order), as [`Jar::add_cookie_header`] does from the jar: an
/// explicit `Cookie` header is kept, and a cookie whose name it carries is
/// left out.
pub(crate) fn merge_cookie_header(headers: &mut HeaderMap, cookies: &[StoredCookie]) {
    if cookies.is_empty() {
        return;
    }
    let explicit: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let mut out = explicit.join("; ");
    let mut added = false;
    for c in cookies {
        if explicit
            .iter()
            .any(|v| explicit_names(v).any(|n| n == c.name))
        {
            continue;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        if !c.name.is_empty() {
            out.push_str(&c.name);
            out.push('=');
        }
        out.push_str(&c.value);
        added = true;
    }
    if added {
        if let Ok(value) = HeaderValue::from_str(&out) {
            headers.insert(COOKIE, value);
        }
    }
}

/// The `Cookie` header value of `cookies` (in `Cookie` header order), or
/// `None` when there is none.
#[cfg(feature = "redis")]
pub(crate) fn cookie_header_of(cookies: &[StoredCookie]) -> Option<HeaderValue> {
    let mut headers = HeaderMap::new();
    merge_cookie_header(&mut headers, cookies);
    headers.remove(COOKIE)
}

/// The URL of an absolute request URI.
pub(crate) fn url_of(uri: &http::Uri) -> Option<Url> {
    Url::parse(&uri.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let v: Vec<_> = explicit_names("a=1; b = 2;bare").collect();
        assert_eq!(v, ["a", "b", ""]);
    }
}
