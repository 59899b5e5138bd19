//! A session that could not be built from the defaults (the environment
//! holds a proxy variable that is not a URL, say): every request it sends
//! fails with that builder error, so [`Session::new`](crate::Session::new)
//! and the one-off calls never panic.

use std::sync::Arc;
use std::task::{Context, Poll};

use session_core::{BoxError, BoxTransport};

/// A core session whose every request fails with `err`.
pub(crate) fn unbuildable(err: session_core::Error) -> session_core::Session {
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
        write!(f, "the session could not be built: {}", self.0)
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
