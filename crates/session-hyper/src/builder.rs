//! Building a transport: [`HyperTransportBuilder`], its settings and their
//! defaults, and the constructors of [`HyperTransport`].

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use session_core::BoxError;

use crate::client::Recipe;
use crate::connect::Counters;
use crate::future::Limits;
use crate::pool::Gates;
use crate::proxy::ProxyRules;
use crate::service::HyperTransport;
use crate::tls::{self, Identity, TlsSettings, TlsVersion};

// For doc links.
#[cfg(doc)]
use crate::{proxy, LimitExceeded};

/// How long an idle pooled connection is kept by default: 90 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The default limit on a decompressed body: 1 GiB.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: u64 = 1 << 30;

/// The default limit on a response head: 64 KiB (HTTP/1.1 read buffer,
/// HTTP/2 header list).
pub const DEFAULT_MAX_RESPONSE_HEADER_SIZE: usize = 64 * 1024;

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
}

impl Default for HyperTransport {
    fn default() -> Self {
        HyperTransport::new()
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

    /// Sends `host` to `addrs` instead of resolving it, replacing what
    /// [`resolve`](Self::resolve) set for it. With no address, the name does
    /// not resolve: a request to it fails with a
    /// `session_core::error::DnsError` (`is_dns()`), as a name with no
    /// record would, without asking a resolver.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use session_hyper::HyperTransport;
    ///
    /// let transport = HyperTransport::builder()
    ///     .resolve_to_addrs("tracker.example.test", &[])
    ///     .build()
    ///     .unwrap();
    /// let session = session_core::Session::builder().transport(transport).build().unwrap();
    /// let err = session.get("http://tracker.example.test/").send().await.unwrap_err();
    /// assert!(err.is_dns() && err.is_connect());
    /// # }
    /// ```
    pub fn resolve_to_addrs(mut self, host: &str, addrs: &[SocketAddr]) -> Self {
        self.resolve
            .insert(host.to_ascii_lowercase(), addrs.to_vec());
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
    /// before failing with `TimedOut(TimeoutKind::Pool)` (`is_timeout()`, `timeout_kind()`).
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

    /// URLs matching `key` (as for [`proxy`](Self::proxy)) connect
    /// directly, whatever a less specific key or the environment says
    /// (requests' `proxies={key: None}`).
    pub fn direct(mut self, key: &str) -> Self {
        match self.proxies.add_direct(key) {
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

    /// Sends `name` in SNI and verifies certificates for it instead of each
    /// URL's host, on every TLS connection of this transport (mount a
    /// transport with it on one prefix to rename one host).
    pub fn tls_server_name(mut self, name: &str) -> Self {
        self.tls.server_name = Some(name.to_owned());
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
    /// memory). Reading past it fails with [`LimitExceeded`]; so does the
    /// request, as soon as the head arrives, when the response announces a
    /// longer `Content-Length` for a body delivered as it comes (not one to
    /// be decoded; see the crate docs' "Framing and limits").
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
        let limits = Limits {
            read_timeout: self.read_timeout,
            connect_timeout: None,
            max_body: self.max_body,
            max_decompressed: self.max_decompressed,
            // hyper's HTTP/1.1 read buffer is at least 8 KiB (client.rs).
            max_head: self.max_header_size.max(8192) as u64,
            decompress: self.decompress,
        };
        Ok(HyperTransport::from_parts(
            clients, counters, limits, proxies, recipe,
        ))
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
}
