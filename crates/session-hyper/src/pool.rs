//! Gates on new connections, per host: a cap on open connections (requests
//! beyond it queue for a pooled one), and HTTP/2 awareness, so a cold burst
//! over TLS waits for the first handshake instead of opening one connection
//! per request.
//!
//! hyper-util's pool races "wait for an idle connection" against "open a new
//! one". The gate sits in the second branch: while the first connection to
//! a host is being negotiated, other connects to that host wait; when ALPN
//! picks `h2`, hyper-util hands the shared connection to every waiting
//! request and the waiting connects are dropped (or finish in the
//! background, where the gate makes them fail without opening anything).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use session_core::error::{TimedOut, TimeoutKind};
use session_core::BoxError;

/// How long a connect waits while an HTTP/2 connection to its host is open
/// before it gives up (it is normally dropped well before: the pool hands
/// the request the shared connection).
const H2_GRACE: Duration = Duration::from_secs(10);

/// Past this many hosts, gates nobody uses are dropped before a new one is
/// added, so a crawl or a redirect chain over endless host names cannot grow
/// the map without bound.
const PRUNE_ABOVE: usize = 256;

/// The gates of one transport, by host.
#[derive(Debug)]
pub(crate) struct Gates {
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    max_per_host: Option<usize>,
    pool_wait: Option<Duration>,
}

#[derive(Debug)]
pub(crate) struct HostGate {
    state: Mutex<State>,
    notify: Notify,
    permits: Option<Arc<Semaphore>>,
}

impl HostGate {
    /// Nothing refers to the gate but the map (no connect in flight, no
    /// HTTP/2 connection tracked) and every connection slot is free, so
    /// dropping it loses only what it learned (h1 or h2), not a limit.
    fn is_idle(self: &Arc<Self>, max: Option<usize>) -> bool {
        Arc::strong_count(self) == 1
            && match (&self.permits, max) {
                (Some(permits), Some(max)) => permits.available_permits() == max,
                _ => true,
            }
    }
}

#[derive(Debug, Default)]
struct State {
    proto: Proto,
    leading: bool,
    h2_alive: usize,
    generation: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Proto {
    #[default]
    Unknown,
    H1,
    H2,
}

/// A connect gave up because an HTTP/2 connection to the host is open and
/// will carry the request.
#[derive(Debug, thiserror::Error)]
#[error("an HTTP/2 connection to this host is already open")]
pub(crate) struct H2Open;

impl Gates {
    pub(crate) fn new(max_per_host: Option<usize>, pool_wait: Option<Duration>) -> Self {
        Gates {
            hosts: Mutex::new(HashMap::new()),
            max_per_host,
            pool_wait,
        }
    }

    pub(crate) fn host(&self, key: &str) -> Arc<HostGate> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gate) = hosts.get(key) {
            return gate.clone();
        }
        if hosts.len() >= PRUNE_ABOVE {
            let max = self.max_per_host;
            hosts.retain(|_, gate| !gate.is_idle(max));
        }
        let gate = Arc::new(HostGate {
            state: Mutex::new(State::default()),
            notify: Notify::new(),
            permits: self.max_per_host.map(|n| Arc::new(Semaphore::new(n))),
        });
        hosts.insert(key.to_owned(), gate.clone());
        gate
    }

    /// How many hosts have a gate (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Waits for a free connection slot of `gate` (none without a cap) for
    /// a connection to `dst`. A wait is traced: a `pool wait` event when it
    /// starts, `pool wait over` when it ends.
    ///
    /// # Errors
    /// `TimedOut(TimeoutKind::Pool)` after the pool wait timeout.
    pub(crate) async fn permit(
        &self,
        gate: &HostGate,
        dst: &http::Uri,
    ) -> Result<Option<OwnedSemaphorePermit>, BoxError> {
        let Some(permits) = &gate.permits else {
            return Ok(None);
        };
        match permits.clone().try_acquire_owned() {
            Ok(permit) => return Ok(Some(permit)),
            Err(TryAcquireError::Closed) => return Err("the pool is closed".into()),
            Err(TryAcquireError::NoPermits) => {}
        }
        tracing::debug!(
            server.address = dst.host(),
            server.port = dst.port_u16(),
            pool.max_connections = self.max_per_host,
            "pool wait"
        );
        let start = tokio::time::Instant::now();
        let acquire = permits.clone().acquire_owned();
        let permit = match self.pool_wait {
            None => acquire.await,
            Some(limit) => tokio::time::timeout(limit, acquire).await.map_err(|_| {
                tracing::debug!(
                    server.address = dst.host(),
                    server.port = dst.port_u16(),
                    "pool wait timed out"
                );
                Box::new(TimedOut(TimeoutKind::Pool)) as BoxError
            })?,
        };
        tracing::debug!(
            server.address = dst.host(),
            server.port = dst.port_u16(),
            pool.wait_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            "pool wait over"
        );
        Ok(Some(permit?))
    }
}

