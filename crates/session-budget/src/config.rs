//! [`Budget`] and [`Limits`]: what each host may receive.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;

/// The default [`Limits::lease_ttl`]: 30 seconds.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// How long a request waits, by default, before asking again when its
/// host's concurrency cap is full: 20 ms (`MemoryBudget::concurrency_poll`,
/// and the Redis backend's).
pub const DEFAULT_CONCURRENCY_POLL: Duration = Duration::from_millis(20);

/// The default [`Budget::pause_on_429`]: 1 second.
pub const DEFAULT_PAUSE_ON_429: Duration = Duration::from_secs(1);

/// A rate: `count` requests per `per`, of which up to `burst` may go at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    per: Duration,
    burst: u32,
}

impl Rate {
    /// `count` requests per `per`; `burst` of them may go back to back
    /// (`1`: strictly one every `per / count`).
    pub fn new(count: u32, per: Duration, burst: u32) -> Rate {
        Rate { count, per, burst }
    }

    /// The requests allowed per [`per`](Self::per).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The period of [`count`](Self::count).
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The requests that may go back to back.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The time between two requests at the steady rate: `per / count`
    /// (GCRA's emission interval).
    pub fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

/// The limits of one host: a [`Rate`], a concurrency cap, and how long a
/// concurrency lease lives if its holder dies. No limit is set by
/// [`Limits::new`].
///
/// ```
/// use std::time::Duration;
/// use session_budget::Limits;
///
/// // 5 requests a second after a burst of 2, at most 3 in flight.
/// let limits = Limits::new()
///     .rate(5, Duration::from_secs(1), 2)
///     .max_concurrent(3)
///     .lease_ttl(Duration::from_secs(10));
/// assert_eq!(limits.rate_limit().unwrap().interval(), Duration::from_millis(200));
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    rate: Option<Rate>,
    max_concurrent: Option<u32>,
    lease_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new()
    }
}

impl Limits {
    /// No limit; leases (when a cap is set) live [`DEFAULT_LEASE_TTL`].
    pub fn new() -> Limits {
        Limits {
            rate: None,
            max_concurrent: None,
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }

    /// At most `count` requests per `per`, up to `burst` of them back to
    /// back (GCRA: a request waits until it is due, then the next one is
    /// due `per / count` later).
    #[must_use]
    pub fn rate(mut self, count: u32, per: Duration, burst: u32) -> Limits {
        self.rate = Some(Rate::new(count, per, burst));
        self
    }

    /// At most `max` requests in flight at once (a request holds its lease
    /// until its response head arrives).
    #[must_use]
    pub fn max_concurrent(mut self, max: u32) -> Limits {
        self.max_concurrent = Some(max);
        self
    }

    /// How long a concurrency lease lives when its holder neither releases
    /// it nor is heard from again (a worker that died): others may then
    /// take its place. Keep it longer than the slowest response head you
    /// expect: a lease that expires while its request still waits for its
    /// answer lets one more request in.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Limits {
        self.lease_ttl = ttl;
        self
    }

    /// The rate, if one is set.
    pub fn rate_limit(&self) -> Option<Rate> {
        self.rate
    }

    /// The concurrency cap, if one is set.
    pub fn concurrency_limit(&self) -> Option<u32> {
        self.max_concurrent
    }

    /// How long a lease lives unless released.
    pub fn lease_ttl_value(&self) -> Duration {
        self.lease_ttl
    }

    /// Neither a rate nor a cap.
    pub fn is_unlimited(&self) -> bool {
        self.rate.is_none() && self.max_concurrent.is_none()
    }

