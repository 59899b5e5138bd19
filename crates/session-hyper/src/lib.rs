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
//! Every response tells which connection it came over and whether that
//! connection was reused (read it with
//! [`ConnectionInfo::from_extensions`](session_core::ConnectionInfo::from_extensions),
//! or `Response::connection()` in a session), and
//! [`HyperTransport::connections_opened`] counts the connections made.
//!
//! # What it can be customised with
//!
//! - **Proxies**: HTTP forward proxies, `CONNECT` tunnels (over plain TCP or
//!   TLS to the proxy) and SOCKS5, per
//!   scheme and host, from the environment, or per request with
//!   [`RequestProxy`]; see [`proxy`] for the precedence table.
//! - **Timeouts**: connect, read (the longest wait for the response head or
//!   between two body reads) and the pool wait. Each fails with a
//!   [`TimedOut`] naming it in the error's
//!   chain, so `is_timeout()` is true. The total deadline is the session's
//!   `timeout`. Per request: [`RequestReadTimeout`], [`RequestConnectTimeout`]
//!   (which pools its connections apart) and the request's own `timeout`.
//! - **TLS**: extra roots (PEM bytes, a file, `SSL_CERT_FILE`), a client
//!   certificate, a minimum version, the danger switch, and per request
//!   with [`RequestTls`]. Requests with overrides use a pool of their own
//!   per security profile.
//! - **Pool**: idle limits, a cap on connections per host with a queue and
//!   a wait timeout, and HTTP/2 awareness: a cold burst over TLS waits for
//!   the first handshake instead of opening a connection per request.
//! - **Decompression and limits**: gzip, deflate, br and zstd, decoded
//!   lazily, with limits on header, body and decompressed sizes.
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
//! Customised:
//!
//! ```
//! use std::time::Duration;
//! use session_hyper::{HyperTransport, TlsVersion};
//!
//! let transport = HyperTransport::builder()
//!     .proxy("https", "http://user:pw@proxy.internal.test:3128")
//!     .proxy("all://metrics.internal.test", "socks5h://127.0.0.1:1080")
//!     .no_proxy("localhost, .corp.test")
//!     .trust_env(false)
//!     .read_timeout(Duration::from_secs(30))
//!     .pool_max_connections_per_host(16)
//!     .pool_wait_timeout(Duration::from_secs(5))
//!     .tls_min_version(TlsVersion::Tls13)
//!     .max_decompressed_size(64 << 20)
//!     .build()
//!     .unwrap();
//! # let _ = transport;
//! ```
//!
//! # Features
//!
//! - `webpki-roots` (default): trust the bundled Mozilla roots.
//! - `native-roots`: offer the operating system's store
//!   (`HyperTransportBuilder::tls_native_roots`).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod connect;
mod decompress;
mod dns;
mod host;
mod pool;
pub mod proxy;
mod timeout;
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, PROXY_AUTHORIZATION};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Sleep;

use session_core::error::{Connect, TimedOut};
use session_core::{Body, BoxError, ConnectionTag, SharedTransport};

use connect::{Connector, ConnectorParts, Counters};
use dns::Resolver;
use pool::Gates;
use proxy::{ProxyKind, ProxyRules};
use timeout::{limited, ReadTimeout};
use tls::TlsSettings;

pub use decompress::MAX_CODINGS;
pub use proxy::{InvalidProxy, Proxy, ProxyError, RequestProxy};
pub use timeout::{LimitExceeded, RequestConnectTimeout, RequestReadTimeout};
pub use tls::{Identity, RequestTls, TlsVersion};

/// How long an idle pooled connection is kept by default: 90 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The default limit on a decompressed body: 1 GiB.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: u64 = 1 << 30;

/// The default limit on a response head: 64 KiB (HTTP/1.1 read buffer,
/// HTTP/2 header list).
pub const DEFAULT_MAX_RESPONSE_HEADER_SIZE: usize = 64 * 1024;

/// The most security profiles (per-request TLS or proxy overrides) whose
/// pools are kept; past it the cache starts over.
const MAX_PROFILES: usize = 32;

/// What the response path needs, copied into every response future.
#[derive(Clone, Copy, Debug)]
struct Limits {
    read_timeout: Option<Duration>,
    max_body: Option<u64>,
    max_decompressed: u64,
    decompress: bool,
}

