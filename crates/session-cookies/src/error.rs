//! [`Error`] and [`Result`] of this crate.

use std::fmt;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A type-erased error, as tower services return it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error from the jar: a rejected cookie, an I/O failure while saving or
/// loading, a cookie file that cannot be parsed, or a shared store (Redis)
/// that cannot be reached.
///
/// Ask it what happened with [`is_rejected`](Error::is_rejected),
/// [`is_io`](Error::is_io), [`is_parse`](Error::is_parse) and
/// [`is_unavailable`](Error::is_unavailable); a parse error says where with
/// [`line`](Error::line) and [`column`](Error::column).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug)]
pub(crate) enum Kind {
    /// The storage model refused a cookie; the text says which rule.
    Rejected(&'static str),
    Io,
    Parse {
        line: usize,
        column: usize,
        what: &'static str,
    },
    /// A store outside this process could not be read or written; the text
    /// says what failed.
    Unavailable(&'static str),
}

impl Error {
    pub(crate) fn new(kind: Kind, source: Option<BoxError>) -> Self {
        Error {
            inner: Box::new(Inner { kind, source }),
        }
    }

    pub(crate) fn rejected(rule: &'static str) -> Self {
        Error::new(Kind::Rejected(rule), None)
    }

    pub(crate) fn io(e: std::io::Error) -> Self {
        Error::new(Kind::Io, Some(Box::new(e)))
    }

    pub(crate) fn parse(
        line: usize,
        column: usize,
        what: &'static str,
        source: Option<BoxError>,
    ) -> Self {
        Error::new(Kind::Parse { line, column, what }, source)
    }

    pub(crate) fn unavailable(what: &'static str, source: Option<BoxError>) -> Self {
        Error::new(Kind::Unavailable(what), source)
    }

    /// The error of a [`CookieStore`](crate::CookieStore) of your own whose
    /// server could not be read or written; `source` is the cause.
    /// [`is_unavailable`](Self::is_unavailable) is true for it.
    pub fn store_unavailable(source: impl Into<BoxError>) -> Self {
        Error::unavailable("the store failed", Some(source.into()))
    }

    /// `true` when a cookie store outside this process (a
    /// [`RedisJar`](crate::RedisJar)) could not be read or written: the
    /// server is down, restarting or slower than the timeout, answered with
    /// an error, holds data this jar cannot read, or kept changing under
    /// concurrent writes past the retry bound. The cause, such as the
    /// `redis::RedisError`, is the [`source`](std::error::Error::source).
    /// Trying again later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.inner.kind, Kind::Unavailable(_))
    }

    /// `true` when a cookie was refused by a storage rule (bad domain, public
    /// suffix, Secure, prefix, size, control characters, …).
    pub fn is_rejected(&self) -> bool {
        matches!(self.inner.kind, Kind::Rejected(_))
    }

    /// `true` for an I/O failure while saving or loading; the
    /// [`std::io::Error`] is the [`source`](std::error::Error::source).
    pub fn is_io(&self) -> bool {
        matches!(self.inner.kind, Kind::Io)
    }

    /// `true` when a cookie file is corrupt or truncated.
    pub fn is_parse(&self) -> bool {
        matches!(self.inner.kind, Kind::Parse { .. })
    }

    /// For a parse error, the 1-based line where the file went wrong.
    pub fn line(&self) -> Option<usize> {
        match self.inner.kind {
            Kind::Parse { line, .. } => Some(line),
            _ => None,
        }
    }

    /// For a parse error, the 1-based column (0 when unknown).
    pub fn column(&self) -> Option<usize> {
        match self.inner.kind {
            Kind::Parse { column, .. } => Some(column),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("session_cookies::Error");
        d.field("kind", &self.inner.kind);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.kind {
            Kind::Rejected(rule) => write!(f, "cookie rejected: {rule}"),
            Kind::Io => f.write_str("error reading or writing a cookie file"),
            Kind::Unavailable(what) => write!(f, "cookie store unavailable: {what}"),
            Kind::Parse { line, column, what } => {
                write!(f, "invalid cookie file at line {line}")?;
                if *column > 0 {
                    write!(f, ", column {column}")?;
                }
                write!(f, ": {what}")
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_size_of() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn assert_impls() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
