//! [`ResponseFuture`]: the future of [`RetryService`](crate::RetryService).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Buf;
use http::{Request, Response, StatusCode};
use http_body::Body as _;
use pin_project_lite::pin_project;
use tower_service::Service;
use tracing::field::Empty;
use tracing::Span;

use crate::body::{ReplayBody, Template};
use crate::config::{Config, Counters, RETRY_AFTER_STATUS_CODES};
use crate::error::{BoxError, Error};
use crate::history::{Counter, Outcome, RetryHistory, StopReason};
use crate::policy::ErrorKind;
use crate::retry_after::{self, RetryAfter};

pin_project! {
    /// The future of [`RetryService`](crate::RetryService): calls the inner
    /// service, and on a retryable outcome drains the response body, sleeps
    /// and calls it again.
    pub struct ResponseFuture<S, B, RB>
    where
        S: Service<Request<B>, Response = Response<RB>>,
    {
        #[pin]
        state: State<S::Future, RB>,
        service: S,
        // Boxed: kept only when the request may be retried, and the future
        // of every request (retried or not) stays small to move.
        template: Option<Box<Template<B>>>,
        tracker: Tracker,
        // The attempt in flight's span, entered while it is polled; none
        // between attempts, and none when no subscriber wants it.
        span: Option<Box<Span>>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, RB> {
        Calling { #[pin] future: F },
        Draining { #[pin] body: RB, read: usize, delay: Duration },
        // Boxed: sleeping is rare, and an inline timer would make every
        // request's future (success path included) larger to move.
        Sleeping { sleep: Pin<Box<tokio::time::Sleep>> },
        // A zero delay: pending once, so the task yields between attempts.
        Yielding { yielded: bool },
        Ready,
    }
}

impl<S, B, RB> fmt::Debug for ResponseFuture<S, B, RB>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("history", &self.tracker.history)
            .finish_non_exhaustive()
    }
}

impl<S, B, RB> ResponseFuture<S, B, RB>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    pub(crate) fn new(
        future: S::Future,
        service: S,
        template: Option<Box<Template<B>>>,
        config: Arc<Config>,
        idempotent: bool,
        span: Option<Box<Span>>,
    ) -> Self {
        ResponseFuture {
            state: State::Calling { future },
            service,
            template,
            tracker: Tracker::new(config, idempotent),
            span,
        }
    }
}

/// The span of one attempt (`resend_count` attempts were made before it),
/// boxed; none when no subscriber wants it, so that a future moves 8 bytes
/// for it.
#[inline]
pub(crate) fn attempt_span(resend_count: usize) -> Option<Box<Span>> {
    let span = tracing::debug_span!(
        "attempt",
        http.request.resend_count = resend_count,
        http.response.status_code = Empty,
        error.type = Empty,
        retry.reason = Empty,
        retry.delay_ms = Empty,
    );
    (!span.is_disabled()).then(|| Box::new(span))
}

/// Records an attempt's answer on its span.
#[inline]
fn record_status(span: Option<&Span>, status: StatusCode) {
    if let Some(span) = span {
        record_status_on(span, status);
    }
}

#[cold]
fn record_status_on(span: &Span, status: StatusCode) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_client_error() || status.is_server_error() {
        span.record("error.type", status.as_str());
    }
}

/// Records on an attempt's span why it is retried, and after how long.
fn record_retry(span: Option<&Span>, reason: &str, delay: Duration) {
    let Some(span) = span else {
        return;
    };
    span.record("retry.reason", reason);
    span.record(
        "retry.delay_ms",
        u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
    );
}

