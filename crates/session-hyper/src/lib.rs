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
//! It also says how long the connection's phases took when it was made
//! (name resolution, connect, TLS handshake) and the response's time to
//! first byte, as Go's `httptrace` does: see
//! [`ConnectionTimings`](session_core::ConnectionTimings).
//!
//! With a `tracing` subscriber listening at `DEBUG`, the transport tells
//! what happens to connections: `connection opened` (with the phases),
//! `connection reused`, and `pool wait` / `pool wait over` when a request
//! waits for one of a host's capped connections
//! ([`pool_max_connections_per_host`](HyperTransportBuilder::pool_max_connections_per_host)).
//! In a session these events happen inside the request's spans; see
//! `session_core::trace`.
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
//!   chain, so `is_timeout()` is true and `timeout_kind()` says which. The total deadline is the session's
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
//! # Framing and limits
//!
//! hyper frames an HTTP/1.1 response body by `Transfer-Encoding`, then
//! `Content-Length`, then the close; this transport adds the rules of
//! RFC 9112 (6.3, 7) that hyper leaves to a client. A response whose
//! `Transfer-Encoding` comes with a `Content-Length` (ambiguous: the two
//! would frame the body differently), applies `chunked` more than once, or
//! lists a coding after `chunked`, is refused: the request fails with a
//! [`FramingError`], and the connection it came over is closed, never
//! reused (a request already queued for it goes out on another one). A
//! response that frames no body (to `HEAD`, 1xx, 204, 304) is not checked.
//! With [`max_response_body_size`](HyperTransportBuilder::max_response_body_size),
//! a `Content-Length` over the limit is refused as soon as the head
//! arrives, with the [`LimitExceeded`] that reading past the limit gives,
//! when that length describes the body as delivered: no `Content-Encoding`,
//! decompression off, or a coding this transport does not decode. A body
//! to be decoded is counted as it is read, on the wire and decoded
//! ([`max_decompressed_size`](HyperTransportBuilder::max_decompressed_size)).
//! A response without `Transfer-Encoding` whose length is within the limit
//! costs one pass over its header names and a branch per rule.
//!
//! # Errors
//!
//! Every failure reaches the caller as session-core's leaf errors in the
//! chain of causes, so a `session_core::Error` answers for it without a
//! downcast into hyper, h2 or rustls:
//!
//! | failure | in the chain | the `Error` answers |
//! |---|---|---|
//! | a name does not resolve (the system resolver, or [`resolve_to_addrs`](HyperTransportBuilder::resolve_to_addrs) with no address) | `DnsError` | `is_dns()`, `is_connect()` |
//! | a refused or failed TCP connection | `Connect` (hyper-util's error, the io error) | `is_connect()` |
//! | a TLS handshake (with the server or an `https://` proxy) | `TlsError`, rustls's error as its cause | `is_tls()`, `certificate_problem()`, `is_connect()` |
//! | a proxy: refused, `CONNECT` not 2xx, broken tunnel, SOCKS5, its TLS, no tunnel within the connect timeout | [`ProxyError`] | `is_proxy()`, `is_connect()` |
//! | connect, read, pool wait timeouts | [`TimedOut`] | `is_timeout()`, `timeout_kind()` (connect and pool wait: `is_connect()` too) |
//! | an HTTP/1.1 response head, a body or a decompressed body over its limit, too many codings | [`LimitExceeded`] (session-core's `TooLarge`) | `is_too_large()` |
//! | a body whose content coding does not decode | `ContentDecodingError` | `is_decode()` |
//! | an HTTP/2 stream the server refused | `NotSent` | (retried as a connect error) |
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

mod builder;
mod client;
mod connect;
mod decompress;
mod dns;
mod errors;
mod framing;
mod future;
mod host;
mod pool;
pub mod proxy;
mod service;
mod timeout;
mod tls;

pub use builder::{
    HyperTransportBuilder, DEFAULT_MAX_DECOMPRESSED_SIZE, DEFAULT_MAX_RESPONSE_HEADER_SIZE,
    DEFAULT_POOL_IDLE_TIMEOUT,
};
pub use decompress::MAX_CODINGS;
pub use framing::FramingError;
pub use future::ResponseFuture;
pub use proxy::{InvalidProxy, Proxy, ProxyError, RequestProxies, RequestProxy};
pub use service::HyperTransport;
pub use timeout::{LimitExceeded, RequestConnectTimeout, RequestReadTimeout};
pub use tls::{Identity, RequestTls, TlsVersion};

// For the crate docs' links.
#[cfg(doc)]
use session_core::error::TimedOut;
