//! [`MemoryBudget`]: the budgets of one process.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::backend::{BudgetBackend, Decision, Lease};
use crate::config::{Limits, DEFAULT_CONCURRENCY_POLL};
use crate::error::Result;

/// Hosts kept before idle ones are forgotten.
const TIDY_ABOVE: usize = 1024;

/// The budgets of one process, in memory: an exact GCRA per host for the
/// rate, a count of leases (each with an expiry) for the cap, and a pause
/// until a time. Clones share the budgets: give every layer of a process a
/// clone of one `MemoryBudget`.
///
/// Its clock is tokio's (`tokio::time::Instant`), so a test that pauses
/// tokio's clock sees exact waits.
///
/// ```
/// use std::time::Duration;
/// use session_budget::{BudgetBackend, Decision, Limits, MemoryBudget};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), session_budget::Error> {
/// let budget = MemoryBudget::new();
/// let limits = Limits::new().rate(5, Duration::from_secs(1), 1);
/// let host = "https://api.example.com:443";
/// assert!(matches!(budget.acquire(host, &limits).await?, Decision::Go(_)));
/// match budget.acquire(host, &limits).await? {
///     Decision::Wait(wait) => assert_eq!(wait, Duration::from_millis(200)),
///     other => panic!("{other:?}"),
/// }
/// # Ok(()) }
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<Mutex<State>>,
    poll: Duration,
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget {
            inner: Arc::default(),
            poll: DEFAULT_CONCURRENCY_POLL,
        }
    }
}

#[derive(Default)]
struct State {
    hosts: HashMap<Arc<str>, HostState>,
    next_id: u64,
}

#[derive(Default)]
struct HostState {
    /// GCRA's theoretical arrival time of the next request.
    tat: Option<Instant>,
    /// Lease id to expiry.
    leases: HashMap<u64, Instant>,
    pause_until: Option<Instant>,
}

impl HostState {
    fn is_idle(&self, now: Instant) -> bool {
        self.tat.is_none_or(|t| t <= now)
            && self.pause_until.is_none_or(|p| p <= now)
            && self.leases.values().all(|&e| e <= now)
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts = self.lock().hosts.len();
        f.debug_struct("MemoryBudget")
            .field("hosts", &hosts)
            .finish()
    }
}

impl MemoryBudget {
    /// Empty budgets.
    pub fn new() -> MemoryBudget {
        MemoryBudget::default()
    }

    /// How long a request waits before asking again when its host's
    /// concurrency cap is full (default [`DEFAULT_CONCURRENCY_POLL`]), or
    /// less when a lease expires sooner; at least 1 ms. Rate waits are
    /// exact and do not use it.
    #[must_use]
    pub fn concurrency_poll(mut self, poll: Duration) -> MemoryBudget {
        self.poll = poll.max(Duration::from_millis(1));
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement: a panic elsewhere
        // while it was held leaves nothing half done.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`BudgetBackend::acquire`] at `now`, with `poll` as the wait for a
    /// full cap.
    pub(crate) fn acquire_at(
        &self,
        host: &str,
        limits: &Limits,
        now: Instant,
        poll: Duration,
    ) -> Decision {
        let mut state = self.lock();
        if state.hosts.len() > TIDY_ABOVE {
            state.hosts.retain(|_, h| !h.is_idle(now));
        }
        let state = &mut *state;
        let entry = match state.hosts.get_mut(host) {
            Some(entry) => entry,
            None => state.hosts.entry(Arc::from(host)).or_default(),
        };
        if let Some(until) = entry.pause_until {
            if until > now {
                return Decision::Wait(until - now);
            }
            entry.pause_until = None;
        }
        if let Some(cap) = limits.concurrency_limit() {
            entry.leases.retain(|_, expiry| *expiry > now);
            if entry.leases.len() >= cap as usize {
                let first = entry.leases.values().min().copied().unwrap_or(now);
                return Decision::Wait(poll.min(first - now).max(Duration::from_micros(1)));
            }
        }
        if let Some(rate) = limits.rate_limit() {
            let interval = rate.interval();
            let tolerance = interval * rate.burst();
            let tat = entry.tat.map_or(now, |t| t.max(now)) + interval;
            if tat - now > tolerance {
                return Decision::Wait(tat - tolerance - now);
            }
            entry.tat = Some(tat);
        }
        match limits.concurrency_limit() {
            Some(_) => {
                state.next_id += 1;
                let id = state.next_id;
                entry.leases.insert(id, now + limits.lease_ttl_value());
                Decision::Go(Lease::new(host, id))
            }
            None => Decision::Go(Lease::unlimited(host)),
        }
    }

    pub(crate) fn release_now(&self, lease: &Lease) {
        let Some(id) = lease.id() else { return };
        if let Some(entry) = self.lock().hosts.get_mut(lease.host()) {
            entry.leases.remove(&id);
        }
    }

    pub(crate) fn push_back_at(&self, host: &str, limits: &Limits, pause: Duration, now: Instant) {
        let until = now + pause;
        let mut state = self.lock();
        let entry = state.hosts.entry(Arc::from(host)).or_default();
        if entry.pause_until.is_none_or(|p| p < until) {
            entry.pause_until = Some(until);
        }
        if let Some(rate) = limits.rate_limit() {
            // Due at the pause's end with an empty burst: the first request
            // goes then, the next ones at the steady rate.
            let floor = until + rate.interval() * (rate.burst() - 1);
            if entry.tat.is_none_or(|t| t < floor) {
                entry.tat = Some(floor);
            }
        }
    }
}

impl BudgetBackend for MemoryBudget {
    fn acquire(
        &self,
        host: &str,
        limits: &Limits,
    ) -> impl Future<Output = Result<Decision>> + Send {
        let decision = self.acquire_at(host, limits, Instant::now(), self.poll);
        std::future::ready(Ok(decision))
    }

