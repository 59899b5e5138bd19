//! [`Pending`]: the future of a request on its way, as `send()` returns it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::time::{Instant, Sleep};

use crate::auth::layer::ResponseFuture as AuthFuture;
use crate::body::Body;
use crate::error::{BoxError, Error, Result, TimedOut};
use crate::recipe::Recipe;
use crate::redirect::location::is_redirect;
use crate::response::Response;
use crate::retry::{wait, AfterAttempt, AfterFirst, AttemptRequest, RequestRetries, Wait};
use crate::session::Session;
use crate::simple_url::LazyUrl;
use crate::transport::BoxFuture;

/// A request on its way through the session's stack; resolves to the
/// [`Response`] once its head has arrived.
///
/// It is a plain struct rather than an `async fn`'s state machine, so the
/// request is not copied from one nested future into the next on the way
/// down the stack.
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
    future: Hop,
    url: Option<LazyUrl>,
    start: Instant,
    /// The session's or request's timeout, as a timer (only when one is set).
    timer: Option<Pin<Box<Sleep>>>,
    max_body: usize,
}

/// Where the response comes from.
enum Hop {
    /// A stack's boxed future: the whole request, redirects included.
    Boxed(BoxFuture),
    /// The first hop, sent by the session through its built-in stack; a
    /// redirect answer is rebuilt from the recipe and handed to the
    /// redirect loop (then `Boxed`).
    First {
        step: Step,
        session: Session,
        recipe: Option<Recipe>,
        /// The request's retries, once its retry policy retried it.
        retries: Option<Box<dyn RequestRetries>>,
    },
}

/// Where a first hop is.
enum Step {
    /// An attempt is on its way.
    Sending(AuthFuture<BoxFuture>),
    /// Between two attempts.
    Waiting(Wait),
}

impl Pending {
    #[inline]
    pub(crate) fn sending(
        future: BoxFuture,
        url: LazyUrl,
        timeout: Option<std::time::Duration>,
        max_body: usize,
    ) -> Self {
        Pending::start(Hop::Boxed(future), url, timeout, max_body)
    }

    #[inline]
    pub(crate) fn first_hop(
        future: AuthFuture<BoxFuture>,
        session: Session,
        recipe: Recipe,
        url: LazyUrl,
        timeout: Option<std::time::Duration>,
        max_body: usize,
    ) -> Self {
        let hop = Hop::First {
            step: Step::Sending(future),
            session,
            recipe: Some(recipe),
            retries: None,
        };
        Pending::start(hop, url, timeout, max_body)
    }

    #[inline]
    fn start(
        future: Hop,
        url: LazyUrl,
        timeout: Option<std::time::Duration>,
        max_body: usize,
    ) -> Self {
        let start = Instant::now();
        let timer = timeout.map(|t| Box::pin(tokio::time::sleep_until(start + t)));
        Pending {
            state: State::Sending(Sending {
                future,
                url: Some(url),
                start,
                timer,
                max_body,
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

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Response>> {
        let sending = match &mut self.get_mut().state {
            State::Failed(err) => {
                return Poll::Ready(Err(err.take().expect("Pending polled after completion")))
            }
            State::Sending(sending) => sending,
        };
        if let Poll::Ready(result) = sending.poll_hop(cx) {
            let url = sending.url.take().expect("Pending polled after completion");
            let deadline = sending.timer.as_ref().map(|t| t.deadline());
            return Poll::Ready(match result {
                Ok(response) => Ok(Response::new(
                    response,
                    url,
                    (sending.start, Instant::now()),
                    deadline,
                    sending.max_body,
                )),
                Err(err) => Err(Error::from_boxed(err).with_url(url.into_url())),
            });
        }
        if let Some(timer) = sending.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                let url = sending.url.take().expect("Pending polled after completion");
                let err = Error::timeout(TimedOut("total")).with_url(url.into_url());
                return Poll::Ready(Err(err));
            }
        }
        Poll::Pending
    }
}

impl Sending {
    /// Polls the hop. A first hop whose attempt is retried is sent again; one
    /// answered with a redirect turns into the redirect loop, polled at once.
    #[inline(always)]
    fn poll_hop(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<std::result::Result<http::Response<Body>, BoxError>> {
        let (step, session, recipe, retries) = match &mut self.future {
            Hop::Boxed(future) => return future.as_mut().poll(cx),
            Hop::First {
                step,
                session,
                recipe,
                retries,
            } => (step, session, recipe, retries),
        };
        let result = loop {
            let future = match step {
                Step::Sending(future) => future,
                Step::Waiting(wait) => {
                    ready!(wait.as_mut().poll(cx));
                    let recipe = recipe.as_ref().expect("Pending polled after completion");
                    let url = self.url.as_ref().expect("Pending polled after completion");
                    let uri = match url.to_uri() {
                        Ok(uri) => uri,
                        Err(err) => return Poll::Ready(Err(Box::new(Error::builder(err)))),
                    };
                    let req = recipe
                        .again(uri)
                        .expect("only a replayable request is retried");
                    *step = Step::Sending(session.send_attempt(req, url));
                    continue;
                }
            };
            let mut result = ready!(Pin::new(future).poll(cx));
            let url = self.url.as_ref().expect("Pending polled after completion");
            // Before a retry or a redirect sends the next request with them.
            if let Ok(res) = &result {
                session.store_cookies(res, url);
            }
            let policy = session.retry_policy();
            if retries.is_none() && policy.is_none() {
                // The common answer returns from here, without moving
                // through the redirect check below.
                let redirect = matches!(&result, Ok(res) if is_redirect(res.status()));
                if !redirect {
                    return Poll::Ready(result);
                }
                break result;
            }
            let recipe = recipe.as_ref().expect("Pending polled after completion");
            let request = AttemptRequest::new(recipe, url);
            let (delay, drain_limit) = match retries {
                Some(retries) => match retries.after_attempt(&request, &mut result) {
                    AfterAttempt::Retry { delay, drain_limit } => (delay, drain_limit),
                    AfterAttempt::Done => break result,
                },
                None => match policy {
                    None => break result,
                    Some(policy) => match policy.after_first(&request, &mut result) {
                        AfterFirst::Retry {
                            delay,
                            drain_limit,
                            retries: kept,
                        } => {
                            *retries = Some(kept);
                            (delay, drain_limit)
                        }
                        AfterFirst::Done => break result,
                    },
                },
            };
            if !recipe.is_replayable() {
                let err = "the retry policy asked to send again a request whose body is a \
                           one-shot stream";
                return Poll::Ready(Err(err.into()));
            }
            let discard = result.ok().map(http::Response::into_body);
            *step = Step::Waiting(wait(discard, drain_limit, delay));
        };
        let res = match result {
            Ok(res) if is_redirect(res.status()) => res,
            other => return Poll::Ready(other),
        };
        let recipe = recipe.take().expect("Pending polled after completion");
        let url = self.url.as_ref().expect("Pending polled after completion");
        let uri = match url.to_uri() {
            Ok(uri) => uri,
            Err(err) => return Poll::Ready(Err(Box::new(Error::builder(err)))),
        };
        let (head, body) = recipe.rebuild(uri);
        let stack = session
            .direct_stack()
            .expect("a first hop is only sent through the built-in stack");
        let mut follow = stack.follow_redirect(head, body, res);
        let poll = follow.as_mut().poll(cx);
        self.future = Hop::Boxed(follow);
        poll
    }
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}
