//! The error type of a session, and the leaf errors transports report.
//!
//! [`Error`] is opaque: ask it questions (`is_timeout()`, `is_connect()`,
//! `status()`, `url()`) instead of matching on a kind. The cause of an error is
//! in [`std::error::Error::source`]; the `Display` of an error only describes
//! its own level ("error sending request"), as in hyper and reqwest.

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

    /// An error while reading or writing a body.
    pub fn body(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Body, Some(source.into()))
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

    /// Is this an error from building a session or a request?
    pub fn is_builder(&self) -> bool {
        self.inner.kind == Kind::Builder
    }

    /// Is this an error from sending a request (connect, TLS, protocol)?
    pub fn is_request(&self) -> bool {
        self.inner.kind == Kind::Request
    }

    /// Is this an error while reading or writing a body?
    pub fn is_body(&self) -> bool {
        self.inner.kind == Kind::Body
    }

    /// Is this an error while decoding a body?
    pub fn is_decode(&self) -> bool {
        self.inner.kind == Kind::Decode
    }

    /// Is this an error from following redirects?
    pub fn is_redirect(&self) -> bool {
        self.inner.kind == Kind::Redirect
    }

    /// Is this an error made by `error_for_status` (a 4xx or 5xx response)?
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, Kind::Status(_))
    }

    /// Did a timer fire: a session or request timeout, or a transport's
    /// connect or read timeout anywhere in the chain of causes?
    pub fn is_timeout(&self) -> bool {
        if self.inner.kind == Kind::Timeout {
            return true;
        }
        let mut source = self.source_ref();
        while let Some(err) = source {
            if err.is::<TimedOut>() || err.is::<tokio::time::error::Elapsed>() {
                return true;
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::TimedOut {
                    return true;
                }
            }
            if let Some(inner) = err.downcast_ref::<Error>() {
                if inner.is_timeout() {
                    return true;
                }
            }
            source = err.source();
        }
        false
    }

    /// Did the request fail before it reached the server: DNS, a refused or
    /// failed connection, a TLS handshake? Transports report these as [`Connect`].
    pub fn is_connect(&self) -> bool {
        let mut source = self.source_ref();
        while let Some(err) = source {
            if err.is::<Connect>() {
                return true;
            }
            if let Some(inner) = err.downcast_ref::<Error>() {
                if inner.is_connect() {
                    return true;
                }
            }
            source = err.source();
        }
        false
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

/// A transport could not reach the server: name resolution, connection or
/// TLS handshake failed. The request was never sent, so it is safe to retry
/// for any method.
#[derive(Debug)]
pub struct Connect(BoxError);

impl Connect {
    /// Wraps the cause of a connect failure.
    pub fn new(source: impl Into<BoxError>) -> Self {
        Connect(source.into())
    }
}

impl fmt::Display for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connect error: {}", self.0)
    }
}

impl std::error::Error for Connect {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The server provably did not process the request: an HTTP/2 stream it
/// refused (`RST_STREAM` with `REFUSED_STREAM`) or that was above the last
/// stream of its graceful `GOAWAY` (RFC 9113 §8.7). Like
/// [`Connect`], it is safe to send the request again whatever its method;
/// retry layers count it as a connect error.
#[derive(Debug)]
pub struct NotSent(BoxError);

impl NotSent {
    /// Wraps the cause.
    pub fn new(source: impl Into<BoxError>) -> Self {
        NotSent(source.into())
    }
}

impl fmt::Display for NotSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server did not process the request: {}", self.0)
    }
}

impl std::error::Error for NotSent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
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

/// The status a layer gave up on, found in an error's chain of causes.
fn gave_up_on(err: &(dyn std::error::Error + 'static)) -> Option<StatusCode> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(GaveUpOnStatus(status)) = err.downcast_ref::<GaveUpOnStatus>() {
            return Some(*status);
        }
        next = err.source();
    }
    None
}

/// A timer fired; the message says which one (connect, read, total).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub &'static str);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} timed out", self.0)
    }
}

impl std::error::Error for TimedOut {}

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
        let err = Error::request(Connect::new(TimedOut("connect")));
        assert!(err.is_connect());
        assert!(err.is_timeout());
        assert!(!err.is_status());
        let plain = Error::request("boom");
        assert!(!plain.is_connect() && !plain.is_timeout());
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
        let boxed: BoxError = Box::new(TimedOut("read"));
        assert!(Error::from_boxed(boxed).is_timeout());
    }
}