    fn release(&self, lease: Lease) -> impl Future<Output = Result<()>> + Send {
        self.release_now(&lease);
        std::future::ready(Ok(()))
    }

    fn push_back(
        &self,
        host: &str,
        limits: &Limits,
        pause: Duration,
    ) -> impl Future<Output = Result<()>> + Send {
        self.push_back_at(host, limits, pause, Instant::now());
        std::future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "http://a.test:80";

    fn wait(d: Decision) -> Duration {
        match d {
            Decision::Wait(w) => w,
            Decision::Go(l) => panic!("expected a wait, got {l:?}"),
        }
    }

    fn go(d: Decision) -> Lease {
        match d {
            Decision::Go(l) => l,
            Decision::Wait(w) => panic!("expected a go, got a wait of {w:?}"),
        }
    }

    #[test]
    fn gcra_lets_a_burst_through_then_the_steady_rate() {
        let budget = MemoryBudget::new();
        let limits = Limits::new().rate(10, Duration::from_secs(1), 3);
        let poll = Duration::from_millis(20);
        let t0 = Instant::now();
        for _ in 0..3 {
            go(budget.acquire_at(HOST, &limits, t0, poll));
        }
        assert_eq!(
            wait(budget.acquire_at(HOST, &limits, t0, poll)),
            Duration::from_millis(100)
        );
        let t1 = t0 + Duration::from_millis(100);
        go(budget.acquire_at(HOST, &limits, t1, poll));
        assert_eq!(
            wait(budget.acquire_at(HOST, &limits, t1, poll)),
            Duration::from_millis(100)
        );
        // An idle second refills the burst, not more.
        let t2 = t1 + Duration::from_secs(1);
        for _ in 0..3 {
            go(budget.acquire_at(HOST, &limits, t2, poll));
        }
        assert!(matches!(
            budget.acquire_at(HOST, &limits, t2, poll),
            Decision::Wait(_)
        ));
    }

    #[test]
    fn leases_cap_concurrency_and_expire() {
        let budget = MemoryBudget::new();
        let limits = Limits::new()
            .max_concurrent(2)
            .lease_ttl(Duration::from_secs(5));
        let poll = Duration::from_millis(20);
        let t0 = Instant::now();
        let a = go(budget.acquire_at(HOST, &limits, t0, poll));
        let _b = go(budget.acquire_at(HOST, &limits, t0, poll));
        assert_eq!(wait(budget.acquire_at(HOST, &limits, t0, poll)), poll);
        budget.release_now(&a);
        let _c = go(budget.acquire_at(HOST, &limits, t0, poll));
        // Never released: both expire after the TTL; the wait says so near the end.
        let near = t0 + Duration::from_millis(4_990);
        assert_eq!(
            wait(budget.acquire_at(HOST, &limits, near, poll)),
            Duration::from_millis(10)
        );
        go(budget.acquire_at(HOST, &limits, t0 + Duration::from_secs(5), poll));
    }

    #[test]
    fn a_full_cap_counts_nothing_against_the_rate() {
        let budget = MemoryBudget::new();
        let limits = Limits::new()
            .rate(1, Duration::from_secs(1), 1)
            .max_concurrent(1);
        let poll = Duration::from_millis(20);
        let t0 = Instant::now();
        let a = go(budget.acquire_at(HOST, &limits, t0, poll));
        let t1 = t0 + Duration::from_secs(1);
        for _ in 0..5 {
            assert_eq!(wait(budget.acquire_at(HOST, &limits, t1, poll)), poll);
        }
        budget.release_now(&a);
        go(budget.acquire_at(HOST, &limits, t1, poll));
    }

    #[test]
    fn push_back_pauses_then_resumes_at_the_steady_rate() {
        let budget = MemoryBudget::new();
        let limits = Limits::new().rate(10, Duration::from_secs(1), 5);
        let poll = Duration::from_millis(20);
        let t0 = Instant::now();
        budget.push_back_at(HOST, &limits, Duration::from_secs(2), t0);
        assert_eq!(
            wait(budget.acquire_at(HOST, &limits, t0, poll)),
            Duration::from_secs(2)
        );
        let t1 = t0 + Duration::from_secs(2);
        go(budget.acquire_at(HOST, &limits, t1, poll));
        assert_eq!(
            wait(budget.acquire_at(HOST, &limits, t1, poll)),
            Duration::from_millis(100)
        );
        // Other hosts are not paused.
        go(budget.acquire_at("http://b.test:80", &limits, t0, poll));
    }
}
