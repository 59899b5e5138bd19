//! Which timer fired: [`TimedOut`] in the chain of causes, and its
//! [`TimeoutKind`] ([`Error::timeout_kind`](super::Error::timeout_kind)).

use std::fmt;

/// Which timeout fired.
///
/// | kind | set by | covers |
/// |---|---|---|
/// | `Connect` | the transport's `connect_timeout` | DNS, TCP, proxy and TLS handshakes |
/// | `Read` | the transport's `read_timeout` | the wait for the head, then for each chunk of the body |
/// | `Total` | `timeout` on the session or request | the whole request, redirects, retries and body included |
/// | `Pool` | the transport's `pool_wait_timeout` | the wait for a connection slot under a per-host cap |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Making the connection took too long.
    Connect,
    /// The server sent nothing for too long.
    Read,
    /// The request as a whole took too long.
    Total,
    /// Waiting for a connection from the pool took too long.
    Pool,
}

impl TimeoutKind {
    /// The name of the timer: `"connect"`, `"read"`, `"total"` or `"pool wait"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Read => "read",
            TimeoutKind::Total => "total",
            TimeoutKind::Pool => "pool wait",
        }
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A timer fired; its [`TimeoutKind`] says which.
///
/// ```
/// use session_core::error::{TimedOut, TimeoutKind};
///
/// let err = session_core::Error::timeout(TimedOut(TimeoutKind::Read));
/// assert!(err.is_timeout());
/// assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read));
/// assert_eq!(TimedOut(TimeoutKind::Pool).to_string(), "pool wait timed out");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub TimeoutKind);

impl TimedOut {
    /// Which timer fired.
    pub fn kind(&self) -> TimeoutKind {
        self.0
    }
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} timed out", self.0)
    }
}

impl std::error::Error for TimedOut {}
