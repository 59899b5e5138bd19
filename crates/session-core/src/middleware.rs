//! Middleware: one `async fn` that sees each request and calls [`Next`].
//!
//! ```
//! use session_core::middleware::{Middleware, Next};
//! use session_core::{Body, Error};
//!
//! /// Adds a request id to every request, and logs the status.
//! struct RequestId;
//!
//! impl Middleware for RequestId {
//!     async fn handle(
//!         &self,
//!         mut req: http::Request<Body>,
//!         next: Next,
//!     ) -> Result<http::Response<Body>, Error> {
//!         req.headers_mut().insert("x-request-id", http::HeaderValue::from_static("42"));
//!         let res = next.run(req).await?;
//!         println!("status {}", res.status());
//!         Ok(res)
//!     }
//! }
//! ```
//!
//! A closure works too, through [`from_fn`]. Any tower [`Layer`](tower_layer::Layer)
//! composes the same way (`SessionBuilder::layer`). Where a middleware sits in
//! the stack is shown in the [crate docs](crate#the-stack).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::ServiceExt;

use crate::body::Body;
use crate::error::{BoxError, Error};
use crate::transport::BoxTransport;

/// A middleware: sees a request, may change it, calls `next`, may change the
/// response. See the [module docs](self).
pub trait Middleware: Send + Sync + 'static {
    /// Handles one request.
    fn handle(
        &self,
        req: http::Request<Body>,
        next: Next,
    ) -> impl Future<Output = Result<http::Response<Body>, Error>> + Send;
}

/// The rest of the stack below a middleware.
#[derive(Debug, Clone)]
pub struct Next {
    inner: BoxTransport,
}

impl Next {
    /// Sends the request through the rest of the stack.
    ///
    /// # Errors
    /// Whatever the layers below or the transport return.
    pub async fn run(self, req: http::Request<Body>) -> Result<http::Response<Body>, Error> {
        self.inner.oneshot(req).await.map_err(Error::from_boxed)
    }
}

/// A middleware made from a closure `|req, next| async move { ... }`.
///
/// ```
/// use session_core::middleware::from_fn;
///
/// let mw = from_fn(|mut req: http::Request<session_core::Body>, next| async move {
///     req.headers_mut().insert("x-from-fn", http::HeaderValue::from_static("1"));
///     next.run(req).await
/// });
/// # let _ = mw;
/// ```
pub fn from_fn<F, Fut>(f: F) -> FromFn<F>
where
    F: Fn(http::Request<Body>, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<http::Response<Body>, Error>> + Send,
{
    FromFn { f }
}

/// See [`from_fn`].
#[derive(Clone, Copy)]
pub struct FromFn<F> {
    f: F,
}

impl<F> std::fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromFn").finish_non_exhaustive()
    }
}

impl<F, Fut> Middleware for FromFn<F>
where
    F: Fn(http::Request<Body>, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<http::Response<Body>, Error>> + Send,
{
    fn handle(
        &self,
        req: http::Request<Body>,
        next: Next,
    ) -> impl Future<Output = Result<http::Response<Body>, Error>> + Send {
        (self.f)(req, next)
    }
}

/// A tower [`Layer`](tower_layer::Layer) that runs a [`Middleware`].
#[derive(Debug)]
pub struct MiddlewareLayer<M> {
    middleware: Arc<M>,
}

impl<M> Clone for MiddlewareLayer<M> {
    fn clone(&self) -> Self {
        MiddlewareLayer {
            middleware: self.middleware.clone(),
        }
    }
}

impl<M: Middleware> MiddlewareLayer<M> {
    /// Wraps a middleware.
    pub fn new(middleware: M) -> Self {
        MiddlewareLayer {
            middleware: Arc::new(middleware),
        }
    }
}

impl<M: Middleware> tower_layer::Layer<BoxTransport> for MiddlewareLayer<M> {
    type Service = MiddlewareService<M>;

    fn layer(&self, inner: BoxTransport) -> Self::Service {
        MiddlewareService {
            middleware: self.middleware.clone(),
            inner,
        }
    }
}

/// The service a [`MiddlewareLayer`] makes.
#[derive(Debug)]
pub struct MiddlewareService<M> {
    middleware: Arc<M>,
    inner: BoxTransport,
}

impl<M> Clone for MiddlewareService<M> {
    fn clone(&self) -> Self {
        MiddlewareService {
            middleware: self.middleware.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<M: Middleware> tower_service::Service<http::Request<Body>> for MiddlewareService<M> {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // `Next::run` drives readiness of the inner stack itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let middleware = self.middleware.clone();
        let next = Next {
            inner: self.inner.clone(),
        };
        Box::pin(async move {
            middleware
                .handle(req, next)
                .await
                .map_err(|err| Box::new(err) as BoxError)
        })
    }
}
