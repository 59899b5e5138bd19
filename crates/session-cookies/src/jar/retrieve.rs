//! The retrieval algorithm (RFC 6265bis §5.8.3): which stored cookies a
//! request gets, and in what order.

use super::origin::{domain_match, parents, path_match, Origin};
use super::store::{Entry, Store};

impl Store {
    /// The cookies that go to `origin` at `now_s`, in `Cookie` header order,
    /// leaving out those for which `skip(name)` is true.
    pub(super) fn sent_to(
        &self,
        origin: &Origin<'_>,
        now_s: i64,
        skip: impl Fn(&str) -> bool,
    ) -> Vec<&Entry> {
        let mut hits: Vec<&Entry> = Vec::new();
        for key in parents(&origin.host, origin.is_ip) {
            if let Some(bucket) = self.buckets.get(key) {
                hits.extend(
                    bucket
                        .iter()
                        .filter(|e| matches(e, origin, now_s) && !skip(&e.cookie.name)),
                );
            }
        }
        hits.sort_unstable_by(|a, b| send_order(a, b));
        hits
    }
}

/// Whether the cookie of `e` goes to `origin` at `now_s`: its domain and
/// path match, it is not Secure or the origin is, and it has not expired.
fn matches(e: &Entry, origin: &Origin<'_>, now_s: i64) -> bool {
    let c = &e.cookie;
    let domain_ok = if c.host_only {
        c.domain == origin.host
    } else {
        domain_match(&origin.host, origin.is_ip, &c.domain)
    };
    domain_ok
        && path_match(origin.path, &c.path)
        && (!c.secure || origin.secure)
        && !e.expired(now_s)
}

/// Sort order of the Cookie header (RFC 6265bis §5.8.3): longer paths first,
/// then earlier creation.
pub(super) fn send_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    b.cookie
        .path
        .len()
        .cmp(&a.cookie.path.len())
        .then(a.cookie.creation.cmp(&b.cookie.creation))
        .then(a.seq.cmp(&b.seq))
}
