//! The error type of a session, and the leaf errors transports report.
//!
//! [`Error`] is opaque: ask it questions (`is_timeout()`, `is_connect()`,
//! `status()`, `url()`) instead of matching on a kind. The cause of an error is
//! in [`std::error::Error::source`]; the `Display` of an error only describes
//! its own level ("error sending request"), as in hyper and reqwest.
//!
//! The questions walk the chain of causes for the leaf errors of this module,
//! which transports put there: a [`DnsError`], a [`TlsError`] (with a
//! [`CertificateProblem`]), a [`ProxyError`], a [`TimedOut`] (with a
//! [`TimeoutKind`]), a [`TooLarge`], a [`ContentDecodingError`]. A caller
//! never needs to downcast into the transport's libraries (hyper, h2,
//! rustls) or read message text to tell failures apart.
//!
//! # From requests' exceptions
//!
//! | requests raises | ask the `Error` |
//! |---|---|
//! | `ConnectionError` | `is_connect()`: the connection could not be made (DNS, refused, TLS, proxy, connect timeout); the request was not sent |
//! | `ConnectionError` from name resolution | `is_dns()` |
//! | `SSLError` | `is_tls()`; `certificate_problem()` says why the server's certificate was refused (expired, unknown issuer, another name...) |
//! | `ProxyError` | `is_proxy()`; the [`ProxyError`] in the chain names the proxy and the status it answered `CONNECT` with (`407`: credentials) |
//! | `ConnectTimeout` | `timeout_kind() == Some(TimeoutKind::Connect)` (and `is_connect()`) |
//! | `ReadTimeout` | `timeout_kind() == Some(TimeoutKind::Read)` |
//! | `Timeout` | `is_timeout()`; `TimeoutKind::Total` for the session's or request's `timeout`, `TimeoutKind::Pool` for the wait for a pooled connection |
//! | `TooManyRedirects` | `is_redirect()`; the [`TooManyRedirects`](crate::redirect::TooManyRedirects) in the chain has the history |
//! | `HTTPError` from `raise_for_status()` | `is_status()`, `status()` (from `Response::error_for_status`) |
//! | `RetryError` (status retries ran out) | `is_status()`, `status()`; the retry layer's error in the chain has the retry history |
//! | `ChunkedEncodingError` | `is_body()`: the connection broke or the framing was wrong while the body was read |
//! | `ContentDecodingError` | `is_decode()`: a `gzip`, `deflate`, `br` or `zstd` body does not decode |
//! | `JSONDecodeError` (`r.json()`) | `is_decode()` |
//! | `InvalidURL`, `MissingSchema`, `InvalidSchema`, `URLRequired` | `is_builder()`, with [`InvalidUrl`](crate::InvalidUrl) in the chain (an unsupported scheme: no transport is mounted for it) |
//! | `InvalidHeader` | `is_builder()` |
//! | `UnrewindableBodyError` | `is_redirect()`, with [`BodyNotReplayable`](crate::redirect::BodyNotReplayable) in the chain |
//! | nothing (urllib3 reads on) | `is_too_large()`: a body over `max_body_size` or the transport's limits, a redirect history over its budget |
//!
//! The narrower questions imply the wider ones: `is_dns()`, `is_tls()` and
//! `is_proxy()` errors are `is_connect()`; an error with a `timeout_kind()`
//! is `is_timeout()`.
//!
//! # Example
//!
//! What a requests user writes as `except` clauses, in the order a caller
//! asks (the transport here fails as a resolver would):
//!
//! ```
//! use session_core::error::{CertificateProblem, Connect, DnsError, TimeoutKind};
//! use session_core::{Body, Error, Session};
//!
//! fn describe(err: &Error) -> String {
//!     if err.is_dns() {
//!         "no such host".into()
//!     } else if let Some(problem) = err.certificate_problem() {
//!         format!("bad certificate: {problem}")
//!     } else if err.is_tls() {
//!         "TLS failed".into()
//!     } else if err.is_proxy() {
//!         "the proxy failed".into()
//!     } else if err.timeout_kind() == Some(TimeoutKind::Connect) {
//!         "could not connect in time".into()
//!     } else if err.is_connect() {
//!         "could not connect".into()
//!     } else if err.is_timeout() {
//!         "timed out".into()
//!     } else if let Some(status) = err.status() {
//!         format!("the server answered {status}")
//!     } else if err.is_too_large() {
//!         "too large".into()
//!     } else {
//!         err.to_string()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let resolver_fails = tower::service_fn(|_req: http::Request<Body>| async {
//!     Err::<http::Response<Body>, _>(Connect::new(DnsError::new("api.example.invalid")))
//! });
//! let session = Session::builder().transport(resolver_fails).build().unwrap();
//! let err = session.get("https://api.example.invalid/").send().await.unwrap_err();
//! assert_eq!(describe(&err), "no such host");
//! assert!(err.is_connect() && !err.is_tls() && !err.is_timeout());
//! assert_eq!(err.url().unwrap().host_str(), Some("api.example.invalid"));
//! # let _ = CertificateProblem::Expired;
//! # }
//! ```