impl HostGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until this connect may go ahead. `Some(leader)`: this connect
    /// is the first to a host whose protocol is unknown, and must report
    /// what it negotiated. `None`: go ahead without reporting.
    ///
    /// # Errors
    /// [`H2Open`] when an HTTP/2 connection stays open and this connect was
    /// not dropped within a grace period.
    pub(crate) async fn h2_turn(self: &Arc<Self>) -> Result<Option<Leader>, BoxError> {
        let mut seen: Option<u64> = None;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let h2_open = {
                let mut st = self.lock();
                if st.proto == Proto::H1 {
                    return Ok(None);
                }
                if st.h2_alive == 0 && !st.leading {
                    if st.proto == Proto::Unknown && seen.is_some_and(|g| g != st.generation) {
                        // The leader failed: everyone tries on their own.
                        return Ok(None);
                    }
                    st.leading = true;
                    return Ok(Some(Leader {
                        gate: self.clone(),
                        done: false,
                    }));
                }
                seen.get_or_insert(st.generation);
                st.h2_alive > 0
            };
            if h2_open {
                if tokio::time::timeout(H2_GRACE, notified).await.is_err() {
                    return Err(Box::new(H2Open));
                }
            } else {
                notified.await;
            }
        }
    }
}

/// The first connect to a host: reports what it negotiated, or, if dropped
/// or failed, lets the waiters go.
#[derive(Debug)]
pub(crate) struct Leader {
    gate: Arc<HostGate>,
    done: bool,
}

impl Leader {
    /// The connection is up; `h2` says whether ALPN picked HTTP/2. Returns
    /// a guard to keep in the connection while it is an open h2 one.
    pub(crate) fn finish(mut self, h2: bool) -> Option<H2Alive> {
        self.done = true;
        let gate = self.gate.clone();
        let alive = {
            let mut st = gate.lock();
            st.leading = false;
            st.generation += 1;
            if h2 {
                st.proto = Proto::H2;
                st.h2_alive += 1;
            } else {
                st.proto = Proto::H1;
            }
            h2
        };
        gate.notify.notify_waiters();
        alive.then_some(H2Alive(gate))
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        {
            let mut st = self.gate.lock();
            st.leading = false;
            st.generation += 1;
        }
        self.gate.notify.notify_waiters();
    }
}

/// Held by an open HTTP/2 connection made by a leader.
#[derive(Debug)]
pub(crate) struct H2Alive(Arc<HostGate>);

impl H2Alive {
    /// Counts another h2 connection (one made without leading).
    pub(crate) fn track(gate: &Arc<HostGate>) -> H2Alive {
        let mut st = gate.lock();
        st.proto = Proto::H2;
        st.h2_alive += 1;
        H2Alive(gate.clone())
    }
}

impl Drop for H2Alive {
    fn drop(&mut self) {
        {
            let mut st = self.0.lock();
            st.h2_alive = st.h2_alive.saturating_sub(1);
        }
        self.0.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_gates_are_pruned_but_busy_ones_stay() {
        let gates = Gates::new(Some(2), None);
        // A host with a connection open (a permit held) must keep its gate.
        let busy = gates.host("busy.test");
        let permit = gates
            .permit(&busy, &"http://busy.test".parse().unwrap())
            .await
            .unwrap();
        drop(busy);
        for i in 0..(PRUNE_ABOVE * 4) {
            let _ = gates.host(&format!("host{i}.test"));
        }
        assert!(gates.len() <= PRUNE_ABOVE + 1, "{} gates", gates.len());
        let again = gates.host("busy.test");
        // The same gate: one of its two slots is still taken.
        assert_eq!(again.permits.as_ref().unwrap().available_permits(), 1);
        drop(permit);
    }

    #[tokio::test]
    async fn waiters_follow_the_leader() {
        let gates = Gates::new(None, None);
        let gate = gates.host("https://a.test");
        let leader = gate.h2_turn().await.unwrap().expect("first leads");
        let waiter = tokio::spawn({
            let gate = gate.clone();
            async move { gate.h2_turn().await.map(|l| l.is_some()) }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        let _ = leader.finish(false);
        // HTTP/1.1: the waiter goes ahead without leading.
        assert!(!waiter.await.unwrap().unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_h2_connection_holds_new_connects() {
        let gates = Gates::new(None, None);
        let gate = gates.host("https://a.test");
        let alive = gate.h2_turn().await.unwrap().unwrap().finish(true);
        let err = gate.h2_turn().await.unwrap_err();
        assert!(err.is::<H2Open>());
        drop(alive);
        assert!(gate.h2_turn().await.unwrap().is_some(), "leads again");
    }

    #[tokio::test(start_paused = true)]
    async fn the_cap_queues_and_times_out() {
        let gates = Gates::new(Some(1), Some(Duration::from_millis(50)));
        let gate = gates.host("http://a.test");
        let dst: http::Uri = "http://a.test".parse().unwrap();
        let first = gates.permit(&gate, &dst).await.unwrap();
        assert!(first.is_some());
        let err = gates.permit(&gate, &dst).await.unwrap_err();
        assert_eq!(err.to_string(), "pool wait timed out");
        drop(first);
        assert!(gates.permit(&gate, &dst).await.unwrap().is_some());
    }
}