type HyperClient = Client<Connector, Body>;

/// The hyper-util clients of one pool configuration, over one connector.
/// Plain `http://` requests go to a client that leaves the `Host` header
/// to this transport (see [`host`]); others to one that sets it itself
/// (over TLS, only ALPN tells whether a request goes over HTTP/1, where
/// `Host` is written, or HTTP/2, where it is not). The two never share a
/// connection anyway: a pool key includes the scheme.
#[derive(Clone)]
struct Clients {
    plain: HyperClient,
    other: HyperClient,
}

impl Clients {
    /// `plain` for a request this transport wrote `Host` for (or that needs
    /// none: plain HTTP/2 by prior knowledge), `other` for the rest.
    #[inline]
    fn pick(&self, plain: bool) -> &HyperClient {
        if plain {
            &self.plain
        } else {
            &self.other
        }
    }
}

/// The hyper transport. Cloning is cheap: clones share the pool.
///
/// See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct HyperTransport {
    // One `Arc`: a session clones the transport for every request, and
    // hyper-util's client alone holds a dozen reference counts.
    shared: Arc<Shared>,
}

struct Shared {
    clients: Clients,
    counters: Arc<Counters>,
    limits: Limits,
    proxies: Arc<ProxyRules>,
    recipe: Recipe,
    profiles: Mutex<HashMap<ProfileKey, Clients>>,
    next_profile: AtomicU64,
}

/// What sets a request's connections apart from the default pool: its TLS
/// settings, its proxy, its connect timeout.
type ProfileKey = (
    Option<RequestTls>,
    Option<RequestProxy>,
    Option<RequestConnectTimeout>,
);

/// Everything needed to make another client for a security profile.
#[derive(Clone, Debug)]
struct Recipe {
    tls: TlsSettings,
    resolve: HashMap<String, Vec<SocketAddr>>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    http2_prior_knowledge: bool,
    nodelay: bool,
    max_header_size: usize,
    gates: Arc<Gates>,
}

