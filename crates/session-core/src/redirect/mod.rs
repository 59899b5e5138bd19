//! Following redirects with requests' rules, and never leaking a credential.
//!
//! A session follows redirects by default: [`RedirectLayer`] sits between
//! the per-request and the per-hop layers (see [the stack](crate#the-stack)),
//! so middleware added with `layer` sees one logical request, and middleware
//! added with `hop_layer` sees every hop.
//!
//! # Redirect rules
//!
//! | rule | behaviour |
//! |---|---|
//! | what redirects | 301, 302, 303, 307 and 308 with a `Location`; any other 3xx (and a redirect status without `Location`) comes back as it is |
//! | hop limit | 30 (requests), `SessionBuilder::max_redirects`, per request `RequestBuilder::max_redirects`; one more is a [`TooManyRedirects`] error that carries the history |
//! | head budget | the response heads a chain keeps in its history add up to at most 256 KiB ([`DEFAULT_MAX_HISTORY_BYTES`], `SessionBuilder::max_history_bytes`); past it, a [`HistoryTooLarge`] error. A retried attempt's head is not kept (its status is, in the retry history) |
//! | method | 302 and 303 turn every method but `HEAD` into `GET`; 301 turns `POST` into `GET`; 307 and 308 keep it |
//! | body | every status but 307 and 308 drops the body and its `Content-Length`, `Content-Type` and `Transfer-Encoding`; 307 and 308 send it again byte for byte when it is replayable ([`Body::try_clone`](crate::Body::try_clone)), and stop with [`BodyNotReplayable`] when it is a stream |
//! | `Location` | resolved against the URL that answered: relative, `//host/path` and absolute forms; bytes outside printable ASCII (UTF-8 or not) are percent-encoded; the fragment of the previous URL is kept when the target has none; userinfo in a target is removed, never used |
//! | bad `Location` | empty, longer than 8 KiB, two different values, an `http(s)` URL without a host: [`InvalidLocation`]; a scheme other than `http` and `https` (`file:`, `ftp:`, `javascript:`): [`UnsupportedScheme`]. All are refused before any connection is made |
//! | `https_only` | every URL, the first and each target, must be `https` ([`HttpsOnly`]) |
//! | history | [`Response::history`](crate::Response::history): each redirect response (status, headers, URL), oldest first; [`Response::url`](crate::Response::url) is the final URL |
//! | following off | `follow_redirects(false)` (per request) or `no_redirects()` (session): the 3xx comes back with [`Response::next_request`](crate::Response::next_request), the request that would have been sent |
//! | discarded bodies | the body of a followed 3xx is read up to 64 KiB (so the connection can be reused) and dropped, never decoded |
//! | policy | a [`Policy`] sees each redirect (status, response headers, target) and may stop it, fail it, or edit the next request; the rules of this table apply around it |
//!
//! # Credential rules
//!
//! The origin of a URL is its scheme, host and effective port
//! (`http://a.test` and `http://a.test:80` are one origin; `a.test`,
//! `xa.test` and `sub.a.test` are three).
//!
//! - When a redirect changes origin, the next request loses `Authorization`,
//!   `Proxy-Authorization`, an explicit `Cookie` header, a request's own
//!   `WWW-Authenticate` (as reqwest drops it), every header named
//!   with `sensitive_header`, and every header value marked sensitive
//!   ([`HeaderValue::set_sensitive`](http::HeaderValue::set_sensitive)).
//! - **Once removed, they stay removed**: a chain `a.test → b.test → a.test`
//!   reaches `a.test` again without them. (requests compares each hop with
//!   the previous one only, so it would strip on the way out too; we also
//!   never restore them on the way back, because the redirect that returns is
//!   chosen by the other origin.) The same goes for the auth schemes of the
//!   session or request (Digest, custom [`Auth`](crate::auth::Auth)) and for
//!   URL userinfo: the per-hop auth layer sees [`Hop::credentials_dropped`]
//!   and does not use them any more.
//! - requests' one exception: `http` to `https` on the same host, both on
//!   their default port, keeps `Authorization` (the other credential headers
//!   are removed). `https` to `http` is an origin change like any other.
//! - Session auth and `.netrc` are worked out again for each hop from its
//!   own host, never copied forward: session Basic/Bearer are merged into
//!   the first request only; `.netrc` is looked up by the per-hop auth layer
//!   for each hop's host (see [`crate::auth`]).
//! - A [`Policy`] cannot undo this: the rules run after `on_request`.
//! - `Cookie` headers from a cookie jar are added per hop by the jar, for
//!   each hop's own URL.
//!
//! # Examples
//!
//! The defaults: follow up to 30 redirects.
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::{mock::MockTransport, Body, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let mock = MockTransport::new()
//!     .route(Method::POST, "/old", |_| {
//!         http::Response::builder()
//!             .status(StatusCode::SEE_OTHER)
//!             .header("location", "/new")
//!             .body(Body::empty())
//!             .unwrap()
//!     })
//!     .route(Method::GET, "/new", |_| (StatusCode::OK, "moved here"));
//! let session = Session::builder().transport(mock).build()?;
//!
//! let res = session.post("http://api.test/old").body("data").send().await?;
//! assert_eq!(res.url().as_str(), "http://api.test/new");
//! assert_eq!(res.history()[0].status, StatusCode::SEE_OTHER);
//! assert_eq!(res.text().await?, "moved here");
//! # Ok(()) }
//! ```
//!
//! Customised: at most 5 hops, only within one host, an API key treated as a
//! credential, and one request that does not follow at all.
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::redirect::policy::{redirect_fn, Action};
//! use session_core::{mock::MockTransport, Body, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! # let mock = MockTransport::new().route(Method::GET, "/a", |_| {
//! #     http::Response::builder().status(302).header("location", "https://other.test/b")
//! #         .body(Body::empty()).unwrap()
//! # });
//! let session = Session::builder()
//!     .transport(mock)
//!     .max_redirects(5)
//!     .sensitive_header("x-api-key")
//!     .redirect_policy(redirect_fn(|attempt| {
//!         Ok(if attempt.location().host() == attempt.previous().host() {
//!             Action::Follow
//!         } else {
//!             Action::Stop
//!         })
//!     }))
//!     .build()?;
//!
//! let res = session.get("http://api.test/a").send().await?;
//! assert_eq!(res.status(), StatusCode::FOUND);
//! let next = res.next_request().expect("where it pointed");
//! assert_eq!(next.url().as_str(), "https://other.test/b");
//!
//! let res = session.get("http://api.test/a").follow_redirects(false).send().await?;
//! assert_eq!(res.status(), StatusCode::FOUND);
//! # Ok(()) }
//! ```

pub mod error;
pub mod future;
mod layer;
pub(crate) mod location;
pub mod policy;
mod service;

use http::{HeaderMap, Method};
use url::Url;

pub use error::{
    BodyNotReplayable, HistoryTooLarge, HttpsOnly, InvalidLocation, TooManyRedirects,
    UnsupportedScheme,
};
pub use layer::RedirectLayer;
pub use policy::{Action, Attempt, BoxPolicy, Policy, PolicyExt, Standard};
pub use service::FollowRedirect;

/// How many redirects a request follows unless told otherwise (requests'
/// `DEFAULT_REDIRECT_LIMIT`).
pub const DEFAULT_MAX_REDIRECTS: usize = 30;

/// The most bytes of response heads (names and values of their fields) a
/// redirect chain keeps in its history: 256 KiB. Each head is bounded by the
/// transport (64 KiB by default for the hyper transport), and this bounds
/// their sum, however many hops there are.
pub const DEFAULT_MAX_HISTORY_BYTES: usize = 256 * 1024;

/// The longest `Location` value followed: 8 KiB.
pub const MAX_LOCATION_LEN: usize = 8 * 1024;

/// Per-request redirect settings, carried as a request extension (set them
/// with `RequestBuilder::max_redirects` and `follow_redirects`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RedirectOptions {
    pub(crate) max: Option<usize>,
    pub(crate) follow: Option<bool>,
}

