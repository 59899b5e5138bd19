//! [`Pending`]: the future of a request on its way, as `send()` returns it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use crate::error::{Error, Result, TimedOut, TimeoutKind};
use crate::response::Response;
use crate::target::TargetUrl;
use crate::trace::{self, SpanSlot};
use crate::transport::BoxFuture;

/// A request on its way through the session's stack; resolves to the
/// [`Response`] once its head has arrived, or fails when the request's
/// total timeout passes first.
///
/// It is a plain struct rather than an `async fn`'s state machine: it holds
/// the stack's one boxed future, the request's URL and its timer, and turns
/// the answer into a [`Response`].
#[must_use = "futures do nothing unless polled"]
pub struct Pending {
    state: State,
}

// The large variant is the common one; boxing it would cost an allocation
// per request to save a few bytes on the error path.
#[allow(clippy::large_enum_variant)]
enum State {
    Sending(Sending),
    Failed(Option<Error>),
}

struct Sending {
    future: BoxFuture,
    url: Option<TargetUrl>,
    start: Instant,
    /// The session's or request's timeout, as a timer (only when one is set).
    timer: Option<Pin<Box<Sleep>>>,
    max_body: usize,
    /// The request's span (see [`trace`]), entered while polled.
    span: SpanSlot,
}

impl Pending {
    /// `start` is when the request went down the stack: the total timeout
    /// and [`Response::elapsed`](crate::Response::elapsed) count from it.
    pub(crate) fn new(
        future: BoxFuture,
        url: TargetUrl,
        start: Instant,
        timeout: Option<Duration>,
        max_body: usize,
        span: SpanSlot,
    ) -> Self {
        let timer = timeout.map(|t| Box::pin(tokio::time::sleep_until(start + t)));
        Pending {
            state: State::Sending(Sending {
                future,
                url: Some(url),
                start,
                timer,
                max_body,
                span,
            }),
        }
    }

    pub(crate) fn failed(err: Error) -> Self {
        Pending {
            state: State::Failed(Some(err)),
        }
    }
}

impl Future for Pending {
    type Output = Result<Response>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Response>> {
        let sending = match &mut self.get_mut().state {
            State::Failed(err) => {
                return Poll::Ready(Err(err.take().expect("Pending polled after completion")))
            }
            State::Sending(sending) => sending,
        };
        let _entered = sending.span.enter();
        if let Poll::Ready(result) = sending.future.as_mut().poll(cx) {
            let url = sending.url.take().expect("Pending polled after completion");
            let deadline = sending.timer.as_ref().map(|t| t.deadline());
            return Poll::Ready(match result {
                Ok(response) => {
                    trace::record_response(sending.span.get(), &response);
                    Ok(Response::new(
                        response,
                        url,
                        (sending.start, Instant::now()),
                        deadline,
                        sending.max_body,
                    ))
                }
                Err(err) => {
                    let err = Error::from_boxed(err);
                    trace::record_error(sending.span.get(), &err);
                    Err(err.with_url(url.into_url()))
                }
            });
        }
        if let Some(timer) = sending.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                let url = sending.url.take().expect("Pending polled after completion");
                let err = Error::timeout(TimedOut(TimeoutKind::Total));
                trace::record_error(sending.span.get(), &err);
                return Poll::Ready(Err(err.with_url(url.into_url())));
            }
        }
        Poll::Pending
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}
