//! The response future: waits for hyper's response under the read timeout,
//! then finishes it (connection info, body limits, decompression).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, TRANSFER_ENCODING};
use http_body::Body as _;
use tokio::time::{Instant, Sleep};

use session_core::error::{Connect, NotSent, TimedOut, TimeoutKind};
use session_core::{Body, BoxError, ConnectionTag};

use crate::timeout::{limited, LimitExceeded, ReadTimeout};
use crate::{decompress, framing};

// For doc links.
#[cfg(doc)]
use crate::HyperTransport;

/// What the response path needs, copied into every response future.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) read_timeout: Option<Duration>,
    /// The request's own connect timeout (`RequestConnectTimeout`).
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) max_body: Option<u64>,
    pub(crate) max_decompressed: u64,
    /// The largest HTTP/1.1 response head hyper reads, for its error.
    pub(crate) max_head: u64,
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
    /// When the transport got the request (for the time to first byte).
    sent: Instant,
}

impl ResponseFuture {
    /// Waits for `inner`; the read timeout, if any, starts now.
    pub(crate) fn new(inner: ClientFuture, limits: Limits, head: bool, sent: Instant) -> Self {
        ResponseFuture {
            sleep: limits.read_timeout.map(|t| Box::pin(tokio::time::sleep(t))),
            inner: Some(inner),
            error: None,
            limits,
            head,
            sent,
        }
    }

    /// Fails with `error` when first polled.
    pub(crate) fn failed(error: BoxError, limits: Limits, head: bool, sent: Instant) -> Self {
        ResponseFuture {
            inner: None,
            error: Some(error),
            sleep: None,
            limits,
            head,
            sent,
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
        let polled = match this.limits.connect_timeout {
            None => Pin::new(inner).poll(cx),
            Some(limit) => crate::timeout::with_connect_timeout(limit, || Pin::new(inner).poll(cx)),
        };
        let result = match polled {
            Poll::Ready(result) => result,
            Poll::Pending => {
                if let Some(sleep) = this.sleep.as_mut() {
                    if sleep.as_mut().poll(cx).is_ready() {
                        // Dropping the client's future cancels the request;
                        // hyper closes an HTTP/1.1 connection it was on.
                        this.inner = None;
                        return Poll::Ready(Err(Box::new(TimedOut(TimeoutKind::Read))));
                    }
                }
                return Poll::Pending;
            }
        };
        this.inner = None;
        Poll::Ready(match result {
            Ok(res) => finish(res, this.sleep.take(), this.limits, this.head, this.sent),
            Err(err) if err.is_connect() => Err(Box::new(Connect::new(err))),
            Err(err) if refused_stream(&err) => Err(Box::new(NotSent::new(err))),
            Err(err) if head_too_large(&err) => Err(Box::new(LimitExceeded::new(
                "response head",
                this.limits.max_head,
            ))),
            Err(err) => Err(Box::new(err)),
        })
    }
}

/// Did the server not process the request's HTTP/2 stream (RFC 9113
/// §8.7)? Either it refused it (`RST_STREAM` with `REFUSED_STREAM`), or its
/// graceful `GOAWAY` (`NO_ERROR`) named a last stream below it: h2 gives that
/// error, from the peer, only to the streams above the last one and to
/// those opened after it. (A `GOAWAY` with an error code is not told apart:
/// h2 then gives every stream still open the same error, processed or not.)
fn refused_stream(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            let refused = h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM);
            let above_go_away = h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR);
            return h2.is_remote() && (refused || above_go_away);
        }
        next = err.source();
    }
    false
}

/// Did hyper refuse a response head over its buffer (`max_response_header_size`)?
fn head_too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(hyper) = err.downcast_ref::<hyper::Error>() {
            // `hyper::Error::is_parse_too_large` exists only with hyper's
            // `server` feature, which a client does not build; a parse error
            // whose text is hyper's for `Parse::TooLarge` is the same test.
            return hyper.is_parse() && hyper.to_string() == "message head is too large";
        }
        next = err.source();
    }
    false
}

/// What a response head says about its body's coding and framing, found in
/// one pass over its field names.
#[derive(Clone, Copy, Default)]
struct Head {
    /// `Content-Encoding`.
    coded: bool,
    /// `Transfer-Encoding`.
    transfer: bool,
}

