//! Removing cookies from a [`Jar`]: one cookie, those a URL gets by name,
//! a domain's, the expired ones, the session ones, or all.

use url::Url;

use super::origin::{bucket_key, domain_match, is_ip_literal};
use super::Jar;
use crate::stored::StoredCookie;

impl Jar {
    /// Removes the cookie with the same name, domain, host-only flag and path
    /// as `cookie`; returns whether one was there.
    pub fn remove(&self, cookie: &StoredCookie) -> bool {
        let mut store = self.lock();
        let key = bucket_key(&cookie.domain, is_ip_literal(&cookie.domain));
        let Some(bucket) = store.buckets.get_mut(key) else {
            return false;
        };
        let before = bucket.len();
        bucket.retain(|e| {
            !(e.cookie.name == cookie.name
                && e.cookie.domain == cookie.domain
                && e.cookie.host_only == cookie.host_only
                && e.cookie.path == cookie.path)
        });
        let removed = before - bucket.len();
        store.total -= removed;
        store.drop_empty(key);
        removed > 0
    }

    /// Removes every cookie named `name` that would be sent to `url`; returns
    /// how many.
    pub fn remove_for_url(&self, url: &Url, name: &str) -> usize {
        self.matching(url)
            .iter()
            .filter(|c| c.name == name)
            .filter(|c| self.remove(c))
            .count()
    }

    /// Removes every cookie.
    pub fn clear(&self) {
        let mut store = self.lock();
        store.buckets.clear();
        store.total = 0;
    }

    /// Removes the cookies whose domain is `domain` or one of its subdomains
    /// (`clear_domain("example.com")` also clears `www.example.com`); returns
    /// how many.
    pub fn clear_domain(&self, domain: &str) -> usize {
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        let is_ip = is_ip_literal(&domain);
        self.retain(|c| !domain_match(&c.domain, is_ip, &domain))
    }

    /// Removes expired cookies; returns how many.
    pub fn clear_expired(&self) -> usize {
        let (_, now_s) = self.now();
        self.retain(|c| c.expires.is_none_or(|e| e > now_s))
    }

    /// Removes session cookies (those without `Expires`/`Max-Age`), as a
    /// browser does when it closes; returns how many.
    pub fn clear_session(&self) -> usize {
        self.retain(|c| c.expires.is_some())
    }

    fn retain(&self, keep: impl Fn(&StoredCookie) -> bool) -> usize {
        let mut store = self.lock();
        let mut removed = 0;
        store.buckets.retain(|_, bucket| {
            let before = bucket.len();
            bucket.retain(|e| keep(&e.cookie));
            removed += before - bucket.len();
            !bucket.is_empty()
        });
        store.total -= removed;
        removed
    }
}