impl<S, B, RB> Future for ResponseFuture<S, B, RB>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    B: ReplayBody,
    RB: http_body::Body,
{
    type Output = Result<Response<RB>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Calling { future } => {
                    let result = {
                        let _entered = this.span.as_deref().map(Span::enter);
                        ready!(future.poll(cx))
                    };
                    let replayable = this.template.is_some();
                    match result {
                        Ok(response) => {
                            record_status(this.span.as_deref(), response.status());
                            match this.tracker.on_response(response, replayable) {
                                Next::Done(result) => return Poll::Ready(result),
                                Next::Retry(body, delay) => {
                                    record_retry(this.span.as_deref(), "status", delay);
                                    *this.span = None;
                                    let limit = this.tracker.config.drain_limit;
                                    if body.is_end_stream()
                                        || body.size_hint().lower() > limit as u64
                                    {
                                        this.state.set(sleep_before_retry(delay));
                                    } else {
                                        this.state.set(State::Draining {
                                            body,
                                            read: 0,
                                            delay,
                                        });
                                    }
                                }
                            }
                        }
                        Err(err) => {
                            match this.tracker.on_error(
                                err.into(),
                                replayable,
                                this.span.as_deref(),
                            ) {
                                Err(err) => return Poll::Ready(Err(err)),
                                Ok(delay) => {
                                    *this.span = None;
                                    this.state.set(sleep_before_retry(delay));
                                }
                            }
                        }
                    }
                }
                StateProj::Draining {
                    mut body,
                    read,
                    delay,
                } => {
                    let limit = this.tracker.config.drain_limit;
                    while *read <= limit && !body.is_end_stream() {
                        match ready!(body.as_mut().poll_frame(cx)) {
                            Some(Ok(frame)) => {
                                if let Some(data) = frame.data_ref() {
                                    *read = read.saturating_add(data.remaining());
                                }
                            }
                            Some(Err(_)) | None => break,
                        }
                    }
                    let delay = *delay;
                    this.state.set(sleep_before_retry(delay));
                }
                StateProj::Sleeping { sleep } => {
                    ready!(sleep.as_mut().poll(cx));
                    this.state.set(State::Ready);
                }
                StateProj::Yielding { yielded } => {
                    if !*yielded {
                        *yielded = true;
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    this.state.set(State::Ready);
                }
                StateProj::Ready => {
                    if let Err(err) = ready!(this.service.poll_ready(cx)) {
                        return Poll::Ready(Err(this.tracker.not_ready(err.into())));
                    }
                    // A body that copied once copies again; should a custom
                    // `ReplayBody` refuse, the kept request itself is sent.
                    let request = match this.template.as_deref().and_then(Template::request) {
                        Some(request) => request,
                        None => match this.template.take() {
                            Some(template) => template.into_request(),
                            None => {
                                let err: BoxError = "no request left to send again".into();
                                return Poll::Ready(Err(this.tracker.not_ready(err)));
                            }
                        },
                    };
                    let span = attempt_span(this.tracker.history.len());
                    let future = {
                        let _entered = span.as_deref().map(Span::enter);
                        this.service.call(request)
                    };
                    *this.span = span;
                    this.state.set(State::Calling { future });
                }
            }
        }
    }
}

/// Sleeps before the next attempt. A zero delay still yields to the runtime
/// once (without a timer): an inner service that answers at once cannot make
/// a request spin through its retries without ever yielding.
fn sleep_before_retry<F, RB>(delay: Duration) -> State<F, RB> {
    if delay.is_zero() {
        State::Yielding { yielded: false }
    } else {
        State::Sleeping {
            sleep: Box::pin(tokio::time::sleep(delay)),
        }
    }
}

enum Next<RB> {
    Done(Result<Response<RB>, BoxError>),
    /// Drain this body, sleep, and try again.
    Retry(RB, Duration),
}

/// The bookkeeping of one request: counters left, history, rules.
struct Tracker {
    config: Arc<Config>,
    counters: Counters,
    history: RetryHistory,
    /// The sleep before the attempt in flight.
    slept: Duration,
    idempotent: bool,
}

impl Tracker {
    fn new(config: Arc<Config>, idempotent: bool) -> Self {
        Tracker {
            counters: config.counters,
            config,
            history: RetryHistory::default(),
            slept: Duration::ZERO,
            idempotent,
        }
    }

    fn on_response<RB>(&mut self, mut response: Response<RB>, replayable: bool) -> Next<RB> {
        match self.judge_response(&response, replayable) {
            Verdict::Retry(delay) => Next::Retry(response.into_body(), delay),
            Verdict::Keep(history) => {
                response.extensions_mut().insert(history);
                Next::Done(Ok(response))
            }
            Verdict::Raise(err) => Next::Done(Err(err)),
        }
    }

    /// Records an answered attempt and decides what follows it.
    fn judge_response<RB>(&mut self, response: &Response<RB>, replayable: bool) -> Verdict {
        let status = response.status();
        self.history.push(Outcome::Status(status), self.slept);
        match self.decide_status(status, response.headers(), replayable) {
            Ok(delay) => {
                tracing::debug!(%status, attempt = self.history.len(), ?delay, "retrying");
                self.slept = delay;
                Verdict::Retry(delay)
            }
            Err(raise) => {
                let history = std::mem::take(&mut self.history);
                if raise {
                    Verdict::Raise(Box::new(Error::gave_up_on_status(status, history)))
                } else {
                    Verdict::Keep(history)
                }
            }
        }
    }

