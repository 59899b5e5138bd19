//! What went wrong with a response's content: more than a limit allows
//! ([`TooLarge`]), or a content coding that does not decode
//! ([`ContentDecodingError`]).

use std::fmt;

use super::BoxError;

/// A response was bigger than a limit of the transport: its head, its body,
/// its decompressed body, or its number of content codings.
/// [`Error::is_too_large`](super::Error::is_too_large) looks for it (and for
/// core's own [`LengthLimitError`](crate::body::LengthLimitError) and
/// [`HistoryTooLarge`](crate::redirect::HistoryTooLarge)).
///
/// ```
/// use session_core::error::TooLarge;
///
/// let err = session_core::Error::body(TooLarge::new("response body", 1024));
/// assert!(err.is_too_large() && err.is_body());
/// assert_eq!(
///     TooLarge::new("response body", 1024).to_string(),
///     "response body is over the limit of 1024 bytes"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    what: &'static str,
    limit: u64,
}

impl TooLarge {
    /// `what` (`"response body"`, `"decompressed body"`, `"content
    /// codings"`...) went over `limit` (bytes, or codings).
    pub fn new(what: &'static str, limit: u64) -> Self {
        TooLarge { what, limit }
    }

    /// What went over the limit: `"response head"`, `"response body"`,
    /// `"decompressed body"` or `"content codings"` for the hyper transport.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The limit (bytes, or codings).
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.what == "content codings" {
            write!(f, "more than {} stacked content codings", self.limit)
        } else {
            write!(f, "{} is over the limit of {} bytes", self.what, self.limit)
        }
    }
}

impl std::error::Error for TooLarge {}

/// A body's content coding (`gzip`, `br`, ...) could not be decoded: the
/// bytes are not what the `Content-Encoding` header says they are. An
/// [`Error::body`](super::Error::body) with one in its chain of causes is a
/// decode error ([`Error::is_decode`](super::Error::is_decode)).
///
/// ```
/// use session_core::error::ContentDecodingError;
///
/// let bad = ContentDecodingError::new("gzip").with_source("invalid gzip header");
/// let err = session_core::Error::body(bad);
/// assert!(err.is_decode() && !err.is_body());
/// ```
#[derive(Debug)]
pub struct ContentDecodingError {
    coding: &'static str,
    source: Option<BoxError>,
}

impl ContentDecodingError {
    /// Decoding `coding` failed.
    pub fn new(coding: &'static str) -> Self {
        ContentDecodingError {
            coding,
            source: None,
        }
    }

    /// Keeps the decoder's own error as the cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The content coding that failed to decode.
    pub fn coding(&self) -> &'static str {
        self.coding
    }
}

impl fmt::Display for ContentDecodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode the {} content coding", self.coding)
    }
}

impl std::error::Error for ContentDecodingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
