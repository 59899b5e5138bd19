//! Single-flight: concurrent misses for one key make one origin fetch.
//!
//! The first request for a key to reach the origin leads; the others wait
//! for its outcome: stored (they read the entry), not stored (they go to the
//! origin themselves, all at once) or aborted (one of them leads next).
//! While the leader's body streams, a waiter gives up if it makes no
//! progress for the stall time, so a caller that holds an unread response
//! and asks again for the same URL does not wait on itself for ever.

use crate::store::KeyMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Key;

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

#[derive(Debug, Default)]
pub(crate) struct Flights {
    map: Mutex<KeyMap<watch::Receiver<Phase>>>,
}

pub(crate) enum Join {
    Leader(Leader),
    Waiter(Waiter),
}

impl Flights {
    fn lock(&self) -> std::sync::MutexGuard<'_, KeyMap<watch::Receiver<Phase>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Leads the flight for `key`, or waits for the one under way.
    pub(crate) fn join(self: &Arc<Self>, key: &Key) -> Join {
        let mut map = self.lock();
        if let Some(rx) = map.get(key) {
            if !matches!(*rx.borrow(), Phase::Done(_)) && rx.has_changed().is_ok() {
                return Join::Waiter(Waiter { rx: rx.clone() });
            }
        }
        let (tx, rx) = watch::channel(Phase::Fetching);
        map.insert(key.clone(), rx.clone());
        Join::Leader(Leader {
            key: key.clone(),
            tx,
            rx,
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
    tx: watch::Sender<Phase>,
    rx: watch::Receiver<Phase>,
    flights: Arc<Flights>,
    done: bool,
    progress: u64,
}

impl Leader {
    /// The answer's body is streaming (and being stored).
    pub(crate) fn progress(&mut self) {
        self.progress += 1;
        let _ = self.tx.send(Phase::Streaming(self.progress));
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
            let mut map = self.flights.lock();
            if map
                .get(&self.key)
                .is_some_and(|rx| rx.same_channel(&self.rx))
            {
                map.remove(&self.key);
            }
        }
        // Out of the map, no one can join any more: tell the waiters, if
        // any (besides the leader's own receiver), else spare the wake-up.
        if self.tx.receiver_count() > 1 {
            let _ = self.tx.send(Phase::Done(outcome));
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
    rx: watch::Receiver<Phase>,
}

impl Waiter {
    pub(crate) async fn wait(mut self, stall: Duration) -> Outcome {
        loop {
            let phase = *self.rx.borrow_and_update();
            let changed = match phase {
                Phase::Done(outcome) => return outcome,
                Phase::Fetching => self.rx.changed().await,
                Phase::Streaming(_) => match tokio::time::timeout(stall, self.rx.changed()).await {
                    Ok(changed) => changed,
                    Err(_) => return Outcome::Stalled,
                },
            };
            if changed.is_err() {
                // The leader is gone: its last word, if it said one.
                return match *self.rx.borrow() {
                    Phase::Done(outcome) => outcome,
                    _ => Outcome::Aborted,
                };
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
