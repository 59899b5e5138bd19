//! The cookies behind the jar's lock, the storage algorithm that admits a
//! cookie into them (RFC 6265bis §5.7), and eviction.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;

use super::builder::Config;
use super::origin::{
    bucket_key, default_path, domain_match, is_cookie_name, is_ip_literal, is_public_suffix,
    parents, path_match, Origin,
};
use crate::error::{Error, Result};
use crate::parse::{is_forbidden_ctl, Expiry, Parsed, MAX_NAME_VALUE};
use crate::stored::StoredCookie;

/// The longest a cookie may live: 400 days (RFC 6265bis §5.5).
const MAX_AGE_SECS: i64 = 400 * 86_400;

/// Cookies indexed by the registrable domain (eTLD+1) of their domain, or by
/// the domain itself when it has none (an IP address, a public suffix). A
/// lookup walks the request host's parent domains, so it never looks at
/// another site's cookies.
///
/// The map hashes with foldhash rather than SipHash: a lookup per cookie
/// stored and per request is on every request's path, and the map's size is
/// bounded by the jar's limits, so the flooding SipHash guards against
/// cannot grow it.
#[derive(Default)]
pub(super) struct Store {
    pub(super) buckets: HashMap<Box<str>, Vec<Entry>, foldhash::fast::RandomState>,
    pub(super) total: usize,
    next_seq: u64,
}

/// A stored cookie and what the jar keeps beside it.
pub(super) struct Entry {
    pub(super) cookie: StoredCookie,
    /// Creation order, to break ties between equal creation times.
    pub(super) seq: u64,
    /// Updated under a shared borrow while building a header.
    pub(super) last_access: Cell<i64>,
}

impl Entry {
    pub(super) fn expired(&self, now_s: i64) -> bool {
        self.cookie.expires.is_some_and(|e| e <= now_s)
    }

    pub(super) fn snapshot(&self) -> StoredCookie {
        let mut c = self.cookie.clone();
        c.last_access = self.last_access.get();
        c
    }

    /// Eviction order among live cookies (RFC 6265bis §5.7): those whose
    /// secure-only-flag is false first, then the least recently used.
    fn evict_key(&self) -> (bool, i64, u64) {
        (self.cookie.secure, self.last_access.get(), self.seq)
    }
}

/// Where a cookie comes from; loaded ones keep their times.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    Received,
    Loaded { creation: i64, last_access: i64 },
}

impl Store {
    /// The storage model, RFC 6265bis §5.7.
    pub(super) fn store_parsed(
        &mut self,
        config: &Config,
        origin: &Origin<'_>,
        p: Parsed<'_>,
        now_us: i64,
        now_s: i64,
        source: Source,
    ) -> Result<()> {
        check_name_value(&p.name, &p.value)?;

        let expires = p.expiry().map(|e| match e {
            Expiry::MaxAge(secs) if secs <= 0 => i64::MIN,
            Expiry::MaxAge(secs) => now_s.saturating_add(secs.min(MAX_AGE_SECS)),
            Expiry::At(at) => at.min(now_s.saturating_add(MAX_AGE_SECS)),
        });

        // §5.7 step 8: a Domain outside US-ASCII is not converted to its
        // A-label; the cookie is ignored.
        let mut domain_attr: Cow<'_, str> = match p.domain {
            Some(d) if !d.is_ascii() => {
                return Err(Error::rejected("non-ASCII character in Domain"))
            }
            Some(d) => d,
            None => Cow::Borrowed(""),
        };
        // §5.7 step 9: a public suffix (`co.uk`, or `co.uk.` written as a
        // fully qualified name) is refused, unless it is the host itself.
        if config.public_suffix_list
            && !domain_attr.is_empty()
            && !is_ip_literal(&domain_attr)
            && is_public_suffix(&domain_attr)
        {
            if domain_attr == origin.host {
                domain_attr = Cow::Borrowed("");
            } else {
                return Err(Error::rejected("Domain is a public suffix"));
            }
        }
        // A domain the jar could not load back from its own files is one it
        // does not store (see `is_cookie_name`).
        if !domain_attr.is_empty() && !is_ip_literal(&domain_attr) && !is_cookie_name(&domain_attr)
        {
            return Err(Error::rejected("invalid Domain attribute"));
        }
        let (domain, host_only) = if domain_attr.is_empty() {
            (Cow::Borrowed(&*origin.host), true)
        } else if domain_match(&origin.host, origin.is_ip, &domain_attr) {
            (domain_attr, false)
        } else {
            return Err(Error::rejected("Domain does not match the request host"));
        };

