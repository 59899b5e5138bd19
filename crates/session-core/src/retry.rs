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
//! use session_core::retry::{
//!     AfterAttempt, AfterFirst, AttemptRequest, Outcome, RequestRetries, RetryPolicy,
//! };
//! use session_core::{mock::MockTransport, BoxTransport, Session};
//!
//! /// Tries a GET up to three times while the server answers 503.
//! struct ThreeTries;
//!
//! const WAIT: Duration = Duration::from_millis(10);
//!
//! fn unavailable(request: &AttemptRequest<'_>, outcome: &Outcome) -> bool {
//!     let status = outcome.as_ref().map(|res| res.status());
//!     request.is_replayable() && status.is_ok_and(|s| s == StatusCode::SERVICE_UNAVAILABLE)
//! }
//!
//! struct Tries {
//!     left: u32,
//! }
//!
//! impl RequestRetries for Tries {
//!     fn after_attempt(&mut self, request: &AttemptRequest<'_>, outcome: &mut Outcome) -> AfterAttempt {
//!         if self.left == 0 || !unavailable(request, outcome) {
//!             return AfterAttempt::Done;
//!         }
//!         self.left -= 1;
//!         AfterAttempt::Retry { delay: WAIT, drain_limit: 64 * 1024 }
//!     }
//! }
//!
//! impl RetryPolicy for ThreeTries {
//!     fn layer(&self, inner: BoxTransport) -> BoxTransport {
//!         inner // for brevity: redirect hops are not retried
//!     }
//!
//!     fn after_first(&self, request: &AttemptRequest<'_>, outcome: &mut Outcome) -> AfterFirst {
//!         if request.method() != Method::GET || !unavailable(request, outcome) {
//!             return AfterFirst::Done;
//!         }
//!         let retries = Box::new(Tries { left: 1 });
//!         AfterFirst::Retry { delay: WAIT, drain_limit: 64 * 1024, retries }
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

use http::header::{HeaderName, HeaderValue};
use http::Method;
use url::Url;

use crate::body::Body;
use crate::error::BoxError;
use crate::recipe::Recipe;
use crate::simple_url::LazyUrl;
use crate::transport::BoxTransport;

/// The outcome of an attempt: its response, or the error it failed with.
pub type Outcome = Result<http::Response<Body>, BoxError>;

/// How a session retries its requests; see the [module docs](self).
pub trait RetryPolicy: Send + Sync + 'static {
    /// Wraps `inner` (the cookie store and mount router) in the policy's tower
    /// layer, for the hops the session does not drive itself. It must retry
    /// by the same rules as [`after_first`](Self::after_first).
    fn layer(&self, inner: BoxTransport) -> BoxTransport;

    /// A request the session drives is about to be sent for the first time
    /// (where a retry budget counts requests). The default does nothing.
    fn on_request(&self, request: &AttemptRequest<'_>) {
        let _ = request;
    }

    /// Decides after the first attempt of a request the session sends
    /// itself. To retry, the policy returns [`AfterFirst::Retry`] with its
    /// bookkeeping of the request, which then decides after each later
    /// attempt. Asking to retry a request that is not
    /// [replayable](AttemptRequest::is_replayable) ends it with an error.
    fn after_first(&self, request: &AttemptRequest<'_>, outcome: &mut Outcome) -> AfterFirst;
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

/// What follows a request's first attempt.
#[non_exhaustive]
pub enum AfterFirst {
    /// The request is over: its outcome is the attempt's, as the policy left
    /// it.
    Done,
    /// Send the request again after `delay`. A response's body is first read
    /// (up to `drain_limit` bytes) and thrown away, so its connection can be
    /// reused; a longer body is dropped.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The most bytes of the retried response's body read.
        drain_limit: usize,
        /// The bookkeeping of the request, asked after each later attempt.
        retries: Box<dyn RequestRetries>,
    },
}

impl std::fmt::Debug for AfterFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AfterFirst::Done => f.write_str("Done"),
            AfterFirst::Retry {
                delay, drain_limit, ..
            } => f
                .debug_struct("Retry")
                .field("delay", delay)
                .field("drain_limit", drain_limit)
                .finish_non_exhaustive(),
        }
    }
}

/// What follows a later attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AfterAttempt {
    /// The request is over: its outcome is the attempt's, as the policy left
    /// it.
    Done,
    /// Send the request again, as [`AfterFirst::Retry`] says.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The most bytes of the retried response's body read.
        drain_limit: usize,
    },
}

/// The request of an attempt, as a [`RetryPolicy`] sees it: what a retry rule
/// looks at (urllib3's looks at the method, and Go's at an `Idempotency-Key`
/// header). Its headers are those the session prepared, not the `Cookie`
/// the cookie store adds on the way to the transport.
#[derive(Clone, Copy)]
pub struct AttemptRequest<'a> {
    recipe: &'a Recipe,
    url: &'a LazyUrl,
}

