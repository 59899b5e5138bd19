//! Authentication: Basic, Bearer, Digest, `.netrc`, URL userinfo and your
//! own schemes, with one precedence rule.
//!
//! # Precedence
//!
//! The first row that applies to a hop wins; the rows below it are not used
//! for that hop. An `Authorization` header already on the request is never
//! replaced (unlike requests, `.netrc` does not overwrite it).
//!
//! | # | source | set with | applies to |
//! |---|---|---|---|
//! | 1 | request | `RequestBuilder::header(AUTHORIZATION, ..)`, `basic_auth`, `bearer_auth`, `auth(scheme)`, `digest_auth` | that request; a request scheme also keeps the session's Basic/Bearer off it |
//! | 2 | session | `SessionBuilder::basic_auth`, `bearer_auth` (merged into the request, see [`crate::defaults`]), `auth(scheme)`, `digest_auth` | every request without request auth |
//! | 3 | `.netrc` | `SessionBuilder::netrc()` (`$NETRC`, then `~/.netrc`) or `netrc_path(p)` | a hop with no `Authorization` and no scheme, by that hop's host |
//! | 4 | URL userinfo | `http://user:pass@host/` | a hop with nothing above; the userinfo is always removed from the URL that is sent |
//!
//! Across redirects (see [`crate::redirect`]): rows 1 and 2 and row 4 are
//! used on the first origin only, and once a redirect has changed origin
//! they stay off for the rest of the chain, even if it comes back. Row 3 is
//! looked up again for each hop's own host, so it never sends one host's
//! credentials to another (and the `default` entry of a `.netrc` is never
//! used).
//!
//! # Schemes and the per-hop layer
//!
//! An [`Auth`] scheme signs each hop's request, and may react to a 401 by
//! asking for one more try (with the body replayed, when it is replayable;
//! otherwise the 401 comes back as it is). [`Digest`] is one;
//! HMAC or cloud-style request signing is another. Schemes, `.netrc` and URL
//! userinfo run in [`AuthLayer`], the outermost per-hop layer: just inside
//! the redirect layer, outside the layers added with `hop_layer` (see
//! [the stack](crate#the-stack)).
//!
//! # Examples
//!
//! The defaults: Basic auth on every request of a session.
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::{mock::MockTransport, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let mock = MockTransport::new().route(Method::GET, "/me", |req| {
//!     (StatusCode::OK, req.headers["authorization"].to_str().unwrap().to_owned())
//! });
//! let session = Session::builder()
//!     .transport(mock)
//!     .basic_auth("user", Some("pass"))
//!     .build()?;
//! let seen = session.get("https://api.test/me").send().await?.text().await?;
//! assert_eq!(seen, "Basic dXNlcjpwYXNz");
//! # Ok(()) }
//! ```
//!
//! Customised: a signing scheme of your own.
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::auth::Auth;
//! use session_core::{mock::MockTransport, Body, BoxError, Session};
//!
//! /// Signs the method, path and body length (a stand-in for an HMAC).
//! struct Signer;
//!
//! impl Auth for Signer {
//!     fn sign(&self, req: &mut http::Request<Body>) -> Result<(), BoxError> {
//!         let len = req.body().as_bytes().map_or(0, <[u8]>::len);
//!         let sig = format!("v1 {} {} {len}", req.method(), req.uri().path());
//!         req.headers_mut().insert("x-signature", sig.try_into()?);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let mock = MockTransport::new().route(Method::POST, "/orders", |req| {
//!     (StatusCode::OK, req.headers["x-signature"].to_str().unwrap().to_owned())
//! });
//! let session = Session::builder().transport(mock).auth(Signer).build()?;
//! let seen = session.post("https://api.test/orders").body("abc").send().await?.text().await?;
//! assert_eq!(seen, "v1 POST /orders 3");
//! # Ok(()) }
//! ```

mod basic;
pub mod digest;
pub(crate) mod layer;
pub mod netrc;

use std::fmt;
use std::sync::Arc;

use percent_encoding::percent_decode_str;

use crate::body::Body;
use crate::error::BoxError;

pub use basic::{basic_header, bearer_header};
pub(crate) use basic::{basic_header as basic, bearer_header as bearer};
pub use digest::{Digest, InvalidChallenge};
pub use layer::{AuthLayer, AuthService};
pub use netrc::{Netrc, NetrcEntry, NetrcError};

/// An authentication scheme: signs each request it is used for, and may
/// react to a 401.
///
/// See the [module docs](self) for where it runs and its precedence.
pub trait Auth: Send + Sync + 'static {
    /// Adds credentials to a request (an `Authorization` header, a
    /// signature). Runs for each hop the scheme applies to, and again
    /// before a retry that [`on_unauthorized`](Self::on_unauthorized) asked for.
    ///
    /// # Errors
    /// The request cannot be signed; it is not sent.
    fn sign(&self, request: &mut http::Request<Body>) -> Result<(), BoxError>;

    /// Sees a 401 answer to `request` (as it was sent, without its body).
    /// Returning `true` sends the request once more, signed again, with the
    /// body replayed; `false` returns the 401. The default returns `false`.
    ///
    /// # Errors
    /// The challenge cannot be answered; the error is returned instead of
    /// the 401.
    fn on_unauthorized(
        &self,
        request: &http::Request<()>,
        response: &http::Response<Body>,
    ) -> Result<bool, BoxError> {
        let _ = (request, response);
        Ok(false)
    }
}

impl<A: Auth + ?Sized> Auth for Arc<A> {
    fn sign(&self, request: &mut http::Request<Body>) -> Result<(), BoxError> {
        (**self).sign(request)
    }

    fn on_unauthorized(
        &self,
        request: &http::Request<()>,
        response: &http::Response<Body>,
    ) -> Result<bool, BoxError> {
        (**self).on_unauthorized(request, response)
    }
}

impl<A: Auth + ?Sized> Auth for Box<A> {
    fn sign(&self, request: &mut http::Request<Body>) -> Result<(), BoxError> {
        (**self).sign(request)
    }

    fn on_unauthorized(
        &self,
        request: &http::Request<()>,
        response: &http::Response<Body>,
    ) -> Result<bool, BoxError> {
        (**self).on_unauthorized(request, response)
    }
}

/// A scheme set on one request (`RequestBuilder::auth`), carried as a
/// request extension.
#[derive(Clone)]
pub(crate) struct RequestAuth(pub(crate) Arc<dyn Auth>);

/// A request that takes no auth from the session: no scheme, no `.netrc`,
/// no URL credentials (set by `RequestBuilder::without_auth`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NoAuth;

/// The credentials taken out of a request URL's userinfo.
#[derive(Clone)]
pub(crate) struct UrlCredentials {
    username: String,
    password: Option<String>,
}

impl fmt::Debug for UrlCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl UrlCredentials {
    pub(crate) fn header(&self) -> http::HeaderValue {
        basic_header(&self.username, self.password.as_deref())
    }
}

/// Removes the userinfo of a request's URI, keeping it as
/// [`UrlCredentials`] in the extensions. Returns whether there was any.
pub(crate) fn take_userinfo(req: &mut http::Request<Body>) -> Result<bool, BoxError> {
    let Some(authority) = req.uri().authority() else {
        return Ok(false);
    };
    let Some((userinfo, host)) = authority.as_str().rsplit_once('@') else {
        return Ok(false);
    };
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let credentials = UrlCredentials {
        username: decode(user),
        password: password.map(decode),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.authority = Some(host.parse()?);
    *req.uri_mut() = http::Uri::from_parts(parts)?;
    if !credentials.username.is_empty()
        || credentials.password.as_ref().is_some_and(|p| !p.is_empty())
    {
        req.extensions_mut().insert(credentials);
    }
    Ok(true)
}

/// `scheme://host:port` of a URI, lowercased, with the effective port.
pub(crate) fn origin_key(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
    let host = uri.host().unwrap_or("").to_ascii_lowercase();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    format!("{scheme}://{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_taken_out_and_decoded() {
        let mut req = http::Request::get("http://us%40er:p%3Ass@a.test:8080/x?y")
            .body(Body::empty())
            .unwrap();
        assert!(take_userinfo(&mut req).unwrap());
        assert_eq!(req.uri(), "http://a.test:8080/x?y");
        let creds = req.extensions().get::<UrlCredentials>().unwrap();
        assert_eq!(creds.username, "us@er");
        assert_eq!(creds.password.as_deref(), Some("p:ss"));
        assert!(!format!("{creds:?}").contains("p:ss"));
        assert!(!take_userinfo(&mut req).unwrap());

        let mut empty = http::Request::get("http://@a.test/")
            .body(Body::empty())
            .unwrap();
        assert!(take_userinfo(&mut empty).unwrap());
        assert!(empty.extensions().get::<UrlCredentials>().is_none());
        assert_eq!(empty.uri(), "http://a.test/");
    }

    #[test]
    fn origin_keys_use_the_effective_port() {
        let k = |s: &str| origin_key(&s.parse().unwrap());
        assert_eq!(k("http://A.test/x"), k("http://a.test:80/y"));
        assert_ne!(k("http://a.test/"), k("https://a.test/"));
        assert_eq!(k("https://a.test/"), "https://a.test:443");
    }
}
