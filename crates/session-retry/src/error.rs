//! The [`Error`] of this crate and its leaf errors.
//!
//! A retry service returns a [`BoxError`] (as tower's generic layers do);
//! when the request finally failed it holds an [`Error`], which carries the
//! [`RetryHistory`] of every attempt. The cause (the transport's last error)
//! is in [`std::error::Error::source`], so `session_core::Error::is_connect`
//! and `is_timeout` still find it.
//!
//! [`Error::is_connect`] and [`Error::is_timeout`] recognise session-core's
//! errors with the `session-core` feature (on by default), and io errors and
//! tokio's `Elapsed` with or without it.

use std::fmt;

use http::StatusCode;

use crate::history::RetryHistory;

/// A type-erased error, as used by tower services (the same type as
/// `session_core::BoxError` and tower's `BoxError`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A retried request failed for good, or a [`Retry`](crate::Retry) is invalid.
///
/// Ask it questions instead of matching a kind: [`is_builder`](Self::is_builder),
/// [`is_exhausted`](Self::is_exhausted), [`is_status`](Self::is_status),
/// [`status`](Self::status), [`is_connect`](Self::is_connect),
/// [`is_timeout`](Self::is_timeout) and [`history`](Self::history).
///
/// See the [crate docs](crate) for more details.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
    history: RetryHistory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The configuration is invalid.
    Builder,
    /// The retries ran out on an error (the source).
    Exhausted,
    /// The retries ran out on a status (`raise_on_status`), or the server
    /// asked to wait longer than allowed.
    Status(StatusCode),
    /// The error (the source) was not retried; the history says why.
    NotRetried,
}

impl Error {
    fn new(kind: Kind, source: Option<BoxError>, history: RetryHistory) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                source,
                history,
            }),
        }
    }

    pub(crate) fn builder(source: impl Into<BoxError>) -> Self {
        Error::new(Kind::Builder, Some(source.into()), RetryHistory::default())
    }

    pub(crate) fn exhausted(source: BoxError, history: RetryHistory) -> Self {
        Error::new(Kind::Exhausted, Some(source), history)
    }

    pub(crate) fn not_retried(source: BoxError, history: RetryHistory) -> Self {
        Error::new(Kind::NotRetried, Some(source), history)
    }

    pub(crate) fn gave_up_on_status(status: StatusCode, history: RetryHistory) -> Self {
        // In a session, the status makes its error a status error.
        #[cfg(feature = "session-core")]
        let source: Option<BoxError> = Some(Box::new(session_core::error::GaveUpOnStatus(status)));
        #[cfg(not(feature = "session-core"))]
        let source = None;
        Error::new(Kind::Status(status), source, history)
    }

    /// Is the [`Retry`](crate::Retry) configuration invalid (a bad backoff,
    /// status code, duration or budget)?
    pub fn is_builder(&self) -> bool {
        self.inner.kind == Kind::Builder
    }

    /// Did the retries run out (on an error or on a status)?
    pub fn is_exhausted(&self) -> bool {
        matches!(self.inner.kind, Kind::Exhausted | Kind::Status(_))
            && self
                .inner
                .history
                .stop_reason()
                .is_some_and(|r| r.is_exhausted())
    }

    /// Is this the last status of a request whose status retries ran out
    /// (with `raise_on_status(true)`), or whose server asked to wait too long?
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, Kind::Status(_))
    }

    /// The last status, for [`is_status`](Self::is_status) errors.
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            Kind::Status(status) => Some(status),
            _ => None,
        }
    }

    /// Did the last attempt fail before reaching the server? Walks the chain
    /// of causes for refused connections (io errors of kind
    /// `ConnectionRefused`) and, with the `session-core` feature,
    /// session-core's `Connect`, `DnsError`, `TlsError` and `ProxyError`
    /// (as `session_core::Error::is_connect` does).
    pub fn is_connect(&self) -> bool {
        self.causes().any(|err| {
            #[cfg(feature = "session-core")]
            if (crate::policy::never_sent(err) && !err.is::<session_core::error::NotSent>())
                || err
                    .downcast_ref::<session_core::Error>()
                    .is_some_and(session_core::Error::is_connect)
            {
                return true;
            }
            err.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        })
    }

    /// Did a timer fire in the last attempt? Walks the chain of causes for
    /// tokio's `Elapsed`, io errors of kind `TimedOut` and, with the
    /// `session-core` feature, `session_core::error::TimedOut`.
    pub fn is_timeout(&self) -> bool {
        self.causes().any(|err| {
            #[cfg(feature = "session-core")]
            if err.is::<session_core::error::TimedOut>()
                || err
                    .downcast_ref::<session_core::Error>()
                    .is_some_and(session_core::Error::is_timeout)
            {
                return true;
            }
            err.is::<tokio::time::error::Elapsed>()
                || err
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        })
    }

    /// Every attempt made, and why the retries stopped (empty for
    /// [`is_builder`](Self::is_builder) errors).
    pub fn history(&self) -> &RetryHistory {
        &self.inner.history
    }

    fn causes(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let mut next = std::error::Error::source(self);
        std::iter::from_fn(move || {
            let current = next?;
            next = current.source();
            Some(current)
        })
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("session_retry::Error");
        d.field("kind", &self.inner.kind);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        if !self.inner.history.is_empty() {
            d.field("history", &self.inner.history);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let attempts = self.inner.history.len();
        match self.inner.kind {
            Kind::Builder => f.write_str("invalid retry configuration"),
            Kind::Exhausted => write!(f, "request failed after {attempts} attempts"),
            Kind::NotRetried => match self.inner.history.stop_reason() {
                Some(reason) => write!(f, "request failed and was not retried ({reason})"),
                None => f.write_str("request failed"),
            },
            Kind::Status(status) => match self.inner.history.stop_reason() {
                Some(reason) => write!(
                    f,
                    "server answered {status} after {attempts} attempts ({reason})"
                ),
                None => write!(f, "server answered {status} after {attempts} attempts"),
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|e| &**e as &(dyn std::error::Error + 'static))
    }
}

/// A backoff setting is not a finite, non-negative number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBackoff {
    setting: &'static str,
}

impl InvalidBackoff {
    pub(crate) fn new(setting: &'static str) -> Self {
        InvalidBackoff { setting }
    }

    /// The setting that was refused (`"backoff_factor"`, `"backoff_jitter"`).
    pub fn setting(&self) -> &'static str {
        self.setting
    }
}

impl fmt::Display for InvalidBackoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be a finite, non-negative number of seconds",
            self.setting
        )
    }
}