    /// One process's share when `workers` processes each keep their own
    /// budget (a shared backend that cannot reach its store): the rate's
    /// period times `workers` (its interval too), the burst and the cap
    /// divided by `workers` but at least 1 (a share of 0 would stop every
    /// request, so a cap smaller than `workers` is exceeded by the fleet:
    /// at most `workers` in flight).
    pub fn share(&self, workers: u32) -> Limits {
        let workers = workers.max(1);
        Limits {
            rate: self.rate.map(|rate| Rate {
                count: rate.count,
                per: rate.per.saturating_mul(workers),
                burst: (rate.burst / workers).max(1),
            }),
            max_concurrent: self.max_concurrent.map(|k| (k / workers).max(1)),
            lease_ttl: self.lease_ttl,
        }
    }

    fn validate(&self, whose: &str) -> Result<(), Error> {
        if let Some(rate) = self.rate {
            if rate.count == 0 || rate.per.is_zero() || rate.burst == 0 {
                return Err(Error::config(format!(
                    "{whose}: a rate needs a count, a period and a burst above zero \
                     (got {} per {:?}, burst {})",
                    rate.count, rate.per, rate.burst
                )));
            }
            if rate.interval() < Duration::from_micros(1) {
                return Err(Error::config(format!(
                    "{whose}: {} per {:?} is more than one request a microsecond",
                    rate.count, rate.per
                )));
            }
        }
        if self.max_concurrent == Some(0) {
            return Err(Error::config(format!(
                "{whose}: max_concurrent(0) would never send a request"
            )));
        }
        if self.max_concurrent.is_some() && self.lease_ttl < Duration::from_millis(1) {
            return Err(Error::config(format!("{whose}: a lease TTL under 1 ms")));
        }
        Ok(())
    }
}

/// A host pattern: `api.example.com`, `api.example.com:8443`, or
/// `*.example.com` (any subdomain, not `example.com` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Suffix(String),
    /// A pattern that did not parse: `validate` reports it.
    Bad(String),
}

impl Pattern {
    fn parse(text: &str) -> Pattern {
        let text = text.trim().to_ascii_lowercase();
        if let Some(rest) = text.strip_prefix("*.") {
            if rest.is_empty() || rest.contains(['*', '/']) {
                return Pattern::Bad(text);
            }
            return Pattern::Suffix(format!(".{rest}"));
        }
        if text.is_empty() || text.contains(['*', '/']) {
            return Pattern::Bad(text);
        }
        Pattern::Exact(text)
    }

    fn matches(&self, host: &HostKey) -> bool {
        match self {
            Pattern::Exact(p) => *p == host.host || *p == host.host_port(),
            Pattern::Suffix(suffix) => host.host.ends_with(suffix.as_str()),
            Pattern::Bad(_) => false,
        }
    }
}

/// What a request is counted against: its scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostKey {
    /// `https://api.example.com:443`: the budget's key.
    pub(crate) key: Arc<str>,
    host: String,
    port: u16,
}

impl HostKey {
    /// The key of an absolute URI; `None` for a URI without a host.
    pub(crate) fn of(uri: &http::Uri) -> Option<HostKey> {
        let host = uri.host()?.to_ascii_lowercase();
        let scheme = uri.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(match scheme.as_str() {
            "https" | "wss" => 443,
            _ => 80,
        });
        Some(HostKey {
            key: format!("{scheme}://{host}:{port}").into(),
            host,
            port,
        })
    }

    fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The budget of every host: [`Limits`] for hosts or host patterns, and a
/// default for the others (each host has a budget of its own). Without a
/// default, hosts that no pattern matches are not limited.
///
/// ```
/// use std::time::Duration;
/// use session_budget::{Budget, Limits};
///
/// let budget = Budget::new()
///     .default_limits(Limits::new().rate(10, Duration::from_secs(1), 5))
///     .host("api.example.com", Limits::new().rate(2, Duration::from_secs(1), 1).max_concurrent(1))
///     .host("*.cdn.example.com", Limits::new().max_concurrent(8));
/// assert!(!budget.is_unlimited());
/// assert!(session_budget::Budget::new().is_unlimited());
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct Budget {
    default: Option<Arc<Limits>>,
    hosts: Vec<(Pattern, Arc<Limits>)>,
    pause_on_429: Duration,
    retry_after_max: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new()
    }
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("default", &self.default)
            .field("hosts", &self.hosts)
            .field("pause_on_429", &self.pause_on_429)
            .field("retry_after_max", &self.retry_after_max)
            .finish()
    }
}

