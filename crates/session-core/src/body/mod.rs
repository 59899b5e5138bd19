//! The body of requests and responses.
//!
//! A [`Body`] is one of:
//!
//! - *bytes in memory* ([`Body::from`] bytes or a string): replayable,
//!   [`Body::try_clone`] copies a reference count;
//! - a *replayable stream*: made by a function that opens a fresh stream
//!   each time it is asked ([`Body::from_file`], which opens the file again,
//!   or [`Body::replayable`]); a copy is a new stream, so a redirect or a
//!   retry sends it again without holding it in memory;
//! - a *one-shot stream* (any [`http_body::Body`], [`Body::wrap`],
//!   [`Body::from_stream`]), sent once: a `307` redirect or a retry of it
//!   stops with a clear error instead.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use session_core::Body;
//! # let dir = std::env::temp_dir().join(format!("session-core-body-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("report.csv");
//! # std::fs::write(&path, "a,b\n1,2\n")?;
//!
//! let file = Body::from_file(&path)?;
//! assert_eq!(file.content_length(), Some(8)); // from the file's metadata
//! assert!(file.is_replayable());
//! assert!(file.as_bytes().is_none()); // not read into memory
//! let again = file.try_clone().expect("a file is opened again for a copy");
//! # drop(again);
//!
//! let stream = Body::from_stream(futures_util::stream::iter([
//!     Ok::<_, std::io::Error>(bytes::Bytes::from("one shot")),
//! ]));
//! assert!(stream.try_clone().is_none());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```

mod file;

use std::fmt;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use sync_wrapper::SyncWrapper;

use crate::error::BoxError;
use crate::progress::{Hook, Progress, ProgressBody};

pub use file::SizeChanged;

/// The most bytes of a response nobody will read (a redirect, a retried
/// attempt, a 401 answered again) that are read and thrown away, so its
/// connection can be reused; a longer body is dropped unread: 64 KiB.
pub const DRAIN_LIMIT: usize = 64 * 1024;

pub(crate) type BoxBody =
    Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static>>;

/// The body of a request or a response.
///
/// ```
/// use session_core::Body;
///
/// let body = Body::from("hello");
/// assert_eq!(body.as_bytes(), Some(&b"hello"[..]));
/// assert!(body.try_clone().is_some());
/// ```
///
/// See the [module docs](self) for more details.
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
    /// A stream of frames; with a [`Source`], one that can be opened again
    /// (a replayable stream), without, a one-shot stream. (One variant, not
    /// two: `Bytes` has room for one other variant beside it at 32 bytes.)
    Stream(SyncWrapper<BoxBody>, Option<Arc<Source>>),
}

/// What opens a replayable stream again, and its length when known.
struct Source {
    open: Box<dyn Fn() -> BoxBody + Send + Sync>,
    len: Option<u64>,
}

impl Source {
    /// A fresh stream, and the body holding it.
    fn body(self: &Arc<Self>) -> Body {
        Body {
            kind: Kind::Stream(SyncWrapper::new((self.open)()), Some(self.clone())),
        }
    }
}