impl<'a> AttemptRequest<'a> {
    pub(crate) fn new(recipe: &'a Recipe, url: &'a LazyUrl) -> Self {
        AttemptRequest { recipe, url }
    }

    /// The request's URL (parsed on first use).
    pub fn url(&self) -> &'a Url {
        self.url.get()
    }

    /// The request's method.
    pub fn method(&self) -> &'a Method {
        &self.recipe.method
    }

    /// The request's (first) value of a header: its own, else the
    /// session's default (unless the request removed it), including the
    /// `Authorization` of the session's basic or bearer auth.
    pub fn header(&self, name: &HeaderName) -> Option<&'a HeaderValue> {
        self.recipe.header(name)
    }

    /// Does the request carry this header (see [`header`](Self::header))?
    pub fn has_header(&self, name: &HeaderName) -> bool {
        self.recipe.header(name).is_some()
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
            .field("url", &self.url().as_str())
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
        // Even a zero delay goes through the timer, which counts against the
        // task's cooperative budget: a transport that answers at once cannot
        // make a request spin through its retries without ever yielding.
        tokio::time::sleep(delay).await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MockTransport;
    use crate::Session;
    use http::StatusCode;

    /// Asks for a retry after every attempt, at once.
    struct Always;

    const AGAIN: AfterAttempt = AfterAttempt::Retry {
        delay: Duration::ZERO,
        drain_limit: 0,
    };

    impl RequestRetries for Always {
        fn after_attempt(&mut self, _: &AttemptRequest<'_>, _: &mut Outcome) -> AfterAttempt {
            AGAIN
        }
    }

    impl RetryPolicy for Always {
        fn layer(&self, inner: BoxTransport) -> BoxTransport {
            inner
        }

        fn after_first(&self, _: &AttemptRequest<'_>, _: &mut Outcome) -> AfterFirst {
            AfterFirst::Retry {
                delay: Duration::ZERO,
                drain_limit: 0,
                retries: Box::new(Always),
            }
        }
    }

    fn always_retrying() -> (Session, MockTransport) {
        let mock = MockTransport::new().fallback(|_| (StatusCode::OK, "ok"));
        let session = Session::builder()
            .transport(mock.clone())
            .retry_policy(Always)
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        (session, mock)
    }

    #[tokio::test]
    async fn a_one_shot_stream_is_never_sent_twice() {
        let (session, mock) = always_retrying();
        let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("x"))]);
        let err = session
            .put("http://api.test/")
            .body(Body::from_stream(stream))
            .send()
            .await
            .unwrap_err();
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(cause.contains("one-shot stream"), "{cause}");
        assert_eq!(mock.requests().len(), 1);
    }

    /// A transport that answers at once and a policy that never stops: the
    /// request still yields between attempts, so its total timeout fires.
    #[tokio::test]
    async fn endless_retries_yield_and_the_total_timeout_ends_them() {
        let (session, mock) = always_retrying();
        let err = session.get("http://api.test/").send().await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(mock.requests().len() > 1);
    }

    #[tokio::test]
    async fn the_policy_sees_the_prepared_method_and_headers() {
        type Seen = Option<(Method, [bool; 3], Option<HeaderValue>)>;
        struct Look(std::sync::Arc<std::sync::Mutex<Seen>>);
        impl RetryPolicy for Look {
            fn layer(&self, inner: BoxTransport) -> BoxTransport {
                inner
            }
            fn on_request(&self, request: &AttemptRequest<'_>) {
                let has = |name: &'static str| request.has_header(&HeaderName::from_static(name));
                let auth = request.header(&http::header::AUTHORIZATION).cloned();
                assert_eq!(request.url().as_str(), "http://api.test/?page=2");
                *self.0.lock().unwrap() = Some((
                    request.method().clone(),
                    [has("x-own"), has("x-default"), has("x-removed")],
                    auth,
                ));
            }
            fn after_first(&self, _: &AttemptRequest<'_>, _: &mut Outcome) -> AfterFirst {
                AfterFirst::Done
            }
        }
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let session = Session::builder()
            .transport(MockTransport::new())
            .header("x-default", "1")
            .header("x-removed", "1")
            .bearer_auth("t0ken")
            .retry_policy(Look(seen.clone()))
            .build()
            .unwrap();
        session
            .delete("http://api.test/")
            .query(&[("page", "2")])
            .header("x-own", "1")
            .without_header("x-removed")
            .send()
            .await
            .unwrap();
        let (method, headers, auth) = seen.lock().unwrap().take().unwrap();
        assert_eq!(method, Method::DELETE);
        assert_eq!(headers, [true, true, false]);
        assert_eq!(auth.unwrap(), "Bearer t0ken");
    }
}
