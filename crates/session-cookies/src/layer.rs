//! [`CookieLayer`] and [`CookieService`]: a tower middleware that sends the
//! jar's cookies and stores the responses' `Set-Cookie`.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::Jar;

/// A [`Layer`] that wraps a service in a [`CookieService`] sharing `jar`.
///
/// Put it inside redirect handling, so that each hop is sent its own
/// cookies and each 3xx response's cookies are stored.
///
/// See the [crate docs](crate) for more details.
#[derive(Debug, Clone)]
pub struct CookieLayer {
    jar: Jar,
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

impl<S> Layer<S> for CookieLayer {
    type Service = CookieService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CookieService::new(inner, self.jar.clone())
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
/// See the [crate docs](crate) for more details.
#[derive(Debug, Clone)]
pub struct CookieService<S> {
    inner: S,
    jar: Jar,
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