mod body;
mod connect;
mod timeout;

pub use body::{ContentDecodingError, TooLarge};
pub use connect::{CertificateProblem, Connect, DnsError, NotSent, ProxyError, TlsError};
pub use timeout::{TimedOut, TimeoutKind};

use std::fmt;

use http::StatusCode;
use url::Url;

/// A type-erased error, as used by tower services.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error of a session: building, sending or reading a request failed.
///
/// See the [module docs](self) for more details.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
    url: Option<Url>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Builder,
    Request,
    Body,
    Decode,
    Redirect,
    Status(StatusCode),
    Timeout,
}

impl Error {
    fn new(kind: Kind, source: Option<BoxError>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                source,
                url: None,
            }),
        }
    }

    /// An error while building a session or a request: bad URL, header, body.
    pub fn builder(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Builder, Some(source.into()))
    }

    /// An error while sending a request or receiving its response head.
    pub fn request(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Request, Some(source.into()))
    }

    /// An error while reading or writing a body. A source with a
    /// [`ContentDecodingError`] in its chain makes a decode error
    /// ([`is_decode`](Self::is_decode)) instead.
    pub fn body(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        let kind = if find::<ContentDecodingError>(Some(&*source)).is_some() {
            Kind::Decode
        } else {
            Kind::Body
        };
        Error::new(kind, Some(source))
    }

    /// An error while decoding a body (JSON, charset, content coding).
    pub fn decode(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Decode, Some(source.into()))
    }

    /// An error while following a redirect.
    pub fn redirect(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Redirect, Some(source.into()))
    }

    /// A timeout, with the timer that fired as its source.
    pub fn timeout(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Timeout, Some(source.into()))
    }

    /// A response whose status is a client or server error (see
    /// `Response::error_for_status`).
    pub fn for_status(status: StatusCode, url: Url) -> Self {
        Error::new(Kind::Status(status), None).with_url(url)
    }

    /// Turns what a tower stack returned into an [`Error`]: an `Error` found
    /// in the box is taken back as it is, anything else is a request error.
    pub fn from_boxed(err: BoxError) -> Self {
        match err.downcast::<Error>() {
            Ok(err) => *err,
            Err(other) => {
                if other.is::<tokio::time::error::Elapsed>() || other.is::<TimedOut>() {
                    Error::timeout(other)
                } else if let Some(status) = gave_up_on(&*other) {
                    // A layer gave up on a status (retries that ran out):
                    // a status error, its cause kept.
                    Error::new(Kind::Status(status), Some(other))
                } else {
                    Error::request(other)
                }
            }
        }
    }

    /// Attaches the URL the error is about (kept if one is already set).
    #[must_use]
    pub fn with_url(mut self, url: Url) -> Self {
        if self.inner.url.is_none() {
            self.inner.url = Some(url);
        }
        self
    }

    /// The URL this error is about, if known.
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// A mutable reference to the URL, to redact or replace it.
    pub fn url_mut(&mut self) -> Option<&mut Url> {
        self.inner.url.as_mut()
    }

    /// Drops the URL, for example before logging an error whose URL has a secret.
    #[must_use]
    pub fn without_url(mut self) -> Self {
        self.inner.url = None;
        self
    }

    /// The status of the response, for errors made by `error_for_status`.
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            Kind::Status(code) => Some(code),
            _ => None,
        }
    }

    /// Is this an error from building a session or a request (a bad URL,
    /// header or body; no transport mounted for the URL's scheme)?
    pub fn is_builder(&self) -> bool {
        self.inner.kind == Kind::Builder
    }

    /// Is this an error from sending a request or receiving its response
    /// head (connect, TLS, protocol)? [`is_connect`](Self::is_connect) tells
    /// whether the request could have reached the server.
    pub fn is_request(&self) -> bool {
        self.inner.kind == Kind::Request
    }

    /// Is this an error while reading or writing a body: the connection
    /// broke, the framing was wrong, a limit or a read timeout was hit
    /// while the body was read (requests' `ChunkedEncodingError`)?
    pub fn is_body(&self) -> bool {
        self.inner.kind == Kind::Body
    }

    /// Is this an error while decoding a body: a content coding that does
    /// not decode ([`ContentDecodingError`]), or JSON that does not parse?
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode || self.find::<ContentDecodingError>().is_some()
    }

    /// Is this an error from following redirects (too many, an invalid
    /// `Location`, a body that cannot be sent again)?
    pub fn is_redirect(&self) -> bool {
        self.inner.kind == Kind::Redirect
    }

    /// Is this a status error: made by `error_for_status` (a 4xx or 5xx
    /// response), or the last status of retries that ran out?
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, Kind::Status(_))
    }

    /// Did a timer fire: a session or request timeout, or a transport's
    /// connect, read or pool wait timeout anywhere in the chain of causes?
    /// [`timeout_kind`](Self::timeout_kind) says which.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == Kind::Timeout
            || self.causes().any(|err| {
                err.is::<TimedOut>()
                    || err.is::<tokio::time::error::Elapsed>()
                    || err
                        .downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            })
    }

    /// Which timer fired, for a [`TimedOut`] in the chain of causes. An
    /// operating system's connect timeout (an io error of kind `TimedOut`
    /// under a connect error) is [`TimeoutKind::Connect`]. `None` when no
    /// timer fired, or one this crate does not name (tokio's `Elapsed`
    /// from a user's layer).
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        if let Some(timed_out) = self.find::<TimedOut>() {
            return Some(timed_out.kind());
        }
        let os_timeout = self.causes().any(|err| {
            err.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        });
        (os_timeout && self.is_connect()).then_some(TimeoutKind::Connect)
    }

    /// Did the request fail before it reached the server: DNS, a refused or
    /// failed connection, a TLS handshake, a proxy, a connect timeout?
    /// Transports report these as [`Connect`] (or as a [`DnsError`],
    /// [`TlsError`] or [`ProxyError`]). The request was not sent, so it is
    /// safe to send again whatever its method.
    pub fn is_connect(&self) -> bool {
        self.causes().any(|err| {
            err.is::<Connect>()
                || err.is::<DnsError>()
                || err.is::<TlsError>()
                || err.is::<ProxyError>()
        })
    }

    /// Did a host name fail to resolve ([`DnsError`])? Such an error is
    /// [`is_connect`](Self::is_connect) too.
    pub fn is_dns(&self) -> bool {
        self.find::<DnsError>().is_some()
    }

    /// Did a TLS handshake fail ([`TlsError`]), with the server or with an
    /// `https://` proxy? [`certificate_problem`](Self::certificate_problem)
    /// says why when the server's certificate was refused. Such an error is
    /// [`is_connect`](Self::is_connect) too.
    pub fn is_tls(&self) -> bool {
        self.find::<TlsError>().is_some()
    }

    /// Why the server's certificate was refused, when a TLS handshake
    /// failed because of it.
    pub fn certificate_problem(&self) -> Option<CertificateProblem> {
        self.find::<TlsError>()
            .and_then(TlsError::certificate_problem)
    }

    /// Did a proxy fail ([`ProxyError`]): refuse the connection, answer
    /// `CONNECT` with other than 2xx (`407`: it wants credentials), break
    /// the tunnel, time out? Such an error is [`is_connect`](Self::is_connect)
    /// too.
    pub fn is_proxy(&self) -> bool {
        self.find::<ProxyError>().is_some()
    }

    /// Was something bigger than a limit allows: a body over the session's
    /// `max_body_size` ([`LengthLimitError`](crate::body::LengthLimitError)),
    /// over a transport's limits ([`TooLarge`]: the body as sent, the body
    /// decompressed, stacked content codings), or a redirect history over its
    /// budget ([`HistoryTooLarge`](crate::redirect::HistoryTooLarge))?
    pub fn is_too_large(&self) -> bool {
        self.causes().any(|err| {
            err.is::<TooLarge>()
                || err.is::<crate::body::LengthLimitError>()
                || err.is::<crate::redirect::HistoryTooLarge>()
        })
    }

    /// The first error of type `T` in the chain of causes.
    fn find<T: std::error::Error + 'static>(&self) -> Option<&T> {
        find(self.source_ref())
    }

    /// The chain of causes, from this error's source down.
    fn causes(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let mut next = self.source_ref();
        std::iter::from_fn(move || {
            let current = next?;
            next = current.source();
            Some(current)
        })
    }

    fn source_ref(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| &**e as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("http_session::Error");
        d.field("kind", &self.inner.kind);
        if let Some(url) = &self.inner.url {
            d.field("url", &redacted(url).as_str());
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            Kind::Builder => f.write_str("error building request")?,
            Kind::Request => f.write_str("error sending request")?,
            Kind::Body => f.write_str("error reading or writing a body")?,
            Kind::Decode => f.write_str("error decoding response body")?,
            Kind::Redirect => f.write_str("error following redirect")?,
            Kind::Timeout => f.write_str("operation timed out")?,
            Kind::Status(code) => {
                let class = if code.is_client_error() {
                    "client error"
                } else {
                    "server error"
                };
                write!(f, "HTTP status {class} ({code})")?;
            }
        }
        if let Some(url) = &self.inner.url {
            write!(f, " for url ({})", redacted(url))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source_ref()
    }
}

