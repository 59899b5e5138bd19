//! Upload and download progress: [`Progress`].
//!
//! A progress hook is a function called after each chunk of a body with the
//! bytes done so far and the total, when the length is known:
//!
//! - on a request, [`RequestBuilder::upload_progress`](crate::RequestBuilder::upload_progress)
//!   counts the bytes of the body as the transport takes them;
//! - on a response, [`Response::download_progress`](crate::Response::download_progress)
//!   counts the bytes of the body as you read them (decoded bytes, when the
//!   transport decompresses: the total is then unknown);
//! - on any [`Body`](crate::Body), [`Body::with_progress`](crate::Body::with_progress).
//!
//! A body without a hook is not wrapped: a hook costs nothing until it is
//! set. A replayable upload sent again (a `307`/`308` redirect, a retry)
//! counts from zero again on each send.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! use http::{Method, StatusCode};
//! use session_core::{mock::MockTransport, progress::Progress, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let mock = MockTransport::new().route(Method::GET, "/big", |_| (StatusCode::OK, vec![7u8; 10_000]));
//! let session = Session::builder().transport(mock).build()?;
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = seen.clone();
//! let body = session
//!     .get("http://api.test/big")
//!     .send()
//!     .await?
//!     .download_progress(move |p: Progress| log.lock().unwrap().push((p.done, p.total)))
//!     .bytes()
//!     .await?;
//! assert_eq!(body.len(), 10_000);
//! assert_eq!(seen.lock().unwrap().last(), Some(&(10_000, Some(10_000))));
//! # Ok(()) }
//! ```
//!
//! The facade's tour (`examples/tour.rs`) drives an `indicatif` progress bar
//! this way: `bar.set_position(p.done)` in the hook.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::body::BoxBody;
use crate::error::BoxError;

/// How far a body has been read: the bytes done, and the total when known.
///
/// See the [module docs](self) for more details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// The bytes of the body read so far.
    pub done: u64,
    /// The length of the body, when it was known before reading
    /// (`Content-Length`, a file's length).
    pub total: Option<u64>,
}

impl Progress {
    /// The share done, from 0.0 to 1.0, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        match self.total {
            Some(0) => Some(1.0),
            Some(total) => Some(self.done as f64 / total as f64),
            None => None,
        }
    }
}

/// A progress hook, shared by every copy of a body.
pub(crate) type Hook = Arc<dyn Fn(Progress) + Send + Sync>;

/// A hook kept by a request builder until its body is known.
#[derive(Clone)]
pub(crate) struct UploadProgress(pub(crate) Hook);

impl fmt::Debug for UploadProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UploadProgress")
    }
}

/// A body that reports the bytes that went through it.
pub(crate) struct ProgressBody {
    inner: BoxBody,
    done: u64,
    total: Option<u64>,
    hook: Hook,
}

impl ProgressBody {
    pub(crate) fn new(inner: BoxBody, total: Option<u64>, hook: Hook) -> Self {
        ProgressBody {
            inner,
            done: 0,
            total,
            hook,
        }
    }
}

impl http_body::Body for ProgressBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        if let Some(Ok(frame)) = &frame {
            if let Some(data) = frame.data_ref() {
                if !data.is_empty() {
                    this.done += data.len() as u64;
                    (this.hook)(Progress {
                        done: this.done,
                        total: this.total,
                    });
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::Body;

    fn recorder() -> (Arc<Mutex<Vec<Progress>>>, impl Fn(Progress) + Send + Sync) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        (seen, move |p| log.lock().unwrap().push(p))
    }

    #[tokio::test]
    async fn bytes_stay_replayable_and_each_copy_counts_from_zero() {
        let (seen, hook) = recorder();
        let body = Body::from("hello").with_progress(hook);
        assert!(body.is_replayable());
        assert_eq!(body.content_length(), Some(5));
        let copy = body.try_clone().unwrap();
        assert_eq!(body.collect_limited(10).await.unwrap(), "hello");
        assert_eq!(copy.collect_limited(10).await.unwrap(), "hello");
        let done = Progress {
            done: 5,
            total: Some(5),
        };
        assert_eq!(*seen.lock().unwrap(), [done, done]);
        assert_eq!(done.fraction(), Some(1.0));
    }

    #[tokio::test]
    async fn a_stream_counts_each_chunk_with_no_total() {
        let (seen, hook) = recorder();
        let chunks = ["ab", "", "cde"].map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
        let body = Body::from_stream(futures_util::stream::iter(chunks)).with_progress(hook);
        assert!(!body.is_replayable());
        assert_eq!(body.collect_limited(10).await.unwrap(), "abcde");
        let seen: Vec<_> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|p| (p.done, p.total))
            .collect();
        assert_eq!(seen, [(2, None), (5, None)]);
    }
}
