//! [`ResponseFuture`], the future of [`CookieService`](crate::CookieService)
//! over the local jar, and [`StoreResponseFuture`], its future over a
//! [`RemoteStore`](crate::RemoteStore).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::error::BoxError;
use crate::Jar;

pin_project! {
    /// Response future of [`CookieService`](crate::CookieService): stores the
    /// response's `Set-Cookie` headers in the jar when it completes.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        jar: Jar,
        uri: Option<http::Uri>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, jar: Jar, uri: Option<http::Uri>) -> Self {
        ResponseFuture { inner, jar, uri }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
        if let Some(uri) = this.uri.as_ref() {
            this.jar.store_response_headers(uri, res.headers());
        }
        Poll::Ready(Ok(res))
    }
}

/// Response future of [`CookieService`](crate::CookieService) over a
/// [`RemoteStore`](crate::RemoteStore): reads the store, sends the request,
/// then writes the response's cookies to the store.
pub struct StoreResponseFuture<T> {
    inner: Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>,
}

impl<T> StoreResponseFuture<T> {
    pub(crate) fn new(f: impl Future<Output = Result<T, BoxError>> + Send + 'static) -> Self {
        StoreResponseFuture { inner: Box::pin(f) }
    }
}

impl<T> fmt::Debug for StoreResponseFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreResponseFuture")
            .finish_non_exhaustive()
    }
}

impl<T> Future for StoreResponseFuture<T> {
    type Output = Result<T, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}
