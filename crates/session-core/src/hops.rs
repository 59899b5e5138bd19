//! [`Hops`]: what the auth service sends each hop to: the router's stack
//! as it is, or the user's hop layers over it.

use std::task::{Context, Poll};

use crate::body::Body;
use crate::error::BoxError;
use crate::transport::{BoxTransport, OrBoxed};

/// The services under the auth service: the concrete stack over the router,
/// or, when the session has hop layers, those layers over it (erased).
#[derive(Clone)]
pub(crate) enum Hops<S> {
    Stack(S),
    Layered(BoxTransport),
}

impl<S> tower_service::Service<http::Request<Body>> for Hops<S>
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = OrBoxed<S::Future>;

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
            Hops::Stack(stack) => OrBoxed::inline(stack.call(req)),
            Hops::Layered(layered) => OrBoxed::boxed(layered.send(req)),
        }
    }
}
