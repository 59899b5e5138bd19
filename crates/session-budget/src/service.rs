//! [`BudgetService`]: the service that waits for its host's budget.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::backend::{BudgetBackend, Decision, Lease};
use crate::config::{Budget, HostKey, Limits};
use crate::error::{BoxError, Result};
use crate::future::ResponseFuture;
use crate::layer::BudgetLayer;

/// What the layer and its services share.
pub(crate) struct Shared<B> {
    pub(crate) budget: Budget,
    pub(crate) backend: B,
    unlimited: bool,
}

impl<B> Shared<B> {
    pub(crate) fn new(budget: Budget, backend: B) -> Self {
        Shared {
            unlimited: budget.is_unlimited(),
            budget,
            backend,
        }
    }
}

/// Waits, before each request, until its host's budget lets it go; holds a
/// concurrency lease until the response head arrives; and pauses the host
/// (for everyone sharing the backend) when it answers `429` or `503` with
/// `Retry-After`.
///
/// It serves `http::Request<B>` for any body and returns a [`BoxError`]:
/// the inner service's error, or an [`Error`](crate::Error) when the backend
/// cannot be asked. A request whose host has no limits (or no host) is
/// passed through with no allocation and no call to the backend.
///
/// ```
/// use std::time::Duration;
/// use session_budget::{Budget, BudgetService, Limits, MemoryBudget};
/// use tower::{service_fn, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), session_budget::BoxError> {
/// let transport = service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// let budget = Budget::new().default_limits(Limits::new().rate(2, Duration::from_secs(1), 1));
/// let service = BudgetService::new(transport, budget, MemoryBudget::new())?;
/// let start = tokio::time::Instant::now();
/// for _ in 0..3 {
///     let req = http::Request::get("https://api.example.com/").body(String::new())?;
///     service.clone().oneshot(req).await?;
/// }
/// assert_eq!(start.elapsed(), Duration::from_secs(1)); // 0, 0.5 and 1 s
/// # Ok(()) }
/// ```
///
/// See the [crate docs](crate) for more details.
pub struct BudgetService<S, B> {
    inner: S,
    shared: Arc<Shared<B>>,
}

impl<S: Clone, B> Clone for BudgetService<S, B> {
    fn clone(&self) -> Self {
        BudgetService {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S, B: BudgetBackend> BudgetService<S, B> {
    /// Wraps `inner`.
    ///
    /// # Errors
    /// As [`BudgetLayer::new`].
    pub fn new(inner: S, budget: Budget, backend: B) -> Result<Self> {
        budget.validate()?;
        Ok(BudgetService::from_shared(
            inner,
            Arc::new(Shared::new(budget, backend)),
        ))
    }

    /// A [`BudgetLayer`] (tower-http's `Foo::layer()`).
    ///
    /// # Errors
    /// As [`BudgetLayer::new`].
    pub fn layer(budget: Budget, backend: B) -> Result<BudgetLayer<B>> {
        BudgetLayer::new(budget, backend)
    }
}

impl<S, B> BudgetService<S, B> {
    pub(crate) fn from_shared(inner: S, shared: Arc<Shared<B>>) -> Self {
        BudgetService { inner, shared }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, to change it.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug, B: fmt::Debug> fmt::Debug for BudgetService<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetService")
            .field("inner", &self.inner)
            .field("budget", &self.shared.budget)
            .field("backend", &self.shared.backend)
            .finish()
    }
}

impl<S, B, ReqB, RB> Service<Request<ReqB>> for BudgetService<S, B>
where
    S: Service<Request<ReqB>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: BudgetBackend,
    ReqB: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        if self.shared.unlimited {
            return ResponseFuture::direct(self.inner.call(req));
        }
        let Some(host) = HostKey::of(req.uri()) else {
            return ResponseFuture::direct(self.inner.call(req));
        };
        let Some(limits) = self.shared.budget.limits_for(&host).cloned() else {
            return ResponseFuture::direct(self.inner.call(req));
        };
        // Keep the service that was made ready for after the wait, and
        // leave a fresh clone in its place (as tower's `Retry` does).
        let clone = self.inner.clone();
        let service = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        ResponseFuture::limited(Box::pin(send_within_budget(
            service, shared, host.key, limits, req,
        )))
    }
}

/// Waits for the budget, sends, releases the lease when the head arrives,
/// and pauses the host if the answer asks for it.
async fn send_within_budget<S, B, ReqB, RB>(
    mut service: S,
    shared: Arc<Shared<B>>,
    host: Arc<str>,
    limits: Arc<Limits>,
    req: Request<ReqB>,
) -> std::result::Result<Response<RB>, BoxError>
where
    S: Service<Request<ReqB>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    B: BudgetBackend,
{
    let lease = loop {
        match shared.backend.acquire(&host, &limits).await? {
            Decision::Go(lease) => break lease,
            Decision::Wait(wait) => {
                tracing::trace!(host = %host, ?wait, "waiting for the host's budget");
                tokio::time::sleep(wait).await;
            }
        }
    };
    let held = Held {
        backend: &shared.backend,
        lease: Some(lease),
    };
    // Ready again: the wait may have been long.
    std::future::poll_fn(|cx| service.poll_ready(cx))
        .await
        .map_err(Into::into)?;
    let result = service.call(req).await.map_err(Into::into);
    if let Ok(response) = &result {
        if let Some(pause) = shared
            .budget
            .pause_for(response.status(), response.headers())
        {
            tracing::debug!(host = %host, status = %response.status(), ?pause, "the host asked to slow down: pausing it");
            if let Err(err) = shared.backend.push_back(&host, &limits, pause).await {
                tracing::warn!(host = %host, error = %err, "could not pause the host's budget");
            }
        }
    }
    held.release().await;
    result
}

/// A lease until it is handed back; dropped unreleased (the request was
/// cancelled), it is handed back by a task of its own.
struct Held<'a, B: BudgetBackend> {
    backend: &'a B,
    lease: Option<Lease>,
}

impl<B: BudgetBackend> Held<'_, B> {
    async fn release(mut self) {
        if let Some(lease) = self.lease.take().filter(|l| l.id().is_some()) {
            let host: Arc<str> = lease.host().into();
            if let Err(err) = self.backend.release(lease).await {
                tracing::debug!(host = %host, error = %err, "could not release a lease: it expires on its own");
            }
        }
    }
}

impl<B: BudgetBackend> Drop for Held<'_, B> {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take().filter(|l| l.id().is_some()) else {
            return;
        };
        // Without a runtime (it is shutting down) the lease expires on its own.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let backend = self.backend.clone();
            handle.spawn(async move {
                let _ = backend.release(lease).await;
            });
        }
    }
}