/// Most responses have a handful of headers, and a scan of their names
/// (standard names compare as small integers) is cheaper than hashing the
/// names looked for.
#[inline]
fn scan(headers: &http::HeaderMap) -> Head {
    if headers.keys_len() <= 8 {
        let mut head = Head::default();
        for key in headers.keys() {
            if key == CONTENT_ENCODING {
                head.coded = true;
            } else if key == TRANSFER_ENCODING {
                head.transfer = true;
            }
        }
        head
    } else {
        Head {
            coded: headers.contains_key(CONTENT_ENCODING),
            transfer: headers.contains_key(TRANSFER_ENCODING),
        }
    }
}

/// Whether hyper framed a body for this response (by `Transfer-Encoding`,
/// `Content-Length` or the close): not for `HEAD`, 1xx, 204 or 304.
fn frames_a_body(status: http::StatusCode, head: bool) -> bool {
    !(head
        || status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED)
}

/// The error of a response whose framing [`framing::check`] refused; its
/// connection is retired first.
#[cold]
fn refuse_framing(err: framing::FramingError, parts: &http::response::Parts) -> BoxError {
    // Only HTTP/1 frames a body with these fields (HTTP/2 refuses them);
    // an HTTP/2 connection carries other streams and is left open.
    if parts.version <= http::Version::HTTP_11 {
        if let Some(tag) = parts.extensions.get::<ConnectionTag>() {
            tag.retire();
            tracing::debug!(connection = tag.info().id, "connection retired");
        }
    }
    Box::new(err)
}

/// The error of a body announced over the limit `max`: the one reading
/// past the limit gives.
#[cold]
fn too_large(max: u64) -> BoxError {
    Box::new(LimitExceeded::new("response body", max))
}

/// Counts a response over the connection `tag` is a copy of, with its
/// time to first byte: from `sent`, or from when the connection was ready
/// if it was made for this request.
#[inline]
fn record_use(tag: &mut ConnectionTag, sent: Instant, version: http::Version) {
    let reused = tag.record_use().reused;
    let from = sent.max(tag.ready_at());
    tag.info_mut().timings.ttfb = Some(from.elapsed());
    if reused {
        tracing::debug!(
            connection.id = tag.info().id,
            network.protocol.version = ?version,
            "connection reused"
        );
    }
}

/// Turns hyper's response into ours: connection info, framing checks, read
/// timeout, limits, decompression.
///
/// A response without `Transfer-Encoding` whose length is within the limit
/// costs one pass over its header names and a branch per check.
fn finish(
    res: http::Response<hyper::body::Incoming>,
    sleep: Option<Pin<Box<Sleep>>>,
    limits: Limits,
    head: bool,
    sent: Instant,
) -> Result<http::Response<Body>, BoxError> {
    let (mut parts, incoming) = res.into_parts();
    if let Some(tag) = parts.extensions.get_mut::<ConnectionTag>() {
        record_use(tag, sent, parts.version);
    }
    let fields = scan(&parts.headers);
    if fields.transfer && frames_a_body(parts.status, head) {
        if let Err(err) = framing::check(&parts.headers) {
            return Err(refuse_framing(err, &parts));
        }
    }
    // Most responses are not encoded.
    let encoded = limits.decompress && fields.coded;
    // A `Content-Length` over the limit (hyper's size hint is the length it
    // parsed; zero when no body is framed) is refused now, when it
    // describes the body as delivered: not for a body to be decoded, whose
    // decoded bytes are counted as they come.
    let over = limits
        .max_body
        .filter(|&max| incoming.size_hint().lower() > max);
    if let (Some(max), false) = (over, encoded) {
        return Err(too_large(max));
    }
    let mut body = match (sleep, limits.read_timeout, limits.max_body) {
        (Some(sleep), Some(t), None) => Body::wrap(ReadTimeout::new(incoming, sleep, t)),
        (Some(sleep), Some(t), Some(max)) => {
            limited(ReadTimeout::new(incoming, sleep, t), max, "response body")
        }
        (_, _, Some(max)) => limited(incoming, max, "response body"),
        _ => Body::wrap(incoming),
    };
    let empty = || {
        head || parts.status == http::StatusCode::NO_CONTENT
            || parts.status == http::StatusCode::NOT_MODIFIED
            || parts.headers.get(CONTENT_LENGTH).is_some_and(|v| v == "0")
    };
    if encoded && !empty() {
        body = decompress::decode(&mut parts.headers, body, limits.max_decompressed)?;
        // A coding it does not know leaves the body as it came, and its
        // `Content-Length` (removed when decoded) describes it.
        if let Some(max) = over {
            if parts.headers.contains_key(CONTENT_LENGTH) {
                return Err(too_large(max));
            }
        }
    }
    Ok(http::Response::from_parts(parts, body))
}