        // A Path attribute that does not start with `/` is still a Path
        // attribute, whose value is the default path (§5.6.4).
        let path_attribute = p.path.is_some();
        let path = match p.path {
            Some(path) if !path.is_empty() => path,
            _ => Cow::Borrowed(default_path(origin.path)),
        };
        if p.secure && !origin.secure {
            return Err(Error::rejected("Secure cookie from an insecure origin"));
        }
        if !p.secure && !origin.secure && shadows_secure(self, &p.name, &domain, &path) {
            return Err(Error::rejected(
                "would overwrite or shadow a Secure cookie from an insecure origin",
            ));
        }
        if starts_with_ignore_case(&p.name, "__Secure-") && !p.secure {
            return Err(Error::rejected("__Secure- prefix without Secure"));
        }
        // §5.7 step 21.3: a `/` path by default (a request to `/x`) is not
        // enough, the attribute-list must carry the Path attribute.
        if starts_with_ignore_case(&p.name, "__Host-")
            && !(p.secure && host_only && path_attribute && path == "/")
        {
            return Err(Error::rejected(
                "__Host- prefix needs Secure, no Domain and a Path=/ attribute",
            ));
        }

        // A domain other than the host is a parent domain of a name (an IP
        // address domain-matches only itself).
        let key = bucket_key(&domain, origin.is_ip && *domain == *origin.host);
        let (creation, mut last_access) = match source {
            Source::Received => (now_us, now_us),
            Source::Loaded {
                creation,
                last_access,
            } => (creation, last_access),
        };
        let expired = expires.is_some_and(|e| e <= now_s);
        let Store {
            buckets,
            total,
            next_seq,
        } = &mut *self;
        // One lookup: the bucket's key is made only for a new bucket.
        let bucket = match buckets.get_mut(key) {
            Some(bucket) => bucket,
            None if expired => return Ok(()),
            None => buckets.entry(Box::from(key)).or_default(),
        };
        let replaced = bucket.iter().position(|e| {
            e.cookie.name == p.name
                && e.cookie.domain == domain
                && e.cookie.host_only == host_only
                && e.cookie.path == path
        });
        if let Some(i) = replaced {
            if expired {
                // Deletion: the old cookie is gone, the new one expired.
                bucket.swap_remove(i);
                *total -= 1;
                if bucket.is_empty() {
                    buckets.remove(key);
                }
                return Ok(());
            }
            // The same cookie again: updated in place, keeping its creation
            // time, its order and the text it already holds.
            let old = &mut bucket[i];
            if matches!(source, Source::Loaded { .. }) {
                last_access = last_access.max(old.last_access.get());
            }
            let cookie = &mut old.cookie;
            if cookie.value != p.value {
                cookie.value.clear();
                cookie.value.push_str(&p.value);
            }
            cookie.secure = p.secure;
            cookie.http_only = p.http_only;
            cookie.same_site = p.same_site;
            cookie.expires = expires;
            cookie.last_access = last_access;
            old.last_access.set(last_access);
            return Ok(());
        }
        if expired {
            return Ok(());
        }
        *next_seq += 1;
        bucket.push(Entry {
            cookie: StoredCookie {
                name: p.name.into_owned(),
                value: p.value.into_owned(),
                domain: domain.into_owned(),
                path: path.into_owned(),
                host_only,
                secure: p.secure,
                http_only: p.http_only,
                same_site: p.same_site,
                expires,
                creation,
                last_access,
            },
            seq: *next_seq,
            last_access: Cell::new(last_access),
        });
        *total += 1;
        if bucket.len() > config.max_per_domain {
            evict_bucket(bucket, config.max_per_domain, now_s, total);
        }
        if self.total > config.max_total {
            self.evict_total(config.max_total, now_s);
        }
        Ok(())
    }
}

