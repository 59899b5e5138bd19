//! [`Jar::insert`]: a hand-made [`cookie::Cookie`] through the same rules
//! as a received one, once it passes the checks the `Set-Cookie` parser
//! makes on a header.

use url::Url;

use super::{Jar, Origin};
use crate::error::{Error, Result};
use crate::parse::{is_forbidden_ctl, Parsed, MAX_ATTRIBUTE};
use crate::stored::SameSite;

impl Jar {
    /// Stores a hand-made cookie as if `url` had sent it, through the same
    /// rules as a received one.
    ///
    /// # Errors
    ///
    /// [`Error::is_rejected`] when a rule refuses it, or when the name
    /// contains `=` or `;` or the value contains `;`.
    ///
    /// ```
    /// # use session_cookies::Jar;
    /// # use url::Url;
    /// use cookie::Cookie;
    ///
    /// let jar = Jar::new();
    /// let url = Url::parse("https://api.example.com/").unwrap();
    /// let c = Cookie::build(("token", "t0k")).domain("example.com").path("/").secure(true);
    /// jar.insert(&url, &c.build()).unwrap();
    ///
    /// let other = Url::parse("https://www.example.com/x").unwrap();
    /// assert_eq!(jar.cookie_header(&other).unwrap(), "token=t0k");
    /// ```
    pub fn insert(&self, url: &Url, cookie: &cookie::Cookie<'_>) -> Result<()> {
        let origin = Origin::from_url(url).ok_or(Error::rejected("URL has no host"))?;
        let parsed = from_cookie(cookie)?;
        self.store_received(&origin, parsed)
    }
}

fn from_cookie(c: &cookie::Cookie<'_>) -> Result<Parsed<'static>> {
    let attr_ok = |s: &str| s.len() <= MAX_ATTRIBUTE && !s.bytes().any(is_forbidden_ctl);
    let domain = c
        .domain()
        .map(|d| d.trim_start_matches('.').to_ascii_lowercase());
    let path = c.path().map(str::to_owned);
    if !domain.as_deref().is_none_or(attr_ok) || !path.as_deref().is_none_or(attr_ok) {
        return Err(Error::rejected(
            "attribute too long or with control characters",
        ));
    }
    if path.as_deref().is_some_and(|p| p.contains(';')) {
        return Err(Error::rejected("';' in the path"));
    }
    Ok(Parsed {
        name: c.name().to_owned().into(),
        value: c.value().to_owned().into(),
        max_age: c.max_age().map(|d| d.whole_seconds().max(0)),
        expires: c.expires_datetime().map(|t| t.unix_timestamp()),
        domain: domain.map(Into::into),
        path: path.map(|p| {
            if p.starts_with('/') {
                p.into()
            } else {
                "".into()
            }
        }),
        secure: c.secure().unwrap_or(false),
        http_only: c.http_only().unwrap_or(false),
        same_site: match c.same_site() {
            Some(cookie::SameSite::Strict) => SameSite::Strict,
            Some(cookie::SameSite::Lax) => SameSite::Lax,
            Some(cookie::SameSite::None) => SameSite::None,
            None => SameSite::Default,
        },
    })
}