/// The URL as errors print it: a password in the userinfo is replaced by
/// `***`, so logging an error never writes a credential.
pub(crate) fn redacted(url: &Url) -> std::borrow::Cow<'_, Url> {
    if url.password().is_none() {
        return std::borrow::Cow::Borrowed(url);
    }
    let mut copy = url.clone();
    let _ = copy.set_password(Some("***"));
    std::borrow::Cow::Owned(copy)
}

/// A status a layer gave up on, such as the last status of a retry layer
/// whose status retries ran out. In the `source()` chain of an error a
/// layer returns, it makes the session's [`Error`] a status error
/// ([`Error::is_status`], [`Error::status`]), the layer's error kept as
/// the cause (with its retry history, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaveUpOnStatus(pub StatusCode);

impl fmt::Display for GaveUpOnStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gave up on status {}", self.0)
    }
}

impl std::error::Error for GaveUpOnStatus {}

/// The first error of type `T` in a chain of causes, starting at `err`.
fn find<'a, T: std::error::Error + 'static>(
    err: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a T> {
    let mut next = err;
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

/// The status a layer gave up on, found in an error's chain of causes.
fn gave_up_on(err: &(dyn std::error::Error + 'static)) -> Option<StatusCode> {
    find::<GaveUpOnStatus>(Some(err)).map(|gave_up| gave_up.0)
}

/// No mounted transport matches the URL of a request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no transport is mounted for {url}")]
pub struct NoTransport {
    /// The URL that matched no mount prefix.
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_and_thread_safe() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn timeout_and_connect_walk_the_chain() {
        let err = Error::request(Connect::new(TimedOut(TimeoutKind::Connect)));
        assert!(err.is_connect());
        assert!(err.is_timeout());
        assert!(!err.is_status());
        let plain = Error::request("boom");
        assert!(!plain.is_connect() && !plain.is_timeout());
    }

    #[test]
    fn narrow_questions_imply_is_connect() {
        let dns = Error::request(DnsError::new("nowhere.invalid"));
        assert!(dns.is_dns() && dns.is_connect());
        assert!(!dns.is_tls() && !dns.is_proxy() && dns.timeout_kind().is_none());

        // A TLS failure with an https proxy: both questions answer.
        let tls = TlsError::new("proxy.test").with_certificate_problem(CertificateProblem::Expired);
        let proxy = ProxyError::new(
            "https://proxy.test:443",
            "TLS handshake with the proxy failed",
        )
        .with_source(tls);
        let err = Error::request(Connect::new(proxy));
        assert!(err.is_proxy() && err.is_tls() && err.is_connect() && !err.is_dns());
        assert_eq!(err.certificate_problem(), Some(CertificateProblem::Expired));

        // A proxy that did not answer in time.
        let slow = ProxyError::new("http://proxy.test:3128", "did not answer in time")
            .with_source(TimedOut(TimeoutKind::Connect));
        let err = Error::request(slow);
        assert!(err.is_proxy() && err.is_timeout());
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Connect));
    }

    #[test]
    fn timeout_kinds_are_found_in_the_chain() {
        for kind in [
            TimeoutKind::Connect,
            TimeoutKind::Read,
            TimeoutKind::Total,
            TimeoutKind::Pool,
        ] {
            let err = Error::from_boxed(Box::new(TimedOut(kind)));
            assert!(err.is_timeout());
            assert_eq!(err.timeout_kind(), Some(kind));
        }
        // The operating system's connect timeout.
        let os = std::io::Error::from(std::io::ErrorKind::TimedOut);
        let err = Error::request(Connect::new(os));
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Connect));
        let err = Error::body(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert!(err.is_timeout() && err.timeout_kind().is_none());
    }

    #[test]
    fn too_large_covers_every_limit() {
        assert!(Error::body(TooLarge::new("response body", 8)).is_too_large());
        assert!(Error::body(crate::body::LengthLimitError { limit: 8 }).is_too_large());
        let history = crate::redirect::HistoryTooLarge { limit: 8 };
        let err = Error::redirect(history);
        assert!(err.is_too_large() && err.is_redirect());
        assert!(!Error::body("reset").is_too_large());
    }

    #[test]
    fn a_content_coding_that_does_not_decode_is_a_decode_error() {
        let bad = ContentDecodingError::new("gzip").with_source("invalid gzip header");
        let err = Error::body(Box::new(bad) as BoxError);
        assert!(err.is_decode() && !err.is_body());
        assert_eq!(err.to_string(), "error decoding response body");
        let err = Error::body("connection reset");
        assert!(err.is_body() && !err.is_decode());
    }

    #[test]
    fn status_display_names_url_and_class() {
        let url = Url::parse("http://example.test/x").unwrap();
        let err = Error::for_status(StatusCode::NOT_FOUND, url);
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(
            err.to_string(),
            "HTTP status client error (404 Not Found) for url (http://example.test/x)"
        );
        assert!(err.without_url().url().is_none());
    }

    #[test]
    fn printing_an_error_never_shows_a_password() {
        let url = Url::parse("http://ada:s3cret@example.test/x").unwrap();
        let err = Error::request("refused").with_url(url);
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(!format!("{err:?}").contains("s3cret"), "{err:?}");
        assert!(err.to_string().contains("ada:***@example.test"), "{err}");
        // The URL itself is still there for the caller.
        assert_eq!(err.url().unwrap().password(), Some("s3cret"));
    }

    #[test]
    fn from_boxed_takes_back_our_error() {
        let boxed: BoxError = Box::new(Error::redirect("loop"));
        assert!(Error::from_boxed(boxed).is_redirect());
        let boxed: BoxError = Box::new(TimedOut(TimeoutKind::Read));
        assert!(Error::from_boxed(boxed).is_timeout());
    }
}
