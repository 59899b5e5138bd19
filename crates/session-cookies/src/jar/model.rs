//! [`Model`]: the storage model over cookies read from a store outside this
//! process (a [`RedisJar`](crate::RedisJar)). The buckets read go into the
//! local jar's own [`Store`], and the same code decides everything:
//! storage (RFC 6265bis §5.7, with its prefixes, public suffixes and
//! "leave secure cookies alone"), eviction past the per-site cap, and
//! retrieval (§5.8.3). What changed is then read off, bucket by bucket, to
//! be written back.

use std::collections::HashMap;

use http::HeaderValue;

use super::builder::Config;
use super::origin::{bucket_key, is_ip_literal, parents, Origin};
use super::store::{Entry, Source, Store};
use crate::parse::{self, Parsed};
use crate::stored::StoredCookie;

/// The cookies of the buckets read, and the storage model over them.
#[derive(Default)]
pub(crate) struct Model {
    store: Store,
    /// Each bucket as read: its cookies with their creation order.
    read: HashMap<Box<str>, Vec<(StoredCookie, u64)>>,
}

/// What one bucket needs written after a response.
#[derive(Debug)]
pub(crate) struct BucketChange {
    /// The bucket (registrable domain, or the domain itself when it has
    /// none).
    pub(crate) key: Box<str>,
    /// Cookies new or changed, with their creation order.
    pub(crate) set: Vec<(StoredCookie, u64)>,
    /// Cookies gone: replaced by an expired one, evicted, or expired.
    pub(crate) delete: Vec<StoredCookie>,
    /// How many cookies are left in the bucket.
    pub(crate) left: usize,
    /// The latest expiry (Unix seconds) of a persistent cookie left.
    pub(crate) last_expiry: Option<i64>,
    /// Whether a session cookie is left.
    pub(crate) session: bool,
}

impl Model {
    /// Notes that the bucket `key` was read, even when it holds nothing.
    pub(crate) fn read_bucket(&mut self, key: &str) {
        self.read.entry(Box::from(key)).or_default();
    }

    /// Adds a cookie read from the bucket `key`.
    pub(crate) fn push_read(&mut self, key: &str, cookie: StoredCookie, seq: u64) {
        self.read
            .entry(Box::from(key))
            .or_default()
            .push((cookie.clone(), seq));
        self.store.push_read(key, cookie, seq);
    }

    /// The cookies that go to `origin` at `now_s`, in `Cookie` header order.
    pub(crate) fn sent_to(&self, origin: &Origin<'_>, now_s: i64) -> Vec<StoredCookie> {
        self.store
            .sent_to(origin, now_s, |_| false)
            .into_iter()
            .map(Entry::snapshot)
            .collect()
    }

    /// Stores the `Set-Cookie` values of a response from `origin` through
    /// the storage model; returns how many cookies were stored, replaced or
    /// deleted (rejected ones are skipped, as the local jar skips them).
    pub(crate) fn store_response<'a>(
        &mut self,
        config: &Config,
        origin: &Origin<'_>,
        set_cookie: impl IntoIterator<Item = &'a HeaderValue>,
        now_us: i64,
        now_s: i64,
    ) -> usize {
        let mut stored = 0;
        for value in set_cookie {
            let line = String::from_utf8_lossy(value.as_bytes());
            if let Ok(parsed) = parse::parse_set_cookie(&line) {
                if self
                    .store_parsed(config, origin, parsed, now_us, now_s)
                    .is_ok()
                {
                    stored += 1;
                }
            }
        }
        stored
    }

    /// Stores one parsed cookie received from `origin`.
    pub(crate) fn store_parsed(
        &mut self,
        config: &Config,
        origin: &Origin<'_>,
        parsed: Parsed<'_>,
        now_us: i64,
        now_s: i64,
    ) -> crate::Result<()> {
        self.store
            .store_parsed(config, origin, parsed, now_us, now_s, Source::Received)
    }

    /// What changed since the buckets were read, bucket by bucket (only
    /// buckets with a change). Cookies expired at `now_s` are deleted too.
    pub(crate) fn changes(&self, now_s: i64) -> Vec<BucketChange> {
        let mut out = Vec::new();
        let empty = Vec::new();
        let mut keys: Vec<&str> = self.read.keys().map(|k| &**k).collect();
        keys.extend(
            self.store
                .buckets
                .keys()
                .map(|k| &**k)
                .filter(|k| !self.read.contains_key(*k)),
        );
        for key in keys {
            let before = self.read.get(key).unwrap_or(&empty);
            let after: Vec<(StoredCookie, u64)> = self
                .store
                .buckets
                .get(key)
                .map(|bucket| {
                    bucket
                        .iter()
                        .filter(|e| !e.expired(now_s))
                        .map(|e| (e.snapshot(), e.seq))
                        .collect()
                })
                .unwrap_or_default();
            let set: Vec<(StoredCookie, u64)> = after
                .iter()
                .filter(|(c, seq)| !before.iter().any(|(b, bseq)| b == c && bseq == seq))
                .cloned()
                .collect();
            let delete: Vec<StoredCookie> = before
                .iter()
                .filter(|(b, _)| !after.iter().any(|(c, _)| same_identity(b, c)))
                .map(|(b, _)| b.clone())
                .collect();
            if set.is_empty() && delete.is_empty() {
                continue;
            }
            out.push(BucketChange {
                key: Box::from(key),
                set,
                delete,
                left: after.len(),
                last_expiry: after.iter().filter_map(|(c, _)| c.expires).max(),
                session: after.iter().any(|(c, _)| c.expires.is_none()),
            });
        }
        out
    }
}

/// Whether two cookies are the same cookie: name, domain, host-only flag
/// and path (RFC 6265bis §5.7 step 22).
fn same_identity(a: &StoredCookie, b: &StoredCookie) -> bool {
    a.name == b.name && a.domain == b.domain && a.host_only == b.host_only && a.path == b.path
}

/// The buckets a request to `origin` may find cookies in, and a response
/// from it may store cookies into: the bucket of the host and of each of
/// its parent domains, each once.
pub(crate) fn buckets_of<'o>(origin: &'o Origin<'_>) -> Vec<&'o str> {
    let mut keys: Vec<&str> = Vec::new();
    for p in parents(&origin.host, origin.is_ip) {
        let key = bucket_key(p, origin.is_ip);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The domains whose subdomains' buckets a response from `origin` must be
/// read with, for the "leave secure cookies alone" rule (§5.7 step 16): a
/// cookie that an insecure origin sets without `Secure`, for a domain with
/// no registrable domain (a public suffix, with the list off or as the
/// host itself), may shadow a `Secure` cookie in any bucket under it.
pub(crate) fn shadow_scan_domains(origin: &Origin<'_>, set_cookie: &[&HeaderValue]) -> Vec<String> {
    if origin.secure || origin.is_ip {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for value in set_cookie {
        let line = String::from_utf8_lossy(value.as_bytes());
        let Ok(parsed) = parse::parse_set_cookie(&line) else {
            continue;
        };
        if parsed.secure {
            continue;
        }
        let domain = match parsed.domain.as_deref() {
            Some(d) if !d.is_empty() => d.to_owned(),
            _ => origin.host.to_string(),
        };
        if is_ip_literal(&domain) || psl::domain_str(&domain).is_some() {
            continue;
        }
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    out
}
