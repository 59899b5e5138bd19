//! Bodies: [`CacheBody`], the response body the layer returns, and
//! [`CacheKeyBody`], what it needs of a request body.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::sync::mpsc;

use crate::store::{BoxError, ChunkStream};

/// A request body whose bytes can be read without sending it, to key a
/// cached `POST` by them. `None` (a stream) means the request is not cached.
///
/// Implemented for `String`, `Bytes`, `Vec<u8>`, `()`,
/// `http_body_util::Empty<Bytes>` and `Full<Bytes>` (never cached: its bytes
/// cannot be seen), and, with the `session-core` feature, for
/// `session_core::Body` (its bytes when it holds them whole).
pub trait CacheKeyBody {
    /// The body's bytes, when known before it is sent.
    fn key_bytes(&self) -> Option<&[u8]>;
}

impl CacheKeyBody for String {
    fn key_bytes(&self) -> Option<&[u8]> {
        Some(self.as_bytes())
    }
}

impl CacheKeyBody for Bytes {
    fn key_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl CacheKeyBody for Vec<u8> {
    fn key_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl CacheKeyBody for () {
    fn key_bytes(&self) -> Option<&[u8]> {
        Some(&[])
    }
}

impl CacheKeyBody for http_body_util::Empty<Bytes> {
    fn key_bytes(&self) -> Option<&[u8]> {
        Some(&[])
    }
}

impl CacheKeyBody for http_body_util::Full<Bytes> {
    fn key_bytes(&self) -> Option<&[u8]> {
        None
    }
}

#[cfg(feature = "session-core")]
#[cfg_attr(docsrs, doc(cfg(feature = "session-core")))]
impl CacheKeyBody for session_core::Body {
    fn key_bytes(&self) -> Option<&[u8]> {
        self.as_bytes()
    }
}

/// What the body's tee tells the task writing the entry.
#[derive(Debug)]
pub(crate) enum Msg {
    Chunk(Bytes),
    /// Past the entry cap: not stored.
    TooLarge,
    End,
}

pin_project! {
    /// The body of a response from [`CacheService`](crate::CacheService):
    /// the origin's body as it is (nothing to store), the origin's body
    /// copied chunk by chunk into the store as the caller reads it, or a
    /// stored body read chunk by chunk from the store.
    pub struct CacheBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Tee {
            #[pin]
            body: B,
            tx: Option<mpsc::UnboundedSender<Msg>>,
            written: u64,
            cap: u64,
            ended: bool,
        },
        Stored { stream: ChunkStream, len: Option<u64> },
        Empty,
    }
}

impl<B> fmt::Debug for CacheBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Inner { .. } => "Inner",
            Kind::Tee { .. } => "Tee",
            Kind::Stored { .. } => "Stored",
            Kind::Empty => "Empty",
        };
        f.debug_tuple("CacheBody").field(&kind).finish()
    }
}

impl<B> CacheBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        CacheBody {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn tee(body: B, tx: mpsc::UnboundedSender<Msg>, cap: u64) -> Self {
        CacheBody {
            kind: Kind::Tee {
                body,
                tx: Some(tx),
                written: 0,
                cap,
                ended: false,
            },
        }
    }

    pub(crate) fn stored(stream: ChunkStream, len: Option<u64>) -> Self {
        CacheBody {
            kind: Kind::Stored { stream, len },
        }
    }

    pub(crate) fn empty() -> Self {
        CacheBody { kind: Kind::Empty }
    }

    /// The origin's body when it passes through untouched (neither stored
    /// nor read from the store): the facade unwraps it instead of boxing.
    pub fn into_inner(self) -> Result<B, Self> {
        match self.kind {
            Kind::Inner { body } => Ok(body),
            kind => Err(CacheBody { kind }),
        }
    }
}

impl<B> http_body::Body for CacheBody<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx).map_err(Into::into),
            KindProj::Tee {
                body,
                tx,
                written,
                cap,
                ended,
            } => {
                if *ended {
                    return Poll::Ready(None);
                }
                match ready!(body.poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        if let (Some(data), Some(sender)) = (frame.data_ref(), tx.as_ref()) {
                            *written += data.len() as u64;
                            let msg = if *written > *cap {
                                Msg::TooLarge
                            } else {
                                Msg::Chunk(data.clone())
                            };
                            let too_large = matches!(msg, Msg::TooLarge);
                            if sender.send(msg).is_err() || too_large {
                                *tx = None;
                            }
                        }
                        Poll::Ready(Some(Ok(frame)))
                    }
                    Some(Err(err)) => {
                        // An aborted entry: the writer sees the channel close.
                        *tx = None;
                        Poll::Ready(Some(Err(err.into())))
                    }
                    None => {
                        *ended = true;
                        if let Some(sender) = tx.take() {
                            let _ = sender.send(Msg::End);
                        }
                        Poll::Ready(None)
                    }
                }
            }
            KindProj::Stored { stream, .. } => match ready!(stream.as_mut().poll_next(cx)) {
                Some(Ok(chunk)) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
                Some(Err(err)) => Poll::Ready(Some(Err(err))),
                None => Poll::Ready(None),
            },
            KindProj::Empty => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            // Not before the end was seen: the entry commits on it.
            Kind::Tee { ended, .. } => *ended,
            Kind::Stored { len, .. } => *len == Some(0),
            Kind::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } | Kind::Tee { body, .. } => body.size_hint(),
            Kind::Stored { len: Some(len), .. } => SizeHint::with_exact(*len),
            Kind::Stored { len: None, .. } => SizeHint::default(),
            Kind::Empty => SizeHint::with_exact(0),
        }
    }
}

#[cfg(feature = "session-core")]
#[cfg_attr(docsrs, doc(cfg(feature = "session-core")))]
impl From<CacheBody<session_core::Body>> for session_core::Body {
    /// The origin's body as it is when it passes through; otherwise the
    /// cache's body, wrapped.
    fn from(body: CacheBody<session_core::Body>) -> Self {
        match body.into_inner() {
            Ok(body) => body,
            Err(body) => session_core::Body::wrap(body),
        }
    }
}