impl Budget {
    /// No limit for any host.
    pub fn new() -> Budget {
        Budget {
            default: None,
            hosts: Vec::new(),
            pause_on_429: DEFAULT_PAUSE_ON_429,
            retry_after_max: session_retry::DEFAULT_RETRY_AFTER_MAX,
        }
    }

    /// The limits of every host that no [`host`](Self::host) pattern
    /// matches (each host has its own budget of these limits).
    #[must_use]
    pub fn default_limits(mut self, limits: Limits) -> Budget {
        self.default = Some(Arc::new(limits));
        self
    }

    /// The limits of the hosts `pattern` matches: `api.example.com`,
    /// `api.example.com:8443` (that port only) or `*.example.com` (its
    /// subdomains). An exact pattern wins over a `*.` one; among `*.`
    /// patterns, the longest wins. A bad pattern makes the layer's
    /// constructor fail.
    #[must_use]
    pub fn host(mut self, pattern: &str, limits: Limits) -> Budget {
        self.hosts.push((Pattern::parse(pattern), Arc::new(limits)));
        self
    }

    /// How long a `429 Too Many Requests` without a usable `Retry-After`
    /// pauses its host (default [`DEFAULT_PAUSE_ON_429`]; zero: not at all).
    #[must_use]
    pub fn pause_on_429(mut self, pause: Duration) -> Budget {
        self.pause_on_429 = pause;
        self
    }

    /// The longest pause a `Retry-After` may impose (default: session-retry's
    /// `DEFAULT_RETRY_AFTER_MAX`, 6 hours); longer values are capped.
    #[must_use]
    pub fn retry_after_max(mut self, max: Duration) -> Budget {
        self.retry_after_max = max;
        self
    }

    /// No host is limited: the layer passes every request through.
    pub fn is_unlimited(&self) -> bool {
        self.default.as_ref().is_none_or(|l| l.is_unlimited())
            && self.hosts.iter().all(|(_, l)| l.is_unlimited())
    }

    /// The pause a response asks its host for: `Retry-After` on a `429` or
    /// `503` (capped), or [`pause_on_429`](Self::pause_on_429) for a `429`
    /// without a usable one.
    pub(crate) fn pause_for(
        &self,
        status: http::StatusCode,
        headers: &http::HeaderMap,
    ) -> Option<Duration> {
        let too_many = status == http::StatusCode::TOO_MANY_REQUESTS;
        if !too_many && status != http::StatusCode::SERVICE_UNAVAILABLE {
            return None;
        }
        let asked = session_retry::parse_retry_after(headers, std::time::SystemTime::now())
            .filter(|wait| !wait.is_zero());
        let pause = match asked {
            Some(wait) => wait.min(self.retry_after_max),
            None if too_many => self.pause_on_429,
            None => return None,
        };
        (!pause.is_zero()).then_some(pause)
    }

