//! The leaf errors of the redirect layer. Each comes wrapped in a
//! [`crate::Error`] for which `is_redirect()` is true; find it with
//! [`std::error::Error::source`] and `downcast_ref`.

use std::fmt;

use http::StatusCode;
use url::Url;

use crate::response::{History, HistoryEntry};

/// More redirects than allowed (30 unless configured); carries every
/// redirect response received, oldest first.
#[derive(Debug, Clone)]
pub struct TooManyRedirects {
    pub(crate) max: usize,
    pub(crate) history: History,
}

impl TooManyRedirects {
    /// The limit that was exceeded.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The redirect responses received, oldest first (one more than `max`).
    pub fn history(&self) -> &[HistoryEntry] {
        &self.history.0
    }
}

impl fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exceeded the limit of {} redirects", self.max)
    }
}

impl std::error::Error for TooManyRedirects {}

/// The heads of the responses a redirect chain went through (the history
/// it keeps) add up to more than the limit (256 KiB unless configured).
#[derive(Debug, Clone)]
pub struct HistoryTooLarge {
    pub(crate) limit: usize,
}

impl HistoryTooLarge {
    /// The limit that was exceeded, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Display for HistoryTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the redirect chain's response heads add up to more than {} bytes",
            self.limit
        )
    }
}

impl std::error::Error for HistoryTooLarge {}

/// A `Location` header that cannot be followed: empty, too long, two
/// different values, no host, or not a URL.
#[derive(Debug, Clone)]
pub struct InvalidLocation {
    pub(crate) location: String,
    pub(crate) reason: &'static str,
}

impl InvalidLocation {
    pub(crate) fn new(raw: &[u8], reason: &'static str) -> Self {
        let mut location = String::from_utf8_lossy(&raw[..raw.len().min(120)]).into_owned();
        if raw.len() > 120 {
            location.push_str("...");
        }
        InvalidLocation { location, reason }
    }

    /// Why the header was refused.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

impl fmt::Display for InvalidLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid Location header {:?}: {}",
            self.location, self.reason
        )
    }
}

impl std::error::Error for InvalidLocation {}

/// A redirect to a scheme other than `http` and `https` (`file:`, `ftp:`,
/// `javascript:`...). Refused before any connection is made.
#[derive(Debug, Clone)]
pub struct UnsupportedScheme {
    pub(crate) scheme: String,
}

impl UnsupportedScheme {
    /// The scheme of the refused target, lowercased.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
}

impl fmt::Display for UnsupportedScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused a redirect to a {:?} URL: only http and https are followed",
            self.scheme
        )
    }
}

impl std::error::Error for UnsupportedScheme {}

/// A 307 or 308 asks for the body to be sent again, but it was a one-shot
/// stream. Send a replayable body (bytes, a string, JSON, a form) or turn
/// redirects off for this request.
#[derive(Debug, Clone, Copy)]
pub struct BodyNotReplayable {
    pub(crate) status: StatusCode,
}

impl BodyNotReplayable {
    /// The redirect status (307 or 308).
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl fmt::Display for BodyNotReplayable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} redirect must send the body again, but the body is a stream that cannot be replayed",
            self.status
        )
    }
}

impl std::error::Error for BodyNotReplayable {}

/// `https_only` is on and a request or a redirect named an `http` URL.
#[derive(Debug, Clone)]
pub struct HttpsOnly {
    pub(crate) url: Url,
}

impl HttpsOnly {
    /// The refused URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for HttpsOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https_only is on: refused {}", self.url)
    }
}

impl std::error::Error for HttpsOnly {}
