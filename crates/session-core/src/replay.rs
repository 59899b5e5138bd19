//! [`Replay`]: a request kept so that it can be sent again.
//!
//! The redirect layer keeps each hop's request to build the next hop from it,
//! and the auth layer keeps a signed request to answer a `401` challenge;
//! both keep it as a [`Replay`]: the head (method, URI, version, headers,
//! extensions) and a copy of a replayable body.

use std::fmt;

use crate::body::Body;

/// A request's head and, when the body is replayable, a copy of its body.
///
/// ```
/// use session_core::{replay::Replay, Body};
///
/// let req = http::Request::post("http://api.test/items")
///     .header("x-trace", "1")
///     .body(Body::from("payload"))
///     .unwrap();
/// let kept = Replay::of(&req);
/// let again = kept.request().unwrap();
/// assert_eq!(again.uri(), req.uri());
/// assert_eq!(again.headers()["x-trace"], "1");
/// assert_eq!(again.body().as_bytes(), Some(&b"payload"[..]));
/// ```
pub struct Replay {
    head: http::Request<()>,
    body: Option<Body>,
}

impl Replay {
    /// Copies the head of `req`, and its body when it is replayable.
    pub fn of(req: &http::Request<Body>) -> Self {
        let mut head = http::Request::new(());
        *head.method_mut() = req.method().clone();
        *head.uri_mut() = req.uri().clone();
        *head.version_mut() = req.version();
        *head.headers_mut() = req.headers().clone();
        *head.extensions_mut() = req.extensions().clone();
        Replay {
            head,
            body: req.body().try_clone(),
        }
    }

    /// The head that was kept.
    pub fn head(&self) -> &http::Request<()> {
        &self.head
    }

    /// Can the request be sent again with its body?
    pub fn is_replayable(&self) -> bool {
        self.body.is_some()
    }

    /// A copy of the request, or `None` when its body was a one-shot stream.
    pub fn request(&self) -> Option<http::Request<Body>> {
        let body = self.body.as_ref()?.try_clone()?;
        let mut req = http::Request::new(body);
        *req.method_mut() = self.head.method().clone();
        *req.uri_mut() = self.head.uri().clone();
        *req.version_mut() = self.head.version();
        *req.headers_mut() = self.head.headers().clone();
        *req.extensions_mut() = self.head.extensions().clone();
        Some(req)
    }

    /// The head and the body (`None` for a one-shot stream), to build
    /// another request from.
    pub fn into_parts(self) -> (http::request::Parts, Option<Body>) {
        (self.head.into_parts().0, self.body)
    }
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("method", self.head.method())
            .field("replayable", &self.is_replayable())
            .finish_non_exhaustive()
    }
}
