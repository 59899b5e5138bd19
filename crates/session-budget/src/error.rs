//! [`Error`]: a setting that cannot work, or a backend that cannot be
//! reached.

use std::fmt;

/// A type-erased error (tower's `BoxError`): what the
/// [`BudgetService`](crate::BudgetService) returns, and what a
/// [`BudgetBackend`](crate::BudgetBackend) may put in an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `Result<T, session_budget::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A budget error: a bad setting ([`is_config`](Self::is_config)), or a
/// backend that cannot be reached ([`is_unavailable`](Self::is_unavailable),
/// with the backend's error as its [`source`](std::error::Error::source)).
///
/// A request that fails because its budget could not be asked reaches the
/// caller as this error inside the service's [`BoxError`]:
///
/// ```
/// # let err: session_budget::BoxError = Box::new(session_budget::Error::unavailable("redis://127.0.0.1:1/", "refused"));
/// if let Some(err) = err.downcast_ref::<session_budget::Error>() {
///     assert!(err.is_unavailable());
/// }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Config,
    Unavailable,
}

impl Error {
    pub(crate) fn config(detail: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Config,
                source: None,
                detail: detail.into(),
            }),
        }
    }

    /// The backend at `whom` (an address, with no credentials) could not be
    /// asked; `source` says why. For a [`BudgetBackend`](crate::BudgetBackend)
    /// of your own.
    pub fn unavailable(whom: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind: Kind::Unavailable,
                source: Some(source.into()),
                detail: whom.into(),
            }),
        }
    }

    /// A setting that cannot work (a rate of zero, a bad host pattern, a
    /// backend that was not told what to do when its store is down).
    pub fn is_config(&self) -> bool {
        self.inner.kind == Kind::Config
    }

    /// The shared budget could not be asked (its store is down, slow or
    /// restarting) and the backend was configured to fail rather than fall
    /// back to a local share.
    pub fn is_unavailable(&self) -> bool {
        self.inner.kind == Kind::Unavailable
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("session_budget::Error")
            .field("kind", &self.inner.kind)
            .field("detail", &self.inner.detail)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            Kind::Config => write!(f, "invalid budget setting: {}", self.inner.detail),
            Kind::Unavailable => write!(f, "budget backend unavailable ({})", self.inner.detail),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_size_of_and_impls() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }

    #[test]
    fn display_is_this_level_and_the_cause_is_the_source() {
        let err = Error::unavailable("redis://127.0.0.1:1/", "connection refused");
        assert_eq!(
            err.to_string(),
            "budget backend unavailable (redis://127.0.0.1:1/)"
        );
        assert_eq!(
            std::error::Error::source(&err).unwrap().to_string(),
            "connection refused"
        );
        assert!(err.is_unavailable() && !err.is_config());
    }
}
