//! [`RedisBudget`]: one budget for every process that shares a Redis
//! server (feature `redis`).

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError, Script};
use tokio::time::Instant;

use crate::backend::{BudgetBackend, Decision, Lease};
use crate::config::{Limits, DEFAULT_CONCURRENCY_POLL};
use crate::error::{Error, Result};
use crate::memory::MemoryBudget;

/// The default key prefix: `session-budget`.
pub const DEFAULT_KEY_PREFIX: &str = "session-budget";

/// Shared helpers of the scripts: the server's clock in microseconds, and
/// numbers written in full (Lua's own conversion keeps 14 digits, fewer
/// than a time in microseconds has).
const PRELUDE: &str = r"
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function fmt(n) return string.format('%.0f', n) end
";

/// KEYS: tat, leases, pause, seq. ARGV (µs unless said): rate interval (0:
/// none), burst, cap (0: none), lease TTL, poll. Returns {1, lease id (0:
/// none)} or {0, wait}.
const ACQUIRE: &str = r"
local now = now_us()
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return {0, pause - now} end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local poll = tonumber(ARGV[5])
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(now))
  if redis.call('ZCARD', KEYS[2]) >= cap then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    local wait = tonumber(first[2]) - now
    if wait > poll then wait = poll end
    if wait < 1 then wait = 1 end
    return {0, wait}
  end