impl Recipe {
    fn clients(
        &self,
        tls: &TlsSettings,
        proxies: Arc<ProxyRules>,
        counters: Arc<Counters>,
        profile: u64,
    ) -> Result<Clients, BoxError> {
        let config = tls.client_config()?;
        let resolver = Resolver::new(self.resolve.clone());
        let mut http = HttpConnector::new_with_resolver(resolver.clone());
        http.enforce_http(false);
        http.set_nodelay(self.nodelay);
        // The connect timeout is applied around TCP, proxy and TLS together
        // (in the connector), so it fails as `TimedOut("connect")`.
        let connector = Connector::new(ConnectorParts {
            http,
            resolver,
            proxy_tls: std::sync::OnceLock::new(),
            tls: config,
            timeout: self.connect_timeout,
            counters,
            proxies,
            gates: self.gates.clone(),
            h2_gate: tls.alpn_h2 && !self.http2_prior_knowledge && self.pool_max_idle_per_host > 0,
            profile,
        });
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http1_max_buf_size(self.max_header_size.max(8192))
            .http2_max_header_list_size(u32::try_from(self.max_header_size).unwrap_or(u32::MAX))
            .http2_only(self.http2_prior_knowledge);
        let other = builder.build(connector.clone());
        // `http://` goes over HTTP/1 unless by prior knowledge over HTTP/2
        // (with no `Host` either way): `host::set_http1_host` writes it.
        builder.set_host(false);
        Ok(Clients {
            plain: builder.build(connector),
            other,
        })
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connections_opened", &self.connections_opened())
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport with the defaults (see [`HyperTransportBuilder`]). When
    /// the environment's proxy settings cannot be parsed, they are ignored
    /// here; [`HyperTransportBuilder::build`] reports them instead.
    ///
    /// # Panics
    /// Never in practice: the default TLS configuration always builds.
    pub fn new() -> Self {
        HyperTransportBuilder::default()
            .build()
            .unwrap_or_else(|err| {
                tracing::warn!("ignoring the environment's proxy settings: {err}");
                HyperTransportBuilder::default()
                    .trust_env(false)
                    .build()
                    .expect("the default transport configuration is valid")
            })
    }

    /// A builder to customise the transport.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// How many connections this transport (and its clones) has opened.
    pub fn connections_opened(&self) -> u64 {
        self.shared.counters.opened.load(Ordering::Relaxed)
    }

    /// The client for a request with overrides, made on first use.
    fn profile_client(
        &self,
        tls: Option<&RequestTls>,
        proxy: Option<&RequestProxy>,
        connect: Option<&RequestConnectTimeout>,
    ) -> Result<(Clients, Arc<ProxyRules>), BoxError> {
        let shared = &self.shared;
        let key = (tls.cloned(), proxy.cloned(), connect.copied());
        let rules = match proxy {
            Some(p) => Arc::new(ProxyRules::single(p.0.clone())),
            None => shared.proxies.clone(),
        };
        let mut profiles = shared.profiles.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(clients) = profiles.get(&key) {
            return Ok((clients.clone(), rules));
        }
        let settings = match tls {
            Some(t) => t.apply(&shared.recipe.tls),
            None => shared.recipe.tls.clone(),
        };
        let id = shared.next_profile.fetch_add(1, Ordering::Relaxed);
        let mut recipe = shared.recipe.clone();
        if let Some(RequestConnectTimeout(t)) = connect {
            recipe.connect_timeout = Some(*t);
        }
        let clients = recipe.clients(&settings, rules.clone(), shared.counters.clone(), id)?;
        if profiles.len() >= MAX_PROFILES {
            profiles.clear();
        }
        profiles.insert(key, clients.clone());
        Ok((clients, rules))
    }
}

impl Default for HyperTransport {
    fn default() -> Self {
        HyperTransport::new()
    }
}

/// Sends the proxy's credentials on a plain-HTTP request forwarded through
/// an HTTP proxy (never to an origin: only when the proxy is used).
fn forward_auth(rules: &ProxyRules, req: &mut http::Request<Body>) {
    if req.uri().scheme_str() != Some("http") {
        return;
    }
    if let Some(proxy) = rules.select(req.uri()) {
        if matches!(proxy.kind, ProxyKind::Http | ProxyKind::Https) {
            if let Some(auth) = proxy.basic_auth() {
                req.headers_mut().insert(PROXY_AUTHORIZATION, auth);
            }
        }
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
        SharedTransport::send(self, req)
    }
}

/// The transport sends through `&self`: a session holding it (see
/// [`BoxTransport::shared`](session_core::BoxTransport::shared)) neither
/// clones it nor asks for readiness on each request.
impl SharedTransport for HyperTransport {
    type Future = ResponseFuture;

    fn send(&self, mut req: http::Request<Body>) -> ResponseFuture {
        let mut limits = self.shared.limits;
        if let Some(RequestReadTimeout(t)) = req.extensions().get::<RequestReadTimeout>() {
            if !t.is_zero() {
                limits.read_timeout = Some(*t);
            }
        }
        if limits.decompress {
            req.headers_mut()
                .entry(ACCEPT_ENCODING)
                .or_insert(decompress::ACCEPT_ENCODING);
        }
        let plain = if self.shared.recipe.http2_prior_knowledge {
            req.uri().scheme() == Some(&http::uri::Scheme::HTTP)
        } else {
            host::set_http1_host(&mut req)
        };
        let head = req.method() == http::Method::HEAD;
        let ext = req.extensions();
        let (tls, proxy) = (ext.get::<RequestTls>(), ext.get::<RequestProxy>());
        let connect = ext.get::<RequestConnectTimeout>();
        let inner = if tls.is_none() && proxy.is_none() && connect.is_none() {
            if !self.shared.proxies.is_empty() {
                forward_auth(&self.shared.proxies, &mut req);
            }
            self.shared.clients.pick(plain).request(req)
        } else {
            match self.profile_client(tls, proxy, connect) {
                Ok((clients, rules)) => {
                    forward_auth(&rules, &mut req);
                    clients.pick(plain).request(req)
                }
                Err(err) => {
                    return ResponseFuture {
                        inner: None,
                        error: Some(err),
                        sleep: None,
                        limits,
                        head,
                    }
                }
            }
        };
        ResponseFuture {
            sleep: limits.read_timeout.map(|t| Box::pin(tokio::time::sleep(t))),
            inner: Some(inner),
            error: None,
            limits,
            head,
        }
    }
}

/// The future of [`HyperTransport`]'s `call`.
pub struct ResponseFuture {
    inner: Option<ClientFuture>,
    error: Option<BoxError>,
    sleep: Option<Pin<Box<Sleep>>>,
    limits: Limits,
    head: bool,
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            let err = this
                .error
                .take()
                .unwrap_or_else(|| "polled after completion".into());
            return Poll::Ready(Err(err));
        };
        let result = match Pin::new(inner).poll(cx) {
            Poll::Ready(result) => result,
            Poll::Pending => {
                if let Some(sleep) = this.sleep.as_mut() {
                    if sleep.as_mut().poll(cx).is_ready() {
                        // Dropping the client's future cancels the request;
                        // hyper closes an HTTP/1.1 connection it was on.
                        this.inner = None;
                        return Poll::Ready(Err(Box::new(TimedOut("read"))));
                    }
                }
                return Poll::Pending;
            }
        };
        this.inner = None;
        Poll::Ready(match result {
            Ok(res) => finish(res, this.sleep.take(), this.limits, this.head),
            Err(err) if err.is_connect() => Err(Box::new(Connect::new(err))),
            Err(err) => Err(Box::new(err)),
        })
    }
}

