//! [`Retry`]: the retry configuration, with urllib3's names and defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderName;
use http::{Method, StatusCode};

use crate::backoff::{valid_secs, Backoff, Jitter};
use crate::budget::RetryBudget;
use crate::error::{Error, InvalidBackoff, InvalidStatusCode, Result};
use crate::layer::RetryLayer;
use crate::policy::{Policy, Standard};
use crate::retry_after::DEFAULT_RETRY_AFTER_MAX;

/// urllib3's `Retry.DEFAULT_ALLOWED_METHODS`: the idempotent methods.
pub const DEFAULT_ALLOWED_METHODS: [Method; 6] = [
    Method::HEAD,
    Method::GET,
    Method::PUT,
    Method::DELETE,
    Method::OPTIONS,
    Method::TRACE,
];

/// The statuses retried when they carry `Retry-After`, even outside the
/// forcelist (urllib3's `RETRY_AFTER_STATUS_CODES`): 413, 429 and 503.
pub const RETRY_AFTER_STATUS_CODES: [StatusCode; 3] = [
    StatusCode::PAYLOAD_TOO_LARGE,
    StatusCode::TOO_MANY_REQUESTS,
    StatusCode::SERVICE_UNAVAILABLE,
];

/// The most bytes of a retried response's body read (and thrown away) so its
/// connection can go back to the pool: 64 KiB. A longer body is dropped.
///
/// The same as session-core's `body::DRAIN_LIMIT`.
#[cfg(feature = "session-core")]
pub const DEFAULT_DRAIN_LIMIT: usize = session_core::body::DRAIN_LIMIT;

/// The most bytes of a retried response's body read (and thrown away) so its
/// connection can go back to the pool: 64 KiB. A longer body is dropped.
///
/// The same as session-core's `body::DRAIN_LIMIT`.
// Without the `session-core` feature: this value must agree with
// `session_core::body::DRAIN_LIMIT` (the test
// `drain_limit_agrees_with_session_core` checks it).
#[cfg(not(feature = "session-core"))]
pub const DEFAULT_DRAIN_LIMIT: usize = 64 * 1024;

/// The header that makes a request retryable whatever its method.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// How to retry: urllib3's `Retry`, as a builder.
///
/// Setters take and return the builder; a setter given a bad value (a NaN
/// backoff factor, a status code of 99) keeps its error, and
/// [`RetryLayer::new`] (or [`layer`](Self::layer)) returns it.
///
/// | setting | default | urllib3 |
/// |---|---|---|
/// | [`total`](Self::total) | 10 | `total=10` |
/// | [`connect`](Self::connect), [`read`](Self::read), [`status`](Self::status), [`other`](Self::other) | unset (only `total` bounds them) | `None` |
/// | [`status_forcelist`](Self::status_forcelist) | empty | `None` |
/// | [`allowed_methods`](Self::allowed_methods) | [`DEFAULT_ALLOWED_METHODS`] | same |
/// | [`backoff_factor`](Self::backoff_factor) | 0 (no sleep) | `0` |
/// | [`backoff_max`](Self::backoff_max) | 120 s | `120` |
/// | [`backoff_jitter`](Self::backoff_jitter) | 0 | `0.0` |
/// | [`respect_retry_after`](Self::respect_retry_after) | true | `respect_retry_after_header=True` |
/// | [`retry_after_max`](Self::retry_after_max) | 6 h | `retry_after_max=21600` |
/// | [`raise_on_status`](Self::raise_on_status) | true | `True` |
/// | [`budget`](Self::budget) | none | — |
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
#[must_use]
pub struct Retry {
    config: Config,
    error: Option<StoredError>,
}

#[derive(Debug, Clone, Copy)]
enum StoredError {
    Backoff(InvalidBackoff),
    Status(InvalidStatusCode),
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) counters: Counters,
    pub(crate) status_forcelist: Vec<StatusCode>,
    /// `None`: every method.
    pub(crate) allowed_methods: Option<Vec<Method>>,
    pub(crate) backoff: Backoff,
    pub(crate) respect_retry_after: bool,
    pub(crate) retry_after_max: Duration,
    pub(crate) fail_on_long_retry_after: bool,
    pub(crate) raise_on_status: bool,
    pub(crate) budget: Option<RetryBudget>,
    pub(crate) policy: Arc<dyn Policy>,
    pub(crate) drain_limit: usize,
}

