//! Single-flight: concurrent misses for one key make one origin fetch.
//!
//! The first request for a key to reach the origin leads; the others wait
//! for its outcome: stored (they read the entry), not stored (they go to the
//! origin themselves, all at once) or aborted (one of them leads next).
//! While the leader's body streams, a waiter gives up if it makes no
//! progress for the stall time, so a caller that holds an unread response
//! and asks again for the same URL does not wait on itself for ever.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::{Key, KeyMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Stored,
    NotStored,
    Aborted,
    Stalled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Fetching,
    Streaming(u64),
    Done(Outcome),
}

/// One flight: its phase, and the waiters to wake when it changes.
#[derive(Debug)]
struct Flight {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Flight {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug, Default)]
pub(crate) struct Flights {
    map: Mutex<KeyMap<Arc<Flight>>>,
}

pub(crate) enum Join {
    Leader(Leader),
    Waiter(Waiter),
}

impl Flights {
    fn lock(&self) -> MutexGuard<'_, KeyMap<Arc<Flight>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Leads the flight for `key`, or waits for the one under way.
    pub(crate) fn join(self: &Arc<Self>, key: &Key) -> Join {
        let mut map = self.lock();
        if let Some(flight) = map.get(key) {
            if !matches!(*flight.phase(), Phase::Done(_)) {
                return Join::Waiter(Waiter {
                    flight: flight.clone(),
                });
            }
        }
        let flight = Arc::new(Flight {
            phase: Mutex::new(Phase::Fetching),
            changed: Notify::new(),
        });
        map.insert(key.clone(), flight.clone());
        Join::Leader(Leader {
            key: key.clone(),
            flight,
            flights: self.clone(),
            done: false,
            progress: 0,
        })
    }

    /// Leads the flight for `key` only if none is under way.
    pub(crate) fn try_lead(self: &Arc<Self>, key: &Key) -> Option<Leader> {
        match self.join(key) {
            Join::Leader(leader) => Some(leader),
            Join::Waiter(_) => None,
        }
    }
}

/// The request that fetches for everyone; dropping it unfinished aborts
/// the flight.
#[derive(Debug)]
pub(crate) struct Leader {
    key: Key,
    flight: Arc<Flight>,
    flights: Arc<Flights>,
    done: bool,
    progress: u64,
}

impl Leader {
    /// The answer's body is streaming (and being stored).
    pub(crate) fn progress(&mut self) {
        self.progress += 1;
        *self.flight.phase() = Phase::Streaming(self.progress);
        self.flight.changed.notify_waiters();
    }

    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.end(outcome);
    }

    fn end(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        {
            // One lookup: the flight under the key is this one but for a
            // rare race, and another is put back as it was.
            let mut map = self.flights.lock();
            if let Some(flight) = map.remove(&self.key) {
                if !Arc::ptr_eq(&flight, &self.flight) {
                    map.insert(self.key.clone(), flight);
                }
            }
        }
        *self.flight.phase() = Phase::Done(outcome);
        // Out of the map, no one can join any more: wake the waiters, if
        // any hold the flight (the phase was set first, under its lock, so
        // one that joined before is counted here), else spare the wake-up.
        if Arc::strong_count(&self.flight) > 1 {
            self.flight.changed.notify_waiters();
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        self.end(Outcome::Aborted);
    }
}

/// A request waiting for a leader.
#[derive(Debug)]
pub(crate) struct Waiter {
    flight: Arc<Flight>,
}

impl Waiter {
    pub(crate) async fn wait(self, stall: Duration) -> Outcome {
        loop {
            // Registered before the phase is read: no change is missed.
            let mut changed = std::pin::pin!(self.flight.changed.notified());
            changed.as_mut().enable();
            let phase = *self.flight.phase();
            match phase {
                Phase::Done(outcome) => return outcome,
                Phase::Fetching => changed.await,
                Phase::Streaming(_) => {
                    if tokio::time::timeout(stall, changed).await.is_err() {
                        return Outcome::Stalled;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_leader_then_outcome() {
        let flights = Arc::new(Flights::default());
        let key = Key::from_bytes([1; 32]);
        let Join::Leader(leader) = flights.join(&key) else {
            panic!("first is the leader")
        };
        let Join::Waiter(waiter) = flights.join(&key) else {
            panic!("second waits")
        };
        let wait = tokio::spawn(waiter.wait(Duration::from_secs(5)));
        leader.finish(Outcome::Stored);
        assert_eq!(wait.await.unwrap(), Outcome::Stored);
        assert!(flights.try_lead(&key).is_some());
    }

    #[tokio::test]
    async fn dropped_leader_aborts_and_stall_gives_up() {
        let flights = Arc::new(Flights::default());
        let key = Key::from_bytes([2; 32]);
        let leader = flights.try_lead(&key).unwrap();
        let Join::Waiter(waiter) = flights.join(&key) else {
            panic!()
        };
        drop(leader);
        assert_eq!(waiter.wait(Duration::from_secs(5)).await, Outcome::Aborted);

        let mut leader = flights.try_lead(&key).unwrap();
        leader.progress();
        let Join::Waiter(waiter) = flights.join(&key) else {
            panic!()
        };
        assert_eq!(
            waiter.wait(Duration::from_millis(20)).await,
            Outcome::Stalled
        );
        drop(leader);
    }
}
