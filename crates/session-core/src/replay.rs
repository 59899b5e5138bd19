//! [`Replay`]: a request kept so that it can be sent again.
//!
//! The redirect layer keeps each hop's request to build the next hop from it,
//! and the auth layer keeps a signed request to answer a `401` challenge;
//! both keep it as a [`Replay`]: the head (method, URI, version, headers,
//! extensions) and a copy of a replayable body.

use std::fmt;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use smallvec::SmallVec;

use crate::body::Body;

/// A request's headers, kept as a list: a request with a few headers (the
/// common case) is kept without an allocation, where a `HeaderMap` copy
/// takes two. A map is made again only when the request is.
type KeptHeaders = SmallVec<[(HeaderName, HeaderValue); 4]>;

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
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    headers: KeptHeaders,
    extensions: http::Extensions,
    body: Option<Body>,
}

impl Replay {
    /// Copies the head of `req`, and its body when it is replayable.
    pub fn of(req: &http::Request<Body>) -> Self {
        Replay {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            extensions: req.extensions().clone(),
            body: req.body().try_clone(),
        }
    }

    /// The URI of the request.
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The extensions of the request.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// The head of the request, made again.
    pub fn head(&self) -> http::Request<()> {
        let mut head = http::Request::new(());
        self.fill(&mut head);
        head
    }

    /// Can the request be sent again with its body?
    pub fn is_replayable(&self) -> bool {
        self.body.is_some()
    }

    /// A copy of the request, or `None` when its body was a one-shot stream.
    pub fn request(&self) -> Option<http::Request<Body>> {
        let mut req = http::Request::new(self.body.as_ref()?.try_clone()?);
        self.fill(&mut req);
        Some(req)
    }

    /// The head and the body (`None` for a one-shot stream), to build
    /// another request from.
    pub fn into_parts(self) -> (http::request::Parts, Option<Body>) {
        let mut head = http::Request::new(());
        *head.method_mut() = self.method;
        *head.uri_mut() = self.uri;
        *head.version_mut() = self.version;
        *head.headers_mut() = header_map(self.headers);
        *head.extensions_mut() = self.extensions;
        (head.into_parts().0, self.body)
    }

    fn fill<B>(&self, req: &mut http::Request<B>) {
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.version_mut() = self.version;
        *req.headers_mut() = header_map(self.headers.iter().cloned());
        *req.extensions_mut() = self.extensions.clone();
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

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("method", &self.method)
            .field("replayable", &self.is_replayable())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_and_repeated_headers_come_back_in_order() {
        let mut req = http::Request::new(Body::from("b"));
        for i in 0..6 {
            req.headers_mut()
                .append("x-many", HeaderValue::from_str(&i.to_string()).unwrap());
        }
        req.headers_mut()
            .insert("x-one", HeaderValue::from_static("1"));
        let kept = Replay::of(&req);
        let again = kept.request().unwrap();
        assert_eq!(again.headers(), req.headers());
        let (parts, body) = kept.into_parts();
        assert_eq!(parts.headers, *req.headers());
        assert!(body.is_some());
    }
}
