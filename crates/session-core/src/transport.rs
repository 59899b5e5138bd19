//! Transports: the tower services at the bottom of a session's stack.
//!
//! A transport is any `tower::Service<http::Request<Body>>` whose response is
//! an `http::Response<Body>`. The session stores it type-erased as a
//! [`BoxTransport`]; [`boxed`] does the erasing.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::TryFutureExt;
use tower::ServiceExt;

use crate::body::Body;
use crate::error::BoxError;

/// The future of a [`BoxTransport`].
pub type BoxFuture = Pin<Box<dyn Future<Output = Result<http::Response<Body>, BoxError>> + Send>>;

pin_project_lite::pin_project! {
    /// A service's future that is either an inner service's own future,
    /// polled in place, or a boxed one: what the session's services return
    /// when one branch calls a concrete service and another an erased one
    /// (the router, the auth service, the hop layers). Errors become a
    /// [`BoxError`].
    pub struct OrBoxed<F> {
        #[pin]
        kind: OrBoxedKind<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = OrBoxedProj]
    enum OrBoxedKind<F> {
        Inline { #[pin] future: F },
        Boxed { future: BoxFuture },
    }
}

impl<F> OrBoxed<F> {
    /// The inner service's own future.
    #[inline]
    pub fn inline(future: F) -> Self {
        OrBoxed {
            kind: OrBoxedKind::Inline { future },
        }
    }

    /// A boxed future.
    #[inline]
    pub fn boxed(future: BoxFuture) -> Self {
        OrBoxed {
            kind: OrBoxedKind::Boxed { future },
        }
    }
}

impl<F> fmt::Debug for OrBoxed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrBoxed").finish_non_exhaustive()
    }
}

impl<F, E> Future for OrBoxed<F>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<Body>, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            OrBoxedProj::Inline { future } => future.poll(cx).map_err(Into::into),
            OrBoxedProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

/// A tower service over `http::Request<Body>` answering `http::Response<Body>`,
/// that a layer can clone and send to another thread, and whose error turns
/// into a [`BoxError`]: what the redirect and auth services wrap. Every such
/// service implements it.
pub trait BodyService:
    tower_service::Service<
        http::Request<Body>,
        Response = http::Response<Body>,
        Error: Into<BoxError>,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S> BodyService for S
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
}

/// A [`BodyService`] that is also `Sync`, so a session can hold it: a
/// transport, or a layer's service. Every such service implements it.
pub trait HttpService: BodyService + Sync {}

impl<S: BodyService + Sync> HttpService for S {}

/// A type-erased, cloneable transport (or middleware stack).
///
/// Unlike tower's `BoxCloneSyncService`, cloning it is a reference-count
/// increment, not an allocation: the erased service is shared, and each call
/// clones the concrete service (cheap for the `Arc`-based services tower
/// stacks are made of) and drives it to readiness.
#[derive(Clone)]
pub struct BoxTransport {
    inner: Arc<dyn Erased>,
}

/// A type-erased service, called through a shared reference.
trait Erased: Send + Sync {
    fn call(&self, req: http::Request<Body>) -> BoxFuture;
}

struct Holder<S>(S);

/// A transport that sends through a shared reference and is always ready,
/// such as a pooled client. Erased with [`BoxTransport::shared`], it is
/// called as it is, where a tower `Service` is cloned for each request and
/// asked for readiness first (its `call` takes `&mut self`).
///
/// ```
/// use std::future::{ready, Ready};
/// use session_core::transport::{BoxTransport, SharedTransport};
/// use session_core::{Body, BoxError, Session};
///
/// /// Answers every request with its own path.
/// struct Echo;
///
/// impl SharedTransport for Echo {
///     type Future = Ready<Result<http::Response<Body>, BoxError>>;
///
///     fn send(&self, req: http::Request<Body>) -> Self::Future {
///         ready(Ok(http::Response::new(Body::from(req.uri().path().to_owned()))))
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::builder().transport(BoxTransport::shared(Echo)).build()?;
/// let text = session.get("http://echo.test/hello").send().await?.text().await?;
/// assert_eq!(text, "/hello");
/// # Ok::<_, session_core::Error>(()) }).unwrap();
/// ```
pub trait SharedTransport: Send + Sync + 'static {
    /// The future of the response.
    type Future: Future<Output = Result<http::Response<Body>, BoxError>> + Send + 'static;

    /// Sends `req`.
    fn send(&self, req: http::Request<Body>) -> Self::Future;
}

/// Holds a [`SharedTransport`] behind the erased interface.
struct SharedHolder<T>(T);

impl<T: SharedTransport> Erased for SharedHolder<T> {
    #[inline]
    fn call(&self, req: http::Request<Body>) -> BoxFuture {
        Box::pin(self.0.send(req))
    }
}

