//! The connector: TCP (through hyper-util's `HttpConnector`), through a
//! proxy when one is chosen (forward, `CONNECT` tunnel, or SOCKS5 with
//! hyper-util's `SocksV5`), then TLS with rustls for `https`, and a tag on
//! every connection so responses can say which connection they came over
//! and whether it was reused. New connections pass the per-host gates of
//! [`crate::pool`] first.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use std::str::FromStr;

use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::SocksV5;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use session_core::ConnectionTag;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use session_core::error::{ProxyError, TimedOut, TimeoutKind};
use session_core::{BoxError, ConnectionTimings};
use tokio::time::Instant;

use crate::dns::{DnsClock, Resolver};
use crate::errors;
use crate::pool::{Gates, H2Alive};
use crate::proxy::{Proxy, ProxyKind, ProxyRules};

/// Counters shared by a transport and its connector.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) opened: AtomicU64,
}

/// The connector hyper-util's client holds. The client clones it for every
/// request (even one a pooled connection serves), so it is one `Arc`.
#[derive(Clone, Debug)]
pub(crate) struct Connector(Arc<ConnectorParts>);

impl Connector {
    pub(crate) fn new(parts: ConnectorParts) -> Self {
        Connector(Arc::new(parts))
    }
}

impl std::ops::Deref for Connector {
    type Target = ConnectorParts;

    fn deref(&self) -> &ConnectorParts {
        &self.0
    }
}

#[derive(Debug)]
pub(crate) struct ConnectorParts {
    /// What TCP connections resolve names with (and names resolved before a
    /// SOCKS5 proxy).
    pub(crate) resolver: Resolver,
    /// `TCP_NODELAY` on every connection.
    pub(crate) nodelay: bool,
    /// `tls` offering only HTTP/1.1, for `https://` proxies; made on first use.
    pub(crate) proxy_tls: std::sync::OnceLock<Arc<ClientConfig>>,
    pub(crate) tls: Arc<ClientConfig>,
    /// Sent in SNI and verified instead of the URL's host.
    pub(crate) server_name: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) proxies: Arc<ProxyRules>,
    pub(crate) gates: Arc<Gates>,
    /// Hold connects to a host while its first TLS connection negotiates
    /// (ALPN may pick h2, and the pool is on).
    pub(crate) h2_gate: bool,
    /// Which security profile this connector serves (gates are per profile).
    pub(crate) profile: u64,
}

/// `dst` with its port spelled out.
fn with_port(dst: &Uri, https: bool) -> Result<Uri, BoxError> {
    if dst.port().is_some() {
        return Ok(dst.clone());
    }
    let host = dst.host().ok_or("URL has no host")?;
    let port = if https { 443 } else { 80 };
    Ok(format!("{}://{host}:{port}", dst.scheme_str().unwrap_or("http")).parse()?)
}

/// The host of `uri` without IPv6 brackets: what a resolver and a TLS
/// server name take.
fn bare_host(uri: &Uri) -> &str {
    uri.host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
}

/// `target` (with its port) with its host resolved to an address by
/// `resolver`; an address literal stays as it is.
async fn resolved(resolver: &Resolver, target: &Uri) -> Result<Uri, BoxError> {
    let bare = bare_host(target);
    if bare.is_empty() {
        return Err("URL has no host".into());
    }
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(target.clone());
    }
    let port = target.port_u16().ok_or("URL has no port")?;
    let name = Name::from_str(bare)?;
    let mut resolver = resolver.clone();
    let mut addrs = tower::ServiceExt::oneshot(&mut resolver, name).await?;
    let mut addr = addrs
        .next()
        .ok_or_else(|| format!("no address for {bare}"))?;
    addr.set_port(port);
    let scheme = target.scheme_str().unwrap_or("http");
    Ok(format!("{scheme}://{addr}").parse()?)
}

