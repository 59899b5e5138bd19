//! Retries a session drives itself: [`RetryPolicy`].
//!
//! A retry crate (such as `session-retry`) implements [`RetryPolicy`] and is
//! given to [`SessionBuilder::retry_policy`](crate::SessionBuilder::retry_policy).
//! The policy is used two ways, with the same rules:
//!
//! - as the innermost per-hop tower layer ([`RetryPolicy::layer`]), for every
//!   hop the session does not send itself: redirect hops, and requests that
//!   take the layered path;
//! - for the first hop of a request the session sends itself (see "The stack"
//!   in the [crate docs](crate)), the session asks the policy after the first
//!   attempt ([`RetryPolicy::after_first`]). A policy that retries keeps its
//!   bookkeeping of the request in a [`RequestRetries`], asked after each
//!   later attempt; the session makes each new attempt from what the request
//!   was made of. A request answered at once costs the policy one call: no
//!   copy of the request and no bookkeeping is made for a retry that does not
//!   happen.
//!
//! As in tower's `retry::Policy`, the policy sees each attempt's outcome by
//! `&mut`: it may leave it, annotate it (a history in the response's
//! extensions) or replace it (an error that says why retries stopped).
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::Duration;
//! use http::{Method, StatusCode};
//! use session_core::retry::{AfterAttempt, AttemptRequest, Outcome, RequestRetries, RetryPolicy};
//! use session_core::{mock::MockTransport, BoxTransport, Session};
//!
//! /// Tries a GET up to three times while the server answers 503.
//! struct ThreeTries;
//!
//! struct Tries {
//!     left: u32,
//! }
//!
//! impl RequestRetries for Tries {
//!     fn after_attempt(&mut self, request: &AttemptRequest<'_>, outcome: &mut Outcome) -> AfterAttempt {
//!         let unavailable = matches!(outcome, Ok(res) if res.status() == StatusCode::SERVICE_UNAVAILABLE);
//!         if unavailable && request.is_replayable() && self.left > 0 {
//!             self.left -= 1;
//!             return AfterAttempt::Retry { delay: Duration::from_millis(10), drain_limit: 64 * 1024 };
//!         }
//!         AfterAttempt::Done
//!     }
//! }
//!
//! impl RetryPolicy for ThreeTries {
//!     fn layer(&self, inner: BoxTransport) -> BoxTransport {
//!         inner // a real policy wraps the inner service in its tower layer
//!     }
//!
//!     fn after_first(
//!         &self,
//!         request: &AttemptRequest<'_>,
//!         outcome: &mut Outcome,
//!         retries: &mut Option<Box<dyn RequestRetries>>,
//!     ) -> AfterAttempt {
//!         if request.method() != Method::GET {
//!             return AfterAttempt::Done;
//!         }
//!         let mut tries = Tries { left: 2 };
//!         let after = tries.after_attempt(request, outcome);
//!         *retries = Some(Box::new(tries));
//!         after
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let calls = AtomicUsize::new(0);
//! let mock = MockTransport::new().fallback(move |_| {
//!     match calls.fetch_add(1, Ordering::Relaxed) {
//!         0 | 1 => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
//!         _ => (StatusCode::OK, "done"),
//!     }
//! });
//! let session = Session::builder().transport(mock.clone()).retry_policy(ThreeTries).build()?;
//! let res = session.get("http://api.test/").send().await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(mock.requests().len(), 3);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use http::header::HeaderName;
use http::Method;

use crate::body::Body;
use crate::error::BoxError;
use crate::recipe::Recipe;
use crate::transport::BoxTransport;

/// The outcome of an attempt: its response, or the error it failed with.
pub type Outcome = Result<http::Response<Body>, BoxError>;

/// How a session retries its requests; see the [module docs](self).
pub trait RetryPolicy: Send + Sync + 'static {
    /// Wraps `inner` (the cookie store and mount router) in the policy's tower
    /// layer, for the hops the session does not drive itself.
    fn layer(&self, inner: BoxTransport) -> BoxTransport;

    /// Decides after the first attempt of a request the session sends
    /// itself. To retry, the policy puts the request's bookkeeping in
    /// `retries` (which is `None` when called) and returns
    /// [`AfterAttempt::Retry`]; `retries` then decides after each later
    /// attempt. A retry without bookkeeping, or of a request that is not
    /// [replayable](AttemptRequest::is_replayable), ends the request with an
    /// error.
    fn after_first(
        &self,
        request: &AttemptRequest<'_>,
        outcome: &mut Outcome,
        retries: &mut Option<Box<dyn RequestRetries>>,
    ) -> AfterAttempt;
}

/// The retries of one request after its first attempt: asked after each
/// later attempt.
pub trait RequestRetries: Send {
    /// Decides after an attempt that ended with `outcome`.
    fn after_attempt(
        &mut self,
        request: &AttemptRequest<'_>,
        outcome: &mut Outcome,
    ) -> AfterAttempt;
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    /// The request is over: its outcome is the attempt's (as the policy left
    /// it).
    Done,
    /// Send the request again after `delay`. A response's body is first read
    /// (up to `drain_limit` bytes) and thrown away, so its connection can be
    /// reused; a longer body is dropped.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The most bytes of the retried response's body read.
        drain_limit: usize,
    },
}