impl RedirectOptions {
    /// No override: the session's settings apply.
    pub fn new() -> Self {
        RedirectOptions::default()
    }

    /// Overrides the session's hop limit.
    #[must_use]
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max = Some(max);
        self
    }

    /// Overrides whether redirects are followed.
    #[must_use]
    pub fn follow(mut self, follow: bool) -> Self {
        self.follow = Some(follow);
        self
    }
}

/// What the redirect layer tells the per-hop layers about a hop, as a
/// request extension on every hop after the first (a request without it is
/// a first request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hop {
    pub(crate) index: usize,
    pub(crate) credentials_dropped: bool,
}

impl Hop {
    /// 0 for the first request, 1 for the first redirect, and so on.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Has the chain changed origin (so credentials were removed)? Then the
    /// request's and session's auth schemes and URL userinfo are not used.
    pub fn credentials_dropped(&self) -> bool {
        self.credentials_dropped
    }
}

/// The request a redirect response pointed to, when it was not followed
/// (`follow_redirects(false)`, or a policy that stopped); read it with
/// [`Response::next_request`](crate::Response::next_request).
///
/// Its headers already obey the credential rules; session auth, `.netrc`
/// and cookies would be added by the stack when it is sent.
#[derive(Debug, Clone)]
pub struct NextRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
}

impl NextRequest {
    /// The method it would use.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL it would go to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers it would carry.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// The fragment of a request's URL (an `http::Uri` has none), so a redirect
/// target without one can carry it over.
#[derive(Debug, Clone)]
pub(crate) struct RequestFragment(pub(crate) String);
