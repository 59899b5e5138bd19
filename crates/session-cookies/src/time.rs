//! The jar's clock: [`Clock`], [`SystemClock`] and [`ManualClock`] for tests.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a [`Jar`](crate::Jar) reads the current time.
///
/// Implemented for [`SystemClock`], [`ManualClock`] and every
/// `Fn() -> SystemTime + Send + Sync`.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use session_cookies::Jar;
///
/// let fixed = || UNIX_EPOCH + Duration::from_secs(1_420_070_400); // 2015-01-01
/// let jar = Jar::builder().clock(fixed).build();
/// # let _ = jar;
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

impl<F> Clock for F
where
    F: Fn() -> SystemTime + Send + Sync + 'static,
{
    fn now(&self) -> SystemTime {
        self()
    }
}

/// The real clock, [`SystemTime::now`]. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use session_cookies::{Jar, ManualClock};
/// use url::Url;
///
/// let clock = ManualClock::new(std::time::SystemTime::now());
/// let jar = Jar::builder().clock(clock.clone()).build();
/// let url = Url::parse("http://example.com/").unwrap();
/// jar.store_set_cookie(&url, "a=1; Max-Age=60").unwrap();
/// assert!(jar.cookie_header(&url).is_some());
/// clock.advance(Duration::from_secs(61));
/// assert!(jar.cookie_header(&url).is_none());
/// ```
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: SystemTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &Clock::now(self))
            .finish()
    }
}

/// Unix microseconds of `t` (saturating; negative before 1970).
pub(crate) fn to_micros(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

/// The `SystemTime` of Unix microseconds `m`, saturating at what the platform
/// can represent.
pub(crate) fn from_micros(m: i64) -> SystemTime {
    let d = Duration::from_micros(m.unsigned_abs());
    if m >= 0 {
        UNIX_EPOCH.checked_add(d).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(d).unwrap_or(UNIX_EPOCH)
    }
}

/// The `SystemTime` of Unix seconds `s`.
pub(crate) fn from_secs(s: i64) -> SystemTime {
    from_micros(s.saturating_mul(1_000_000))
}
