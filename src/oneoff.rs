//! One-off requests, as `requests.get(url)`: each call builds a fresh
//! [`Session`] with the defaults, sends one request through its whole
//! stack, and lets it go with the response. No cookie, connection or
//! setting is kept from one call to the next, so there is no state to be
//! surprised by, and nothing to reuse either: every call opens a new
//! connection (and a TLS handshake). Code that sends more than one request
//! should keep a [`Session`], which pools connections and keeps cookies.
//!
//! The builder they return takes every per-request setting (`header`,
//! `query`, `json`, `timeout`, ...); send it with `.send().await` or just
//! `.await`:
//!
//! ```no_run
//! # async fn run() -> Result<(), http_session::Error> {
//! let text = http_session::get("https://example.com/").await?.text().await?;
//! let created = http_session::post("https://api.example.com/items")
//!     .json(&serde_json::json!({ "name": "widget" }))
//!     .await?;
//! # let _ = (text, created); Ok(()) }
//! ```
//!
//! A session that cannot be built (a proxy environment variable that is not
//! a URL, say) makes the request fail with that builder error when it is
//! sent; the call itself never panics.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::Method;
use session_core::{BoxError, BoxTransport, IntoUrl, RequestBuilder};

use crate::Session;

macro_rules! one_off {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("A one-off `", stringify!($method), "` request on a fresh session (see [`oneoff`](crate::oneoff)).")]
            pub fn $name(url: impl IntoUrl) -> RequestBuilder {
                request(Method::$method, url)
            }
        )*
    };
}

one_off! {
    get => GET,
    post => POST,
    put => PUT,
    patch => PATCH,
    delete => DELETE,
    head => HEAD,
    options => OPTIONS,
}

/// A one-off request with any method, on a fresh session with the defaults.
pub fn request(method: Method, url: impl IntoUrl) -> RequestBuilder {
    match Session::builder().build() {
        Ok(session) => session.core.request(method, url),
        Err(err) => unbuildable(err).request(method, url),
    }
}

/// A session whose every request fails with the error that kept the real
/// one from being built.
fn unbuildable(err: session_core::Error) -> session_core::Session {
    let failed = BuildFailed(Arc::new(err));
    session_core::Session::builder()
        .transport(BoxTransport::new(failed))
        .build()
        .expect("a session with a transport and nothing else always builds")
}

/// The transport of [`unbuildable`]: answers every request with the error.
#[derive(Clone, Debug)]
struct BuildFailed(Arc<session_core::Error>);

impl std::fmt::Display for BuildFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the one-off session could not be built: {}", self.0)
    }
}

impl std::error::Error for BuildFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl tower_service::Service<http::Request<session_core::Body>> for BuildFailed {
    type Response = http::Response<session_core::Body>;
    type Error = BoxError;
    type Future = std::future::Ready<Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: http::Request<session_core::Body>) -> Self::Future {
        std::future::ready(Err(Box::new(session_core::Error::builder(self.clone()))))
    }
}