impl std::error::Error for InvalidBackoff {}

/// A status code outside `100..=999` was given to
/// [`status_forcelist`](crate::Retry::status_forcelist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidStatusCode {
    code: u16,
}

impl InvalidStatusCode {
    pub(crate) fn new(code: u16) -> Self {
        InvalidStatusCode { code }
    }

    /// The refused code.
    pub fn code(&self) -> u16 {
        self.code
    }
}

impl fmt::Display for InvalidStatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a valid HTTP status code (100..=999)",
            self.code
        )
    }
}

impl std::error::Error for InvalidStatusCode {}

/// The arguments of [`RetryBudget::new`](crate::RetryBudget::new) are out of
/// range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBudget;

impl fmt::Display for InvalidBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a retry budget needs a ttl of 1 to 60 seconds, a retry percent of 0 to 1000 \
             and fewer than 2^31 retries per second",
        )
    }
}

impl std::error::Error for InvalidBudget {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_and_thread_safe() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[cfg(feature = "session-core")]
    #[test]
    fn connect_and_timeout_walk_the_chain() {
        let connect = session_core::error::Connect::new(session_core::error::TimedOut(
            session_core::error::TimeoutKind::Connect,
        ));
        let err = Error::exhausted(Box::new(connect), RetryHistory::default());
        assert!(err.is_connect());
        assert!(err.is_timeout());
        assert!(!err.is_status() && !err.is_builder());
        let plain = Error::not_retried("boom".into(), RetryHistory::default());
        assert!(!plain.is_connect() && !plain.is_timeout());
    }

    #[test]
    fn builder_errors_describe_the_setting() {
        let err = Error::builder(InvalidStatusCode::new(99));
        assert!(err.is_builder());
        assert_eq!(err.to_string(), "invalid retry configuration");
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(
            source.to_string(),
            "99 is not a valid HTTP status code (100..=999)"
        );
        assert_eq!(
            InvalidBackoff::new("backoff_factor").to_string(),
            "backoff_factor must be a finite, non-negative number of seconds"
        );
    }
}