impl<S> Erased for Holder<S>
where
    S: HttpService,
{
    #[inline]
    fn call(&self, req: http::Request<Body>) -> BoxFuture {
        let mut service = self.0.clone();
        // Most services are ready at once: then the boxed future is only the
        // service's own, not a `Oneshot` that also carries the request.
        let mut cx = Context::from_waker(Waker::noop());
        match service.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => Box::pin(service.call(req).err_into()),
            Poll::Ready(Err(err)) => {
                let err = err.into();
                Box::pin(std::future::ready(Err(err)))
            }
            Poll::Pending => Box::pin(service.oneshot(req).err_into()),
        }
    }
}

impl BoxTransport {
    /// Erases the type of a service. A `BoxTransport` is kept as it is, not
    /// erased a second time.
    pub fn new<S>(service: S) -> Self
    where
        S: HttpService,
    {
        let mut slot = Some(service);
        let any: &mut dyn std::any::Any = &mut slot;
        if let Some(boxed) = any.downcast_mut::<Option<BoxTransport>>() {
            return boxed.take().expect("the slot was just filled");
        }
        let service = slot.take().expect("the slot was just filled");
        BoxTransport {
            inner: Arc::new(Holder(service)),
        }
    }

    /// Erases the type of a [`SharedTransport`]: each request calls it
    /// through `&self`, with no clone and no readiness check.
    pub fn shared<T: SharedTransport>(transport: T) -> Self {
        BoxTransport {
            inner: Arc::new(SharedHolder(transport)),
        }
    }

    /// Sends a request through the erased service (readiness included).
    #[inline]
    pub fn send(&self, req: http::Request<Body>) -> BoxFuture {
        self.inner.call(req)
    }
}

impl fmt::Debug for BoxTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxTransport").finish_non_exhaustive()
    }
}

impl tower_service::Service<http::Request<Body>> for BoxTransport {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness of the erased service is driven inside each call.
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, req: http::Request<Body>) -> BoxFuture {
        self.inner.call(req)
    }
}

/// Erases the type of a transport so a session can hold it (see
/// [`BoxTransport::new`]).
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
    S: HttpService,
{
    BoxTransport::new(service)
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
    /// How long making the connection took, phase by phase, and how long
    /// this response's head took to come (when the transport measures them).
    pub timings: ConnectionTimings,
}

impl ConnectionInfo {
    /// Describes a connection (with no timings).
    pub fn new(id: u64, reused: bool, remote_addr: Option<SocketAddr>) -> Self {
        ConnectionInfo {
            id,
            reused,
            remote_addr,
            timings: ConnectionTimings::default(),
        }
    }

    /// The connection a response came over, from the response's extensions:
    /// a [`ConnectionInfo`] a transport put there, or the one a
    /// [`ConnectionTag`] carries.
    ///
    /// ```
    /// use session_core::transport::{ConnectionInfo, ConnectionTag};
    ///
    /// let mut res = http::Response::new(());
    /// let mut tag = ConnectionTag::new(7, None);
    /// tag.record_use();
    /// res.extensions_mut().insert(tag);
    /// let info = ConnectionInfo::from_extensions(res.extensions()).unwrap();
    /// assert_eq!((info.id, info.reused), (7, false));
    /// ```
    pub fn from_extensions(extensions: &http::Extensions) -> Option<&ConnectionInfo> {
        extensions
            .get::<ConnectionInfo>()
            .or_else(|| extensions.get::<ConnectionTag>().map(|tag| &tag.info))
    }
}

/// How long the phases of a connection took, as Go's `httptrace` reports
/// them: name resolution, connect, TLS handshake; and for each response,
/// the time to its first byte. A phase that did not happen (no name to
/// resolve for an IP address, no TLS for `http://`) or that the transport
/// does not measure is `None`.
///
/// A connection's phases are measured once, when it is made: a response
/// over a reused connection reports them as they were, with
/// [`ConnectionInfo::reused`] set. The time to first byte is the
/// response's own.
///
/// The hyper transport measures all four. Over a proxy, `dns` is the
/// proxy's name (or, for SOCKS5, the target's), `connect` includes the
/// proxy's own TLS handshake and `CONNECT` tunnel, and `tls` is the
/// handshake with the origin.
///
/// ```
/// use std::time::Duration;
/// use session_core::transport::{ConnectionInfo, ConnectionTag, ConnectionTimings};
///
/// // What a transport does when it has made a connection...
/// let mut timings = ConnectionTimings::default();
/// timings.dns = Some(Duration::from_millis(3));
/// timings.connect = Some(Duration::from_millis(12));
/// timings.tls = Some(Duration::from_millis(30));
/// let tag = ConnectionTag::new(1, None).with_timings(timings);
///
/// // ... and for each response over it.
/// let mut res = http::Response::new(());
/// let mut copy = tag.clone();
/// copy.record_use();
/// copy.info_mut().timings.ttfb = Some(Duration::from_millis(41));
/// res.extensions_mut().insert(copy);
///
/// // What a caller reads (`Response::connection()` in a session).
/// let info = ConnectionInfo::from_extensions(res.extensions()).unwrap();
/// assert!(!info.reused);
/// assert_eq!(info.timings.tls, Some(Duration::from_millis(30)));
/// assert_eq!(info.timings.setup(), Some(Duration::from_millis(45)));
/// assert_eq!(info.timings.ttfb, Some(Duration::from_millis(41)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ConnectionTimings {
    /// Resolving the host name to addresses.
    pub dns: Option<Duration>,
    /// Opening the TCP connection (through a proxy: up to the tunnel being
    /// open), after the name was resolved.
    pub connect: Option<Duration>,
    /// The TLS handshake with the origin.
    pub tls: Option<Duration>,
    /// Time to first byte: from the moment the request could be sent (the
    /// transport got it, or its connection was ready, whichever came
    /// later) to the response head's arrival. It includes the server's
    /// time to answer and a round trip.
    pub ttfb: Option<Duration>,
}

