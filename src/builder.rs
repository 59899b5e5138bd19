//! The facade's [`SessionBuilder`]: the core builder's settings, plus the
//! transport's, wired into the default stack by [`build`](SessionBuilder::build).

use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use session_core::middleware::Middleware;
use session_core::{Body, BoxError, BoxTransport, CloseFuture, Error, Result};

use crate::session::Session;

/// Builds a [`Session`]: every setting of [`session_core::SessionBuilder`]
/// plus the hyper transport's. Setters take and return the builder; a setter
/// that fails keeps its error for [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
///
/// let session = http_session::Session::builder()
///     .user_agent("MyApp/1.0")
///     .bearer_auth("secret")
///     .timeout(Duration::from_secs(5))
///     .connect_timeout(Duration::from_secs(2))
///     .build()
///     .unwrap();
/// # let _ = session;
/// ```
#[must_use]
#[derive(Debug)]
pub struct SessionBuilder {
    core: session_core::SessionBuilder,
    custom_transport: bool,
    #[cfg(feature = "hyper")]
    hyper: session_hyper::HyperTransportBuilder,
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder::new()
    }
}

macro_rules! forward_core {
    ($( $(#[$doc:meta])* fn $name:ident $(<$($g:ident),*>)? ($($arg:ident: $ty:ty),*) $(where [$($w:tt)*])? );* $(;)?) => {
        $(
            $(#[$doc])*
            pub fn $name $(<$($g),*>)? (mut self, $($arg: $ty),*) -> Self $(where $($w)*)? {
                self.core = self.core.$name($($arg),*);
                self
            }
        )*
    };
}

#[cfg(feature = "hyper")]
macro_rules! forward_hyper {
    ($( $(#[$doc:meta])* fn $name:ident ($($arg:ident: $ty:ty),*) );* $(;)?) => {
        $(
            $(#[$doc])*
            #[doc = ""]
            #[doc = "A transport setting: it has no effect when `transport` replaces the hyper transport."]
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                self.hyper = self.hyper.$name($($arg),*);
                self
            }
        )*
    };
}

impl SessionBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        SessionBuilder {
            core: session_core::SessionBuilder::new(),
            custom_transport: false,
            #[cfg(feature = "hyper")]
            hyper: session_hyper::HyperTransport::builder(),
        }
    }

    forward_core! {
        /// Adds a default header (see [`session_core::defaults`] for the merge rules).
        fn header<K, V>(name: K, value: V)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
            HeaderValue: TryFrom<V>,
            <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
        ];
        /// Adds default headers.
        fn headers(headers: HeaderMap);
        /// Sets the default `User-Agent`.
        fn user_agent<V>(value: V)
        where [
            HeaderValue: TryFrom<V>,
            <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
        ];
        /// Adds default query parameters.
        fn query<T>(query: &T) where [T: serde::Serialize + ?Sized];
        /// HTTP Basic auth on every request.
        fn basic_auth(username: &str, password: Option<&str>);
        /// Bearer auth on every request.
        fn bearer_auth(token: &str);
        /// A default timeout per request, body included.
        fn timeout(timeout: Duration);
        /// The base URL for relative request URLs.
        fn base_url(base: &str);
        /// The most bytes `bytes`, `text` and `json` read into memory.
        fn max_body_size(bytes: usize);
        /// Adds a middleware that runs once per logical request.
        fn middleware<M>(middleware: M) where [M: Middleware];
        /// Adds a middleware that runs for every redirect hop.
        fn hop_middleware<M>(middleware: M) where [M: Middleware];
        /// Runs `hook` when the session is closed.
        fn on_close<F>(hook: F) where [F: Fn() -> CloseFuture + Send + Sync + 'static];
        /// An auth scheme (Digest or your own) for every request (see [`session_core::auth`]).
        fn auth<A>(scheme: A) where [A: session_core::auth::Auth];
        /// HTTP Digest auth (RFC 7616) on every request.
        fn digest_auth(username: &str, password: &str);
        /// Reads credentials by host from `$NETRC`, else `~/.netrc`.
        fn netrc();
        /// Reads credentials by host from this `.netrc` file.
        fn netrc_path<P>(path: P) where [P: AsRef<std::path::Path>];
        /// The most redirects a request follows (default 30; see [`session_core::redirect`]).
        fn max_redirects(max: usize);
        /// Returns redirect responses instead of following them.
        fn no_redirects();
        /// Decides which redirects are followed, and may edit each next request.
        fn redirect_policy<P>(policy: P)
        where [P: session_core::redirect::Policy + Clone + Send + Sync + 'static];
        /// Refuses `http://` URLs: the first request and every redirect target.
        fn https_only(https_only: bool);
        /// Treats a header as a credential, removed when a redirect changes origin.
        fn sensitive_header<K>(name: K)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        ];
    }

    /// Adds a tower layer that runs once per logical request (see the stack
    /// in [`session_core`]).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower_service::Service<http::Request<Body>>>::Error: Into<BoxError>,
        <L::Service as tower_service::Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.core = self.core.layer(layer);
        self
    }

    /// Adds a tower layer that runs for every redirect hop.
    pub fn hop_layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower_service::Service<http::Request<Body>>>::Error: Into<BoxError>,
        <L::Service as tower_service::Service<http::Request<Body>>>::Future: Send + 'static,
    {
        self.core = self.core.hop_layer(layer);
        self
    }

    /// Replaces the hyper transport for `http://` and `https://` (with a
    /// [`MockTransport`](session_core::mock::MockTransport) in tests, say).
    pub fn transport<S>(mut self, transport: S) -> Self
    where
        S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
    {
        self.custom_transport = true;
        self.core = self.core.transport(transport);
        self
    }

    /// Mounts a transport for URLs starting with `prefix` (longest prefix
    /// wins; see [`session_core::SessionBuilder::mount`]).
    pub fn mount<S>(mut self, prefix: &str, transport: S) -> Self
    where
        S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
    {
        self.core = self.core.mount(prefix, transport);
        self
    }

    #[cfg(feature = "hyper")]
    forward_hyper! {
        /// Sends `host` to `addr` instead of resolving it (curl's `--resolve`).
        fn resolve(host: &str, addr: std::net::SocketAddr);
        /// Limits how long connecting (TCP and TLS) may take.
        fn connect_timeout(timeout: Duration);
        /// How long an idle pooled connection is kept (`None`: forever).
        fn pool_idle_timeout(timeout: Option<Duration>);
        /// The most idle connections kept per host.
        fn pool_max_idle_per_host(max: usize);
        /// Speaks HTTP/2 without negotiation, also over plain TCP (`h2c`).
        fn http2_prior_knowledge();
        /// Never negotiates HTTP/2.
        fn http1_only();
        /// Trusts the bundled Mozilla roots (default: on).
        fn tls_built_in_roots(enabled: bool);
        /// Trusts the certificates of a PEM bundle as extra roots.
        fn add_root_certificate_pem(pem: &[u8]);
        /// Presents a client certificate (mTLS): PEM chain and PEM key.
        fn identity_pem(cert_chain: &[u8], key: &[u8]);
        /// Accepts TLS 1.3 only.
        fn tls_min_version_1_3();
        /// **Dangerous**: accepts any server certificate. Tests only.
        fn danger_accept_invalid_certs(accept: bool);
    }

    /// Builds the session.
    ///
    /// # Errors
    /// The first setter that failed.
    pub fn build(self) -> Result<Session> {
        let mut core = self.core;
        #[cfg(feature = "hyper")]
        let transport = if self.custom_transport {
            None
        } else {
            let transport = self.hyper.build().map_err(Error::builder)?;
            core = core.transport(transport.clone());
            Some(transport)
        };
        let _ = self.custom_transport;
        Ok(Session {
            core: core.build()?,
            #[cfg(feature = "hyper")]
            transport,
        })
    }
}
