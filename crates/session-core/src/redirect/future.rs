//! The future of [`FollowRedirect`](super::FollowRedirect).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::policy::Policy;
use super::service::Unanswered;

use crate::body::Body;
use crate::error::BoxError;
use crate::trace::{self, SpanSlot};

pub(crate) type BoxFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

pin_project! {
    /// The response of a request and of every redirect it led to.
    ///
    /// The first request is polled in place; only a redirect answer starts the
    /// boxed loop that follows the chain.
    pub struct ResponseFuture<S, P>
    where
        S: tower_service::Service<http::Request<Body>>,
    {
        #[pin]
        state: State<S, P>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, P>
    where
        S: tower_service::Service<http::Request<Body>>,
    {
        Sent {
            #[pin]
            future: S::Future,
            hop: Option<Unanswered<S, P>>,
            // The first hop's span, entered while polled.
            span: SpanSlot,
        },
        Follow {
            future: BoxFuture,
        },
    }
}

impl<S, P> ResponseFuture<S, P>
where
    S: tower_service::Service<http::Request<Body>>,
{
    #[inline]
    pub(crate) fn sent(future: S::Future, hop: Unanswered<S, P>, span: SpanSlot) -> Self {
        ResponseFuture {
            state: State::Sent {
                future,
                hop: Some(hop),
                span,
            },
        }
    }

    pub(crate) fn follow(future: BoxFuture) -> Self {
        ResponseFuture {
            state: State::Follow { future },
        }
    }
}

impl<S, P> fmt::Debug for ResponseFuture<S, P>
where
    S: tower_service::Service<http::Request<Body>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, P> Future for ResponseFuture<S, P>
where
    S: crate::transport::BodyService,
    P: Policy + Clone + Send + 'static,
{
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Sent { future, hop, span } => {
                    let result = {
                        let _entered = span.enter();
                        ready!(future.poll(cx)).map_err(Into::into)
                    };
                    match &result {
                        Ok(res) => trace::record_response(span.get(), res),
                        Err(err) => trace::record_boxed_error(span.get(), err),
                    }
                    // The hop is over: its span closes before the next one opens.
                    span.close();
                    if !matches!(&result, Ok(res) if super::location::is_redirect(res.status())) {
                        // The common case: the kept request is dropped where
                        // it lies, and the answer returned as it is.
                        *hop = None;
                        return Poll::Ready(result);
                    }
                    let hop = hop.take().expect("polled after completion");
                    this.state.set(State::Follow {
                        future: hop.follow(result),
                    });
                }
                StateProj::Follow { future } => return future.as_mut().poll(cx),
            }
        }
    }
}
