//! The jar at the level of whole header maps: what a client (the tower
//! layer, or a session's cookie store) calls for each request and response.

use http::header::{HeaderMap, COOKIE, SET_COOKIE};
use http::HeaderValue;
use url::Url;

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
        let explicit: Vec<String> = headers
            .get_all(COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let from_jar = if explicit.is_empty() {
            self.header_string(url, |_| false)
        } else {
            self.header_string(url, |name| {
                explicit
                    .iter()
                    .any(|v| explicit_names(v).any(|n| n == name))
            })
        };
        let Some(from_jar) = from_jar else {
            return;
        };
        let mut merged = explicit.join("; ");
        if !merged.is_empty() {
            merged.push_str("; ");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let v: Vec<_> = explicit_names("a=1; b = 2;bare").collect();
        assert_eq!(v, ["a", "b", ""]);
    }
}
