//! Retries: [`RetryPolicy`], asked after each attempt of a request.
//!
//! A retry crate (such as `session-retry`) implements [`RetryPolicy`] and is
//! given to [`SessionBuilder::retry_policy`](crate::SessionBuilder::retry_policy).
//! After a request's first attempt the session asks the policy
//! ([`RetryPolicy::after_first`]); a policy that retries keeps its
//! bookkeeping of the request in a [`RequestRetries`], asked after each later
//! attempt. The policy is the innermost per-hop step, just above the cookie
//! store: each attempt sends the cookies known when it starts.
//!
//! # Who sends the attempts
//!
//! The session drives the attempts of a request's first hop itself, making
//! each new attempt from what the request was made of (the defaults
//! snapshot, its own headers, its replayable body): a request answered at
//! once costs the policy one call, and nothing is copied for a retry that
//! does not happen. It does so when all of these hold:
//!
//! - the session has no hop layer or middleware, no outer layer or
//!   middleware and no custom redirect layer;
//! - it has no auth scheme (`auth`, `digest_auth`) and no netrc, which sign
//!   once per hop, above the retries;
//! - it is not `https_only`, and the request has no per-request extension
//!   (auth, redirect settings, TLS, proxy), no user info in its URL and no
//!   fragment.
//!
//! Every other hop (redirect hops too) goes through the policy's own tower
//! layer ([`RetryPolicy::layer`]), or, for a policy without one, through a
//! service of the session that copies each request's head and asks the
//! policy the same questions. Either way the same rules decide, and each
//! attempt sends the same request.
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
//!     AfterAttempt, AfterFirst, AttemptOutcome, AttemptRequest, RequestRetries, RetryPolicy,
//! };
//! use session_core::{mock::MockTransport, Session};
//!
//! /// Tries a GET up to three times while the server answers 503.
//! struct ThreeTries;
//!
//! const WAIT: Duration = Duration::from_millis(10);
//!
//! fn unavailable(request: &AttemptRequest<'_>, outcome: &AttemptOutcome) -> bool {
//!     let status = outcome.as_ref().map(|res| res.status());
//!     request.is_replayable() && status.is_ok_and(|s| s == StatusCode::SERVICE_UNAVAILABLE)
//! }
//!
//! struct Tries {
//!     left: u32,
//! }
//!
//! impl RequestRetries for Tries {
//!     fn after_attempt(
//!         &mut self,
//!         request: &AttemptRequest<'_>,
//!         outcome: &mut AttemptOutcome,
//!     ) -> AfterAttempt {
//!         if self.left == 0 || !unavailable(request, outcome) {
//!             return AfterAttempt::Done;
//!         }
//!         self.left -= 1;
//!         AfterAttempt::retry(WAIT)
//!     }
//! }
//!
//! impl RetryPolicy for ThreeTries {
//!     fn after_first(&self, request: &AttemptRequest<'_>, outcome: &mut AttemptOutcome) -> AfterFirst {
//!         if request.method() != Method::GET || !unavailable(request, outcome) {
//!             return AfterFirst::Done;
//!         }
//!         AfterFirst::retry(WAIT, Box::new(Tries { left: 1 }))
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
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::Method;
use url::Url;

use crate::body::Body;
use crate::cookies::StoreCookies;
use crate::error::BoxError;
use crate::recipe::Recipe;
use crate::simple_url::LazyUrl;
use crate::transport::{BoxFuture, BoxTransport, Erased};

/// The outcome of an attempt: its response, or the error it failed with.
pub type AttemptOutcome = Result<http::Response<Body>, BoxError>;

/// The most bytes of a retried response's body read (and thrown away, so its
/// connection can be reused) unless a policy says otherwise: 64 KiB.
pub const DEFAULT_DRAIN_LIMIT: usize = 64 * 1024;

/// How a session retries its requests; see the [module docs](self).
pub trait RetryPolicy: Send + Sync + 'static {
    /// The policy's own tower layer around `inner` (the cookie store and
    /// mount router), for the hops the session does not drive itself; it
    /// must retry by the same rules. The default, `None`, has the session
    /// wrap those hops in a service that asks this policy the same
    /// questions, so the rules are written once.
    fn layer(&self, inner: BoxTransport) -> Option<BoxTransport> {
        let _ = inner;
        None
    }

    /// A request is about to be sent for the first time (where a retry
    /// budget counts requests). The default does nothing.
    fn on_request(&self, request: &AttemptRequest<'_>) {
        let _ = request;
    }

    /// Decides after the first attempt of a request. To retry, the policy
    /// returns [`AfterFirst::retry`] with its bookkeeping of the request,
    /// which then decides after each later attempt. Asking to retry a
    /// request that is not [replayable](AttemptRequest::is_replayable) ends
    /// it with an error.
    fn after_first(&self, request: &AttemptRequest<'_>, outcome: &mut AttemptOutcome)
        -> AfterFirst;
}

