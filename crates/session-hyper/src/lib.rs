//! The hyper transport of http-session: `Service<http::Request<Body>>` over
//! hyper-util's pooled client, with rustls.
//!
//! # Overview
//!
//! [`HyperTransport`] is a cloneable tower service that sends
//! `http::Request<session_core::Body>` over a keep-alive pool of HTTP/1.1 and
//! HTTP/2 connections (HTTP/2 by ALPN over TLS, or by prior knowledge for
//! `h2c`). TLS is rustls with the `ring` provider; certificates are verified
//! against the bundled Mozilla roots by default, and every TLS setting is an
//! explicit builder call. A transport that is not customised shares one TLS
//! configuration with every other transport of the process, so building one
//! costs microseconds.
//!
//! Every response carries a [`ConnectionInfo`](session_core::ConnectionInfo):
//! which connection it came over and whether that connection was reused, and
//! [`HyperTransport::connections_opened`] counts the connections made.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use session_hyper::HyperTransport;
//!
//! let transport = HyperTransport::builder()
//!     .connect_timeout(Duration::from_secs(5))
//!     .pool_max_idle_per_host(8)
//!     .resolve("api.test", "127.0.0.1:8080".parse().unwrap())
//!     .build()
//!     .unwrap();
//! let session = session_core::Session::builder().transport(transport).build().unwrap();
//! # let _ = session;
//! ```
//!
//! # Features
//!
//! - `webpki-roots` (default): trust the bundled Mozilla roots.
//! - `native-roots`: offer the operating system's store
//!   ([`HyperTransportBuilder::tls_native_roots`]).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod connect;
mod dns;
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use session_core::error::Connect;
use session_core::{Body, BoxError, ConnectionInfo};

use connect::{ConnTag, Connector, Counters};
use dns::Resolver;
use tls::TlsSettings;

/// How long an idle pooled connection is kept by default: 90 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The hyper transport. Cloning is cheap: clones share the pool.
///
/// See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<Connector, Body>,
    counters: Arc<Counters>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connections_opened", &self.connections_opened())
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with the defaults (see [`HyperTransportBuilder`]).
    ///
    /// # Panics
    /// Never in practice: the default TLS configuration always builds.
    pub fn new() -> Self {
        HyperTransportBuilder::default()
            .build()
            .expect("the default transport configuration is valid")
    }

    /// A builder to customise the transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// How many connections this transport (and its clones) has opened.
    pub fn connections_opened(&self) -> u64 {
        self.counters.opened.load(Ordering::Relaxed)
    }
}

impl Default for HyperTransport {
    fn default() -> Self {
        HyperTransport::new()
    }
}

type ClientFuture = hyper_util::client::legacy::ResponseFuture;

impl tower_service::Service<http::Request<Body>> for HyperTransport {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The pooled client queues internally; it is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> ResponseFuture {
        ResponseFuture {
            inner: self.client.request(req),
        }
    }
}

/// The future of [`HyperTransport`]'s `call`.
pub struct ResponseFuture {
    inner: ClientFuture,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match Pin::new(&mut self.inner).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        Poll::Ready(match result {
            Ok(res) => {
                let (mut parts, incoming) = res.into_parts();
                if let Some(tag) = parts.extensions.remove::<ConnTag>() {
                    let earlier = tag.uses.fetch_add(1, Ordering::Relaxed);
                    parts
                        .extensions
                        .insert(ConnectionInfo::new(tag.id, earlier > 0, tag.remote));
                }
                Ok(http::Response::from_parts(parts, Body::wrap(incoming)))
            }
            Err(err) if err.is_connect() => Err(Box::new(Connect::new(err))),
            Err(err) => Err(Box::new(err)),
        })
    }
}

/// Builds a [`HyperTransport`]. Setters take and return the builder; a
/// setter that fails keeps its error for [`build`](Self::build).
#[must_use]
pub struct HyperTransportBuilder {
    error: Option<BoxError>,
    tls: TlsSettings,
    resolve: HashMap<String, Vec<SocketAddr>>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    http2_prior_knowledge: bool,
    http1_only: bool,
    nodelay: bool,
}

