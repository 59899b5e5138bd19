//! Read timeouts and size limits on response bodies.
//!
//! [`ReadTimeout`] fails a body when no frame arrives within the read
//! timeout of the previous one (the wait for the head counts too: the same
//! timer is handed from the response future to the body). [`limited`] fails
//! a body once it has yielded more bytes than a limit. Both drop the
//! connection when they fail: hyper never returns a connection whose body
//! was not read to the end to the pool.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use tokio::time::{Instant, Sleep};

use session_core::error::{TimedOut, TimeoutKind};
use session_core::{Body, BoxError};

pin_project_lite::pin_project! {
    /// A body that fails with `TimedOut(TimeoutKind::Read)` when a frame takes longer
    /// than the read timeout.
    pub(crate) struct ReadTimeout<B> {
        #[pin]
        inner: B,
        sleep: Pin<Box<Sleep>>,
        limit: Duration,
    }
}

impl<B> ReadTimeout<B> {
    /// `sleep` is the timer of the response head, reset here.
    pub(crate) fn new(inner: B, mut sleep: Pin<Box<Sleep>>, limit: Duration) -> Self {
        sleep.as_mut().reset(Instant::now() + limit);
        ReadTimeout {
            inner,
            sleep,
            limit,
        }
    }
}

impl<B> HttpBody for ReadTimeout<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(frame) => {
                let limit = *this.limit;
                this.sleep.as_mut().reset(Instant::now() + limit);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TimedOut(TimeoutKind::Read))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response was bigger than a limit of the transport: session-core's
/// [`TooLarge`](session_core::error::TooLarge), which
/// `session_core::Error::is_too_large` looks for.
///
/// Found in the `source()` chain of the error reading the body, or of the
/// request error: for too many content codings, and for a `Content-Length`
/// over the body limit, refused with the head (see the crate docs'
/// "Framing and limits").
pub use session_core::error::TooLarge as LimitExceeded;

/// `body`, failing with [`LimitExceeded`] once it has yielded more than
/// `limit` bytes. http-body-util's [`Limited`] counts; its
/// [`LengthLimitError`] does not say which limit was hit, so it is replaced
/// by ours, which does (`what`: the wire's bytes or the decoded ones,
/// depending on where the caller puts the limit) and gives its value. The
/// body's own errors pass through unchanged.
///
/// `Limited` announces at most the bytes left under the limit as its size
/// hint: a body whose `Content-Length` is over the limit would announce the
/// limit as its exact length. The response path refuses such a body with
/// its head when its length describes it as delivered, and a decoded body
/// announces no length, so that hint never reaches a caller.
pub(crate) fn limited<B>(body: B, limit: u64, what: &'static str) -> Body
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let max = usize::try_from(limit).unwrap_or(usize::MAX);
    Body::wrap(Limited::new(body, max).map_err(move |err| {
        if err.is::<LengthLimitError>() {
            Box::new(LimitExceeded::new(what, limit))
        } else {
            err
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};

    #[tokio::test]
    async fn limited_fails_past_the_limit() {
        let body = limited(Full::new(Bytes::from("abcdef")), 5, "response body");
        let err = body.collect().await.unwrap_err();
        let limit = err.downcast_ref::<LimitExceeded>().unwrap();
        assert_eq!(limit.limit(), 5);
        assert_eq!(
            err.to_string(),
            "response body is over the limit of 5 bytes"
        );
        let ok = limited(Full::new(Bytes::from("abcde")), 5, "response body");
        assert_eq!(ok.collect().await.unwrap().to_bytes(), "abcde");
    }

    #[tokio::test(start_paused = true)]
    async fn read_timeout_fires_between_frames() {
        use futures_util::StreamExt;
        let first = Ok::<_, BoxError>(Frame::data(Bytes::from("a")));
        let frames = futures_util::stream::iter(vec![first]).chain(futures_util::stream::pending());
        let sleep = Box::pin(tokio::time::sleep(Duration::from_secs(1)));
        let body = ReadTimeout::new(StreamBody::new(frames), sleep, Duration::from_secs(1));
        let err = body.collect().await.unwrap_err();
        assert_eq!(err.to_string(), "read timed out");
    }
}

/// A per-request read timeout, replacing the transport's for one request:
/// put it in the request's extensions (`RequestBuilder::extension`).
///
/// ```
/// use std::time::Duration;
/// use session_hyper::RequestReadTimeout;
///
/// let mut req = http::Request::new(session_core::Body::empty());
/// req.extensions_mut().insert(RequestReadTimeout(Duration::from_secs(2)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestReadTimeout(pub std::time::Duration);

/// A per-request connect timeout (TCP, proxy handshake and TLS together),
/// replacing the transport's for one request: put it in the request's
/// extensions. It bounds a connection this request makes; the request still
/// takes an idle pooled connection when there is one (the pool is the
/// transport's: only the timeout differs, so nothing is less safe to share).
///
/// ```
/// use std::time::Duration;
/// use session_hyper::RequestConnectTimeout;
///
/// let mut req = http::Request::new(session_core::Body::empty());
/// req.extensions_mut().insert(RequestConnectTimeout(Duration::from_secs(1)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestConnectTimeout(pub std::time::Duration);

tokio::task_local! {
    /// The connect timeout of the request whose future is being polled.
    ///
    /// hyper-util's client gives its connector only the URI, and calls it
    /// while the request's future is polled; the response future sets this
    /// around that poll (only for a request with a [`RequestConnectTimeout`])
    /// so that the connection made for it gets the request's timeout. A
    /// connect that outlives the request (hyper-util finishes it in the
    /// background for the pool) keeps the timeout it started with.
    static REQUEST_CONNECT_TIMEOUT: std::time::Duration;
}

/// Polls `f` with `limit` as the connect timeout of connections it starts.
pub(crate) fn with_connect_timeout<R>(limit: std::time::Duration, f: impl FnOnce() -> R) -> R {
    REQUEST_CONNECT_TIMEOUT.sync_scope(limit, f)
}

/// The connect timeout of the request being polled, if it has its own.
pub(crate) fn request_connect_timeout() -> Option<std::time::Duration> {
    REQUEST_CONNECT_TIMEOUT.try_with(|limit| *limit).ok()
}
