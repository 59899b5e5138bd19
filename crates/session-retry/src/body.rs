//! Request bodies that can be sent again: [`ReplayBody`].
//!
//! Each retry sends a fresh copy of the request, so its body must be
//! replayable. A body whose [`try_clone_body`](ReplayBody::try_clone_body)
//! returns `None` (a one-shot stream) is sent once and never retried; the
//! [`RetryHistory`](crate::RetryHistory) then says
//! [`StopReason::BodyNotReplayable`](crate::StopReason::BodyNotReplayable).

use bytes::Bytes;
use http::Request;
use http_body_util::{Empty, Full};

/// A request body that may be copied for another attempt.
///
/// Implemented for `Full<Bytes>`, `Empty<Bytes>`, `String`, `Bytes`,
/// `Vec<u8>` and `()`, and, with the `session-core` feature (on by default),
/// for `session_core::Body`:
///
/// ```
/// # #[cfg(feature = "session-core")]
/// # fn main() {
/// use session_retry::ReplayBody;
///
/// let body = session_core::Body::from("hello");
/// assert!(body.try_clone_body().is_some());
/// let stream = session_core::Body::from_stream(futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>());
/// assert!(stream.try_clone_body().is_none());
/// # }
/// # #[cfg(not(feature = "session-core"))]
/// # fn main() {}
/// ```
pub trait ReplayBody: Sized {
    /// A copy of the body to send again, or `None` when it can be sent only
    /// once.
    fn try_clone_body(&self) -> Option<Self>;
}

#[cfg(feature = "session-core")]
#[cfg_attr(docsrs, doc(cfg(feature = "session-core")))]
impl ReplayBody for session_core::Body {
    fn try_clone_body(&self) -> Option<Self> {
        self.try_clone()
    }
}

impl ReplayBody for Full<Bytes> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Empty<Bytes> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(*self)
    }
}

impl ReplayBody for String {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Bytes {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Vec<u8> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for () {
    fn try_clone_body(&self) -> Option<Self> {
        Some(())
    }
}

/// A copy of a request (method, URI, version, headers, extensions and body),
/// or `None` when its body is not replayable.
pub(crate) fn clone_request<B: ReplayBody>(req: &Request<B>) -> Option<Request<B>> {
    let body = req.body().try_clone_body()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_request_copies_everything() {
        #[derive(Clone, Debug, PartialEq)]
        struct Marker(u8);
        let mut req = Request::put("http://x.test/a?b=c")
            .header("x-one", "1")
            .body(Full::new(Bytes::from_static(b"payload")))
            .unwrap();
        req.extensions_mut().insert(Marker(7));
        let copy = clone_request(&req).unwrap();
        assert_eq!(copy.method(), req.method());
        assert_eq!(copy.uri(), req.uri());
        assert_eq!(copy.headers(), req.headers());
        assert_eq!(copy.extensions().get::<Marker>(), Some(&Marker(7)));
    }

    #[cfg(feature = "session-core")]
    #[test]
    fn streams_are_not_cloned() {
        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from("a"))]);
        let req = Request::new(session_core::Body::from_stream(chunks));
        assert!(clone_request(&req).is_none());
        let req = Request::new(session_core::Body::from("abc"));
        assert_eq!(
            clone_request(&req).unwrap().body().as_bytes(),
            Some(&b"abc"[..])
        );
        assert!(Empty::<Bytes>::new().try_clone_body().is_some());
        assert_eq!(String::from("s").try_clone_body().as_deref(), Some("s"));
    }
}
