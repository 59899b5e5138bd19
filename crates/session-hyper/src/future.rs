//! The response future: waits for hyper's response under the read timeout,
//! then finishes it (connection info, body limits, decompression).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use tokio::time::Sleep;

use session_core::error::{Connect, NotSent, TimedOut};
use session_core::{Body, BoxError, ConnectionTag};

use crate::decompress;
use crate::timeout::{limited, ReadTimeout};

// For doc links.
#[cfg(doc)]
use crate::HyperTransport;

/// What the response path needs, copied into every response future.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) max_body: Option<u64>,
    pub(crate) max_decompressed: u64,
    pub(crate) decompress: bool,
}

type ClientFuture = hyper_util::client::legacy::ResponseFuture;

/// The future of [`HyperTransport`]'s `call`.
pub struct ResponseFuture {
    inner: Option<ClientFuture>,
    error: Option<BoxError>,
    sleep: Option<Pin<Box<Sleep>>>,
    limits: Limits,
    head: bool,
}

impl ResponseFuture {
    /// Waits for `inner`; the read timeout, if any, starts now.
    pub(crate) fn new(inner: ClientFuture, limits: Limits, head: bool) -> Self {
        ResponseFuture {
            sleep: limits.read_timeout.map(|t| Box::pin(tokio::time::sleep(t))),
            inner: Some(inner),
            error: None,
            limits,
            head,
        }
    }

    /// Fails with `error` when first polled.
    pub(crate) fn failed(error: BoxError, limits: Limits, head: bool) -> Self {
        ResponseFuture {
            inner: None,
            error: Some(error),
            sleep: None,
            limits,
            head,
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            let err = this
                .error
                .take()
                .unwrap_or_else(|| "polled after completion".into());
            return Poll::Ready(Err(err));
        };
        let result = match Pin::new(inner).poll(cx) {
            Poll::Ready(result) => result,
            Poll::Pending => {
                if let Some(sleep) = this.sleep.as_mut() {
                    if sleep.as_mut().poll(cx).is_ready() {
                        // Dropping the client's future cancels the request;
                        // hyper closes an HTTP/1.1 connection it was on.
                        this.inner = None;
                        return Poll::Ready(Err(Box::new(TimedOut("read"))));
                    }
                }
                return Poll::Pending;
            }
        };
        this.inner = None;
        Poll::Ready(match result {
            Ok(res) => finish(res, this.sleep.take(), this.limits, this.head),
            Err(err) if err.is_connect() => Err(Box::new(Connect::new(err))),
            Err(err) if refused_stream(&err) => Err(Box::new(NotSent::new(err))),
            Err(err) => Err(Box::new(err)),
        })
    }
}

/// Did the server refuse the request's HTTP/2 stream (`RST_STREAM` with
/// `REFUSED_STREAM`)? RFC 9113 §8.7: such a request was not processed. (A
/// stream above a `GOAWAY`'s last stream id is not told apart: h2 gives the
/// streams still open when that connection ends the same error.)
fn refused_stream(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return h2.is_reset()
                && h2.is_remote()
                && h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        next = err.source();
    }
    false
}

/// `headers.contains_key(name)`; most responses have a handful of headers,
/// and a scan of their names is cheaper than hashing `name`.
#[inline]
fn has_header(headers: &http::HeaderMap, name: &http::HeaderName) -> bool {
    if headers.keys_len() <= 8 {
        headers.keys().any(|key| key == name)
    } else {
        headers.contains_key(name)
    }
}

/// Turns hyper's response into ours: connection info, read timeout, limits,
/// decompression.
fn finish(
    res: http::Response<hyper::body::Incoming>,
    sleep: Option<Pin<Box<Sleep>>>,
    limits: Limits,
    head: bool,
) -> Result<http::Response<Body>, BoxError> {
    let (mut parts, incoming) = res.into_parts();
    if let Some(tag) = parts.extensions.get_mut::<ConnectionTag>() {
        tag.record_use();
    }
    let mut body = match (sleep, limits.read_timeout, limits.max_body) {
        (Some(sleep), Some(t), None) => Body::wrap(ReadTimeout::new(incoming, sleep, t)),
        (Some(sleep), Some(t), Some(max)) => {
            limited(ReadTimeout::new(incoming, sleep, t), max, "response body")
        }
        (_, _, Some(max)) => limited(incoming, max, "response body"),
        _ => Body::wrap(incoming),
    };
    // Most responses are not encoded: one header lookup says so.
    let encoded = limits.decompress && has_header(&parts.headers, &CONTENT_ENCODING);
    let empty = || {
        head || parts.status == http::StatusCode::NO_CONTENT
            || parts.status == http::StatusCode::NOT_MODIFIED
            || parts.headers.get(CONTENT_LENGTH).is_some_and(|v| v == "0")
    };
    if encoded && !empty() {
        body = decompress::decode(&mut parts.headers, body, limits.max_decompressed)?;
    }
    Ok(http::Response::from_parts(parts, body))
}
