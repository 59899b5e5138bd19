//! [`Hops`]: what the auth service sends each hop to: the router's stack
//! as it is, or the user's hop layers over it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::body::Body;
use crate::error::BoxError;
use crate::transport::{BoxFuture, BoxTransport};

/// The services under the auth service: the concrete stack over the router,
/// or, when the session has hop layers, those layers over it (erased).
#[derive(Clone)]
pub(crate) enum Hops<S> {
    Stack(S),
    Layered(BoxTransport),
}

pin_project! {
    /// The future of [`Hops`].
    #[project = HopFutureProj]
    pub(crate) enum HopFuture<F> {
        Stack { #[pin] future: F },
        Layered { future: BoxFuture },
    }
}

impl<F, E> Future for HopFuture<F>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<Body>, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HopFutureProj::Stack { future } => future.poll(cx).map_err(Into::into),
            HopFutureProj::Layered { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S> tower_service::Service<http::Request<Body>> for Hops<S>
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = HopFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Hops::Stack(stack) => stack.poll_ready(cx).map_err(Into::into),
            Hops::Layered(layered) => layered.poll_ready(cx),
        }
    }

    #[inline]
    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        match self {
            Hops::Stack(stack) => HopFuture::Stack {
                future: stack.call(req),
            },
            Hops::Layered(layered) => HopFuture::Layered {
                future: layered.send(req),
            },
        }
    }
}
