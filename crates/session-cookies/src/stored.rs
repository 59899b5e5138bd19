//! [`StoredCookie`], a cookie as the jar keeps it, and [`SameSite`].

use std::time::SystemTime;

use crate::time::{from_micros, from_secs};

/// The `SameSite` attribute of a stored cookie (RFC 6265bis §5.6.7).
///
/// A non-browser client treats every request as same-site, so the jar keeps
/// this value only to report it and to save it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
    /// No attribute, or one with an unknown value.
    #[default]
    Default,
}

impl SameSite {
    pub(crate) fn from_attribute(value: &str) -> Self {
        if value.eq_ignore_ascii_case("strict") {
            SameSite::Strict
        } else if value.eq_ignore_ascii_case("lax") {
            SameSite::Lax
        } else if value.eq_ignore_ascii_case("none") {
            SameSite::None
        } else {
            SameSite::Default
        }
    }

    /// The attribute value (`"Strict"`, `"Lax"`, `"None"`), or `""` for
    /// [`SameSite::Default`].
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
            SameSite::Default => "",
        }
    }
}

/// A snapshot of one cookie in a [`Jar`](crate::Jar), with every field of the
/// RFC 6265bis storage model.
///
/// Returned by [`Jar::get`](crate::Jar::get) and [`Jar::cookies`](crate::Jar::cookies);
/// changing it does not change the jar.
///
/// ```
/// use session_cookies::Jar;
/// use url::Url;
///
/// let jar = Jar::new();
/// let url = Url::parse("https://example.com/account/login").unwrap();
/// jar.store_set_cookie(&url, "sid=42; Secure; HttpOnly; Max-Age=3600").unwrap();
///
/// let c = jar.get(&url, "sid").unwrap();
/// assert_eq!(c.value(), "42");
/// assert_eq!(c.domain(), "example.com");
/// assert!(c.host_only());
/// assert_eq!(c.path(), "/account");
/// assert!(c.secure() && c.http_only() && c.is_persistent());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "crate::persist::Record", into = "crate::persist::Record")]
pub struct StoredCookie {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) domain: String,
    pub(crate) path: String,
    pub(crate) host_only: bool,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    /// Unix seconds; `None` for a session cookie.
    pub(crate) expires: Option<i64>,
    /// Unix microseconds.
    pub(crate) creation: i64,
    /// Unix microseconds.
    pub(crate) last_access: i64,
}

impl StoredCookie {
    /// A cookie record to restore into a jar with
    /// [`Jar::restore_cookies`](crate::Jar::restore_cookies): host-only,
    /// path `/`, not `Secure`, not `HttpOnly`, a session cookie. The `with_`
    /// methods set the rest; the jar checks the record when it is restored,
    /// as it checks a loaded file.
    ///
    /// ```
    /// use session_cookies::{Jar, StoredCookie};
    /// use url::Url;
    ///
    /// let jar = Jar::new();
    /// let record = StoredCookie::new("sid", "42", "example.com").with_host_only(false);
    /// assert_eq!(jar.restore_cookies([record]).loaded, 1);
    /// let sub = Url::parse("http://www.example.com/").unwrap();
    /// assert_eq!(jar.cookie_header(&sub).unwrap(), "sid=42");
    /// ```
    pub fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        domain: impl Into<String>,
    ) -> Self {
        StoredCookie {
            name: name.into(),
            value: value.into(),
            domain: domain.into(),
            path: "/".to_owned(),
            host_only: true,
            secure: false,
            http_only: false,
            same_site: SameSite::Default,
            expires: None,
            // `i64::MIN`: "now" when restored.
            creation: i64::MIN,
            last_access: i64::MIN,
        }
    }

    /// Sets the path (it must start with `/` to be restored).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets whether the cookie is sent to [`domain`](Self::domain) only
    /// (`true`) or to its subdomains too.
    pub fn with_host_only(mut self, host_only: bool) -> Self {
        self.host_only = host_only;
        self
    }

    /// Sets the `Secure` flag.
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Sets the `HttpOnly` flag.
    pub fn with_http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Sets the `SameSite` attribute.
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Sets the expiry, in Unix seconds (`None`: a session cookie).
    pub fn with_expires_unix(mut self, expires: Option<i64>) -> Self {
        self.expires = expires;
        self
    }

    /// The expiry in Unix seconds; `None` for a session cookie.
    pub fn expires_unix(&self) -> Option<i64> {
        self.expires
    }

    /// The cookie name; empty for a nameless cookie (`Set-Cookie: value`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie value, exactly as received (quotes included).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The domain: the request host for a host-only cookie, otherwise the
    /// `Domain` attribute (lower-case, ASCII, no leading dot).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The path the cookie applies to.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `true` when the cookie is sent only to exactly [`domain`](Self::domain),
    /// not to its subdomains (the response had no `Domain` attribute).
    pub fn host_only(&self) -> bool {
        self.host_only
    }

    /// `true` when the cookie is sent only over secure connections.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// `true` when the cookie had the `HttpOnly` attribute.
    pub fn http_only(&self) -> bool {
        self.http_only
    }

    /// The `SameSite` attribute.
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }

    /// `true` for a cookie with an expiry time; `false` for a session cookie.
    pub fn is_persistent(&self) -> bool {
        self.expires.is_some()
    }

    /// When the cookie expires; `None` for a session cookie.
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires.map(from_secs)
    }

    /// When the cookie was first stored (kept when a response replaces it).
    pub fn creation_time(&self) -> SystemTime {
        from_micros(self.creation)
    }

    /// When the cookie was last sent (or stored).
    pub fn last_access_time(&self) -> SystemTime {
        from_micros(self.last_access)
    }

    /// Converts to a [`cookie::Cookie`] with the same attributes (`Domain` is
    /// set only for a cookie that is not host-only).
    pub fn to_cookie(&self) -> cookie::Cookie<'static> {
        let mut c = cookie::Cookie::new(self.name.clone(), self.value.clone());
        c.set_path(self.path.clone());
        if !self.host_only {
            c.set_domain(self.domain.clone());
        }
        c.set_secure(self.secure);
        c.set_http_only(self.http_only);
        c.set_same_site(match self.same_site {
            SameSite::Strict => Some(cookie::SameSite::Strict),
            SameSite::Lax => Some(cookie::SameSite::Lax),
            SameSite::None => Some(cookie::SameSite::None),
            SameSite::Default => None,
        });
        if let Some(at) = self.expires {
            if let Ok(t) = cookie::time::OffsetDateTime::from_unix_timestamp(at) {
                c.set_expires(t);
            }
        }
        c
    }
}