/// `headers.contains_key(name)`; most responses have a handful of headers,
/// and a scan of their names is cheaper than hashing `name`.
#[inline]
fn has_header(headers: &http::HeaderMap, name: &http::HeaderName) -> bool {
    if headers.keys_len() <= 8 {
        headers.keys().any(|key| key == name)
    } else {
        headers.contains_key(name)
    }
}

/// Turns hyper's response into ours: connection info, read timeout, limits,
/// decompression.
fn finish(
    res: http::Response<hyper::body::Incoming>,
    sleep: Option<Pin<Box<Sleep>>>,
    limits: Limits,
    head: bool,
) -> Result<http::Response<Body>, BoxError> {
    let (mut parts, incoming) = res.into_parts();
    if let Some(tag) = parts.extensions.get_mut::<ConnectionTag>() {
        tag.record_use();
    }
    let mut body = match (sleep, limits.read_timeout, limits.max_body) {
        (Some(sleep), Some(t), None) => Body::wrap(ReadTimeout::new(incoming, sleep, t)),
        (Some(sleep), Some(t), Some(max)) => {
            limited(ReadTimeout::new(incoming, sleep, t), max, "response body")
        }
        (_, _, Some(max)) => limited(incoming, max, "response body"),
        _ => Body::wrap(incoming),
    };
    // Most responses are not encoded: one header lookup says so.
    let encoded = limits.decompress && has_header(&parts.headers, &CONTENT_ENCODING);
    let empty = || {
        head || parts.status == http::StatusCode::NO_CONTENT
            || parts.status == http::StatusCode::NOT_MODIFIED
            || parts.headers.get(CONTENT_LENGTH).is_some_and(|v| v == "0")
    };
    if encoded && !empty() {
        body = decompress::decode(&mut parts.headers, body, limits.max_decompressed)?;
    }
    Ok(http::Response::from_parts(parts, body))
}

/// Builds a [`HyperTransport`]. Setters take and return the builder; a
/// setter that fails keeps its error for [`build`](Self::build).
#[must_use]
pub struct HyperTransportBuilder {
    error: Option<BoxError>,
    tls: TlsSettings,
    resolve: HashMap<String, Vec<SocketAddr>>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    pool_max_per_host: Option<usize>,
    pool_wait_timeout: Option<Duration>,
    http2_prior_knowledge: bool,
    http1_only: bool,
    nodelay: bool,
    proxies: ProxyRules,
    trust_env: bool,
    decompress: bool,
    max_header_size: usize,
    max_body: Option<u64>,
    max_decompressed: u64,
}

impl fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransportBuilder")
            .field("tls", &self.tls)
            .field("resolve", &self.resolve)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("proxies", &self.proxies)
            .field("trust_env", &self.trust_env)
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
            read_timeout: None,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_idle_per_host: usize::MAX,
            pool_max_per_host: None,
            pool_wait_timeout: None,
            http2_prior_knowledge: false,
            http1_only: false,
            nodelay: true,
            proxies: ProxyRules::default(),
            trust_env: true,
            decompress: true,
            max_header_size: DEFAULT_MAX_RESPONSE_HEADER_SIZE,
            max_body: None,
            max_decompressed: DEFAULT_MAX_DECOMPRESSED_SIZE,
        }
    }
}

