//! [`CookieStore`]: where a session keeps cookies between requests.
//!
//! A session with a store sends the store's cookies with every request that
//! reaches a transport (each hop of a redirect chain, each attempt of a
//! retry) and stores the `Set-Cookie` headers of every response that comes
//! back from one, 3xx and retried responses included. This is the innermost
//! step of the stack, just above the mount router, so no layer above it can
//! lose a cookie.
//!
//! The facade `http-session` plugs in its RFC 6265bis jar; any other store
//! implements the three methods below.
//!
//! ```
//! use std::sync::Mutex;
//! use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
//! use session_core::{cookies::CookieStore, mock::MockTransport, Session, Url};
//!
//! /// Remembers the last `Set-Cookie` line and sends it back, whatever the URL.
//! #[derive(Default)]
//! struct LastCookie(Mutex<Option<HeaderValue>>);
//!
//! impl CookieStore for LastCookie {
//!     fn add_cookies(&self, _url: &Url, headers: &mut HeaderMap) {
//!         if let Some(value) = self.0.lock().unwrap().clone() {
//!             headers.insert(COOKIE, value);
//!         }
//!     }
//!     fn store_cookies(&self, _url: &Url, headers: &HeaderMap) {
//!         if let Some(value) = headers.get(SET_COOKIE) {
//!             *self.0.lock().unwrap() = Some(value.clone());
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> session_core::Result<()> {
//! let mock = MockTransport::new().route(http::Method::GET, "https://api.test/login", |_| {
//!     http::Response::builder().header(SET_COOKIE, "sid=1").body("ok".into()).unwrap()
//! });
//! let session = Session::builder()
//!     .transport(mock.clone())
//!     .cookie_store(LastCookie::default())
//!     .build()?;
//! session.get("https://api.test/login").send().await?;
//! session.get("https://api.test/login").send().await?;
//! assert_eq!(mock.requests()[1].headers[COOKIE], "sid=1");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::{HeaderMap, SET_COOKIE};
use url::Url;

use crate::body::Body;
use crate::error::BoxError;

/// Keeps cookies for a session: gives the `Cookie` header of each request
/// and takes the `Set-Cookie` headers of each response.
///
/// Implementations are shared by every request of the session, from many
/// tasks at once, so they take `&self`.
pub trait CookieStore: Send + Sync + 'static {
    /// Adds the cookies to send to `url` to a request's headers. A `Cookie`
    /// header already there was set by the caller explicitly; what the store
    /// does with it (keep, merge, replace) is its rule to document.
    fn add_cookies(&self, url: &Url, headers: &mut HeaderMap);

    /// Stores the `Set-Cookie` headers of a response received from `url`.
    /// Called only when the response has at least one.
    fn store_cookies(&self, url: &Url, headers: &HeaderMap);

    /// `true` when the store has no cookie at all, so a request needs none
    /// and its URL need not be parsed. The default says `false`.
    fn is_empty(&self) -> bool {
        false
    }
}

impl<T: CookieStore + ?Sized> CookieStore for Arc<T> {
    fn add_cookies(&self, url: &Url, headers: &mut HeaderMap) {
        (**self).add_cookies(url, headers);
    }

    fn store_cookies(&self, url: &Url, headers: &HeaderMap) {
        (**self).store_cookies(url, headers);
    }

    fn is_empty(&self) -> bool {
        (**self).is_empty()
    }
}

/// The URL of an absolute request URI.
fn url_of(uri: &http::Uri) -> Option<Url> {
    Url::parse(&uri.to_string()).ok()
}

/// `headers.contains_key(name)`; most responses have a handful of headers,
/// and a scan of their names is cheaper than hashing `name`.
#[inline]
fn has_header(headers: &HeaderMap, name: &http::HeaderName) -> bool {
    if headers.keys_len() <= 8 {
        headers.keys().any(|key| key == name)
    } else {
        headers.contains_key(name)
    }
}

/// A session's store, as the router holds it.
#[derive(Clone)]
pub(crate) struct SharedStore(Arc<dyn CookieStore>);

impl SharedStore {
    pub(crate) fn new(store: impl CookieStore) -> Self {
        SharedStore(Arc::new(store))
    }

    /// Adds the store's cookies to `req`, and returns what the response
    /// needs to have its cookies stored. A request whose URI is not absolute
    /// has no URL to match cookies against and passes through.
    #[inline]
    pub(crate) fn prepare(&self, req: &mut http::Request<Body>) -> Option<StoreCookies> {
        let uri = req.uri();
        if uri.scheme().is_none() || uri.authority().is_none() {
            return None;
        }
        let uri = uri.clone();
        if !self.0.is_empty() {
            if let Some(url) = url_of(&uri) {
                self.0.add_cookies(&url, req.headers_mut());
            }
        }
        Some(StoreCookies {
            store: Arc::clone(&self.0),
            uri,
        })
    }
}

impl SharedStore {
    /// Adds the store's cookies for `url` to `headers` (the URL is only
    /// parsed when the store has cookies).
    #[inline]
    pub(crate) fn add_for(&self, url: &crate::simple_url::LazyUrl, headers: &mut HeaderMap) {
        if !self.0.is_empty() {
            self.0.add_cookies(url.get(), headers);
        }
    }

    /// Stores the `Set-Cookie` headers of a response received from `url`,
    /// if it has any.
    #[inline]
    pub(crate) fn store_from(&self, url: &crate::simple_url::LazyUrl, headers: &HeaderMap) {
        if has_header(headers, &SET_COOKIE) {
            self.0.store_cookies(url.get(), headers);
        }
    }
}

impl fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieStore").finish_non_exhaustive()
    }
}

/// What storing a response's cookies takes: the store and the request's URI.
pub(crate) struct StoreCookies {
    store: Arc<dyn CookieStore>,
    uri: http::Uri,
}

impl StoreCookies {
    /// Stores the `Set-Cookie` headers of `res`, if it has any.
    #[inline]
    pub(crate) fn store(&self, res: &http::Response<Body>) {
        let headers = res.headers();
        if has_header(headers, &SET_COOKIE) {
            if let Some(url) = url_of(&self.uri) {
                self.store.store_cookies(&url, headers);
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A response future whose response's cookies are stored on arrival.
    pub(crate) struct Storing<F> {
        #[pin]
        future: F,
        cookies: Option<StoreCookies>,
    }
}

impl<F> Storing<F> {
    pub(crate) fn new(future: F, cookies: Option<StoreCookies>) -> Self {
        Storing { future, cookies }
    }
}

impl<F, E> Future for Storing<F>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<Body>, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.future.poll(cx)).map_err(Into::into)?;
        if let Some(cookies) = this.cookies.take() {
            cookies.store(&res);
        }
        Poll::Ready(Ok(res))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderName, HeaderValue};

    #[test]
    fn has_header_scans_small_maps_and_hashes_large_ones() {
        for count in [0, 3, 8, 9, 20] {
            let mut headers = HeaderMap::new();
            for i in 0..count {
                let name = HeaderName::try_from(format!("x-h{i}")).unwrap();
                headers.insert(name, HeaderValue::from_static("v"));
            }
            assert!(!has_header(&headers, &SET_COOKIE), "{count} headers");
            headers.append(SET_COOKIE, HeaderValue::from_static("a=1"));
            assert!(has_header(&headers, &SET_COOKIE), "{count} headers");
        }
    }
}