    /// Checks every setting.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if let Some(default) = &self.default {
            default.validate("default limits")?;
        }
        for (pattern, limits) in &self.hosts {
            match pattern {
                Pattern::Bad(p) => {
                    return Err(Error::config(format!(
                        "bad host pattern `{p}`: use `host`, `host:port` or `*.domain`"
                    )));
                }
                Pattern::Exact(p) | Pattern::Suffix(p) => limits.validate(p)?,
            }
        }
        Ok(())
    }

    /// The limits of a host, if it has any.
    pub(crate) fn limits_for(&self, host: &HostKey) -> Option<&Arc<Limits>> {
        let mut best: Option<(&Arc<Limits>, usize)> = None;
        for (pattern, limits) in &self.hosts {
            if !pattern.matches(host) {
                continue;
            }
            let rank = match pattern {
                Pattern::Suffix(s) => s.len(),
                _ => usize::MAX,
            };
            if best.is_none_or(|(_, r)| rank > r) {
                best = Some((limits, rank));
            }
        }
        best.map(|(l, _)| l)
            .or(self.default.as_ref())
            .filter(|l| !l.is_unlimited())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str) -> HostKey {
        HostKey::of(&uri.parse().unwrap()).unwrap()
    }

    #[test]
    fn host_keys_fill_the_default_port() {
        assert_eq!(
            &*key("https://API.example.com/x").key,
            "https://api.example.com:443"
        );
        assert_eq!(&*key("http://a.test:8080/").key, "http://a.test:8080");
        assert!(HostKey::of(&"/relative".parse().unwrap()).is_none());
    }

    #[test]
    fn exact_beats_longest_suffix_beats_default() {
        let l = |n| Limits::new().max_concurrent(n);
        let budget = Budget::new()
            .default_limits(l(1))
            .host("*.example.com", l(2))
            .host("*.api.example.com", l(3))
            .host("v1.api.example.com", l(4))
            .host("other.test:8443", l(5));
        let cap = |uri| {
            budget
                .limits_for(&key(uri))
                .and_then(|l| l.concurrency_limit())
        };
        assert_eq!(cap("https://v1.api.example.com/"), Some(4));
        assert_eq!(cap("https://v2.api.example.com/"), Some(3));
        assert_eq!(cap("https://www.example.com/"), Some(2));
        assert_eq!(cap("https://example.com/"), Some(1));
        assert_eq!(cap("https://other.test:8443/"), Some(5));
        assert_eq!(cap("https://other.test/"), Some(1));
        budget.validate().unwrap();
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let bad = [
            Budget::new().default_limits(Limits::new().rate(0, Duration::from_secs(1), 1)),
            Budget::new().default_limits(Limits::new().rate(1, Duration::ZERO, 1)),
            Budget::new().default_limits(Limits::new().rate(1, Duration::from_secs(1), 0)),
            Budget::new().default_limits(Limits::new().max_concurrent(0)),
            Budget::new().host("a/b", Limits::new()),
            Budget::new().host("*.", Limits::new()),
        ];
        for budget in bad {
            let err = budget.validate().unwrap_err();
            assert!(err.is_config(), "{err}");
        }
    }

    #[test]
    fn a_share_is_never_the_full_limit_nor_zero() {
        let limits = Limits::new()
            .rate(10, Duration::from_secs(1), 4)
            .max_concurrent(6);
        let share = limits.share(4);
        assert_eq!(
            share.rate_limit().unwrap().interval(),
            Duration::from_millis(400)
        );
        assert_eq!(share.rate_limit().unwrap().burst(), 1);
        assert_eq!(share.concurrency_limit(), Some(1));
        let share = Limits::new().max_concurrent(1).share(3);
        assert_eq!(share.concurrency_limit(), Some(1));
    }

    #[test]
    fn pauses_come_from_429_and_503() {
        use http::{header::RETRY_AFTER, HeaderMap, HeaderValue, StatusCode};
        let budget = Budget::new().retry_after_max(Duration::from_secs(60));
        let mut headers = HeaderMap::new();
        let pause = |status, headers: &HeaderMap| budget.pause_for(status, headers);
        assert_eq!(
            pause(StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(DEFAULT_PAUSE_ON_429)
        );
        assert_eq!(pause(StatusCode::SERVICE_UNAVAILABLE, &headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(
            pause(StatusCode::SERVICE_UNAVAILABLE, &headers),
            Some(Duration::from_secs(3))
        );
        assert_eq!(pause(StatusCode::OK, &headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("9999"));
        assert_eq!(
            pause(StatusCode::TOO_MANY_REQUESTS, &headers),
            Some(Duration::from_secs(60))
        );
    }
}
