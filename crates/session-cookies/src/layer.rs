//! [`CookieLayer`] and [`CookieService`]: a tower middleware that sends the
//! jar's cookies and stores the responses' `Set-Cookie`.
//!
//! Over the local [`Jar`] (the default store) the service calls the jar
//! directly, under its lock, and its future is the inner one plus the
//! storing of the response's cookies. Over a [`RemoteStore`] it awaits the
//! store before sending and after receiving, and fails the request when the
//! store cannot be read or written.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::error::BoxError;
use crate::future::{ResponseFuture, StoreResponseFuture};
use crate::headers::merge_cookie_header;
use crate::store::RemoteStore;
use crate::Jar;

/// A [`Layer`] that wraps a service in a [`CookieService`] sharing `jar`
/// (the local [`Jar`] by default, or a [`RemoteStore`] such as a
/// [`RedisJar`](crate::RedisJar), with [`with_store`](Self::with_store)).
///
/// Put it inside redirect handling, so that each hop is sent its own
/// cookies and each 3xx response's cookies are stored.
///
/// See the [crate docs](crate) for more details.
#[derive(Debug, Clone)]
pub struct CookieLayer<C = Jar> {
    jar: C,
}

impl CookieLayer {
    /// A layer whose services all use `jar` (a handle: clones share cookies).
    pub fn new(jar: Jar) -> Self {
        CookieLayer { jar }
    }

    /// The jar.
    pub fn jar(&self) -> &Jar {
        &self.jar
    }
}

impl<C> CookieLayer<C> {
    /// A layer whose services all keep cookies in `store` (a handle: clones
    /// share cookies).
    pub fn with_store(store: C) -> Self {
        CookieLayer { jar: store }
    }

    /// The store.
    pub fn store(&self) -> &C {
        &self.jar
    }
}

impl<S, C: Clone> Layer<S> for CookieLayer<C> {
    type Service = CookieService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        CookieService::with_store(inner, self.jar.clone())
    }
}

/// Adds the [`Jar`]'s `Cookie` header to each `http::Request<B>` and stores
/// the `Set-Cookie` headers of every `http::Response<B>` (1xx to 5xx).
///
/// The request URI must be in absolute form (`http://host/path`, as
/// `hyper_util::client::legacy::Client` takes it); a request without scheme
/// and host passes through untouched.
///
/// A `Cookie` header already on the request is kept: the jar's cookies are
/// appended to it, except those whose name it already carries, and the result
/// is sent as one `Cookie` header.
///
/// Over a [`RemoteStore`] the service's error is a [`BoxError`]: the inner
/// service's error, or this crate's [`Error`](crate::Error) (see
/// [`Error::is_unavailable`](crate::Error::is_unavailable)) when the store
/// could not be read before the request or written after the response.
///
/// See the [crate docs](crate) for more details.
#[derive(Debug, Clone)]
pub struct CookieService<S, C = Jar> {
    inner: S,
    jar: C,
}

impl<S, C> CookieService<S, C> {
    /// Wraps `inner`, keeping cookies in `store`.
    pub fn with_store(inner: S, store: C) -> Self {
        CookieService { inner, jar: store }
    }

    /// The store.
    pub fn store(&self) -> &C {
        &self.jar
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> CookieService<S> {
    /// Wraps `inner`, sending and storing cookies with `jar`.
    pub fn new(inner: S, jar: Jar) -> Self {
        CookieService { inner, jar }
    }

    /// A [`CookieLayer`] with `jar`.
    pub fn layer(jar: Jar) -> CookieLayer {
        CookieLayer::new(jar)
    }

    /// The jar.
    pub fn jar(&self) -> &Jar {
        &self.jar
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CookieService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let uri = req.uri();
        if uri.scheme().is_none() || uri.authority().is_none() {
            // Not an absolute URI: nothing to match cookies against.
            return ResponseFuture::new(self.inner.call(req), self.jar.clone(), None);
        }
        let uri = uri.clone();
        // An empty jar (checked without its lock) has nothing to send.
        if !self.jar.is_empty() {
            self.jar.add_request_cookies(&uri, req.headers_mut());
        }
        ResponseFuture::new(self.inner.call(req), self.jar.clone(), Some(uri))
    }
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for CookieService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    C: RemoteStore,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = StoreResponseFuture<Response<ResBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The service that was made ready goes into the future; this one
        // keeps a clone (tower's "clone, then swap").
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let store = self.jar.clone();
        StoreResponseFuture::new(async move {
            let uri = req.uri();
            if uri.scheme().is_none() || uri.authority().is_none() {
                // Not an absolute URI: nothing to match cookies against.
                return inner.call(req).await.map_err(Into::into);
            }
            let uri = uri.clone();
            let cookies = store.cookies_for(&uri).await?;
            merge_cookie_header(req.headers_mut(), &cookies);
            let res = inner.call(req).await.map_err(Into::into)?;
            store.store_response(&uri, res.headers()).await?;
            Ok(res)
        })
    }
}