impl ConnectionTimings {
    /// The time the connection took to make: `dns`, `connect` and `tls`
    /// added up (`None` when none was measured).
    pub fn setup(&self) -> Option<Duration> {
        [self.dns, self.connect, self.tls]
            .into_iter()
            .flatten()
            .reduce(|a, b| a + b)
    }
}

/// The bit of a tag's use counter that says the connection is retired.
const RETIRED: u64 = 1 << 63;

/// What a pooling transport attaches to a connection, so that each response
/// over it tells which connection it was and whether it was reused.
///
/// A pool that copies a connection's tag into every response (as
/// hyper-util's client does with `Connected::extra`) calls
/// [`record_use`](Self::record_use) on each copy once; the copies share one
/// use counter. Read the result with [`ConnectionInfo::from_extensions`].
#[derive(Debug, Clone)]
pub struct ConnectionTag {
    info: ConnectionInfo,
    uses: Arc<AtomicU64>,
    ready_at: tokio::time::Instant,
}

impl ConnectionTag {
    /// The tag of a new connection, not used yet, ready now (see
    /// [`ready_at`](Self::ready_at)).
    pub fn new(id: u64, remote_addr: Option<SocketAddr>) -> Self {
        ConnectionTag {
            info: ConnectionInfo::new(id, false, remote_addr),
            uses: Arc::new(AtomicU64::new(0)),
            ready_at: tokio::time::Instant::now(),
        }
    }

    /// Sets how long making the connection took (the tag's `ttfb` is left
    /// to each response).
    #[must_use]
    pub fn with_timings(mut self, timings: ConnectionTimings) -> Self {
        self.info.timings = timings;
        self
    }

    /// When the connection was ready to carry a request: when the tag was
    /// made. A transport measures a response's time to first byte from
    /// here when the request came before its connection was ready.
    pub fn ready_at(&self) -> tokio::time::Instant {
        self.ready_at
    }

    /// Counts one more response over the connection; this copy's info then
    /// says whether an earlier response used it.
    pub fn record_use(&mut self) -> &ConnectionInfo {
        let before = self.uses.fetch_add(1, Ordering::Relaxed);
        self.info.reused = before & !RETIRED > 0;
        &self.info
    }

    /// Retires the connection: the transport that made it closes it rather
    /// than send another request over it (after a response whose framing
    /// cannot be trusted, say). Every copy of the tag sees it.
    pub fn retire(&self) {
        self.uses.fetch_or(RETIRED, Ordering::Relaxed);
    }

    /// Was the connection retired (see [`retire`](Self::retire))?
    #[inline]
    pub fn is_retired(&self) -> bool {
        self.uses.load(Ordering::Relaxed) & RETIRED != 0
    }

    /// What this copy knows of the connection.
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// What this copy knows of the connection, to add what the transport
    /// measured of one response (its [`ConnectionTimings::ttfb`]).
    pub fn info_mut(&mut self) -> &mut ConnectionInfo {
        &mut self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Answer;

    impl SharedTransport for Answer {
        type Future = std::future::Ready<Result<http::Response<Body>, BoxError>>;

        fn send(&self, _req: http::Request<Body>) -> Self::Future {
            std::future::ready(Ok(http::Response::new(Body::empty())))
        }
    }

    #[test]
    fn a_retired_tag_is_retired_in_every_copy_and_still_counts_uses() {
        let mut tag = ConnectionTag::new(3, None);
        let mut copy = tag.clone();
        assert!(!copy.is_retired());
        assert!(!tag.record_use().reused);
        copy.retire();
        assert!(tag.is_retired() && copy.is_retired());
        assert!(copy.record_use().reused);
        assert!(ConnectionTag::new(4, None).record_use().reused.eq(&false));
    }

    #[test]
    fn a_box_transport_is_not_erased_twice() {
        let shared = BoxTransport::shared(Answer);
        let again = BoxTransport::new(shared.clone());
        assert!(Arc::ptr_eq(&shared.inner, &again.inner));
        let through_boxed = boxed(again);
        assert!(Arc::ptr_eq(&shared.inner, &through_boxed.inner));
    }
}
