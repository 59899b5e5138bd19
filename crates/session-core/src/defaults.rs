//! Session-wide defaults and how they merge into each request.
//!
//! | setting        | session default            | per request                    | rule                                                        |
//! |----------------|----------------------------|--------------------------------|-------------------------------------------------------------|
//! | headers        | `header`, `headers`        | `header`, `headers`            | a request header replaces every session value of that name (names are case-insensitive) |
//! | removed header | -                          | `without_header`               | the session default of that name is not sent                |
//! | query params   | `query`                    | `query`                        | session params first, then the request's; a request param replaces session params of the same name; params already in the URL stay first |
//! | auth           | `basic_auth`, `bearer_auth`| `basic_auth`, `bearer_auth`, an `Authorization` header | the request's wins; the session's is only added when the request has no `Authorization` |
//! | timeout        | `timeout`                  | `timeout`                      | the request's replaces the session's                        |
//! | base URL       | `base_url`                 | a relative URL                 | see [`Defaults::base_url`]                                  |
//! | User-Agent     | `http-session/<version>`   | `header(USER_AGENT, ..)`       | like any header; `without_header(USER_AGENT)` sends none    |
//! | Accept         | `*/*` (as requests, curl and reqwest) | `header(ACCEPT, ..)`  | like any header; `without_header(ACCEPT)` sends none        |
//!
//! Defaults can change after the session is built ([`crate::Session::update`]);
//! every clone of the session sees the change, and each request reads one
//! consistent snapshot when it is sent.

use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
use url::Url;

use crate::auth;
use crate::error::{Error, Result};

/// The `User-Agent` a session sends unless told otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("http-session/", env!("CARGO_PKG_VERSION"));

/// The settings a session applies to every request. See the [module docs](self).
#[derive(Clone)]
pub struct Defaults {
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) auth: Option<HeaderValue>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) base_url: Option<Url>,
}

impl std::fmt::Debug for Defaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sensitive header values print as `Sensitive`; a base URL's password
        // is redacted.
        f.debug_struct("Defaults")
            .field("headers", &self.headers)
            .field("query", &self.query)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field(
                "base_url",
                &self
                    .base_url
                    .as_ref()
                    .map(|u| crate::error::redacted(u).to_string()),
            )
            .finish()
    }
}

impl Default for Defaults {
    fn default() -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        Defaults {
            headers,
            query: Vec::new(),
            auth: None,
            timeout: None,
            base_url: None,
        }
    }
}

impl Defaults {
    /// The default headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The default headers, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The default query parameters, in order.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The default query parameters, to change them.
    pub fn query_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.query
    }

    /// Sends `Authorization: Basic ...` on every request that has none.
    pub fn set_basic_auth(&mut self, username: &str, password: Option<&str>) {
        self.auth = Some(auth::basic(username, password));
    }

    /// Sends `Authorization: Bearer <token>` on every request that has none.
    ///
    /// # Errors
    /// A token that cannot be a header value (CR, LF, NUL).
    pub fn set_bearer_auth(&mut self, token: &str) -> Result<()> {
        self.auth = Some(auth::bearer(token)?);
        Ok(())
    }

    /// Stops sending session auth.
    pub fn clear_auth(&mut self) {
        self.auth = None;
    }

    /// The `Authorization` value session Basic or Bearer auth sends, if set.
    pub fn auth(&self) -> Option<&HeaderValue> {
        self.auth.as_ref()
    }

    /// Is session auth set?
    pub fn has_auth(&self) -> bool {
        self.auth.is_some()
    }

    /// The default timeout (response head and body), if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets or clears the default timeout.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The base URL relative request URLs are joined to.
    ///
    /// The joining rule (as httpx, not RFC 3986 reference resolution): an
    /// absolute URL (with a scheme) is used as it is; a relative one is
    /// appended to the base URL's path, which is taken as a directory, so
    /// `https://api.test/v1` with `users/7` or `/users/7` both give
    /// `https://api.test/v1/users/7`. `..` segments are resolved, and the
    /// relative URL's query and fragment are kept.
    pub fn base_url(&self) -> Option<&Url> {
        self.base_url.as_ref()
    }

    /// Sets or clears the base URL.
    pub fn set_base_url(&mut self, base: Option<Url>) {
        self.base_url = base;
    }

    /// Resolves a request's URL against the base URL.
    pub(crate) fn resolve(&self, relative: &str) -> Result<Url> {
        let Some(base) = &self.base_url else {
            return Err(Error::builder(RelativeUrl(relative.to_owned())));
        };
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.join(relative.trim_start_matches('/'))
            .map_err(|err| Error::builder(err).with_url(base))
    }

    /// Merges the session's headers and auth under the request's own headers.
    pub(crate) fn merge_headers(&self, headers: &mut HeaderMap, removed: &[HeaderName]) {
        if headers.is_empty() && removed.is_empty() {
            // The common case: the request only has the session's headers.
            // Room for a few more, which the transport often adds.
            headers.reserve(self.headers.len() + 4);
            for (name, value) in &self.headers {
                headers.append(name.clone(), value.clone());
            }
        } else {
            self.merge_header_map(headers, removed);
        }
        if let Some(auth) = &self.auth {
            if !headers.contains_key(AUTHORIZATION) && !removed.contains(&AUTHORIZATION) {
                headers.insert(AUTHORIZATION, auth.clone());
            }
        }
    }

    fn merge_header_map(&self, headers: &mut HeaderMap, removed: &[HeaderName]) {
        for name in self.headers.keys() {
            if headers.contains_key(name) || removed.contains(name) {
                continue;
            }
            for value in self.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
    }

    /// Appends the session's and the request's query params to the URL.
    pub(crate) fn merge_query(&self, url: &mut Url, request: &[(String, String)]) {
        if self.query.is_empty() && request.is_empty() {
            return;
        }
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &self.query {
            if !request.iter().any(|(rk, _)| rk == k) {
                pairs.append_pair(k, v);
            }
        }
        for (k, v) in request {
            pairs.append_pair(k, v);
        }
    }
}

