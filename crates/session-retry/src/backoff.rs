//! The sleep between attempts: urllib3's exponential backoff, with jitter.
//!
//! Before the first retry there is no sleep. Before retry `n` (n ≥ 2) the
//! sleep is `backoff_factor * 2^(n-1)` seconds, plus the jitter, capped by
//! `backoff_max`: for a factor of 0.1 the sleeps are 0, 0.2, 0.4, 0.8, ...
//! This is urllib3's `Retry.get_backoff_time`, where `n` is the number of
//! consecutive failed attempts so far.
//!
//! Jitter, when set, is one of:
//! - *additive* (urllib3's `backoff_jitter`): a random `0..=jitter` seconds
//!   is added before the cap;
//! - *full* (AWS's "full jitter"): the sleep is a random share of the capped
//!   value, `0..=sleep`.

use std::time::Duration;

/// The default `backoff_max`: 120 s (urllib3's `DEFAULT_BACKOFF_MAX`).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Jitter {
    None,
    Additive(f64),
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Backoff {
    pub(crate) factor: f64,
    pub(crate) max: Duration,
    pub(crate) jitter: Jitter,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            factor: 0.0,
            max: DEFAULT_BACKOFF_MAX,
            jitter: Jitter::None,
        }
    }
}

impl Backoff {
    /// The sleep after `failures` consecutive failed attempts, with `random`
    /// giving a number in `0.0..1.0` when jitter needs one.
    pub(crate) fn delay(&self, failures: usize, mut random: impl FnMut() -> f64) -> Duration {
        if failures <= 1 {
            return Duration::ZERO;
        }
        let exponent = i32::try_from(failures - 1).unwrap_or(i32::MAX);
        let mut secs = self.factor * 2f64.powi(exponent);
        if secs.is_nan() {
            // 0 * inf: a zero factor never sleeps.
            secs = 0.0;
        }
        if let Jitter::Additive(jitter) = self.jitter {
            secs += random() * jitter;
        }
        let mut secs = secs.clamp(0.0, self.max.as_secs_f64());
        if self.jitter == Jitter::Full {
            secs *= random();
        }
        Duration::try_from_secs_f64(secs).unwrap_or(self.max)
    }
}

/// A non-negative, finite number of seconds, or `None`.
pub(crate) fn valid_secs(secs: f64) -> Option<f64> {
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn urllib3_sequence_for_factor_0_1() {
        let backoff = Backoff {
            factor: 0.1,
            ..Backoff::default()
        };
        let sleeps: Vec<_> = (1..=6).map(|n| backoff.delay(n, || 0.0)).collect();
        assert_eq!(
            sleeps,
            [ms(0), ms(200), ms(400), ms(800), ms(1600), ms(3200)]
        );
    }

    #[test]
    fn capped_by_backoff_max_even_for_huge_counts() {
        let backoff = Backoff {
            factor: 1.0,
            max: Duration::from_secs(5),
            jitter: Jitter::Additive(100.0),
        };
        assert_eq!(backoff.delay(4, || 0.0), Duration::from_secs(5));
        assert_eq!(backoff.delay(usize::MAX, || 0.5), Duration::from_secs(5));
        let zero = Backoff::default();
        assert_eq!(zero.delay(5000, || 0.5), Duration::ZERO);
    }

    #[test]
    fn jitter_bounds() {
        let additive = Backoff {
            factor: 0.1,
            max: DEFAULT_BACKOFF_MAX,
            jitter: Jitter::Additive(0.5),
        };
        assert_eq!(additive.delay(2, || 0.0), ms(200));
        assert_eq!(additive.delay(2, || 0.5), ms(450));
        assert_eq!(additive.delay(1, || 0.99), Duration::ZERO);
        let full = Backoff {
            jitter: Jitter::Full,
            ..additive
        };
        assert_eq!(full.delay(3, || 0.0), Duration::ZERO);
        assert_eq!(full.delay(3, || 0.5), ms(200));
        for _ in 0..1000 {
            let d = full.delay(3, fastrand::f64);
            assert!(d <= ms(400), "{d:?}");
            let d = additive.delay(3, fastrand::f64);
            assert!(d >= ms(400) && d <= ms(900), "{d:?}");
        }
    }

    #[test]
    fn valid_secs_refuses_nan_negative_and_infinite() {
        assert_eq!(valid_secs(0.1), Some(0.1));
        assert_eq!(valid_secs(0.0), Some(0.0));
        assert!(valid_secs(f64::NAN).is_none());
        assert!(valid_secs(-0.1).is_none());
        assert!(valid_secs(f64::INFINITY).is_none());
    }
}