/// The request of an attempt, as a [`RetryPolicy`] sees it: its method and
/// headers as the session prepared them (its own and the session's defaults;
/// not the `Authorization` or `Cookie` added on the way to the transport).
#[derive(Clone, Copy)]
pub struct AttemptRequest<'a> {
    recipe: &'a Recipe,
}

impl<'a> AttemptRequest<'a> {
    pub(crate) fn new(recipe: &'a Recipe) -> Self {
        AttemptRequest { recipe }
    }

    /// The request's method.
    pub fn method(&self) -> &'a Method {
        &self.recipe.method
    }

    /// Does the request carry this header?
    pub fn has_header(&self, name: &HeaderName) -> bool {
        self.recipe.has_header(name)
    }

    /// Can the request be sent again (its body is not a one-shot stream)?
    pub fn is_replayable(&self) -> bool {
        self.recipe.is_replayable()
    }
}

impl std::fmt::Debug for AttemptRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptRequest")
            .field("method", self.method())
            .field("replayable", &self.is_replayable())
            .finish_non_exhaustive()
    }
}

/// The policy of a session, with what its first hops are sent through.
pub(crate) struct SessionRetries {
    pub(crate) policy: std::sync::Arc<dyn RetryPolicy>,
    /// The auth service over the router, below the policy's own layer.
    pub(crate) auth: crate::auth::AuthService<BoxTransport>,
}

/// The wait between two attempts: the old answer's body drained, then the
/// delay slept. Boxed: it happens only when a request is retried.
pub(crate) type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Drains `discard` (at most `limit` bytes), then sleeps for `delay`.
pub(crate) fn wait(discard: Option<Body>, limit: usize, delay: Duration) -> Wait {
    Box::pin(async move {
        if let Some(body) = discard {
            body.discard(limit).await;
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MockTransport;
    use crate::Session;
    use http::StatusCode;

    /// Asks for a retry after every attempt, keeping bookkeeping or not.
    struct Always {
        keep: bool,
    }

    struct Forever;

    impl RequestRetries for Forever {
        fn after_attempt(&mut self, _: &AttemptRequest<'_>, _: &mut Outcome) -> AfterAttempt {
            AfterAttempt::Retry {
                delay: Duration::ZERO,
                drain_limit: 0,
            }
        }
    }

    impl RetryPolicy for Always {
        fn layer(&self, inner: BoxTransport) -> BoxTransport {
            inner
        }

        fn after_first(
            &self,
            _: &AttemptRequest<'_>,
            _: &mut Outcome,
            retries: &mut Option<Box<dyn RequestRetries>>,
        ) -> AfterAttempt {
            if self.keep {
                *retries = Some(Box::new(Forever));
            }
            AfterAttempt::Retry {
                delay: Duration::ZERO,
                drain_limit: 0,
            }
        }
    }

    fn always_retrying(keep: bool) -> (Session, MockTransport) {
        let mock = MockTransport::new().fallback(|_| (StatusCode::OK, "ok"));
        let session = Session::builder()
            .transport(mock.clone())
            .retry_policy(Always { keep })
            .build()
            .unwrap();
        (session, mock)
    }

    #[tokio::test]
    async fn a_retry_the_session_cannot_make_is_an_error_not_a_loop() {
        let (session, mock) = always_retrying(false);
        let err = session.get("http://api.test/").send().await.unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains("kept no bookkeeping"), "{cause}");
        assert_eq!(mock.requests().len(), 1);

        let (session, mock) = always_retrying(true);
        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("x"))]);
        let err = session
            .put("http://api.test/")
            .body(Body::from_stream(stream))
            .send()
            .await
            .unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains("one-shot stream"), "{cause}");
        assert_eq!(mock.requests().len(), 1, "a stream is never sent twice");
    }

    #[tokio::test]
    async fn the_policy_sees_the_prepared_method_and_headers() {
        let request = std::sync::Arc::new(std::sync::Mutex::new(None));
        struct Seen(std::sync::Arc<std::sync::Mutex<Option<(Method, bool, bool, bool)>>>);
        impl RetryPolicy for Seen {
            fn layer(&self, inner: BoxTransport) -> BoxTransport {
                inner
            }
            fn after_first(
                &self,
                request: &AttemptRequest<'_>,
                _: &mut Outcome,
                _: &mut Option<Box<dyn RequestRetries>>,
            ) -> AfterAttempt {
                let has = |name: &'static str| request.has_header(&HeaderName::from_static(name));
                *self.0.lock().unwrap() = Some((
                    request.method().clone(),
                    has("x-own"),
                    has("x-default"),
                    has("x-removed"),
                ));
                AfterAttempt::Done
            }
        }
        let session = Session::builder()
            .transport(MockTransport::new())
            .header("x-default", "1")
            .header("x-removed", "1")
            .retry_policy(Seen(request.clone()))
            .build()
            .unwrap();
        session
            .delete("http://api.test/")
            .header("x-own", "1")
            .without_header("x-removed")
            .send()
            .await
            .unwrap();
        assert_eq!(
            *request.lock().unwrap(),
            Some((Method::DELETE, true, true, false))
        );
    }
}
