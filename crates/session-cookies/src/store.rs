//! [`CookieStore`]: the seam between [`CookieLayer`](crate::CookieLayer) and
//! where cookies are kept, and [`RemoteStore`], the stores the layer awaits.
//!
//! A store only keeps cookies. The rules of RFC 6265bis (parsing, domain and
//! path matching, prefixes, public suffixes, size limits, eviction order)
//! stay in this crate and are the same for every store that it ships: the
//! local [`Jar`] applies them under its lock, a [`RedisJar`](crate::RedisJar)
//! applies them, with the same code, to the cookies it reads from Redis
//! before it writes the result back.

use std::future::{ready, Future, Ready};

use http::HeaderMap;

use crate::error::Result;
use crate::headers::url_of;
use crate::jar::Origin;
use crate::stored::StoredCookie;
use crate::Jar;

/// Where cookies are kept: this process's [`Jar`], or a store shared by
/// many processes, such as a [`RedisJar`](crate::RedisJar).
///
/// Both calls take the request URI as [`CookieLayer`](crate::CookieLayer)
/// sees it (absolute form). The local jar answers at once, with ready
/// futures; a shared store answers when its server has.
///
/// ```
/// use http::header::{HeaderMap, HeaderValue, SET_COOKIE};
/// use session_cookies::{CookieStore, Jar};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> session_cookies::Result<()> {
/// async fn login<C: CookieStore>(store: &C) -> session_cookies::Result<usize> {
///     let uri: http::Uri = "https://example.com/login".parse().unwrap();
///     let mut headers = HeaderMap::new();
///     headers.append(SET_COOKIE, HeaderValue::from_static("sid=1; Path=/"));
///     store.store_response(&uri, &headers).await
/// }
///
/// let jar = Jar::new();
/// assert_eq!(login(&jar).await?, 1);
/// let page: http::Uri = "https://example.com/account".parse().unwrap();
/// assert_eq!(jar.cookies_for(&page).await?[0].value(), "1");
/// # Ok(())
/// # }
/// ```
pub trait CookieStore: Clone + Send + Sync + 'static {
    /// The future of [`cookies_for`](Self::cookies_for).
    type CookiesFuture: Future<Output = Result<Vec<StoredCookie>>> + Send + 'static;
    /// The future of [`store_response`](Self::store_response).
    type StoreFuture: Future<Output = Result<usize>> + Send + 'static;

    /// The cookies to send to `uri`, in `Cookie` header order (longer paths
    /// first, then older first). A URI without scheme or host gets none.
    ///
    /// # Errors
    ///
    /// A shared store that cannot be read: [`Error::is_unavailable`](crate::Error::is_unavailable).
    fn cookies_for(&self, uri: &http::Uri) -> Self::CookiesFuture;

    /// Stores the `Set-Cookie` headers of a response to a request sent to
    /// `uri`; returns how many cookies were stored, replaced or deleted.
    /// Headers a rule rejects are skipped, as the local jar skips them.
    ///
    /// # Errors
    ///
    /// A shared store that cannot be written:
    /// [`Error::is_unavailable`](crate::Error::is_unavailable). The
    /// response's cookies were then not stored (or, when the connection
    /// broke after the write was sent, perhaps stored); never some dropped
    /// in silence.
    fn store_response(&self, uri: &http::Uri, headers: &HeaderMap) -> Self::StoreFuture;
}

/// A [`CookieStore`] whose cookies live outside this process:
/// [`CookieLayer`](crate::CookieLayer) awaits it before sending a request
/// and after receiving the response, and a failure of the store fails the
/// request with a [`BoxError`](crate::BoxError) holding this crate's
/// [`Error`](crate::Error).
///
/// The local [`Jar`] is not one: the layer calls it without awaiting
/// anything, and a request through it cannot fail because of the jar.
pub trait RemoteStore: CookieStore {}

impl CookieStore for Jar {
    type CookiesFuture = Ready<Result<Vec<StoredCookie>>>;
    type StoreFuture = Ready<Result<usize>>;

    fn cookies_for(&self, uri: &http::Uri) -> Self::CookiesFuture {
        let cookies = match Origin::from_uri(uri) {
            Some(origin) => self.send_to(&origin),
            None => url_of(uri)
                .and_then(|url| Origin::from_url(&url).map(|origin| self.send_to(&origin)))
                .unwrap_or_default(),
        };
        ready(Ok(cookies))
    }

    fn store_response(&self, uri: &http::Uri, headers: &HeaderMap) -> Self::StoreFuture {
        ready(Ok(self.store_response_headers(uri, headers)))
    }
}
