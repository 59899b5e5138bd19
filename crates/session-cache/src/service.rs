//! [`CacheService`]: the service that answers from the cache.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, Request, Response};
use tower_service::Service;

use crate::body::{CacheBody, CacheKeyBody};
use crate::config::Cache;
use crate::flight::Flights;
use crate::flow;
use crate::future::ResponseFuture;
use crate::key::Seen;
use crate::layer::CacheLayer;
use crate::store::BoxError;

/// What the layer's services share: the settings (and store) and the
/// single-flight table.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Cache,
    pub(crate) flights: Arc<Flights>,
}

impl Shared {
    pub(crate) fn new(config: Cache) -> Self {
        Shared {
            config,
            flights: Arc::new(Flights::default()),
        }
    }
}

/// Answers requests from the cache when it may, else asks the inner service
/// and stores what may be stored (see the [crate docs](crate)). Every
/// response carries a [`CacheStatus`](crate::CacheStatus).
///
/// It serves `http::Request<B>` for a body `B` that is [`CacheKeyBody`] and
/// returns `http::Response<CacheBody<RB>>` for the inner service's
/// response body `RB`; errors are [`BoxError`]s.
///
/// ```
/// use session_cache::{Cache, CacheService};
/// use tower::service_fn;
///
/// let origin = service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// let service = CacheService::new(origin, Cache::private());
/// # let _ = service;
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct CacheService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> CacheService<S> {
    /// Wraps `inner` with a cache of these settings.
    pub fn new(inner: S, cache: Cache) -> Self {
        CacheService {
            inner,
            shared: Arc::new(Shared::new(cache)),
        }
    }

    /// A [`CacheLayer`] with these settings (tower-http's `Foo::layer()`).
    pub fn layer(cache: Cache) -> CacheLayer {
        CacheLayer::new(cache)
    }

    pub(crate) fn from_shared(inner: S, shared: Arc<Shared>) -> Self {
        CacheService { inner, shared }
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

impl<S: fmt::Debug> fmt::Debug for CacheService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheService")
            .field("inner", &self.inner)
            .field("cache", &self.shared.config)
            .finish()
    }
}

/// What the cache does with a request.
enum Class {
    /// Nothing: the inner service's future as it is.
    Pass,
    /// Looked up, fetched, stored.
    Cache(Seen),
    /// An unsafe method: sent, then the URL's entries removed (RFC 9111
    /// §4.4).
    Invalidate,
}

/// What the cache does with a request, from its method and one pass over
/// its header names (what that pass found is kept for [`flow::start`]).
fn classify<B: CacheKeyBody>(config: &Cache, req: &Request<B>) -> Class {
    let method = req.method();
    let unsafe_method = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let seen = Seen::of(req.headers());
    if config.methods.contains(method)
        && !seen.conditional
        && (*method != Method::POST || req.body().key_bytes().is_some())
    {
        Class::Cache(seen)
    } else if unsafe_method {
        Class::Invalidate
    } else {
        // A conditional or range request is the caller's own business with
        // the origin; other methods are not cached.
        Class::Pass
    }
}

impl<S, B, RB> Service<Request<B>> for CacheService<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: CacheKeyBody + Send + 'static,
    RB: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<CacheBody<RB>>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // Take the service made ready and leave a clone (as tower's `Retry`).
        let clone = self.inner.clone();
        let mut service = std::mem::replace(&mut self.inner, clone);
        match classify(&self.shared.config, &req) {
            Class::Pass => ResponseFuture::pass(service.call(req)),
            Class::Cache(seen) => match flow::start(&self.shared, &req, seen) {
                flow::Start::Miss(miss) => ResponseFuture::miss(service.call(req), miss),
                flow::Start::Handle(prepared) => ResponseFuture::cache(Box::pin(flow::handle(
                    self.shared.clone(),
                    service,
                    req,
                    prepared,
                ))),
            },
            Class::Invalidate => ResponseFuture::cache(Box::pin(flow::invalidate(
                self.shared.clone(),
                service,
                req,
            ))),
        }
    }
}
