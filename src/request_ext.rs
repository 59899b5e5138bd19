//! Per-request transport settings, as requests takes them in each call
//! (`timeout=(connect, read)`, `proxies=`, `verify=`): methods on the
//! request builder, brought in by [`RequestBuilderExt`]. They travel with
//! the request as extensions that the hyper transport reads on every hop
//! (a redirect re-selects its proxy from the same map); another transport
//! ignores them.
//!
//! | requests | here |
//! |---|---|
//! | `timeout=(3.05, 27)` | `.connect_timeout(d)` and `.read_timeout(d)`; `.timeout(d)` is the total |
//! | `proxies={'https': 'http://p:3128', 'https://intranet': None}` | `.proxies(RequestProxies::new().proxy("https", "http://p:3128")?.direct("https://intranet")?)` |
//! | `verify='ca.pem'` | `.tls(RequestTls::new().root_certificates_file("ca.pem")?)` |
//! | `verify=False` | `.tls(RequestTls::new().danger_accept_invalid_certs(true))` |
//! | `cert=('c.pem', 'k.pem')` | `.tls(RequestTls::new().identity(Identity::from_pem(..)?))` |
//!
//! What connections a request shares: a request with only its own
//! timeouts rides the session's pooled connections; one with its own TLS
//! settings or proxies rides only connections made under exactly those, so
//! a connection made with weaker settings (verification off, other roots)
//! never carries a request that asked for stronger ones.
//!
//! ```no_run
//! use std::time::Duration;
//! use http_session::hyper::{RequestProxies, RequestTls};
//! use http_session::RequestBuilderExt as _;
//!
//! # async fn run(session: http_session::Session) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let res = session
//!     .get("https://10.0.0.7/health")
//!     .connect_timeout(Duration::from_secs(3))
//!     .read_timeout(Duration::from_secs(27))
//!     .proxies(RequestProxies::new().direct("https://10.0.0.7")?)
//!     .tls(
//!         RequestTls::new()
//!             .root_certificates_file("internal-ca.pem")?
//!             .server_name("health.internal.test"),
//!     )
//!     .send()
//!     .await?;
//! # let _ = res; Ok(()) }
//! ```

use std::time::Duration;

use session_hyper::{
    Proxy, RequestConnectTimeout, RequestProxies, RequestProxy, RequestReadTimeout, RequestTls,
};

/// Per-request transport settings on a request builder (see the
/// [module docs](self)). Each replaces an earlier call of the same method.
pub trait RequestBuilderExt: Sized + sealed::Sealed {
    /// Bounds connecting (TCP, proxy handshake and TLS together) for this
    /// request, instead of the transport's `connect_timeout`. The request
    /// still takes an idle pooled connection when there is one.
    fn connect_timeout(self, timeout: Duration) -> Self;

    /// Bounds the wait for the response head and between two body reads for
    /// this request, instead of the transport's `read_timeout`.
    fn read_timeout(self, timeout: Duration) -> Self;

    /// Sends every URL of this request (each redirect hop too) through
    /// `proxy`, whatever the session's proxies and `no_proxy` say.
    fn proxy(self, proxy: Proxy) -> Self;

    /// Connects directly for this request, whatever proxies the session or
    /// the environment has.
    fn no_proxy(self) -> Self;

    /// A proxy map for this request, over the session's (see
    /// [`RequestProxies`]); chosen again for every redirect hop.
    fn proxies(self, proxies: RequestProxies) -> Self;

    /// TLS settings for this request: roots (requests' `verify=bundle`),
    /// verification, client certificate, minimum version, server name.
    fn tls(self, tls: RequestTls) -> Self;
}

/// The one implementation, for each request builder.
macro_rules! request_builder_ext {
    ($builder:ty) => {
        impl RequestBuilderExt for $builder {
            fn connect_timeout(self, timeout: Duration) -> Self {
                self.extension(RequestConnectTimeout(timeout))
            }

            fn read_timeout(self, timeout: Duration) -> Self {
                self.extension(RequestReadTimeout(timeout))
            }

            fn proxy(self, proxy: Proxy) -> Self {
                self.extension(RequestProxy::proxy(proxy))
            }

            fn no_proxy(self) -> Self {
                self.extension(RequestProxy::direct())
            }

            fn proxies(self, proxies: RequestProxies) -> Self {
                self.extension(proxies)
            }

            fn tls(self, tls: RequestTls) -> Self {
                self.extension(tls)
            }
        }
    };
}

request_builder_ext!(session_core::RequestBuilder);
#[cfg(feature = "blocking")]
request_builder_ext!(crate::blocking::RequestBuilder);

mod sealed {
    /// Only this crate's request builders take these settings.
    pub trait Sealed {}
    impl Sealed for session_core::RequestBuilder {}
    #[cfg(feature = "blocking")]
    impl Sealed for crate::blocking::RequestBuilder {}
}
