//! [`RetryService`]: the service that retries.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::body::{ReplayBody, Template};
use crate::config::{Config, Retry};
use crate::error::{BoxError, Result};
use crate::future::ResponseFuture;
use crate::layer::RetryLayer;

/// Retries requests to the inner service as its [`Retry`] configuration
/// says; every response it returns carries a
/// [`RetryHistory`](crate::RetryHistory) in its extensions.
///
/// It serves `http::Request<B>` for any replayable body `B` (see
/// [`ReplayBody`]) and any response body, and returns a
/// [`BoxError`] (an [`Error`](crate::Error) once a request was sent).
///
/// ```
/// use session_retry::{Retry, RetryService};
/// use tower::service_fn;
///
/// let transport = service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// let service = RetryService::new(transport, Retry::new().total(2))?;
/// # let _ = service;
/// # Ok::<(), session_retry::Error>(())
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct RetryService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> RetryService<S> {
    /// Wraps `inner`.
    ///
    /// # Errors
    /// A builder [`Error`](crate::Error) for a bad setting (see
    /// [`Retry::validate`]).
    pub fn new(inner: S, retry: Retry) -> Result<Self> {
        Ok(RetryService::from_config(
            inner,
            Arc::new(retry.into_config()?),
        ))
    }

    /// A [`RetryLayer`] for these settings (tower-http's `Foo::layer()`).
    ///
    /// # Errors
    /// As [`RetryLayer::new`].
    pub fn layer(retry: Retry) -> Result<RetryLayer> {
        RetryLayer::new(retry)
    }

    pub(crate) fn from_config(inner: S, config: Arc<Config>) -> Self {
        RetryService { inner, config }
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

impl<S: fmt::Debug> fmt::Debug for RetryService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryService")
            .field("inner", &self.inner)
            .field("retry", &self.config)
            .finish()
    }
}

impl<S, B, RB> Service<Request<B>> for RetryService<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    RB: http_body::Body,
{
    type Response = Response<RB>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let config = self.config.clone();
        if let Some(budget) = &config.budget {
            budget.deposit();
        }
        let idempotent =
            config.is_idempotent(req.method(), |name| req.headers().contains_key(name));
        let template = if config.may_retry() {
            Template::boxed(&req)
        } else {
            None
        };
        // Call the service that was made ready, keep it for the retries and
        // leave a fresh clone in its place (as tower's `Retry` does).
        let clone = self.inner.clone();
        let mut service = std::mem::replace(&mut self.inner, clone);
        let span = crate::future::attempt_span(0);
        let future = {
            let _entered = span.as_deref().map(tracing::Span::enter);
            service.call(req)
        };
        ResponseFuture::new(future, service, template, config, idempotent, span)
    }
}