impl<P: RetryPolicy + ?Sized> RetryPolicy for Arc<P> {
    fn layer(&self, inner: BoxTransport) -> Option<BoxTransport> {
        (**self).layer(inner)
    }

    fn on_request(&self, request: &AttemptRequest<'_>) {
        (**self).on_request(request);
    }

    fn after_first(
        &self,
        request: &AttemptRequest<'_>,
        outcome: &mut AttemptOutcome,
    ) -> AfterFirst {
        (**self).after_first(request, outcome)
    }
}

/// The retries of one request after its first attempt: asked after each
/// later attempt.
pub trait RequestRetries: Send {
    /// Decides after an attempt that ended with `outcome`.
    fn after_attempt(
        &mut self,
        request: &AttemptRequest<'_>,
        outcome: &mut AttemptOutcome,
    ) -> AfterAttempt;
}

/// What follows a request's first attempt.
#[must_use]
pub enum AfterFirst {
    /// The request is over: its outcome is the attempt's, as the policy left
    /// it.
    Done,
    /// Send the request again after `delay` (made with
    /// [`AfterFirst::retry`]). A response's body is first read (up to
    /// `drain_limit` bytes) and thrown away, so its connection can be
    /// reused; a longer body is dropped.
    #[non_exhaustive]
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The most bytes of the retried response's body read.
        drain_limit: usize,
        /// The bookkeeping of the request, asked after each later attempt.
        retries: Box<dyn RequestRetries>,
    },
}

impl AfterFirst {
    /// Retry after `delay`, with `retries` deciding after the later
    /// attempts, draining up to [`DEFAULT_DRAIN_LIMIT`] bytes.
    pub fn retry(delay: Duration, retries: Box<dyn RequestRetries>) -> Self {
        AfterFirst::Retry {
            delay,
            drain_limit: DEFAULT_DRAIN_LIMIT,
            retries,
        }
    }

    /// Sets the drain limit of a retry (no effect on `Done`).
    pub fn drain_limit(mut self, bytes: usize) -> Self {
        if let AfterFirst::Retry { drain_limit, .. } = &mut self {
            *drain_limit = bytes;
        }
        self
    }
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
#[must_use]
pub enum AfterAttempt {
    /// The request is over: its outcome is the attempt's, as the policy left
    /// it.
    Done,
    /// Send the request again, as [`AfterFirst::Retry`] says (made with
    /// [`AfterAttempt::retry`]).
    #[non_exhaustive]
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The most bytes of the retried response's body read.
        drain_limit: usize,
    },
}

impl AfterAttempt {
    /// Retry after `delay`, draining up to [`DEFAULT_DRAIN_LIMIT`] bytes.
    pub fn retry(delay: Duration) -> Self {
        AfterAttempt::Retry {
            delay,
            drain_limit: DEFAULT_DRAIN_LIMIT,
        }
    }

    /// Sets the drain limit of a retry (no effect on `Done`).
    pub fn drain_limit(mut self, bytes: usize) -> Self {
        if let AfterAttempt::Retry { drain_limit, .. } = &mut self {
            *drain_limit = bytes;
        }
        self
    }
}

/// The request of an attempt, as a [`RetryPolicy`] sees it: what a retry rule
/// looks at (urllib3's looks at the method, and Go's at an `Idempotency-Key`
/// header). Its headers are those the session prepared, not the `Cookie`
/// the cookie store adds on the way to the transport.
#[derive(Clone, Copy)]
pub struct AttemptRequest<'a> {
    source: Source<'a>,
    url: &'a LazyUrl,
}

