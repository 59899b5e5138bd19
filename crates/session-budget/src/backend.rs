//! [`BudgetBackend`]: where the budget of each host is kept, and
//! [`Backend`], the backends of this crate as one concrete type.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Limits;
use crate::error::Result;
use crate::memory::MemoryBudget;

/// What a backend answers a request for budget.
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// Send now; hand the lease back with
    /// [`BudgetBackend::release`] once the response head has arrived.
    Go(Lease),
    /// Not yet: ask again after this long (for a rate, the exact time until
    /// the request is due; for a full concurrency cap, a short poll).
    Wait(Duration),
}

/// The right to send one request to a host: a slot of its concurrency cap,
/// when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    host: Arc<str>,
    id: Option<u64>,
    /// Taken from a shared backend's local fallback.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) local: bool,
}

impl Lease {
    /// The lease `id` of a host's concurrency cap (for a backend of your own).
    pub fn new(host: impl Into<Arc<str>>, id: u64) -> Lease {
        Lease {
            host: host.into(),
            id: Some(id),
            local: false,
        }
    }

    /// A lease that holds no slot: the host has no concurrency cap.
    pub fn unlimited(host: impl Into<Arc<str>>) -> Lease {
        Lease {
            host: host.into(),
            id: None,
            local: false,
        }
    }

    /// The host's key: `scheme://host:port`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The slot it holds, if any.
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn into_local(mut self) -> Lease {
        self.local = true;
        self
    }
}

/// Where the budgets are kept: [`MemoryBudget`] in one process,
/// `RedisBudget` (feature `redis`) for a fleet, or your own.
///
/// Hosts are named by their key, `scheme://host:port`; the limits come with
/// each call, so a backend keeps only state (the next due time, the leases,
/// a pause). Every call is atomic for its host.
pub trait BudgetBackend: Clone + Send + Sync + 'static {
    /// Asks to send one request to `host` now: [`Decision::Go`] with a
    /// lease (the request is counted against the rate, and holds a slot of
    /// the cap), or [`Decision::Wait`] (nothing is counted).
    ///
    /// # Errors
    /// The backend cannot answer ([`Error::is_unavailable`](crate::Error::is_unavailable)).
    fn acquire(&self, host: &str, limits: &Limits)
        -> impl Future<Output = Result<Decision>> + Send;

    /// Hands a lease back: its slot is free for the next request. A lease
    /// that is never handed back frees its slot after
    /// [`Limits::lease_ttl`].
    ///
    /// # Errors
    /// The backend cannot be reached; the lease then expires on its own.
    fn release(&self, lease: Lease) -> impl Future<Output = Result<()>> + Send;

    /// The host asked everyone to slow down (`429`, `Retry-After`): no
    /// request to it is let through for `pause`, measured on the backend's
    /// clock, and after the pause the rate starts with an empty burst.
    ///
    /// # Errors
    /// The backend cannot be reached.
    fn push_back(
        &self,
        host: &str,
        limits: &Limits,
        pause: Duration,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The backends of this crate as one concrete type, for code that chooses
/// at run time (the `http-session` facade's `SessionBuilder::budget`).
/// `From` each backend.
///
/// ```
/// use session_budget::{Backend, MemoryBudget};
///
/// let backend: Backend = MemoryBudget::new().into();
/// # let _ = backend;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Backend {
    /// One process's budget.
    Memory(MemoryBudget),
    /// A fleet's budget, kept in Redis.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    Redis(crate::redis::RedisBudget),
}

impl Default for Backend {
    fn default() -> Self {
        Backend::Memory(MemoryBudget::new())
    }
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Memory(m) => m.fmt(f),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.fmt(f),
        }
    }
}

impl From<MemoryBudget> for Backend {
    fn from(backend: MemoryBudget) -> Self {
        Backend::Memory(backend)
    }
}

#[cfg(feature = "redis")]
impl From<crate::redis::RedisBudget> for Backend {
    fn from(backend: crate::redis::RedisBudget) -> Self {
        Backend::Redis(backend)
    }
}

impl BudgetBackend for Backend {
    async fn acquire(&self, host: &str, limits: &Limits) -> Result<Decision> {
        match self {
            Backend::Memory(m) => m.acquire(host, limits).await,
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.acquire(host, limits).await,
        }
    }

    async fn release(&self, lease: Lease) -> Result<()> {
        match self {
            Backend::Memory(m) => m.release(lease).await,
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.release(lease).await,
        }
    }

    async fn push_back(&self, host: &str, limits: &Limits, pause: Duration) -> Result<()> {
        match self {
            Backend::Memory(m) => m.push_back(host, limits, pause).await,
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.push_back(host, limits, pause).await,
        }
    }
}