fn boxed<B>(body: B) -> BoxBody
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Box::pin(body.map_err(Into::into))
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
            kind: Kind::Stream(SyncWrapper::new(boxed(body)), None),
        }
    }

    /// A replayable stream: `open` makes a fresh stream for the first send
    /// and for each copy [`try_clone`](Self::try_clone) makes, so a redirect
    /// or a retry sends the body again without keeping it in memory.
    ///
    /// `length` is the exact length of every stream `open` makes, when
    /// known (it becomes the request's `Content-Length`; a stream of another
    /// length then fails the request). `open` is called once here and once
    /// per copy: it should be cheap, and leave its I/O to the stream's first
    /// poll.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use session_core::Body;
    ///
    /// let body = Body::replayable(Some(5), || {
    ///     http_body_util::Full::new(Bytes::from_static(b"hello"))
    /// });
    /// assert!(body.is_replayable());
    /// assert_eq!(body.content_length(), Some(5));
    /// ```
    pub fn replayable<F, B>(length: Option<u64>, open: F) -> Self
    where
        F: Fn() -> B + Send + Sync + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Arc::new(Source {
            open: Box::new(move || boxed(open())),
            len: length,
        })
        .body()
    }

    /// The file at `path`, read in chunks when sent and opened again for
    /// each copy (a `307`/`308` redirect, a retry): a replayable body that is
    /// never held in memory whole.
    ///
    /// Its length is the file's length now (from its metadata, a quick
    /// blocking call); the file is opened when the body is first polled. A
    /// file whose length is not that one when it is opened or read fails the
    /// request with [`SizeChanged`] rather than send a wrong
    /// `Content-Length`.
    ///
    /// # Errors
    /// The file's metadata cannot be read (it does not exist, no
    /// permission), or it is not a regular file (a directory, a pipe: wrap a
    /// pipe with [`Body::from_stream`] instead).
    pub fn from_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let len = file::regular_file_len(&path)?;
        Ok(Body::replayable(Some(len), move || {
            file::FileBody::new(path.clone(), len)
        }))
    }

    /// Reports the bytes read from this body to `progress`, after each
    /// chunk: [`Progress`] counts the bytes done and, when the length is
    /// known, the total. A replayable body stays replayable, and each copy
    /// counts from zero again (a redirected or retried upload reports each
    /// send). See [`crate::progress`].
    pub fn with_progress(self, progress: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        let total = self.content_length();
        self.with_hook(Arc::new(progress), total)
    }

    /// [`with_progress`](Self::with_progress) with a hook already shared
    /// and the total given.
    pub(crate) fn with_hook(self, hook: Hook, total: Option<u64>) -> Self {
        match self.kind {
            Kind::Full(bytes) => Body::replayable(total, move || {
                ProgressBody::new(boxed(Body::from(bytes.clone())), total, hook.clone())
            }),
            Kind::Stream(stream, None) => {
                Body::wrap(ProgressBody::new(stream.into_inner(), total, hook))
            }
            Kind::Stream(stream, Some(source)) => {
                let first = ProgressBody::new(stream.into_inner(), total, hook.clone());
                let len = source.len;
                let again = Source {
                    open: Box::new(move || {
                        boxed(ProgressBody::new((source.open)(), total, hook.clone()))
                    }),
                    len,
                };
                Body {
                    kind: Kind::Stream(SyncWrapper::new(boxed(first)), Some(Arc::new(again))),
                }
            }
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
            Kind::Stream(..) => None,
        }
    }

    /// A copy of a replayable body, to send again: for bytes, a reference
    /// count, not a copy of the bytes; for a replayable stream (a file), a
    /// fresh stream from its start. `None` for a one-shot stream.
    pub fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Full(bytes) => Some(Body {
                kind: Kind::Full(bytes.clone()),
            }),
            Kind::Stream(_, source) => source.as_ref().map(Source::body),
        }
    }

    /// Can this body be sent again: bytes in memory, or a replayable stream
    /// such as a file?
    pub fn is_replayable(&self) -> bool {
        matches!(self.kind, Kind::Full(_) | Kind::Stream(_, Some(_)))
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
            Kind::Stream(stream, _) => {
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
        let Kind::Stream(stream, _) = self.kind else {
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
            Kind::Stream(_, source) => f
                .debug_struct("Body")
                .field("stream", &true)
                .field("replayable", &source.is_some())
                .finish(),
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
            Kind::Stream(stream, _) => stream.get_mut().as_mut().poll_frame(cx),
        }
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_empty(),
            // `SyncWrapper` only lends `&mut`, so a shared look is not possible.
            Kind::Stream(..) => false,
        }
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            // A replayable stream's length is known before it is read (the
            // transport asks before it sends); a one-shot stream's is not.
            Kind::Stream(_, Some(source)) => match source.len {
                Some(len) => SizeHint::with_exact(len),
                None => SizeHint::default(),
            },
            Kind::Stream(_, None) => SizeHint::default(),
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