#[derive(Clone, Copy)]
enum Source<'a> {
    /// A first hop the session drives: what the request was made of.
    Recipe(&'a Recipe),
    /// Another hop: a copy of its head, and whether its body replays.
    Head(&'a http::Request<()>, bool),
}

impl<'a> AttemptRequest<'a> {
    pub(crate) fn new(recipe: &'a Recipe, url: &'a LazyUrl) -> Self {
        AttemptRequest {
            source: Source::Recipe(recipe),
            url,
        }
    }

    fn head(head: &'a http::Request<()>, replayable: bool, url: &'a LazyUrl) -> Self {
        AttemptRequest {
            source: Source::Head(head, replayable),
            url,
        }
    }

    /// The request's URL (parsed on first use).
    pub fn url(&self) -> &'a Url {
        self.url.get()
    }

    /// The request's method.
    pub fn method(&self) -> &'a Method {
        match self.source {
            Source::Recipe(recipe) => &recipe.method,
            Source::Head(head, _) => head.method(),
        }
    }

    /// The request's (first) value of a header: its own, else the
    /// session's default (unless the request removed it), including the
    /// `Authorization` of the session's basic or bearer auth.
    pub fn header(&self, name: &HeaderName) -> Option<&'a HeaderValue> {
        match self.source {
            Source::Recipe(recipe) => recipe.header(name),
            Source::Head(head, _) => head.headers().get(name),
        }
    }

    /// Does the request carry this header (see [`header`](Self::header))?
    pub fn has_header(&self, name: &HeaderName) -> bool {
        self.header(name).is_some()
    }

    /// Can the request be sent again (its body is not a one-shot stream)?
    pub fn is_replayable(&self) -> bool {
        match self.source {
            Source::Recipe(recipe) => recipe.is_replayable(),
            Source::Head(_, replayable) => replayable,
        }
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

/// The hops a session does not drive itself, retried by asking its policy:
/// what a policy without a tower layer of its own wraps the router in.
pub(crate) struct PolicyHops {
    inner: BoxTransport,
    policy: Arc<dyn RetryPolicy>,
}

impl PolicyHops {
    pub(crate) fn new(inner: BoxTransport, policy: Arc<dyn RetryPolicy>) -> Self {
        PolicyHops { inner, policy }
    }
}

impl Erased for PolicyHops {
    fn call(&self, req: http::Request<Body>, cookies: Option<StoreCookies>) -> BoxFuture {
        // Only the router passes cookie steps, to the transports below it.
        debug_assert!(cookies.is_none(), "no cookie step above the router");
        Box::pin(retry_hop(self.inner.clone(), self.policy.clone(), req))
    }
}

/// Why a request cannot be retried as its policy asked.
const NOT_REPLAYABLE: &str =
    "the retry policy asked to send again a request whose body is a one-shot stream";

/// Sends one hop through `inner`, again and again as `policy` decides.
async fn retry_hop(
    inner: BoxTransport,
    policy: Arc<dyn RetryPolicy>,
    req: http::Request<Body>,
) -> AttemptOutcome {
    let replay = req.body().try_clone();
    let head = with_head_of(&req, ());
    let url = LazyUrl::from_uri(req.uri().clone());
    let request = AttemptRequest::head(&head, replay.is_some(), &url);
    policy.on_request(&request);
    let mut outcome = inner.send(req).await;
    let (mut delay, mut drain_limit, mut retries) = match policy.after_first(&request, &mut outcome)
    {
        AfterFirst::Done => return outcome,
        AfterFirst::Retry {
            delay,
            drain_limit,
            retries,
        } => (delay, drain_limit, retries),
    };
    loop {
        let Some(body) = replay.as_ref().and_then(Body::try_clone) else {
            return Err(NOT_REPLAYABLE.into());
        };
        wait(
            outcome.ok().map(http::Response::into_body),
            drain_limit,
            delay,
        )
        .await;
        outcome = inner.send(with_head_of(&head, body)).await;
        match retries.after_attempt(&request, &mut outcome) {
            AfterAttempt::Done => return outcome,
            AfterAttempt::Retry {
                delay: next,
                drain_limit: limit,
            } => (delay, drain_limit) = (next, limit),
        }
    }
}

/// A request with a copy of `from`'s head (extensions too) and `body`.
fn with_head_of<A, B>(from: &http::Request<A>, body: B) -> http::Request<B> {
    let mut req = http::Request::new(body);
    *req.method_mut() = from.method().clone();
    *req.uri_mut() = from.uri().clone();
    *req.version_mut() = from.version();
    *req.headers_mut() = from.headers().clone();
    *req.extensions_mut() = from.extensions().clone();
    req
}

/// The wait between two attempts: the old answer's body drained, then the
/// delay slept. Boxed: it happens only when a request is retried.
pub(crate) type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Drains `discard` (at most `limit` bytes), then sleeps for `delay`. A zero
/// delay still yields to the runtime once (without a timer): a transport
/// that answers at once cannot make a request spin through its retries, and
/// its total timeout can fire.
pub(crate) fn wait(discard: Option<Body>, limit: usize, delay: Duration) -> Wait {
    Box::pin(async move {
        if let Some(body) = discard {
            body.discard(limit).await;
        }
        if delay.is_zero() {
            YieldOnce(false).await;
        } else {
            tokio::time::sleep(delay).await;
        }
    })
}

/// Pending once (waking itself at once), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::MockTransport;
    use crate::Session;
    use http::StatusCode;

    /// Asks for a retry after every attempt, at once.
    struct Always;

    impl RequestRetries for Always {
        fn after_attempt(
            &mut self,
            _: &AttemptRequest<'_>,
            _: &mut AttemptOutcome,
        ) -> AfterAttempt {
            AfterAttempt::retry(Duration::ZERO).drain_limit(0)
        }
    }

    impl RetryPolicy for Always {
        fn after_first(&self, _: &AttemptRequest<'_>, _: &mut AttemptOutcome) -> AfterFirst {
            AfterFirst::retry(Duration::ZERO, Box::new(Always))
        }
    }

    fn always_retrying(layered: bool) -> (Session, MockTransport) {
        let mock = MockTransport::new().fallback(|_| (StatusCode::OK, "ok"));
        let mut builder = Session::builder()
            .transport(mock.clone())
            .retry_policy(Always)
            .timeout(Duration::from_millis(100));
        if layered {
            // Any hop layer: the session no longer drives the attempts.
            builder = builder.hop_layer(tower_layer::Identity::new());
        }
        (builder.build().unwrap(), mock)
    }

    #[tokio::test]
    async fn a_one_shot_stream_is_never_sent_twice() {
        for layered in [false, true] {
            let (session, mock) = always_retrying(layered);
            let stream =
                futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("x"))]);
            let err = session
                .put("http://api.test/")
                .body(Body::from_stream(stream))
                .send()
                .await
                .unwrap_err();
            let cause = std::error::Error::source(&err).unwrap().to_string();
            assert!(cause.contains("one-shot stream"), "{cause}");
            assert_eq!(mock.requests().len(), 1, "layered: {layered}");
        }
    }

    /// A transport that answers at once and a policy that never stops: the
    /// request still yields between attempts, so its total timeout fires.
    #[tokio::test]
    async fn endless_retries_yield_and_the_total_timeout_ends_them() {
        for layered in [false, true] {
            let (session, mock) = always_retrying(layered);
            let err = session.get("http://api.test/").send().await.unwrap_err();
            assert!(err.is_timeout(), "{err:?}");
            assert!(mock.requests().len() > 1, "layered: {layered}");
        }
    }

    /// 503 twice, then 200; the policy retries 503s of replayable requests.
    struct On503;

    impl RequestRetries for On503 {
        fn after_attempt(
            &mut self,
            r: &AttemptRequest<'_>,
            o: &mut AttemptOutcome,
        ) -> AfterAttempt {
            match On503.after_first(r, o) {
                AfterFirst::Done => AfterAttempt::Done,
                AfterFirst::Retry { .. } => AfterAttempt::retry(Duration::ZERO),
            }
        }
    }

    impl RetryPolicy for On503 {
        fn after_first(&self, r: &AttemptRequest<'_>, o: &mut AttemptOutcome) -> AfterFirst {
            let busy = o.as_ref().is_ok_and(|res| res.status() == 503);
            if busy && r.is_replayable() {
                AfterFirst::retry(Duration::ZERO, Box::new(On503))
            } else {
                AfterFirst::Done
            }
        }
    }

    /// Without a tower layer of its own, a policy still retries the hops the
    /// session does not drive: redirect hops, and every hop of a layered
    /// session; each attempt sends the hop's own request again.
    #[tokio::test]
    async fn a_policy_without_a_layer_retries_every_hop() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        let mock = MockTransport::new()
            .route(Method::POST, "/old", |_| {
                let mut res = http::Response::new(Body::empty());
                *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                res.headers_mut()
                    .insert(http::header::LOCATION, HeaderValue::from_static("/new"));
                res
            })
            .route(Method::POST, "/new", move |_| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (
                    if n % 3 < 2 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    },
                    "",
                )
            });
        for layered in [false, true] {
            let mut builder = Session::builder()
                .transport(mock.clone())
                .retry_policy(On503);
            if layered {
                builder = builder.hop_layer(tower_layer::Identity::new());
            }
            let session = builder.build().unwrap();
            mock.clear();
            let res = session
                .post("http://api.test/old")
                .header("x-own", "1")
                .body("payload")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "layered: {layered}");
            let seen = mock.requests();
            let paths: Vec<_> = seen.iter().map(|r| r.uri.path().to_owned()).collect();
            assert_eq!(
                paths,
                ["/old", "/new", "/new", "/new"],
                "layered: {layered}"
            );
            for req in &seen {
                assert_eq!(req.method, Method::POST);
                assert_eq!(&req.body[..], b"payload");
                assert_eq!(req.headers["x-own"], "1");
            }
        }
    }

    #[tokio::test]
    async fn the_policy_sees_the_prepared_method_and_headers() {
        type Seen = Option<(Method, [bool; 3], Option<HeaderValue>)>;
        struct Look(std::sync::Arc<std::sync::Mutex<Seen>>);
        impl RetryPolicy for Look {
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
            fn after_first(&self, _: &AttemptRequest<'_>, _: &mut AttemptOutcome) -> AfterFirst {
                AfterFirst::Done
            }
        }
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let session = Session::builder()
            .transport(MockTransport::new())
            .header("x-default", "1")
            .header("x-removed", "1")
            .bearer_auth("t0ken")
            .retry_policy(std::sync::Arc::new(Look(seen.clone())))
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