/// Opens a `CONNECT` tunnel through an HTTP proxy. Only `Host` and the
/// proxy's own `Proxy-Authorization` are sent.
async fn tunnel<IO>(tcp: &mut IO, dst: &Uri, proxy: &Proxy) -> Result<(), ProxyError>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let host = dst.host().unwrap_or_default();
    let target = format!("{host}:{}", dst.port_u16().unwrap_or(443));
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.basic_auth() {
        head.push_str("Proxy-Authorization: ");
        head.push_str(auth.to_str().unwrap_or_default());
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    // Flushed too: over TLS to the proxy, written bytes may wait in the
    // TLS layer.
    let sent = match tcp.write_all(head.as_bytes()).await {
        Ok(()) => tcp.flush().await,
        Err(e) => Err(e),
    };
    sent.map_err(|e| ProxyError::new(proxy, "could not send CONNECT").with_source(e))?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = tcp
            .read(&mut chunk)
            .await
            .map_err(|e| ProxyError::new(proxy, "failed while answering CONNECT").with_source(e))?;
        if n == 0 {
            return Err(ProxyError::new(
                proxy,
                "closed the connection before answering CONNECT",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if buf.len() > 16 * 1024 {
            return Err(ProxyError::new(
                proxy,
                "answered CONNECT with a head over 16 KiB",
            ));
        }
    }
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let status = std::str::from_utf8(line)
        .ok()
        .filter(|l| l.starts_with("HTTP/1."))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| http::StatusCode::from_u16(code).ok());
    match status {
        None => Err(ProxyError::new(
            proxy,
            "answered CONNECT with something that is not HTTP",
        )),
        Some(code) if code.is_success() => Ok(()),
        Some(code) => {
            Err(ProxyError::new(proxy, format!("refused CONNECT to {target}")).with_status(code))
        }
    }
}

impl Connector {
    /// A TCP connector whose resolutions add their time to `dns`.
    fn tcp(&self, dns: &Arc<DnsClock>) -> HttpConnector<Resolver> {
        let mut http = HttpConnector::new_with_resolver(self.resolver.timed(dns.clone()));
        http.enforce_http(false);
        http.set_nodelay(self.nodelay);
        http
    }

    /// Connects to `dst`, through `proxy` if one was chosen; `through` is
    /// set once the proxy has done its part (the tunnel is open, or the
    /// connection to a forward proxy is made).
    async fn connect(
        self,
        dst: Uri,
        proxy: Option<Proxy>,
        through: &mut bool,
    ) -> Result<Conn, BoxError> {
        // The phases are timed for `ConnectionTimings`; the names resolved
        // on the way add their time to `dns`.
        let dns = Arc::new(DnsClock::default());
        let mut http = self.tcp(&dns);
        let started = Instant::now();
        let https = match dst.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            other => return Err(format!("unsupported URL scheme {other:?}").into()),
        };
        let mut forward = false;
        let base = match proxy {
            None => Base::Tcp(
                tower_service::Service::call(&mut http, dst.clone())
                    .await?
                    .into_inner(),
            ),
            Some(proxy) if matches!(proxy.kind, ProxyKind::Http | ProxyKind::Https) => {
                let tcp = tower_service::Service::call(&mut http, proxy.uri.clone())
                    .await
                    .map_err(|e| ProxyError::new(&proxy, "could not connect").with_source(e))?
                    .into_inner();
                let mut base = if proxy.kind == ProxyKind::Https {
                    Base::Tls(Box::new(self.proxy_handshake(&proxy, tcp).await?))
                } else {
                    Base::Tcp(tcp)
                };
                if https {
                    match &mut base {
                        Base::Tcp(tcp) => tunnel(tcp, &dst, &proxy).await?,
                        Base::Tls(tls) => tunnel(tls, &dst, &proxy).await?,
                    }
                } else {
                    forward = true;
                }
                *through = true;
                base
            }
            Some(proxy) => {
                let target = with_port(&dst, https)?;
                // `socks5://` resolves the name here, with this transport's
                // resolver (overrides included, off the async workers), and
                // hands the proxy an address.
                let target = if proxy.kind == ProxyKind::Socks5 {
                    resolved(&self.resolver.timed(dns.clone()), &target)
                        .await
                        .map_err(|e| {
                            ProxyError::new(&proxy, "could not resolve the target").with_source(e)
                        })?
                } else {
                    target
                };
                let mut socks = SocksV5::new(proxy.uri.clone(), http.clone());
                if let Some((user, pass)) = proxy.auth.clone() {
                    socks = socks.with_auth(user, pass);
                }
                let tcp = tower_service::Service::call(&mut socks, target)
                    .await
                    .map_err(|e| {
                        ProxyError::new(&proxy, "SOCKS5 handshake failed")
                            .with_source(e.to_string())
                    })?
                    .into_inner();
                *through = true;
                Base::Tcp(tcp)
            }
        };
        let remote = match &base {
            Base::Tcp(tcp) => tcp.peer_addr().ok(),
            Base::Tls(tls) => tls.get_ref().0.peer_addr().ok(),
        };
        let connected = Instant::now();
        let stream = match (https, base) {
            (false, Base::Tcp(tcp)) => Stream::Tcp(TokioIo::new(tcp)),
            (false, Base::Tls(tls)) => Stream::Tls(TokioIo::new(tls)),
            (true, Base::Tcp(tcp)) => Stream::Tls(TokioIo::new(Box::new(
                self.origin_handshake(&dst, tcp).await?,
            ))),
            (true, Base::Tls(tls)) => Stream::TlsInTls(TokioIo::new(Box::new(
                self.origin_handshake(&dst, *tls).await?,
            ))),
        };
        let mut timings = ConnectionTimings::default();
        timings.dns = dns.total();
        let tcp = connected.saturating_duration_since(started);
        timings.connect = Some(tcp.saturating_sub(timings.dns.unwrap_or_default()));
        timings.tls = https.then(|| connected.elapsed());
        let id = self.counters.opened.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(
            connection.id = id,
            network.peer.address = remote.map(|a| tracing::field::display(a.ip())),
            network.peer.port = remote.map(|a| a.port()),
            dns = timings.dns.map(tracing::field::debug),
            connect = timings.connect.map(tracing::field::debug),
            tls = timings.tls.map(tracing::field::debug),
            "connection opened"
        );
        Ok(Conn {
            io: stream,
            tag: ConnectionTag::new(id, remote).with_timings(timings),
            forward,
            _permit: None,
            _h2: None,
        })
    }

    /// TLS with the origin `dst` over `io` (TCP, or a tunnel through a TLS
    /// proxy).
    async fn origin_handshake<IO>(&self, dst: &Uri, io: IO) -> Result<TlsStream<IO>, BoxError>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let host = self.server_name.as_deref().unwrap_or(bare_host(dst));
        let name = ServerName::try_from(host.to_owned())?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, io)
            .await
            .map_err(|e| errors::tls_failed(host, e))?;
        Ok(tls)
    }

    /// TLS with an `https://` proxy: its certificate is checked as an
    /// origin's would be, and only HTTP/1.1 is offered.
    async fn proxy_handshake(
        &self,
        proxy: &Proxy,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, ProxyError> {
        let config = self.proxy_tls.get_or_init(|| {
            // The origin's roots and verification; not its client
            // certificate, which is the origin's to see, nor its sessions.
            let mut config = ClientConfig::clone(&self.tls);
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            config.client_auth_cert_resolver = Arc::new(NoClientCert);
            config.resumption = rustls::client::Resumption::default();
            Arc::new(config)
        });
        let name = ServerName::try_from(bare_host(&proxy.uri).to_owned())
            .map_err(|e| ProxyError::new(proxy, "has no valid TLS name").with_source(e))?;
        TlsConnector::from(config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| {
                ProxyError::new(proxy, "TLS handshake with the proxy failed")
                    .with_source(errors::tls_failed(bare_host(&proxy.uri), e))
            })
    }

    /// Passes the gates, then connects under the connect timeout.
    async fn gated(self, dst: Uri, timeout: Option<Duration>) -> Result<Conn, BoxError> {
        let key = format!("{}#{dst}", self.profile);
        let gates = self.gates.clone();
        let gate = gates.host(&key);
        let permit = gates.permit(&gate, &dst).await?;
        let gated = self.h2_gate && dst.scheme_str() == Some("https");
        let leader = if gated { gate.h2_turn().await? } else { None };
        let proxy = self.proxies.select(&dst).cloned();
        let mut through = false;
        let connect = self.connect(dst, proxy.clone(), &mut through);
        let mut conn = match timeout {
            None => connect.await?,
            Some(limit) => match tokio::time::timeout(limit, connect).await {
                Ok(result) => result?,
                Err(_) => {
                    let timed_out = TimedOut(TimeoutKind::Connect);
                    return Err(match proxy.filter(|_| !through) {
                        // The proxy had not done its part in time.
                        Some(proxy) => Box::new(
                            ProxyError::new(
                                &proxy,
                                "did not open the way within the connect timeout",
                            )
                            .with_source(timed_out),
                        ),
                        None => Box::new(timed_out),
                    });
                }
            },
        };
        let h2 = conn.is_h2();
        conn._h2 = match leader {
            Some(leader) => leader.finish(h2),
            None if gated && h2 => Some(H2Alive::track(&gate)),
            None => None,
        };
        conn._permit = permit;
        Ok(conn)
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // `HttpConnector` (with our resolver) is always ready; each connect
        // clones it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        // The connect timeout of the request being polled, when it has its
        // own (see `timeout::request_connect_timeout`), else the transport's.
        let timeout = crate::timeout::request_connect_timeout().or(self.timeout);
        Box::pin(self.clone().gated(dst, timeout))
    }
}