end
if interval > 0 then
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  tat = tat + interval
  local tolerance = interval * burst
  if tat - now > tolerance then return {0, tat - tolerance - now} end
  redis.call('SET', KEYS[1], fmt(tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
if cap > 0 then
  local id = redis.call('INCR', KEYS[4])
  local ttl_ms = math.ceil(ttl / 1000) + 1000
  redis.call('PEXPIRE', KEYS[4], ttl_ms)
  redis.call('ZADD', KEYS[2], fmt(now + ttl), id)
  redis.call('PEXPIRE', KEYS[2], ttl_ms)
  return {1, id}
end
return {1, 0}
";

/// KEYS: tat, pause. ARGV: pause (µs), rate interval (µs, 0: none), burst.
const PUSH_BACK: &str = r"
local now = now_us()
local wait = tonumber(ARGV[1])
local till = now + wait
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if till > pause then
  redis.call('SET', KEYS[2], fmt(till), 'PX', math.ceil(wait / 1000) + 1000)
end
local interval = tonumber(ARGV[2])
if interval > 0 then
  local floor = till + interval * (tonumber(ARGV[3]) - 1)
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if floor > tat then
    redis.call('SET', KEYS[1], fmt(floor), 'PX', math.ceil((floor - now) / 1000) + 1000)
  end
end
return 1
";

/// What a [`RedisBudget`] does while Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WhenDown {
    /// Each process keeps a local budget of `1 / workers` of each limit.
    Share(u32),
    /// Requests to limited hosts fail with an unavailable [`Error`].
    Fail,
}

/// One budget for a fleet: every process whose [`RedisBudget`] uses the
/// same Redis server and key prefix shares each host's rate, concurrency
/// cap and pauses.
///
/// Each operation is one Lua script, atomic on the server, that reads the
/// clock from Redis (`TIME`), never from the workers:
///
/// - the rate is a GCRA: the key `PREFIX:{HOST}:tat` holds the time the
///   next request is due; a request that is early is told exactly how long
///   to wait;
/// - the cap is a sorted set `PREFIX:{HOST}:leases` of lease ids scored by
///   their expiry; expired leases are removed on every call, so a worker
///   that died frees its slots after the lease TTL;
/// - a pause (`429`, `Retry-After`) is `PREFIX:{HOST}:pause`, the time until
///   which no worker sends, and moves the due time past it.
///
/// Every key expires on its own once it no longer matters. A Redis that
/// restarts empty starts every host afresh (one burst may follow).
///
/// # When Redis is down, slow or restarting
///
/// A command that fails or takes longer than the response timeout (default
/// 500 ms; connecting: 1 s) marks Redis down for
/// [`recheck_after`](RedisBudgetBuilder::recheck_after) (default 1 s), with a
/// `tracing` warning; then it is tried again, and a success (logged) returns
/// every new request to the shared budget. Meanwhile the builder's choice
/// applies, which has to be made:
///
/// - [`fallback_share(workers)`](RedisBudgetBuilder::fallback_share): each
///   process goes on with a local budget of its share of every limit
///   ([`Limits::share`]: the rate divided by `workers`, the burst and the cap
///   too but at least 1), never the full limit in every process;
/// - [`fail_when_unavailable()`](RedisBudgetBuilder::fail_when_unavailable):
///   requests to limited hosts fail with an [`Error`] whose
///   [`is_unavailable`](Error::is_unavailable) is true.
///
/// ```no_run
/// use std::time::Duration;
/// use session_budget::{Budget, BudgetLayer, Limits, RedisBudget};
///
/// # fn main() -> Result<(), session_budget::Error> {
/// let backend = RedisBudget::builder("redis://127.0.0.1:6379/")
///     .fallback_share(8) // 8 workers: each keeps 1/8 of every limit while Redis is down
///     .build()?;
/// let budget = Budget::new().default_limits(Limits::new().rate(10, Duration::from_secs(1), 2).max_concurrent(4));
/// let layer = BudgetLayer::new(budget, backend)?;
/// # let _ = layer; Ok(()) }
/// ```
///
/// Clones share one connection. See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct RedisBudget {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// The server's address, without credentials, for errors and logs.
    address: String,
    config: AsyncConnectionConfig,
    prefix: String,
    when_down: WhenDown,
    recheck: Duration,
    poll: Duration,
    acquire: Script,
    push_back: Script,
    fallback: MemoryBudget,
    link: Mutex<Link>,
    connecting: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Link {
    conn: Option<MultiplexedConnection>,
    down: bool,
    retry_at: Option<Instant>,
}

/// Why Redis was not asked or did not answer.
enum Down {
    /// Marked down by an earlier failure; not tried again yet.
    Marked,
    Failed(RedisError),
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("address", &self.inner.address)
            .field("prefix", &self.inner.prefix)
            .field("when_down", &self.inner.when_down)
            .field("recheck", &self.inner.recheck)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisBudget`]; see there.
#[must_use]
#[derive(Debug, Clone)]
pub struct RedisBudgetBuilder {
    url: String,
    prefix: String,
    when_down: Option<WhenDown>,
    connect_timeout: Duration,
    response_timeout: Duration,
    recheck: Duration,
    poll: Duration,
}

impl RedisBudget {
    /// A builder for the Redis server at `url` (`redis://host:port/db`).
    pub fn builder(url: impl Into<String>) -> RedisBudgetBuilder {
        RedisBudgetBuilder {
            url: url.into(),
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            when_down: None,
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(500),
            recheck: Duration::from_secs(1),
            poll: DEFAULT_CONCURRENCY_POLL,
        }
    }

    /// True while Redis is marked down (the fallback or the error applies).
    pub fn is_down(&self) -> bool {
        self.inner.lock().down
    }
}

impl RedisBudgetBuilder {
    /// The prefix of every key (default [`DEFAULT_KEY_PREFIX`]): fleets with
    /// different prefixes have separate budgets on one server.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// While Redis is down, each process keeps a local budget of
    /// `1 / expected_workers` of every limit ([`Limits::share`]).
    pub fn fallback_share(mut self, expected_workers: u32) -> Self {
        self.when_down = Some(WhenDown::Share(expected_workers));
        self
    }

    /// While Redis is down, requests to limited hosts fail with an
    /// unavailable [`Error`].
    pub fn fail_when_unavailable(mut self) -> Self {
        self.when_down = Some(WhenDown::Fail);
        self
    }

    /// How long connecting may take (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a command may take before Redis counts as down (default
    /// 500 ms): a slow Redis is a Redis that is down.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How long Redis stays marked down after a failure before it is tried
    /// again (default 1 s).
    pub fn recheck_after(mut self, wait: Duration) -> Self {
        self.recheck = wait;
        self
    }

    /// How long a request waits before asking again when its host's
    /// concurrency cap is full (default
    /// [`DEFAULT_CONCURRENCY_POLL`](crate::DEFAULT_CONCURRENCY_POLL)); at
    /// least 1 ms.
    pub fn concurrency_poll(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(1));
        self
    }

    /// The backend. It connects on first use, so Redis need not be up yet.
    ///
    /// # Errors
    /// A [config](Error::is_config) error for a URL that does not parse, a
    /// share of zero workers, or when neither
    /// [`fallback_share`](Self::fallback_share) nor
    /// [`fail_when_unavailable`](Self::fail_when_unavailable) was chosen.
    pub fn build(self) -> Result<RedisBudget> {
        let when_down = self.when_down.ok_or_else(|| {
            Error::config(
                "RedisBudget: choose what happens while Redis is down: \
                 fallback_share(expected_workers) or fail_when_unavailable()",
            )
        })?;
        if when_down == WhenDown::Share(0) {
            return Err(Error::config("RedisBudget: fallback_share(0)"));
        }
        let address = without_credentials(&self.url);
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| Error::config(format!("bad Redis URL {address}: {e}")))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout));
        Ok(RedisBudget {
            inner: Arc::new(Inner {
                client,
                address,
                config,
                prefix: self.prefix,
                when_down,
                recheck: self.recheck,
                poll: self.poll,
                acquire: Script::new(&format!("{PRELUDE}{ACQUIRE}")),
                push_back: Script::new(&format!("{PRELUDE}{PUSH_BACK}")),
                fallback: MemoryBudget::new(),
                link: Mutex::new(Link::default()),
                connecting: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

/// `redis://user:secret@host:6379/0` as `redis://host:6379/0`.
fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Link> {
        self.link.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(&self, host: &str, what: &str) -> String {
        // The hash tag keeps a host's keys in one cluster slot.
        format!("{}:{{{host}}}:{what}", self.prefix)
    }

    /// The connection, connecting if needed; `Down::Marked` while Redis is
    /// marked down and not due for a retry.
    async fn connection(&self) -> std::result::Result<MultiplexedConnection, Down> {
        let usable = |link: &Link| -> Option<std::result::Result<MultiplexedConnection, Down>> {
            if let Some(conn) = &link.conn {
                return Some(Ok(conn.clone()));
            }
            match link.retry_at {
                Some(at) if Instant::now() < at => Some(Err(Down::Marked)),
                _ => None,
            }
        };
        if let Some(found) = usable(&self.lock()) {
            return found;
        }
        let _connecting = self.connecting.lock().await;
        if let Some(found) = usable(&self.lock()) {
            return found;
        }
        match self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
        {
            Ok(conn) => {
                self.lock().conn = Some(conn.clone());
                Ok(conn)
            }
            Err(err) => {
                self.mark_down(&err);
                Err(Down::Failed(err))
            }
        }
    }

    fn mark_down(&self, err: &RedisError) {
        let mut link = self.lock();
        link.conn = None;
        link.retry_at = Some(Instant::now() + self.recheck);
        if !link.down {
            link.down = true;
            match self.when_down {
                WhenDown::Share(workers) => tracing::warn!(
                    redis = %self.address, error = %err, workers,
                    "Redis is unavailable: each process now keeps a local budget of 1/{workers} of every limit"
                ),
                WhenDown::Fail => tracing::warn!(
                    redis = %self.address, error = %err,
                    "Redis is unavailable: requests to limited hosts fail until it is back"
                ),
            }
        }
    }

    fn mark_up(&self) {
        let mut link = self.lock();
        link.retry_at = None;
        if link.down {
            link.down = false;
            tracing::info!(redis = %self.address, "Redis is back: the budget is shared again");
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> std::result::Result<T, Down> {
        let mut conn = self.connection().await?;
        match invocation.invoke_async(&mut conn).await {
            Ok(value) => {
                self.mark_up();
                Ok(value)
            }
            Err(err) => {
                self.mark_down(&err);
                Err(Down::Failed(err))
            }
        }
    }

    fn unavailable(&self, down: Down) -> Error {
        match down {
            Down::Failed(err) => Error::unavailable(self.address.clone(), err),
            Down::Marked => Error::unavailable(
                self.address.clone(),
                format!(
                    "marked down by an earlier failure; tried again {:?} after it",
                    self.recheck
                ),
            ),
        }
    }

    async fn acquire(&self, host: &str, limits: &Limits) -> Result<Decision> {
        let (interval, burst) = limits
            .rate_limit()
            .map_or((0, 0), |r| (micros(r.interval()).max(1), r.burst()));
        let cap = limits.concurrency_limit().unwrap_or(0);
        let mut invocation = self.acquire.prepare_invoke();
        invocation
            .key(self.key(host, "tat"))
            .key(self.key(host, "leases"))
            .key(self.key(host, "pause"))
            .key(self.key(host, "seq"))
            .arg(interval)
            .arg(burst)
            .arg(cap)
            .arg(micros(limits.lease_ttl_value()).max(1))
            .arg(micros(self.poll).max(1));
        match self.run::<(i64, i64)>(&invocation).await {
            Ok((1, 0)) => Ok(Decision::Go(Lease::unlimited(host))),
            Ok((1, id)) => Ok(Decision::Go(Lease::new(host, id.unsigned_abs()))),
            Ok((_, wait)) => Ok(Decision::Wait(Duration::from_micros(
                wait.unsigned_abs().max(1),
            ))),
            Err(down) => match self.when_down {
                WhenDown::Fail => Err(self.unavailable(down)),
                WhenDown::Share(workers) => {
                    let share = limits.share(workers);
                    match self
                        .fallback
                        .acquire_at(host, &share, Instant::now(), self.poll)
                    {
                        Decision::Go(lease) => Ok(Decision::Go(lease.into_local())),
                        wait => Ok(wait),
                    }
                }
            },
        }
    }

    async fn release(&self, lease: Lease) -> Result<()> {
        let Some(id) = lease.id() else { return Ok(()) };
        if lease.local {
            self.fallback.release_now(&lease);
            return Ok(());
        }
        let mut conn = self.connection().await.map_err(|d| self.unavailable(d))?;
        redis::cmd("ZREM")
            .arg(self.key(lease.host(), "leases"))
            .arg(id)
            .query_async::<i64>(&mut conn)
            .await
            .map_err(|err| {
                self.mark_down(&err);
                self.unavailable(Down::Failed(err))
            })?;
        Ok(())
    }

    async fn push_back(&self, host: &str, limits: &Limits, pause: Duration) -> Result<()> {
        let (interval, burst) = limits
            .rate_limit()
            .map_or((0, 1), |r| (micros(r.interval()).max(1), r.burst()));
        let mut invocation = self.push_back.prepare_invoke();
        invocation
            .key(self.key(host, "tat"))
            .key(self.key(host, "pause"))
            .arg(micros(pause))
            .arg(interval)
            .arg(burst);
        match self.run::<i64>(&invocation).await {
            Ok(_) => Ok(()),
            Err(down) => {
                // Paused locally in any case: this process at least obeys.
                let workers = match self.when_down {
                    WhenDown::Share(workers) => workers,
                    WhenDown::Fail => 1,
                };
                self.fallback
                    .push_back_at(host, &limits.share(workers), pause, Instant::now());
                match self.when_down {
                    WhenDown::Fail => Err(self.unavailable(down)),
                    WhenDown::Share(_) => Ok(()),
                }
            }
        }
    }
}

impl BudgetBackend for RedisBudget {
    fn acquire(
        &self,
        host: &str,
        limits: &Limits,
    ) -> impl Future<Output = Result<Decision>> + Send {
        self.inner.acquire(host, limits)
    }

    fn release(&self, lease: Lease) -> impl Future<Output = Result<()>> + Send {
        self.inner.release(lease)
    }

    fn push_back(
        &self,
        host: &str,
        limits: &Limits,
        pause: Duration,
    ) -> impl Future<Output = Result<()>> + Send {
        self.inner.push_back(host, limits, pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_out_of_errors() {
        assert_eq!(
            without_credentials("redis://u:secret@h:6379/0"),
            "redis://h:6379/0"
        );
        assert_eq!(without_credentials("redis://h:6379/"), "redis://h:6379/");
    }

    #[test]
    fn the_choice_when_down_is_required() {
        let err = RedisBudget::builder("redis://127.0.0.1:1/")
            .build()
            .unwrap_err();
        assert!(err.is_config(), "{err}");
        assert!(RedisBudget::builder("redis://127.0.0.1:1/")
            .fallback_share(0)
            .build()
            .is_err());
        assert!(RedisBudget::builder("redis://127.0.0.1:1/")
            .fallback_share(2)
            .build()
            .is_ok());
    }
}
