//! Request bodies that can be sent again: [`ReplayBody`].
//!
//! Each retry sends a fresh copy of the request, so its body must be
//! replayable. A body whose [`try_clone_body`](ReplayBody::try_clone_body)
//! returns `None` (a one-shot stream) is sent once and never retried; the
//! [`RetryHistory`](crate::RetryHistory) then says
//! [`StopReason::BodyNotReplayable`](crate::StopReason::BodyNotReplayable).

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::Request;
use http_body_util::{Empty, Full};
use smallvec::SmallVec;

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

/// A request kept to be sent again: its head, with the headers as a small
/// inline list (a request with a few headers is kept without the two
/// allocations a `HeaderMap` copy takes), and a copy of its body.
pub(crate) struct Template<B> {
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    headers: SmallVec<[(HeaderName, HeaderValue); 4]>,
    extensions: http::Extensions,
    body: B,
}

impl<B: ReplayBody> Template<B> {
    /// Keeps a copy of `req` in a box, or `None` when its body is not
    /// replayable. The box is made first and the copy written into it (a
    /// template built on the stack would be copied over once more).
    pub(crate) fn boxed(req: &Request<B>) -> Option<Box<Self>> {
        let body = req.body().try_clone_body()?;
        let slot = Box::new_uninit();
        Some(Box::write(slot, Template::with_body(req, body)))
    }

    /// The head of `req`, with `body`.
    #[inline]
    fn with_body(req: &Request<B>, body: B) -> Self {
        Template {
            body,
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            extensions: req.extensions().clone(),
        }
    }

    /// The request again, keeping the template (`None` should the body
    /// refuse a second copy).
    pub(crate) fn request(&self) -> Option<Request<B>> {
        let body = self.body.try_clone_body()?;
        Some(self.head_with(body, self.headers.iter().cloned()))
    }

    /// The request again, from the template itself.
    pub(crate) fn into_request(self) -> Request<B> {
        let Template {
            method,
            uri,
            version,
            headers,
            extensions,
            body,
        } = self;
        let mut req = Request::new(body);
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.version_mut() = version;
        *req.headers_mut() = header_map(headers);
        *req.extensions_mut() = extensions;
        req
    }

    fn head_with(
        &self,
        body: B,
        headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
    ) -> Request<B> {
        let mut req = Request::new(body);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.version_mut() = self.version;
        *req.headers_mut() = header_map(headers);
        *req.extensions_mut() = self.extensions.clone();
        req
    }
}

/// A map of the kept headers, each value in its order.
fn header_map(headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>) -> HeaderMap {
    let headers = headers.into_iter();
    let mut map = HeaderMap::with_capacity(headers.size_hint().0);
    for (name, value) in headers {
        map.append(name, value);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clone_request<B: ReplayBody>(req: &Request<B>) -> Option<Request<B>> {
        Template::boxed(req)?.request()
    }

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
        let mut many = Request::new(String::new());
        for i in 0..6 {
            many.headers_mut()
                .append("x-many", HeaderValue::from_str(&i.to_string()).unwrap());
        }
        let kept = *Template::boxed(&many).unwrap();
        assert_eq!(kept.request().unwrap().headers(), many.headers());
        assert_eq!(kept.into_request().headers(), many.headers());
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
