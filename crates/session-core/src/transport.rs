//! Transports: the tower services at the bottom of a session's stack.
//!
//! A transport is any `tower::Service<http::Request<Body>>` whose response is
//! an `http::Response<Body>`. The session stores it type-erased as a
//! [`BoxTransport`]; [`boxed`] does the erasing.

use std::net::SocketAddr;

use tower::util::BoxCloneSyncService;
use tower::ServiceExt;

use crate::body::Body;
use crate::error::BoxError;

/// A type-erased, cloneable transport (or middleware stack).
pub type BoxTransport = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// Erases the type of a transport so a session can hold it.
///
/// ```
/// use session_core::{transport, Body};
/// use tower::service_fn;
///
/// let t = transport::boxed(service_fn(|_req: http::Request<Body>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(Body::from("hi")))
/// }));
/// # let _ = t;
/// ```
pub fn boxed<S>(service: S) -> BoxTransport
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    BoxCloneSyncService::new(service.map_err(Into::into))
}

/// What a transport knows about the connection a response came over. A
/// transport that has it puts it in the response's extensions; read it with
/// `Response::connection()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// A number the transport gave the connection, unique within it.
    pub id: u64,
    /// Did an earlier response already use this connection?
    pub reused: bool,
    /// The peer's address, when the connection is over TCP.
    pub remote_addr: Option<SocketAddr>,
}

impl ConnectionInfo {
    /// Describes a connection.
    pub fn new(id: u64, reused: bool, remote_addr: Option<SocketAddr>) -> Self {
        ConnectionInfo {
            id,
            reused,
            remote_addr,
        }
    }
}
