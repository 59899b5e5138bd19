//! What loading and saving a session file did, and what they left out.

use std::fmt;

/// One thing a session file did not carry over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// What it is about: `cookie sid (example.com)`, `auth`, `query`, ...
    pub subject: String,
    /// Why it was left out, or what to look at.
    pub reason: String,
}

impl Issue {
    pub(crate) fn new(subject: impl Into<String>, reason: impl Into<String>) -> Self {
        Issue {
            subject: subject.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.reason)
    }
}

/// What loading a session file did
/// ([`Session::loaded_state`](crate::Session::loaded_state)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Default headers set from the file.
    pub headers: usize,
    /// Default query parameters set from the file.
    pub query: usize,
    /// Whether auth came from the file.
    pub auth: bool,
    /// Whether the base URL came from the file.
    pub base_url: bool,
    /// Cookies stored in the session's jar.
    pub cookies: usize,
    /// What was not loaded (an expired cookie, an auth type this crate does
    /// not have, ...), and warnings about the file.
    pub issues: Vec<Issue>,
}

/// What [`Session::save_state`](crate::Session::save_state) wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaveReport {
    /// Default headers written.
    pub headers: usize,
    /// Default query parameters written.
    pub query: usize,
    /// Whether auth was written.
    pub auth: bool,
    /// Cookies written.
    pub cookies: usize,
    /// What the file does not hold (credentials not asked for, what the
    /// format has no place for), one entry each.
    pub left_out: Vec<Issue>,
}
