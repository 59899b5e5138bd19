//! A mock transport for tests: answers from closures by route, and records
//! every request it saw.
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::{mock::MockTransport, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let mock = MockTransport::new()
//!     .route(Method::GET, "/users/7", |_req| (StatusCode::OK, r#"{"id":7}"#))
//!     .route(Method::POST, "/users", |req| (StatusCode::CREATED, req.body.clone()));
//! let session = Session::builder().transport(mock.clone()).build()?;
//!
//! let user: serde_json::Value = session.get("http://api.test/users/7").send().await?.json().await?;
//! assert_eq!(user["id"], 7);
//! assert_eq!(mock.requests()[0].headers["user-agent"], session_core::DEFAULT_USER_AGENT);
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};

use crate::body::Body;
use crate::error::BoxError;

/// A request as the mock transport received it (body read in full).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MockRequest {
    /// The method.
    pub method: Method,
    /// The full URI (`http://host/path?query`).
    pub uri: http::Uri,
    /// The version asked for.
    pub version: Version,
    /// The headers, after every layer of the session.
    pub headers: HeaderMap,
    /// The body, read in full.
    pub body: Bytes,
}

/// What a mock route answers: a response or an error.
pub type MockReply = Result<http::Response<Body>, BoxError>;

/// Anything a route closure may return.
pub trait IntoMockReply {
    /// Converts into a reply.
    fn into_reply(self) -> MockReply;
}

impl IntoMockReply for http::Response<Body> {
    fn into_reply(self) -> MockReply {
        Ok(self)
    }
}

impl<B: Into<Body>> IntoMockReply for (StatusCode, B) {
    fn into_reply(self) -> MockReply {
        let mut res = http::Response::new(self.1.into());
        *res.status_mut() = self.0;
        Ok(res)
    }
}

impl<T: IntoMockReply> IntoMockReply for Result<T, BoxError> {
    fn into_reply(self) -> MockReply {
        self.and_then(IntoMockReply::into_reply)
    }
}

type Handler = Arc<dyn Fn(&MockRequest) -> MockReply + Send + Sync>;

#[derive(Clone)]
struct Route {
    method: Option<Method>,
    pattern: String,
    handler: Handler,
}

impl Route {
    fn matches(&self, req: &MockRequest) -> bool {
        if self.method.as_ref().is_some_and(|m| *m != req.method) {
            return false;
        }
        if self.pattern.contains("://") {
            req.uri.to_string() == self.pattern
        } else {
            req.uri.path() == self.pattern
        }
    }
}

/// The mock transport. Cloning shares its routes' record of requests.
/// See the [module docs](self).
#[derive(Clone, Default)]
pub struct MockTransport {
    routes: Arc<[Route]>,
    fallback: Option<Handler>,
    seen: Arc<Mutex<Vec<MockRequest>>>,
}

impl fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockTransport")
            .field(
                "routes",
                &self.routes.iter().map(|r| &r.pattern).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl MockTransport {
    /// A mock that answers 404 to everything until routes are added.
    pub fn new() -> Self {
        MockTransport::default()
    }

    /// Answers requests with this method (or any, with `None` via
    /// [`route_any`](Self::route_any)) whose path is `pattern`, or whose full
    /// URL is `pattern` when it contains `://`. The first matching route wins.
    pub fn route<F, R>(self, method: Method, pattern: &str, handler: F) -> Self
    where
        F: Fn(&MockRequest) -> R + Send + Sync + 'static,
        R: IntoMockReply,
    {
        self.add(Some(method), pattern, handler)
    }

    /// Like [`route`](Self::route), for every method.
    pub fn route_any<F, R>(self, pattern: &str, handler: F) -> Self
    where
        F: Fn(&MockRequest) -> R + Send + Sync + 'static,
        R: IntoMockReply,
    {
        self.add(None, pattern, handler)
    }

    fn add<F, R>(mut self, method: Option<Method>, pattern: &str, handler: F) -> Self
    where
        F: Fn(&MockRequest) -> R + Send + Sync + 'static,
        R: IntoMockReply,
    {
        let mut routes = self.routes.to_vec();
        routes.push(Route {
            method,
            pattern: pattern.to_owned(),
            handler: Arc::new(move |req| handler(req).into_reply()),
        });
        self.routes = routes.into();
        self
    }

    /// Answers what no route matches (instead of 404).
    pub fn fallback<F, R>(mut self, handler: F) -> Self
    where
        F: Fn(&MockRequest) -> R + Send + Sync + 'static,
        R: IntoMockReply,
    {
        self.fallback = Some(Arc::new(move |req| handler(req).into_reply()));
        self
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<MockRequest> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn answer(&self, req: &MockRequest) -> MockReply {
        if let Some(route) = self.routes.iter().find(|r| r.matches(req)) {
            return (route.handler)(req);
        }
        match &self.fallback {
            Some(handler) => handler(req),
            None => (StatusCode::NOT_FOUND, "no mock route").into_reply(),
        }
    }
}

impl tower_service::Service<http::Request<Body>> for MockTransport {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = MockReply> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let mock = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = match body.collect_limited(usize::MAX).await {
                Ok(body) => body,
                Err(err) => return Err(err),
            };
            let recorded = MockRequest {
                method: parts.method,
                uri: parts.uri,
                version: parts.version,
                headers: parts.headers,
                body,
            };
            mock.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(recorded.clone());
            mock.answer(&recorded)
        })
    }
}