    /// `Ok(delay)` to retry; `Err(raise)` to stop, raising an error or not.
    fn decide_status(
        &mut self,
        status: StatusCode,
        headers: &http::HeaderMap,
        replayable: bool,
    ) -> Result<Duration, bool> {
        if !self.config.may_retry_status(status) {
            // The success path: nothing to decide.
            return Err(false);
        }
        let forced = self.config.status_forcelist.contains(&status);
        let retry_after_status = RETRY_AFTER_STATUS_CODES.contains(&status);
        let config = self.config.clone();
        // Read the clock and the header only when they can matter.
        let retry_after =
            if config.respect_retry_after && headers.contains_key(http::header::RETRY_AFTER) {
                retry_after::parse(headers, SystemTime::now())
            } else {
                RetryAfter::Absent
            };
        let wanted =
            forced || (retry_after.is_present() && config.may_retry() && retry_after_status);
        if !wanted {
            return Err(false);
        }
        if !self.idempotent {
            return Err(self.stop(StopReason::MethodNotRetryable, false));
        }
        if let Err(counter) = self.take(Counter::Status) {
            return Err(self.stop(StopReason::Exhausted(counter), config.raise_on_status));
        }
        if !replayable {
            return Err(self.stop(StopReason::BodyNotReplayable, false));
        }
        let delay = match retry_after {
            RetryAfter::Wait(wait) if !wait.is_zero() => {
                if wait > config.retry_after_max {
                    if config.fail_on_long_retry_after {
                        let reason = StopReason::RetryAfterTooLong(wait);
                        return Err(self.stop(reason, config.raise_on_status));
                    }
                    config.retry_after_max
                } else {
                    wait
                }
            }
            // Absent, unparsable or zero: the backoff.
            _ => self.backoff(),
        };
        if !self.withdraw() {
            return Err(self.stop(StopReason::BudgetExhausted, false));
        }
        Ok(delay)
    }

    /// `Ok(delay)` to retry, or the final error.
    /// Records the error's kind on the attempt's `span`, and why it is
    /// retried.
    fn on_error(
        &mut self,
        err: BoxError,
        replayable: bool,
        span: Option<&Span>,
    ) -> Result<Duration, BoxError> {
        let kind = self.config.policy.classify_error(&*err);
        if let Some(span) = span {
            span.record("error.type", kind.as_str());
        }
        self.history.push(
            Outcome::Error {
                kind,
                message: describe(&*err),
            },
            self.slept,
        );
        let stop = |tracker: &mut Tracker, reason: StopReason| -> BoxError {
            let exhausted = reason.is_exhausted();
            tracker.history.stop(reason);
            let history = std::mem::take(&mut tracker.history);
            if exhausted {
                Box::new(Error::exhausted(err, history))
            } else {
                Box::new(Error::not_retried(err, history))
            }
        };
        let counter = match kind {
            ErrorKind::Fatal => return Err(stop(self, StopReason::NotRetryable)),
            ErrorKind::Connect => Counter::Connect,
            ErrorKind::Read => Counter::Read,
            ErrorKind::Other => Counter::Other,
        };
        if kind != ErrorKind::Connect && !self.idempotent {
            return Err(stop(self, StopReason::MethodNotRetryable));
        }
        if let Err(counter) = self.take(counter) {
            return Err(stop(self, StopReason::Exhausted(counter)));
        }
        if !replayable {
            return Err(stop(self, StopReason::BodyNotReplayable));
        }
        let delay = self.backoff();
        if !self.withdraw() {
            return Err(stop(self, StopReason::BudgetExhausted));
        }
        tracing::debug!(%kind, attempt = self.history.len(), ?delay, "retrying after error");
        record_retry(span, kind.as_str(), delay);
        self.slept = delay;
        Ok(delay)
    }

    fn not_ready(&mut self, err: BoxError) -> BoxError {
        self.history.stop(StopReason::ServiceNotReady);
        Box::new(Error::not_retried(err, std::mem::take(&mut self.history)))
    }

    fn stop(&mut self, reason: StopReason, raise: bool) -> bool {
        tracing::debug!(%reason, attempts = self.history.len(), "not retrying");
        self.history.stop(reason);
        raise
    }

    /// Takes one retry from `total` and from `counter`; the counter that ran
    /// out, if one did.
    fn take(&mut self, counter: Counter) -> Result<(), Counter> {
        fn dec(left: &mut Option<u32>) -> bool {
            match left {
                None => true,
                Some(0) => false,
                Some(n) => {
                    *n -= 1;
                    true
                }
            }
        }
        if !dec(&mut self.counters.total) {
            return Err(Counter::Total);
        }
        let left = match counter {
            Counter::Connect => &mut self.counters.connect,
            Counter::Read => &mut self.counters.read,
            Counter::Status => &mut self.counters.status,
            Counter::Other => &mut self.counters.other,
            Counter::Total => return Ok(()),
        };
        if dec(left) {
            Ok(())
        } else {
            Err(counter)
        }
    }

    fn backoff(&self) -> Duration {
        // Every attempt so far failed: that is urllib3's count of
        // consecutive errors.
        self.config.backoff.delay(self.history.len(), fastrand::f64)
    }

    fn withdraw(&self) -> bool {
        self.config.budget.as_ref().is_none_or(|b| b.withdraw())
    }
}

/// What follows an answered attempt.
enum Verdict {
    /// Retry after this delay.
    Retry(Duration),
    /// Keep the response, with this history.
    Keep(RetryHistory),
    /// Replace the response with this error.
    Raise(BoxError),
}

/// The error and its causes, as one line.
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