/// A relative URL was given to a session that has no base URL.
#[derive(Debug, thiserror::Error)]
#[error("relative URL {0:?} without a base URL")]
pub struct RelativeUrl(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_joining_rule() {
        let mut d = Defaults::default();
        assert!(d.resolve("x").unwrap_err().is_builder());
        d.set_base_url(Some(Url::parse("https://api.test/v1").unwrap()));
        assert_eq!(
            d.resolve("users/7").unwrap().as_str(),
            "https://api.test/v1/users/7"
        );
        assert_eq!(
            d.resolve("/users/7?a=1#f").unwrap().as_str(),
            "https://api.test/v1/users/7?a=1#f"
        );
        assert_eq!(
            d.resolve("../v2/x").unwrap().as_str(),
            "https://api.test/v2/x"
        );
    }

    #[test]
    fn request_headers_replace_all_session_values() {
        let mut d = Defaults::default();
        d.headers.append("x-multi", HeaderValue::from_static("a"));
        d.headers.append("x-multi", HeaderValue::from_static("b"));
        d.headers.insert("x-keep", HeaderValue::from_static("k"));
        d.set_basic_auth("u", Some("p"));
        let mut req = HeaderMap::new();
        req.insert("X-Multi", HeaderValue::from_static("mine"));
        d.merge_headers(&mut req, &[HeaderName::from_static("x-keep")]);
        let multi: Vec<_> = req.get_all("x-multi").iter().collect();
        assert_eq!(multi, ["mine"]);
        assert!(req.get("x-keep").is_none());
        assert_eq!(req.get(USER_AGENT).unwrap(), DEFAULT_USER_AGENT);
        assert!(req.get(AUTHORIZATION).unwrap().is_sensitive());

        let mut fresh = HeaderMap::new();
        d.merge_headers(&mut fresh, &[]);
        let multi: Vec<_> = fresh.get_all("x-multi").iter().collect();
        assert_eq!(multi, ["a", "b"]);
    }

    #[test]
    fn request_auth_header_wins() {
        let mut d = Defaults::default();
        d.set_bearer_auth("session").unwrap();
        let mut req = HeaderMap::new();
        req.insert(AUTHORIZATION, HeaderValue::from_static("Bearer mine"));
        d.merge_headers(&mut req, &[]);
        assert_eq!(req.get(AUTHORIZATION).unwrap(), "Bearer mine");
    }

    #[test]
    fn query_merge_order() {
        let d = Defaults {
            query: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            ..Defaults::default()
        };
        let mut url = Url::parse("http://h.test/p?z=0").unwrap();
        d.merge_query(
            &mut url,
            &[("b".into(), "3".into()), ("c".into(), "x y".into())],
        );
        assert_eq!(url.query(), Some("z=0&a=1&b=3&c=x+y"));
    }
}