impl fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransportBuilder")
            .field("tls", &self.tls)
            .field("resolve", &self.resolve)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        HyperTransportBuilder {
            error: None,
            tls: TlsSettings::default(),
            resolve: HashMap::new(),
            connect_timeout: None,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_idle_per_host: usize::MAX,
            http2_prior_knowledge: false,
            http1_only: false,
            nodelay: true,
        }
    }
}

impl HyperTransportBuilder {
    fn fail(mut self, err: impl Into<BoxError>) -> Self {
        self.error.get_or_insert(err.into());
        self
    }

    /// Sends `host` to `addr` instead of resolving it (curl's `--resolve`).
    /// The port of the URL wins when it has one; otherwise `addr`'s port is
    /// used, or the scheme's default when `addr`'s port is 0. Call it again
    /// for the same host to add more addresses.
    pub fn resolve(mut self, host: &str, addr: SocketAddr) -> Self {
        self.resolve
            .entry(host.to_ascii_lowercase())
            .or_default()
            .push(addr);
        self
    }

    /// Limits how long a connection (TCP and TLS handshake) may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        if timeout.is_zero() {
            return self.fail("a connect timeout of zero would fail every request");
        }
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long an idle connection stays in the pool (`None`: forever).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle connections kept per host (default: no limit).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Speaks HTTP/2 without negotiation, also over plain TCP (`h2c`).
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.http2_prior_knowledge = true;
        self.http1_only = false;
        self
    }

    /// Never negotiates HTTP/2 (ALPN offers only `http/1.1`).
    pub fn http1_only(mut self) -> Self {
        self.http1_only = true;
        self.http2_prior_knowledge = false;
        self.tls.alpn_h2 = false;
        self
    }

    /// Sets `TCP_NODELAY` on new connections (default: on).
    pub fn tcp_nodelay(mut self, enabled: bool) -> Self {
        self.nodelay = enabled;
        self
    }

    /// Trusts the bundled Mozilla roots (default: on, with the
    /// `webpki-roots` feature).
    pub fn tls_built_in_roots(mut self, enabled: bool) -> Self {
        self.tls.built_in_roots = enabled;
        self
    }

    /// Trusts the operating system's certificate store too.
    #[cfg(feature = "native-roots")]
    pub fn tls_native_roots(mut self, enabled: bool) -> Self {
        self.tls.native_roots = enabled;
        self
    }

    /// Trusts the certificates of a PEM bundle as extra roots.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        match tls::certs_from_pem(pem) {
            Ok(certs) => {
                self.tls.extra_roots.extend(certs);
                self
            }
            Err(err) => self.fail(err),
        }
    }

    /// Presents a client certificate (mTLS): the PEM chain, leaf first, and
    /// its PEM private key.
    pub fn identity_pem(mut self, cert_chain: &[u8], key: &[u8]) -> Self {
        match (tls::certs_from_pem(cert_chain), tls::key_from_pem(key)) {
            (Ok(chain), Ok(key)) => {
                self.tls.identity = Some((chain, Arc::new(key)));
                self
            }
            (Err(err), _) | (_, Err(err)) => self.fail(err),
        }
    }

    /// Accepts TLS 1.3 only.
    pub fn tls_min_version_1_3(mut self) -> Self {
        self.tls.min_tls13 = true;
        self
    }

    /// **Dangerous**: accepts any server certificate: expired, self-signed,
    /// for another host. Anyone on the path can read and change the traffic.
    /// For tests against servers you control, never in production.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_invalid_certs = accept;
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    /// The first setter that failed, or a TLS configuration rustls refuses.
    pub fn build(self) -> Result<HyperTransport, BoxError> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let tls = self.tls.client_config()?;
        let mut http = HttpConnector::new_with_resolver(Resolver::new(self.resolve));
        http.enforce_http(false);
        http.set_nodelay(self.nodelay);
        http.set_connect_timeout(self.connect_timeout);
        let counters = Arc::new(Counters::default());
        let connector = Connector {
            http,
            tls,
            timeout: self.connect_timeout,
            counters: counters.clone(),
        };
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http2_only(self.http2_prior_knowledge);
        Ok(HyperTransport {
            client: builder.build(connector),
            counters,
        })
    }
}
