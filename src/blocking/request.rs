//! The blocking [`RequestBuilder`]: the async builder, sent on the session's
//! runtime.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::Version;

use super::response::Response;
use super::runtime::Runtime;
use crate::{Body, Result};

/// A request under construction; [`send`](Self::send) sends it and blocks
/// until the response head arrives.
///
/// Its setters are those of the async [`crate::RequestBuilder`], with the
/// same names and the same rules: errors are kept and returned by `send`.
///
/// See the [module docs](super) for more details.
#[must_use = "a RequestBuilder does nothing until you `send` it"]
#[derive(Debug)]
pub struct RequestBuilder {
    inner: crate::RequestBuilder,
    runtime: Arc<Runtime>,
}

/// Forwards setters to the async builder: one list of them, the async
/// builder's own docs behind each.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident $(<$($g:ident),*>)? ($($arg:ident: $ty:ty),*) $(where [$($w:tt)*])? );* $(;)?) => {
        $(
            $(#[$doc])*
            #[doc = ""]
            #[doc = concat!("See [`crate::RequestBuilder::", stringify!($name), "`].")]
            pub fn $name $(<$($g),*>)? (mut self, $($arg: $ty),*) -> Self $(where $($w)*)? {
                self.inner = self.inner.$name($($arg),*);
                self
            }
        )*
    };
}

impl RequestBuilder {
    pub(crate) fn new(inner: crate::RequestBuilder, runtime: Arc<Runtime>) -> Self {
        RequestBuilder { inner, runtime }
    }

    forward! {
        /// Adds a header; it replaces the session's default of the same name.
        fn header<K, V>(name: K, value: V)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
            HeaderValue: TryFrom<V>,
            <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
        ];
        /// Adds every header of a map.
        fn headers(headers: HeaderMap);
        /// Does not send the session's default header of this name.
        fn without_header<K>(name: K)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        ];
        /// Adds query parameters.
        fn query<T>(query: &T) where [T: serde::Serialize + ?Sized];
        /// Sends a cookie on this request, besides the jar's.
        fn cookie(name: &str, value: &str);
        /// Sends `Authorization: Basic ...` on this request.
        fn basic_auth(username: &str, password: Option<&str>);
        /// Sends `Authorization: Bearer <token>` on this request.
        fn bearer_auth(token: &str);
        /// Uses an auth scheme for this request, instead of the session's.
        fn auth<A>(scheme: A) where [A: crate::auth::Auth];
        /// Sends none of the session's credentials on this request.
        fn without_auth();
        /// HTTP Digest auth for this request.
        fn digest_auth(username: &str, password: &str);
        /// The most redirects this request follows.
        fn max_redirects(max: usize);
        /// Whether this request follows redirects.
        fn follow_redirects(follow: bool);
        /// Sets the body (bytes, a string, or a streaming [`Body`]).
        fn body(body: impl Into<Body>);
        /// Sends `form` URL-encoded.
        fn form<T>(form: &T) where [T: serde::Serialize + ?Sized];
        /// Sends `json` as a JSON body.
        fn json<T>(json: &T) where [T: serde::Serialize + ?Sized];
        /// A timeout for this request (response head and body).
        fn timeout(timeout: Duration);
        /// Asks for an HTTP version.
        fn version(version: Version);
        /// Adds a typed extension that middleware and transports can read.
        fn extension<T>(value: T) where [T: Clone + Send + Sync + 'static];
    }

    /// Merges the session's defaults and returns the request as the stack
    /// would see it, without sending it.
    ///
    /// # Errors
    /// Whatever went wrong while building.
    pub fn build(self) -> Result<http::Request<Body>> {
        self.inner.build()
    }

    /// A copy of this builder, if its body is replayable.
    pub fn try_clone(&self) -> Option<RequestBuilder> {
        Some(RequestBuilder {
            inner: self.inner.try_clone()?,
            runtime: self.runtime.clone(),
        })
    }

    /// Sends the request down the session's stack on the background runtime,
    /// and blocks this thread until the response head arrives, the request
    /// fails, or its timeout passes.
    ///
    /// # Errors
    /// As the async `send`: a builder error, a transport error, or a timeout,
    /// each naming the URL; or [`RuntimeStopped`](super::RuntimeStopped).
    pub fn send(self) -> Result<Response> {
        let RequestBuilder { inner, runtime } = self;
        // `send` makes the request's timer: it runs on the runtime.
        let response = runtime.run(async move { inner.send().await })??;
        Ok(Response::new(response, runtime))
    }
}