/// The retries left of each kind; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) total: Option<u32>,
    pub(crate) connect: Option<u32>,
    pub(crate) read: Option<u32>,
    pub(crate) status: Option<u32>,
    pub(crate) other: Option<u32>,
}

impl Config {
    /// May a request with this method and these headers be retried after it
    /// may have reached the server?
    /// `has_header` says whether the request carries a header.
    pub(crate) fn is_idempotent(
        &self,
        method: &Method,
        has_header: impl FnOnce(&HeaderName) -> bool,
    ) -> bool {
        match &self.allowed_methods {
            None => true,
            Some(methods) => {
                methods.contains(method) || has_header(&HeaderName::from_static(IDEMPOTENCY_KEY))
            }
        }
    }

    /// Can an answer with this status be retried (when the counters, the
    /// method and `Retry-After` allow)? Most statuses cannot.
    #[inline]
    pub(crate) fn may_retry_status(&self, status: StatusCode) -> bool {
        self.status_forcelist.contains(&status) || RETRY_AFTER_STATUS_CODES.contains(&status)
    }

    pub(crate) fn may_retry(&self) -> bool {
        self.counters.total != Some(0)
    }
}

impl Default for Retry {
    fn default() -> Self {
        Retry::new()
    }
}

impl Retry {
    /// urllib3's defaults: up to 10 retries in all, on errors only (no
    /// status is retried until [`status_forcelist`](Self::status_forcelist)
    /// names it, except 413, 429 and 503 with `Retry-After`), no sleep.
    pub fn new() -> Self {
        Retry {
            config: Config {
                counters: Counters {
                    total: Some(10),
                    ..Counters::default()
                },
                status_forcelist: Vec::new(),
                allowed_methods: Some(DEFAULT_ALLOWED_METHODS.to_vec()),
                backoff: Backoff::default(),
                respect_retry_after: true,
                retry_after_max: DEFAULT_RETRY_AFTER_MAX,
                fail_on_long_retry_after: false,
                raise_on_status: true,
                budget: None,
                policy: Arc::new(Standard),
                drain_limit: DEFAULT_DRAIN_LIMIT,
            },
            error: None,
        }
    }

    /// No retries at all (`total(0)`): the layer only records the history.
    pub fn never() -> Self {
        Retry::new().total(0)
    }

    fn set_error(mut self, error: StoredError) -> Self {
        self.error.get_or_insert(error);
        self
    }

    /// The most retries in all, whatever their kind; `None` leaves only the
    /// other counters as bounds. `total(0)` means no retries.
    pub fn total(mut self, retries: impl Into<Option<u32>>) -> Self {
        self.config.counters.total = retries.into();
        self
    }

    /// The most retries after errors before the request reached the server
    /// (retried for any method).
    pub fn connect(mut self, retries: impl Into<Option<u32>>) -> Self {
        self.config.counters.connect = retries.into();
        self
    }

    /// The most retries after errors once the request may have reached the
    /// server (retried for allowed methods only).
    pub fn read(mut self, retries: impl Into<Option<u32>>) -> Self {
        self.config.counters.read = retries.into();
        self
    }

    /// The most retries on a status of the forcelist (or with `Retry-After`).
    pub fn status(mut self, retries: impl Into<Option<u32>>) -> Self {
        self.config.counters.status = retries.into();
        self
    }

    /// The most retries after errors classified as
    /// [`ErrorKind::Other`](crate::ErrorKind::Other).
    pub fn other(mut self, retries: impl Into<Option<u32>>) -> Self {
        self.config.counters.other = retries.into();
        self
    }

    /// The statuses to retry (for allowed methods). Codes outside
    /// `100..=999` are an error at [`RetryLayer::new`].
    pub fn status_forcelist<I: IntoIterator<Item = u16>>(mut self, codes: I) -> Self {
        let mut list = Vec::new();
        for code in codes {
            match StatusCode::from_u16(code) {
                Ok(status) => list.push(status),
                Err(_) => return self.set_error(StoredError::Status(InvalidStatusCode::new(code))),
            }
        }
        self.config.status_forcelist = list;
        self
    }

    /// The methods retried once the request may have reached the server
    /// (read and other errors, and statuses); default
    /// [`DEFAULT_ALLOWED_METHODS`]. A request with an `Idempotency-Key`
    /// header is retried whatever its method, as Go's `net/http` does: the
    /// key lets the server spot the repeat. Connect errors are retried for
    /// every method.
    pub fn allowed_methods<I: IntoIterator<Item = Method>>(mut self, methods: I) -> Self {
        self.config.allowed_methods = Some(methods.into_iter().collect());
        self
    }

