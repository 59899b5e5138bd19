//! How errors are classified: the [`Policy`] hook.
//!
//! urllib3 counts an error as a *connect* error when the request never
//! reached the server, and as a *read* error when it may have. The two are
//! retried differently: a connect error for any method, a read error only for
//! the allowed (idempotent) methods. A transport tells which it was in its
//! own way, so the classification is a hook.
//!
//! [`Standard`] knows io errors and, with the `session-core` feature (on by
//! default), session-core's transports (which wrap every "never reached the
//! server" failure in `session_core::error::Connect`). A plain hyper-util
//! client plugs its own test with [`classify_fn`]:
//!
//! ```
//! use session_retry::{policy::{classify_fn, find_source}, ErrorKind, Retry};
//!
//! #[derive(Debug)]
//! struct MyConnectError; // stands for `hyper_util::client::legacy::Error`
//! # impl std::fmt::Display for MyConnectError {
//! #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("connect") }
//! # }
//! # impl std::error::Error for MyConnectError {}
//!
//! let retry = Retry::new().policy(classify_fn(|err| {
//!     // `None` falls back to the standard classification.
//!     find_source::<MyConnectError>(err).map(|_| ErrorKind::Connect)
//! }));
//! # let _ = retry;
//! ```
//!
//! With hyper-util the closure reads
//! `find_source::<hyper_util::client::legacy::Error>(err).map(|e| if e.is_connect() { ErrorKind::Connect } else { ErrorKind::Read })`.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;

/// How an error is counted and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request never reached the server (DNS, refused connection, TLS
    /// handshake): counted as `connect` and retried for any method.
    Connect,
    /// The request may have reached the server (reset or closed connection,
    /// read timeout): counted as `read` and retried only for allowed methods.
    Read,
    /// Anything else a transport reports: counted as `other` and, like a
    /// read error, retried only for allowed methods.
    Other,
    /// Never retried (an invalid request, a failed redirect).
    Fatal,
}

