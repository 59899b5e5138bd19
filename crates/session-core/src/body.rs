//! The body of requests and responses.
//!
//! A [`Body`] is either *replayable* (bytes held in memory, which
//! [`Body::try_clone`] copies cheaply, so redirects and retries can send them
//! again) or a *one-shot stream* (any [`http_body::Body`], sent once).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use sync_wrapper::SyncWrapper;

use crate::error::BoxError;

/// The most bytes of a response nobody will read (a redirect, a retried
/// attempt, a 401 answered again) that are read and thrown away, so its
/// connection can be reused; a longer body is dropped unread: 64 KiB.
pub const DRAIN_LIMIT: usize = 64 * 1024;

type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>;

/// The body of a request or a response.
///
/// ```
/// use session_core::Body;
///
/// let body = Body::from("hello");
/// assert_eq!(body.as_bytes(), Some(&b"hello"[..]));
/// assert!(body.try_clone().is_some());
/// ```
pub struct Body {
    kind: Kind,
}

// See `Kind::Full`.
const _: () = assert!(std::mem::size_of::<Body>() <= 32);

enum Kind {
    /// In memory; empty once its one frame has been yielded. (Not an
    /// `Option`: a bare `Bytes` keeps `Body` at 32 bytes, so an
    /// `http::Request<Body>` fits the fast path of `memcpy` (256 bytes) each
    /// time hyper moves it.)
    Full(Bytes),
    /// A one-shot stream of frames.
    Stream(SyncWrapper<BoxBody>),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body {
            kind: Kind::Full(Bytes::new()),
        }
    }

    /// Wraps any [`http_body::Body`] as a one-shot stream.
    pub fn wrap<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            kind: Kind::Stream(SyncWrapper::new(Box::pin(body.map_err(Into::into)))),
        }
    }

    /// Wraps a stream of byte chunks as a one-shot body.
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        use futures_util::TryStreamExt;
        let frames = stream.map_ok(Frame::data).map_err(Into::into);
        Body::wrap(http_body_util::StreamBody::new(frames))
    }

    /// The bytes of a replayable body; `None` for a stream.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Full(bytes) => Some(bytes),
            Kind::Stream(_) => None,
        }
    }

    /// A copy of a replayable body (a reference count, not a copy of the
    /// bytes); `None` for a one-shot stream.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Full(bytes) => Some(Body {
                kind: Kind::Full(bytes.clone()),
            }),
            Kind::Stream(_) => None,
        }
    }

    /// Is this body held in memory, so it can be sent again?
    pub fn is_replayable(&self) -> bool {
        matches!(self.kind, Kind::Full(_))
    }

    /// The exact length, when it is known before reading.
    pub fn content_length(&self) -> Option<u64> {
        http_body::Body::size_hint(self).exact()
    }

    /// Reads the whole body into memory, failing once it exceeds `limit` bytes.
    ///
    /// # Errors
    /// The stream's own error, or [`LengthLimitError`] when over the limit.
    pub async fn collect_limited(self, limit: usize) -> Result<Bytes, BoxError> {
        match self.kind {
            Kind::Full(bytes) => {
                if bytes.len() > limit {
                    return Err(Box::new(LengthLimitError { limit }));
                }
                Ok(bytes)
            }
            Kind::Stream(stream) => {
                let mut body = stream.into_inner();
                // One chunk is returned as it came; more are copied together,
                // into room reserved once from the announced length.
                // Trust the announced length for at most 1 MiB: a server's
                // Content-Length alone must not make every read reserve the
                // whole limit.
                let expected = usize::try_from(body.size_hint().lower())
                    .unwrap_or(usize::MAX)
                    .min(limit)
                    .min(1 << 20);
                let mut first: Option<Bytes> = None;
                let mut joined: Vec<u8> = Vec::new();
                let mut total = 0usize;
                while let Some(frame) = body.frame().await {
                    let Ok(data) = frame?.into_data() else {
                        continue;
                    };
                    total = total.saturating_add(data.len());
                    if total > limit {
                        return Err(Box::new(LengthLimitError { limit }));
                    }
                    match first.take() {
                        None if joined.is_empty() => first = Some(data),
                        None => joined.extend_from_slice(&data),
                        Some(head) => {
                            joined.reserve(expected.max(head.len() + data.len()));
                            joined.extend_from_slice(&head);
                            joined.extend_from_slice(&data);
                        }
                    }
                    // A body that knows it has ended (all of its announced
                    // length arrived) is not polled once more for its end.
                    if body.is_end_stream() {
                        break;
                    }
                }
                Ok(first.unwrap_or_else(|| Bytes::from(joined)))
            }
        }
    }
}

impl Body {
    /// Reads the body to its end and throws it away, so that its connection
    /// can be reused. A body announced or found longer than `limit` bytes,
    /// or failing, is dropped unread from there (its connection then closes).
    pub(crate) async fn discard(self, limit: usize) {
        let Kind::Stream(stream) = self.kind else {
            return;
        };
        let mut body = stream.into_inner();
        if body.size_hint().lower() > limit as u64 {
            return;
        }
        let mut read = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                read = read.saturating_add(data.len());
                if read > limit {
                    return;
                }
            }
        }
    }
}

/// A body was longer than the limit it was read under.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("body is longer than the limit of {limit} bytes")]
pub struct LengthLimitError {
    /// The limit, in bytes.
    pub limit: usize,
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => f.debug_struct("Body").field("len", &bytes.len()).finish(),
            Kind::Stream(_) => f.debug_struct("Body").field("stream", &true).finish(),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => {
                Poll::Ready((!bytes.is_empty()).then(|| Ok(Frame::data(std::mem::take(bytes)))))
            }
            Kind::Stream(stream) => stream.get_mut().as_mut().poll_frame(cx),
        }
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_empty(),
            // `SyncWrapper` only lends `&mut`, so a shared look is not possible.
            Kind::Stream(_) => false,
        }
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body {
            kind: Kind::Full(bytes),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from(Bytes::from(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(bytes))
    }
}

impl From<()> for Body {
    fn from(_: ()) -> Self {
        Body::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_body_replays_and_reads_once() {
        let body = Body::from("abc");
        let copy = body.try_clone().unwrap();
        assert_eq!(body.collect_limited(10).await.unwrap(), "abc");
        assert_eq!(copy.content_length(), Some(3));
        assert!(copy
            .collect_limited(2)
            .await
            .unwrap_err()
            .is::<LengthLimitError>());
    }

    #[tokio::test]
    async fn stream_is_one_shot_and_limited() {
        let chunks = vec![
            Ok::<_, std::io::Error>(Bytes::from("ab")),
            Ok(Bytes::from("cd")),
        ];
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        assert!(body.try_clone().is_none());
        assert!(body.as_bytes().is_none());
        let err = body.collect_limited(3).await.unwrap_err();
        assert!(err.is::<LengthLimitError>(), "{err}");
    }

    /// Yields one frame, then says it has ended; polled again, it fails.
    struct EndsAfterOne(bool);

    impl http_body::Body for EndsAfterOne {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            if self.0 {
                return Poll::Ready(Some(Err("polled after its end".into())));
            }
            self.0 = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from("abc")))))
        }

        fn is_end_stream(&self) -> bool {
            self.0
        }
    }

    #[tokio::test]
    async fn a_body_that_has_ended_is_not_polled_again() {
        let body = Body::wrap(EndsAfterOne(false));
        assert_eq!(body.collect_limited(10).await.unwrap(), "abc");
    }

    #[test]
    fn body_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Body>();
    }
}