    /// Retries every method, POST included (urllib3's `allowed_methods=None`).
    pub fn any_method(mut self) -> Self {
        self.config.allowed_methods = None;
        self
    }

    /// The backoff factor, in seconds: before retry `n` ≥ 2 the sleep is
    /// `factor * 2^(n-1)`, so 0.1 gives 0, 0.2, 0.4, 0.8, ... NaN, infinite
    /// or negative values are an [`InvalidBackoff`] error at
    /// [`RetryLayer::new`].
    pub fn backoff_factor(mut self, factor: f64) -> Self {
        match valid_secs(factor) {
            Some(factor) => {
                self.config.backoff.factor = factor;
                self
            }
            None => self.set_error(StoredError::Backoff(InvalidBackoff::new("backoff_factor"))),
        }
    }

    /// The longest backoff sleep (jitter included); default 120 s.
    pub fn backoff_max(mut self, max: Duration) -> Self {
        self.config.backoff.max = max;
        self
    }

    /// urllib3's additive jitter: a random `0..=jitter` seconds added to each
    /// backoff sleep (after the first retry), before the cap. NaN, infinite
    /// or negative values are an [`InvalidBackoff`] error. Replaces
    /// [`full_jitter`](Self::full_jitter).
    pub fn backoff_jitter(mut self, jitter: f64) -> Self {
        match valid_secs(jitter) {
            Some(0.0) => {
                self.config.backoff.jitter = Jitter::None;
                self
            }
            Some(j) => {
                self.config.backoff.jitter = Jitter::Additive(j);
                self
            }
            None => self.set_error(StoredError::Backoff(InvalidBackoff::new("backoff_jitter"))),
        }
    }

    /// "Full jitter": each backoff sleep is a random `0..=sleep` share of
    /// the capped value. Replaces [`backoff_jitter`](Self::backoff_jitter).
    pub fn full_jitter(mut self, enabled: bool) -> Self {
        if enabled {
            self.config.backoff.jitter = Jitter::Full;
        } else if self.config.backoff.jitter == Jitter::Full {
            self.config.backoff.jitter = Jitter::None;
        }
        self
    }

    /// Sleep as the server's `Retry-After` says instead of the backoff, and
    /// retry 413, 429 and 503 when they carry it; default true.
    pub fn respect_retry_after(mut self, respect: bool) -> Self {
        self.config.respect_retry_after = respect;
        self
    }

    /// The longest `Retry-After` sleep; default 6 h. A longer ask is cut to
    /// this, or ends the retries with
    /// [`fail_on_long_retry_after`](Self::fail_on_long_retry_after).
    pub fn retry_after_max(mut self, max: Duration) -> Self {
        self.config.retry_after_max = max;
        self
    }

    /// Stop at once when `Retry-After` asks for longer than
    /// `retry_after_max`, instead of sleeping the cap: the result is then
    /// decided by [`raise_on_status`](Self::raise_on_status), with
    /// [`StopReason::RetryAfterTooLong`](crate::StopReason::RetryAfterTooLong)
    /// in the history. Default false.
    pub fn fail_on_long_retry_after(mut self, fail: bool) -> Self {
        self.config.fail_on_long_retry_after = fail;
        self
    }

    /// When the status retries run out: `true` (the default) returns an
    /// [`Error`] with the last status and the history ([`Error::status`]);
    /// `false` returns the last response as it is.
    pub fn raise_on_status(mut self, raise: bool) -> Self {
        self.config.raise_on_status = raise;
        self
    }