/// RFC 6265bis §5.7 step 16: an insecure origin may not overwrite or shadow a
/// Secure cookie with the same name.
fn shadows_secure(store: &Store, name: &str, domain: &str, path: &str) -> bool {
    let hit = |e: &Entry| {
        e.cookie.secure
            && e.cookie.name == name
            && (domain_match(domain, false, &e.cookie.domain)
                || domain_match(&e.cookie.domain, false, domain))
            && path_match(path, &e.cookie.path)
    };
    let is_ip = is_ip_literal(domain);
    if !is_ip && psl::domain_str(domain).is_none() {
        // No registrable domain (a public suffix, with the list off):
        // subdomain cookies may be in any bucket.
        return store.buckets.values().flatten().any(hit);
    }
    parents(domain, is_ip)
        .filter_map(|k| store.buckets.get(k))
        .flatten()
        .any(hit)
}

fn check_name_value(name: &str, value: &str) -> Result<()> {
    if name.bytes().chain(value.bytes()).any(is_forbidden_ctl) {
        return Err(Error::rejected("control character in name or value"));
    }
    if name.len() + value.len() > MAX_NAME_VALUE {
        return Err(Error::rejected("name and value longer than 4096 bytes"));
    }
    if name.is_empty() && value.is_empty() {
        return Err(Error::rejected("empty name and value"));
    }
    if name.contains(['=', ';']) || value.contains(';') {
        return Err(Error::rejected(
            "';' or '=' in the name, or ';' in the value",
        ));
    }
    if name.is_empty()
        && (starts_with_ignore_case(value, "__Secure-")
            || starts_with_ignore_case(value, "__Host-"))
    {
        return Err(Error::rejected("nameless cookie whose value has a prefix"));
    }
    Ok(())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Brings a bucket back to `max`: expired cookies first, then those that
/// are not Secure, then the Secure ones; the least recently used first
/// within each.
fn evict_bucket(bucket: &mut Vec<Entry>, max: usize, now_s: i64, total: &mut usize) {
    let before = bucket.len();
    bucket.retain(|e| !e.expired(now_s));
    while bucket.len() > max {
        let Some(i) = (0..bucket.len()).min_by_key(|&i| bucket[i].evict_key()) else {
            break;
        };
        bucket.swap_remove(i);
    }
    *total -= before - bucket.len();
}

impl Store {
    /// Adds a cookie read from a store outside this process to the bucket
    /// `key`, with its creation order `seq`, as it was stored there: no rule
    /// runs (it ran when the cookie was stored).
    pub(super) fn push_read(&mut self, key: &str, cookie: StoredCookie, seq: u64) {
        self.next_seq = self.next_seq.max(seq);
        let last_access = Cell::new(cookie.last_access);
        let bucket = match self.buckets.get_mut(key) {
            Some(bucket) => bucket,
            None => self.buckets.entry(Box::from(key)).or_default(),
        };
        bucket.push(Entry {
            cookie,
            seq,
            last_access,
        });
        self.total += 1;
    }

    /// Removes the bucket `key` if it is empty.
    pub(super) fn drop_empty(&mut self, key: &str) {
        if self.buckets.get(key).is_some_and(Vec::is_empty) {
            self.buckets.remove(key);
        }
    }

    /// Brings the jar below `max`: expired cookies first, then those that
    /// are not Secure, then the Secure ones, the least recently used first
    /// within each (the order of `evict_bucket`, and of Chromium's global
    /// purge), down to 90% of `max` so that the next inserts do not each pay
    /// for a full scan.
    fn evict_total(&mut self, max: usize, now_s: i64) {
        let mut removed = 0;
        self.buckets.retain(|_, bucket| {
            let before = bucket.len();
            bucket.retain(|e| !e.expired(now_s));
            removed += before - bucket.len();
            !bucket.is_empty()
        });
        self.total -= removed;
        if self.total <= max {
            return;
        }
        let target = max - max / 10;
        let mut order: Vec<(bool, i64, u64)> = self
            .buckets
            .values()
            .flatten()
            .map(Entry::evict_key)
            .collect();
        order.sort_unstable();
        let cut = order[self.total - target - 1];
        let mut removed = 0;
        self.buckets.retain(|_, bucket| {
            let before = bucket.len();
            bucket.retain(|e| e.evict_key() > cut);
            removed += before - bucket.len();
            !bucket.is_empty()
        });
        self.total -= removed;
    }
}
