//! The lock over the jar's [`Store`]: it recovers from poisoning, and on
//! unlock publishes the cookie count that
//! [`Jar::is_empty`](super::Jar::is_empty) reads without it.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::store::Store;

/// The locked store; on unlock it publishes the cookie count to
/// `Shared::len`, so [`Jar::is_empty`](super::Jar::is_empty) needs no lock.
pub(super) struct Locked<'a> {
    guard: MutexGuard<'a, Store>,
    len: &'a AtomicUsize,
}

impl<'a> Locked<'a> {
    /// Locks `store`, whose cookie count is published to `len`.
    pub(super) fn new(store: &'a Mutex<Store>, len: &'a AtomicUsize) -> Self {
        let guard = match store.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                // A thread panicked while holding the lock. Every mutation
                // here leaves the buckets valid, so recount and go on.
                let mut guard = poisoned.into_inner();
                guard.total = guard.buckets.values().map(Vec::len).sum();
                store.clear_poison();
                guard
            }
        };
        Locked { guard, len }
    }
}

impl Deref for Locked<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.len.store(self.guard.total, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use crate::Jar;

    #[test]
    fn recovers_from_a_poisoned_lock() {
        let jar = Jar::new();
        let url = Url::parse("http://example.com/").unwrap();
        jar.store_set_cookie(&url, "a=1").unwrap();
        let j = jar.clone();
        let res = std::thread::spawn(move || {
            let mut store = j.shared.store.lock().unwrap();
            store.total += 100; // left inconsistent by the panic below
            panic!("poison the lock");
        })
        .join();
        assert!(res.is_err());
        assert!(jar.shared.store.is_poisoned());
        assert_eq!(jar.len(), 1, "recounted");
        assert!(!jar.shared.store.is_poisoned());
        jar.store_set_cookie(&url, "b=1").unwrap();
        assert_eq!(jar.cookie_header(&url).unwrap(), "a=1; b=1");
    }
}