/// Offers no client certificate (to a proxy).
#[derive(Debug)]
struct NoClientCert;

impl rustls::client::ResolvesClientCert for NoClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        None
    }

    fn has_certs(&self) -> bool {
        false
    }
}

/// What a connection's origin stream runs over: TCP, or TLS to an
/// `https://` proxy.
enum Base {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A connection's stream: plain TCP, TLS (with the origin, or with an
/// `https://` proxy for a plain-HTTP origin), or TLS with the origin inside
/// TLS with a proxy. Each is wrapped for hyper on its own, so plain TCP
/// reads and writes through the very adapter a bare hyper-util client uses,
/// with no further layer to see through.
pub(crate) enum Stream {
    Tcp(TokioIo<TcpStream>),
    Tls(TokioIo<Box<TlsStream<TcpStream>>>),
    TlsInTls(TokioIo<Box<TlsStream<TlsStream<TcpStream>>>>),
}

/// `$body` with `$io` bound to the stream's hyper adapter, whichever it is.
macro_rules! with_io {
    ($stream:expr, $io:ident => $body:expr) => {
        match $stream {
            Stream::Tcp($io) => $body,
            Stream::Tls($io) => $body,
            Stream::TlsInTls($io) => $body,
        }
    };
}

/// One connection: a TCP or TLS stream, its tag, and what it holds of the
/// gates (released when the connection closes).
pub(crate) struct Conn {
    io: Stream,
    /// Put in `Connected::extra`, so hyper-util copies it into every
    /// response that comes over this connection.
    /// Retired (see `ConnectionTag::retire`), the connection reads as
    /// closed: hyper then closes it instead of reading another response,
    /// and a request already queued for it is handed back unsent, which
    /// hyper-util sends on another connection. (hyper-util's pool gives no
    /// handle to a connection from its response but this shared tag;
    /// dropping the response's body is not enough, as hyper drains a body
    /// already in its buffer and keeps the connection.)
    tag: ConnectionTag,
    /// To an HTTP forward proxy: requests go in absolute form.
    forward: bool,
    _permit: Option<OwnedSemaphorePermit>,
    _h2: Option<H2Alive>,
}

impl Conn {
    fn is_h2(&self) -> bool {
        match &self.io {
            Stream::Tcp(_) => false,
            Stream::Tls(tls) => tls.inner().get_ref().1.alpn_protocol() == Some(b"h2"),
            Stream::TlsInTls(tls) => tls.inner().get_ref().1.alpn_protocol() == Some(b"h2"),
        }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let h2 = self.is_h2();
        let connected = Connected::new().extra(self.tag.clone()).proxy(self.forward);
        if h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl Read for Conn {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.tag.is_retired() {
            // The end of the stream: hyper closes the connection.
            return Poll::Ready(Ok(()));
        }
        with_io!(&mut this.io, io => Pin::new(io).poll_read(cx, buf))
    }
}

impl Write for Conn {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        with_io!(&mut self.get_mut().io, io => Pin::new(io).poll_write(cx, buf))
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_io!(&mut self.get_mut().io, io => Pin::new(io).poll_flush(cx))
    }

    #[inline]
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_io!(&mut self.get_mut().io, io => Pin::new(io).poll_shutdown(cx))
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        with_io!(&mut self.get_mut().io, io => Pin::new(io).poll_write_vectored(cx, bufs))
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        with_io!(&self.io, io => io.is_write_vectored())
    }
}
