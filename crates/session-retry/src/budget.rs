//! A retry budget shared between services and sessions: [`RetryBudget`].
//!
//! Each first attempt *deposits* into the budget and each retry *withdraws*
//! from it; when the budget is empty a request is not retried, and its
//! history says [`StopReason::BudgetExhausted`](crate::StopReason::BudgetExhausted).
//! So a failing upstream sees at most a fixed share of extra traffic (plus a
//! small reserve) instead of every client multiplying its load by `total + 1`.
//!
//! The budget is tower's [`TpsBudget`]; any other
//! [`tower::retry::budget::Budget`] plugs in with [`RetryBudget::from_budget`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower::retry::budget::{Budget, TpsBudget};

use crate::error::{Error, InvalidBudget, Result};

/// A retry budget; clones share it (it lives in an `Arc`).
///
/// ```
/// use std::time::Duration;
/// use session_retry::{Retry, RetryBudget};
///
/// // Over the last 10 s, allow retries for 20% of the requests, plus 5 a second.
/// let budget = RetryBudget::new(Duration::from_secs(10), 5, 0.2)?;
/// let api = Retry::new().total(3).budget(budget.clone());
/// let other_api = Retry::new().total(5).budget(budget); // shares the same budget
/// # let _ = (api, other_api);
/// # Ok::<(), session_retry::Error>(())
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    inner: Arc<dyn Budget + Send + Sync>,
}

impl RetryBudget {
    /// A [`TpsBudget`]: over a window of `ttl`, retries may add up to
    /// `retry_percent` of the first attempts (0.2 for 20%), plus
    /// `min_per_sec` retries a second in any case.
    ///
    /// # Errors
    /// [`InvalidBudget`] unless `ttl` is 1 to 60 s, `retry_percent` is
    /// 0 to 1000 and `min_per_sec` is below 2^31.
    pub fn new(ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Result<Self> {
        let ttl_ok = (Duration::from_secs(1)..=Duration::from_secs(60)).contains(&ttl);
        let percent_ok = (0.0..=1000.0).contains(&retry_percent);
        if !ttl_ok || !percent_ok || min_per_sec >= i32::MAX as u32 {
            return Err(Error::builder(InvalidBudget));
        }
        Ok(RetryBudget::from_budget(TpsBudget::new(
            ttl,
            min_per_sec,
            retry_percent,
        )))
    }

    /// Wraps any tower budget.
    pub fn from_budget<B: Budget + Send + Sync + 'static>(budget: B) -> Self {
        RetryBudget {
            inner: Arc::new(budget),
        }
    }

    pub(crate) fn deposit(&self) {
        self.inner.deposit();
    }

    pub(crate) fn withdraw(&self) -> bool {
        self.inner.withdraw()
    }
}

impl Default for RetryBudget {
    /// tower's default: a 10 s window, 10 retries a second, plus 20%.
    fn default() -> Self {
        RetryBudget::from_budget(TpsBudget::default())
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        for (ttl, min, pct) in [
            (Duration::ZERO, 1, 0.2),
            (Duration::from_secs(61), 1, 0.2),
            (Duration::from_secs(10), 1, -0.1),
            (Duration::from_secs(10), 1, f32::NAN),
            (Duration::from_secs(10), u32::MAX, 0.2),
        ] {
            let err = RetryBudget::new(ttl, min, pct).unwrap_err();
            assert!(err.is_builder(), "{ttl:?} {min} {pct}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn clones_share_one_balance() {
        let budget = RetryBudget::new(Duration::from_secs(10), 0, 0.5).unwrap();
        let other = budget.clone();
        for _ in 0..4 {
            budget.deposit();
        }
        // Four deposits at 50% pay for two retries, whichever clone takes them.
        assert!(other.withdraw());
        assert!(budget.withdraw());
        assert!(!other.withdraw());
    }
}
