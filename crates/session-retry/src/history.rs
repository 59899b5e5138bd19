//! The attempt history every retried response and error carries:
//! [`RetryHistory`].

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use crate::policy::ErrorKind;

/// Every attempt of one request, oldest first, and why the retries stopped.
///
/// The retry service puts it in the extensions of every response it returns
/// (read it with `response.extensions().get::<RetryHistory>()`) and in the
/// final [`Error`](crate::Error) ([`Error::history`](crate::Error::history)).
///
/// ```
/// use std::time::Duration;
/// use session_retry::{Attempt, Outcome, RetryHistory};
///
/// # fn check(history: &RetryHistory) {
/// for (n, attempt) in history.attempts().iter().enumerate() {
///     println!("attempt {}: {} after sleeping {:?}", n + 1, attempt.outcome, attempt.slept);
/// }
/// # }
/// # check(&RetryHistory::default());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryHistory {
    attempts: Attempts,
    stop: Option<StopReason>,
}

/// The attempts, kept inline while there is only one (the success path
/// allocates nothing for its history).
#[derive(Debug, Clone, Default)]
enum Attempts {
    #[default]
    None,
    One([Attempt; 1]),
    Many(Vec<Attempt>),
}

impl Attempts {
    fn as_slice(&self) -> &[Attempt] {
        match self {
            Attempts::None => &[],
            Attempts::One(one) => one,
            Attempts::Many(many) => many,
        }
    }

    fn push(&mut self, attempt: Attempt) {
        *self = match std::mem::take(self) {
            Attempts::None => Attempts::One([attempt]),
            Attempts::One([first]) => Attempts::Many(vec![first, attempt]),
            Attempts::Many(mut many) => {
                many.push(attempt);
                Attempts::Many(many)
            }
        };
    }
}

impl PartialEq for Attempts {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Attempts {}

impl RetryHistory {
    pub(crate) fn push(&mut self, outcome: Outcome, slept: Duration) {
        self.attempts.push(Attempt { outcome, slept });
    }

    pub(crate) fn stop(&mut self, reason: StopReason) {
        self.stop = Some(reason);
    }

    /// Every attempt, oldest first (the last one is the final answer).
    pub fn attempts(&self) -> &[Attempt] {
        self.attempts.as_slice()
    }

    /// The number of attempts.
    pub fn len(&self) -> usize {
        self.attempts.as_slice().len()
    }

    /// No attempt at all (only for configuration errors).
    pub fn is_empty(&self) -> bool {
        self.attempts.as_slice().is_empty()
    }

    /// The number of retries: attempts after the first.
    pub fn retries(&self) -> usize {
        self.attempts.as_slice().len().saturating_sub(1)
    }

    /// The time slept between the attempts, in all.
    pub fn total_slept(&self) -> Duration {
        self.attempts.as_slice().iter().map(|a| a.slept).sum()
    }

    /// The sleep before each retry (the first attempt has none): for a
    /// backoff factor of 0.1, `[0, 0.2 s, 0.4 s, ...]`.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.attempts
            .as_slice()
            .iter()
            .skip(1)
            .map(|a| a.slept)
            .collect()
    }

    /// Why no further attempt was made, when the last outcome would otherwise
    /// have been retried; `None` when it was final by itself (a success, or a
    /// status that is not retried).
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stop.as_ref()
    }
}

/// One attempt of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// What the attempt got: a status or an error.
    pub outcome: Outcome,
    /// The time slept before this attempt (zero for the first).
    pub slept: Duration,
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A response with this status.
    Status(StatusCode),
    /// An error, as classified by the [`Policy`](crate::Policy), and its
    /// description (the `Display` of the error and its causes).
    Error {
        /// How the error was classified.
        kind: ErrorKind,
        /// The error's description.
        message: String,
    },
}

impl Outcome {
    /// The status, for a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Outcome::Status(status) => Some(*status),
            Outcome::Error { .. } => None,
        }
    }

    /// Was this an error (no response)?
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Error { .. })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(status) => write!(f, "status {status}"),
            Outcome::Error { kind, message } => write!(f, "{kind} error: {message}"),
        }
    }
}

/// Why a retry that the outcome called for was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// A counter ran out.
    Exhausted(Counter),
    /// The method may not be retried after the request may have reached the
    /// server (see [`Retry::allowed_methods`](crate::Retry::allowed_methods)).
    MethodNotRetryable,
    /// The request body is a one-shot stream, which is never sent twice.
    BodyNotReplayable,
    /// The shared [`RetryBudget`](crate::RetryBudget) had no retry left.
    BudgetExhausted,
    /// The server's `Retry-After` asked for longer than `retry_after_max`
    /// and [`Retry::fail_on_long_retry_after`](crate::Retry::fail_on_long_retry_after)
    /// is set.
    RetryAfterTooLong(Duration),
    /// The [`Policy`](crate::Policy) classified the error as
    /// [`ErrorKind::Fatal`].
    NotRetryable,
    /// The inner service failed while getting ready for a retry.
    ServiceNotReady,
}

impl StopReason {
    /// Did a counter run out?
    pub fn is_exhausted(&self) -> bool {
        matches!(self, StopReason::Exhausted(_))
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Exhausted(counter) => write!(f, "{counter} retries exhausted"),
            StopReason::MethodNotRetryable => f.write_str(
                "the method is not retried once the request may have reached the server",
            ),
            StopReason::BodyNotReplayable => {
                f.write_str("the request body is a one-shot stream and cannot be sent again")
            }
            StopReason::BudgetExhausted => f.write_str("the retry budget is exhausted"),
            StopReason::RetryAfterTooLong(asked) => {
                write!(
                    f,
                    "the server asked to retry after {asked:?}, longer than allowed"
                )
            }
            StopReason::NotRetryable => f.write_str("the error is not retryable"),
            StopReason::ServiceNotReady => f.write_str("the service failed to get ready"),
        }
    }
}

/// The counters of a [`Retry`](crate::Retry), as in urllib3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Counter {
    /// All retries.
    Total,
    /// Errors before the request reached the server.
    Connect,
    /// Errors after the request may have reached the server.
    Read,
    /// Retried statuses.
    Status,
    /// Other errors.
    Other,
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Counter::Total => "total",
            Counter::Connect => "connect",
            Counter::Read => "read",
            Counter::Status => "status",
            Counter::Other => "other",
        })
    }
}