fn nonzero(timeout: Duration, what: &'static str) -> Result<Duration, BoxError> {
    if timeout.is_zero() {
        return Err(format!("a {what} timeout of zero would fail every request").into());
    }
    Ok(timeout)
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

    /// Limits how long a connection (TCP, proxy handshake and TLS handshake)
    /// may take. A zero timeout is a builder error.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        match nonzero(timeout, "connect") {
            Ok(t) => {
                self.connect_timeout = Some(t);
                self
            }
            Err(err) => self.fail(err),
        }
    }

    /// Limits the longest wait for data: for the response head after the
    /// request is handed to the pool, then between two reads of the body.
    /// The connection is closed, not pooled, when it fires. A zero timeout
    /// is a builder error.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        match nonzero(timeout, "read") {
            Ok(t) => {
                self.read_timeout = Some(t);
                self
            }
            Err(err) => self.fail(err),
        }
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

    /// The most connections open at once per host (and security profile);
    /// further requests wait for one to be free (default: no limit). Zero is
    /// a builder error.
    pub fn pool_max_connections_per_host(mut self, max: usize) -> Self {
        if max == 0 {
            return self.fail("a connection cap of zero would block every request");
        }
        self.pool_max_per_host = Some(max);
        self
    }

    /// How long a request waits for a connection under
    /// [`pool_max_connections_per_host`](Self::pool_max_connections_per_host)
    /// before failing with `TimedOut("pool wait")`.
    pub fn pool_wait_timeout(mut self, timeout: Duration) -> Self {
        match nonzero(timeout, "pool wait") {
            Ok(t) => {
                self.pool_wait_timeout = Some(t);
                self
            }
            Err(err) => self.fail(err),
        }
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

    /// Sends requests for URLs matching `key` through the proxy at `url`.
    ///
    /// `key` is `http`, `https` or `all`, optionally with `://host`; the
    /// most specific key wins (`scheme://host` > `scheme` > `all://host` >
    /// `all`). `url` is `http://`, `https://` (TLS to the proxy),
    /// `socks5://` or `socks5h://`, with optional credentials. See [`proxy`] for the precedence table.
    pub fn proxy(mut self, key: &str, url: &str) -> Self {
        match self.proxies.add(key, url) {
            Ok(()) => self,
            Err(err) => self.fail(err),
        }
    }

    /// Hosts reached directly, as a comma-separated list (`localhost,
    /// .corp.test, 10.0.0.0/8`). An entry that is not a host, address or
    /// range is a builder error.
    pub fn no_proxy(mut self, list: &str) -> Self {
        match self.proxies.add_no_proxy(list) {
            Ok(()) => self,
            Err(err) => self.fail(err),
        }
    }

    /// Reads `http_proxy`, `https_proxy`, `all_proxy`, `no_proxy` (lowercase
    /// first) and `SSL_CERT_FILE` when building (default: on).
    pub fn trust_env(mut self, trust: bool) -> Self {
        self.trust_env = trust;
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

    /// Trusts the certificates of a PEM file as extra roots (a CA bundle).
    pub fn add_root_certificate_file(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        match std::fs::read(path) {
            Ok(pem) => self.add_root_certificate_pem(&pem),
            Err(err) => self.fail(format!("cannot read CA bundle {}: {err}", path.display())),
        }
    }

    /// Presents a client certificate (mTLS): the PEM chain, leaf first, and
    /// its PEM private key.
    pub fn identity_pem(mut self, cert_chain: &[u8], key: &[u8]) -> Self {
        match Identity::from_pem(cert_chain, key) {
            Ok(id) => {
                self.tls.identity = Some((id.chain, id.key));
                self
            }
            Err(err) => self.fail(err),
        }
    }

    /// The oldest TLS version accepted (default: TLS 1.2).
    pub fn tls_min_version(mut self, version: TlsVersion) -> Self {
        self.tls.min_tls13 = version == TlsVersion::Tls13;
        self
    }

    /// Accepts TLS 1.3 only.
    pub fn tls_min_version_1_3(self) -> Self {
        self.tls_min_version(TlsVersion::Tls13)
    }

    /// **Dangerous**: accepts any server certificate: expired, self-signed,
    /// for another host. Anyone on the path can read and change the traffic.
    /// For tests against servers you control, never in production.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_invalid_certs = accept;
        self
    }

    /// Sends `Accept-Encoding: gzip, deflate, br, zstd` (unless the request
    /// has its own) and decodes the answer (default: on). Off, bodies are
    /// passed through as they come.
    pub fn decompress(mut self, enabled: bool) -> Self {
        self.decompress = enabled;
        self
    }

    /// The largest response head accepted, in bytes (default 64 KiB; at
    /// least 8 KiB is used for HTTP/1.1, hyper's minimum read buffer).
    pub fn max_response_header_size(mut self, bytes: usize) -> Self {
        if bytes == 0 {
            return self.fail("a response header limit of zero would fail every request");
        }
        self.max_header_size = bytes;
        self
    }

    /// The most bytes a response body may have on the wire (default: no
    /// limit here; the session's `max_body_size` limits what is read into
    /// memory). Reading past it fails with [`LimitExceeded`].
    pub fn max_response_body_size(mut self, bytes: u64) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// The most bytes a body may decompress to (default:
    /// [`DEFAULT_MAX_DECOMPRESSED_SIZE`]); a decompression bomb fails with
    /// [`LimitExceeded`] instead of filling memory.
    pub fn max_decompressed_size(mut self, bytes: u64) -> Self {
        self.max_decompressed = bytes;
        self
    }

    /// Builds the transport.
    ///
    /// # Errors
    /// The first setter that failed, a bad proxy setting or CA file in the
    /// environment (with [`trust_env`](Self::trust_env)), or a TLS
    /// configuration rustls refuses.
    pub fn build(mut self) -> Result<HyperTransport, BoxError> {
        if let Some(err) = self.error {
            return Err(err);
        }
        if self.trust_env {
            self.proxies.load_env()?;
            if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
                // The bundle replaces the built-in roots; it is read (once per
                // process while unchanged) when the TLS configuration is built.
                self.tls.env_roots = Some(path.into());
                self.tls.built_in_roots = false;
            }
        }
        let counters = Arc::new(Counters::default());
        let proxies = Arc::new(self.proxies);
        let recipe = Recipe {
            tls: self.tls,
            resolve: self.resolve,
            connect_timeout: self.connect_timeout,
            pool_idle_timeout: self.pool_idle_timeout,
            pool_max_idle_per_host: self.pool_max_idle_per_host,
            http2_prior_knowledge: self.http2_prior_knowledge,
            nodelay: self.nodelay,
            max_header_size: self.max_header_size,
            gates: Arc::new(Gates::new(self.pool_max_per_host, self.pool_wait_timeout)),
        };
        let clients = recipe.clients(&recipe.tls, proxies.clone(), counters.clone(), 0)?;
        Ok(HyperTransport {
            shared: Arc::new(Shared {
                clients,
                counters,
                limits: Limits {
                    read_timeout: self.read_timeout,
                    max_body: self.max_body,
                    max_decompressed: self.max_decompressed,
                    decompress: self.decompress,
                },
                proxies,
                recipe,
                profiles: Mutex::new(HashMap::new()),
                next_profile: AtomicU64::new(1),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_a_builder_error_not_a_panic() {
        let cases = [
            HyperTransport::builder().proxy("http", "http://"),
            HyperTransport::builder().proxy("http", "gopher://h:1"),
            HyperTransport::builder().proxy("ftp", "http://h:1"),
            HyperTransport::builder().no_proxy("not a host"),
            HyperTransport::builder().read_timeout(Duration::ZERO),
            HyperTransport::builder().connect_timeout(Duration::ZERO),
            HyperTransport::builder().pool_wait_timeout(Duration::ZERO),
            HyperTransport::builder().pool_max_connections_per_host(0),
            HyperTransport::builder().add_root_certificate_file("/nonexistent/ca.pem"),
            HyperTransport::builder().add_root_certificate_pem(b"junk"),
        ];
        for builder in cases {
            assert!(builder.trust_env(false).build().is_err());
        }
    }

    #[test]
    fn transport_is_send_sync_clone() {
        fn assert_impls<T: Send + Sync + Clone + 'static>() {}
        assert_impls::<HyperTransport>();
        fn assert_send<T: Send>() {}
        assert_send::<ResponseFuture>();
    }
}