impl ErrorKind {
    /// The kind's name, as `Display` writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Read => "read",
            ErrorKind::Other => "other",
            ErrorKind::Fatal => "fatal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies the errors of the inner service.
///
/// The hook has a default body (the [`Standard`] classification), so an
/// implementation overrides only what it knows. Implemented for `Box<P>` and
/// `Arc<P>`; closures plug in through [`classify_fn`].
///
/// See the [module docs](self) for more details.
pub trait Policy: Send + Sync + 'static {
    /// How to count and retry `error`.
    fn classify_error(&self, error: &(dyn StdError + 'static)) -> ErrorKind {
        standard_classification(error)
    }
}

impl<P: Policy + ?Sized> Policy for Box<P> {
    fn classify_error(&self, error: &(dyn StdError + 'static)) -> ErrorKind {
        (**self).classify_error(error)
    }
}

impl<P: Policy + ?Sized> Policy for Arc<P> {
    fn classify_error(&self, error: &(dyn StdError + 'static)) -> ErrorKind {
        (**self).classify_error(error)
    }
}

/// The default classification. Walking the chain of causes:
///
/// - an io error of kind `ConnectionRefused`, `AddrNotAvailable` or
///   `NotConnected`, or (with the `session-core` feature)
///   `session_core::error::Connect`, `NotSent` (an HTTP/2 stream the server
///   refused), `DnsError`, `TlsError` or `ProxyError`: [`ErrorKind::Connect`];
/// - with the `session-core` feature, a `session_core::Error` that is a
///   builder, redirect or decode error: [`ErrorKind::Fatal`];
/// - anything else: [`ErrorKind::Read`] (it may have reached the server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standard;

impl Policy for Standard {}

fn standard_classification(error: &(dyn StdError + 'static)) -> ErrorKind {
    let mut next = Some(error);
    while let Some(err) = next {
        #[cfg(feature = "session-core")]
        if never_sent(err) {
            return ErrorKind::Connect;
        }
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::AddrNotAvailable
                    | io::ErrorKind::NotConnected
            ) {
                return ErrorKind::Connect;
            }
        }
        #[cfg(feature = "session-core")]
        if let Some(session) = err.downcast_ref::<session_core::Error>() {
            if session.is_connect() {
                return ErrorKind::Connect;
            }
            if session.is_builder() || session.is_redirect() || session.is_decode() {
                return ErrorKind::Fatal;
            }
        }
        next = err.source();
    }
    ErrorKind::Read
}

/// Is `err` one of session-core's errors for a request that never reached
/// the server?
#[cfg(feature = "session-core")]
pub(crate) fn never_sent(err: &(dyn StdError + 'static)) -> bool {
    use session_core::error::{Connect, DnsError, NotSent, ProxyError, TlsError};
    err.is::<Connect>()
        || err.is::<NotSent>()
        || err.is::<DnsError>()
        || err.is::<TlsError>()
        || err.is::<ProxyError>()
}

/// A [`Policy`] from a closure; see [`classify_fn`].
#[derive(Clone, Copy)]
pub struct ClassifyFn<F> {
    f: F,
}

impl<F> fmt::Debug for ClassifyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassifyFn")
            .field("f", &std::any::type_name::<F>())
            .finish()
    }
}

impl<F> Policy for ClassifyFn<F>
where
    F: Fn(&(dyn StdError + 'static)) -> Option<ErrorKind> + Send + Sync + 'static,
{
    fn classify_error(&self, error: &(dyn StdError + 'static)) -> ErrorKind {
        (self.f)(error).unwrap_or_else(|| standard_classification(error))
    }
}

/// A [`Policy`] from a closure that classifies what it knows and returns
/// `None` for the rest, which the [`Standard`] classification then decides.
///
/// See the [module docs](self) for an example.
pub fn classify_fn<F>(f: F) -> ClassifyFn<F>
where
    F: Fn(&(dyn StdError + 'static)) -> Option<ErrorKind> + Send + Sync + 'static,
{
    ClassifyFn { f }
}

/// The first error of type `E` in the chain of causes that starts at `error`
/// (itself included), as hyper's `find_source`.
///
/// ```
/// use session_retry::policy::find_source;
///
/// let err = session_core::Error::request(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
/// let io = find_source::<std::io::Error>(&err).unwrap();
/// assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
/// ```
pub fn find_source<'a, E: StdError + 'static>(
    error: &'a (dyn StdError + 'static),
) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "session-core")]
    fn classify(err: &(dyn StdError + 'static)) -> ErrorKind {
        Standard.classify_error(err)
    }

    #[cfg(feature = "session-core")]
    #[test]
    fn standard_classification_walks_the_chain() {
        use session_core::error::Connect;

        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify(&refused), ErrorKind::Connect);
        let wrapped = session_core::Error::request(Connect::new("dns failed"));
        assert_eq!(classify(&wrapped), ErrorKind::Connect);
        let reset = session_core::Error::request(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(classify(&reset), ErrorKind::Read);
        let builder = session_core::Error::builder("bad url");
        assert_eq!(classify(&builder), ErrorKind::Fatal);
        // Core's connect leaf errors, even when a transport reports them
        // without a `Connect` around them.
        let dns = session_core::error::DnsError::new("nowhere.invalid");
        assert_eq!(classify(&dns), ErrorKind::Connect);
        let tls = session_core::Error::request(session_core::error::TlsError::new("h.test"));
        assert_eq!(classify(&tls), ErrorKind::Connect);
        let proxy = session_core::error::ProxyError::new("http://p.test:3128", "refused");
        assert_eq!(classify(&proxy), ErrorKind::Connect);
    }

    #[test]
    fn classify_fn_falls_back_to_standard() {
        let policy = classify_fn(|err| {
            find_source::<io::Error>(err)
                .filter(|io| io.kind() == io::ErrorKind::TimedOut)
                .map(|_| ErrorKind::Other)
        });
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(policy.classify_error(&timed_out), ErrorKind::Other);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(policy.classify_error(&refused), ErrorKind::Connect);
        let boxed: Box<dyn Policy> = Box::new(policy);
        assert_eq!(boxed.classify_error(&refused), ErrorKind::Connect);
    }
}