    /// A retry budget, shared by every service (and session) given a clone.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.config.budget = Some(budget);
        self
    }

    /// The [`Policy`] that classifies errors; default [`Standard`].
    pub fn policy<P: Policy>(mut self, policy: P) -> Self {
        self.config.policy = Arc::new(policy);
        self
    }

    /// The most bytes of a retried response's body read before the next
    /// attempt; default [`DEFAULT_DRAIN_LIMIT`].
    pub fn drain_limit(mut self, bytes: usize) -> Self {
        self.config.drain_limit = bytes;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// The first bad setting: [`InvalidBackoff`] or [`InvalidStatusCode`] as
    /// the source of a builder [`Error`].
    pub fn validate(&self) -> Result<()> {
        match self.error {
            None => Ok(()),
            Some(StoredError::Backoff(err)) => Err(Error::builder(err)),
            Some(StoredError::Status(err)) => Err(Error::builder(err)),
        }
    }

    /// The layer for these settings; the same as [`RetryLayer::new`].
    ///
    /// # Errors
    /// See [`validate`](Self::validate).
    pub fn layer(self) -> Result<RetryLayer> {
        RetryLayer::new(self)
    }

    pub(crate) fn into_config(self) -> Result<Config> {
        self.validate()?;
        Ok(self.config)
    }
}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("counters", &self.counters)
            .field("status_forcelist", &self.status_forcelist)
            .field("allowed_methods", &self.allowed_methods)
            .field("backoff", &self.backoff)
            .field("respect_retry_after", &self.respect_retry_after)
            .field("retry_after_max", &self.retry_after_max)
            .field("fail_on_long_retry_after", &self.fail_on_long_retry_after)
            .field("raise_on_status", &self.raise_on_status)
            .field("budget", &self.budget)
            .field("drain_limit", &self.drain_limit)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    #[test]
    fn bad_settings_are_builder_errors() {
        for retry in [
            Retry::new().backoff_factor(f64::NAN),
            Retry::new().backoff_factor(-0.1),
            Retry::new().backoff_factor(f64::INFINITY),
            Retry::new().backoff_jitter(-1.0),
            Retry::new().status_forcelist([500, 99]),
            Retry::new().status_forcelist([1000]),
        ] {
            let err = retry.layer().unwrap_err();
            assert!(err.is_builder(), "{err:?}");
        }
        let err = Retry::new().status_forcelist([99]).validate().unwrap_err();
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(
            source.downcast_ref::<InvalidStatusCode>().unwrap().code(),
            99
        );
    }

    #[test]
    fn the_first_error_is_kept() {
        let err = Retry::new()
            .backoff_factor(-1.0)
            .status_forcelist([1000])
            .validate()
            .unwrap_err();
        let source = std::error::Error::source(&err).unwrap();
        assert!(source.is::<InvalidBackoff>());
    }

    #[test]
    fn guide_settings_are_valid() {
        let retry = Retry::new()
            .total(3)
            .backoff_factor(0.1)
            .status_forcelist([500, 502, 503, 504]);
        let config = retry.into_config().unwrap();
        assert_eq!(config.counters.total, Some(3));
        assert_eq!(config.status_forcelist.len(), 4);
        assert_eq!(config.backoff.factor, 0.1);
        assert!(Retry::new().status_forcelist([100, 999]).validate().is_ok());
    }

    #[test]
    fn idempotency_rules() {
        let config = Retry::new().into_config().unwrap();
        let mut headers = HeaderMap::new();
        let idempotent = |config: &Config, method: Method, headers: &HeaderMap| {
            config.is_idempotent(&method, |name| headers.contains_key(name))
        };
        assert!(idempotent(&config, Method::GET, &headers));
        assert!(idempotent(&config, Method::PUT, &headers));
        assert!(!idempotent(&config, Method::POST, &headers));
        assert!(!idempotent(&config, Method::PATCH, &headers));
        headers.insert(IDEMPOTENCY_KEY, "8e03978e".parse().unwrap());
        assert!(idempotent(&config, Method::POST, &headers));
        let any = Retry::new().any_method().into_config().unwrap();
        assert!(idempotent(&any, Method::POST, &HeaderMap::new()));
        assert!(!Retry::never().into_config().unwrap().may_retry());
    }

    /// Not gated on the `session-core` feature: session-core is a
    /// dev-dependency, so without the feature this checks the 64 KiB written
    /// out above.
    #[test]
    fn drain_limit_agrees_with_session_core() {
        assert_eq!(DEFAULT_DRAIN_LIMIT, session_core::body::DRAIN_LIMIT);
        assert_eq!(DEFAULT_DRAIN_LIMIT, 64 * 1024);
    }

    #[test]
    fn only_forced_and_retry_after_statuses_may_be_retried() {
        let config = Retry::new().status_forcelist([500]).into_config().unwrap();
        for (status, retried) in [
            (200, false),
            (404, false),
            (500, true),
            (502, false),
            (503, true),
            (429, true),
            (413, true),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(config.may_retry_status(status), retried, "{status}");
        }
    }
}
