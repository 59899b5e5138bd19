//! Making hyper-util's pooled clients: the connector and client settings of
//! one pool configuration, for the default pool and each security profile.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use session_core::{Body, BoxError};

use crate::connect::{Connector, ConnectorParts, Counters};
use crate::dns::Resolver;
use crate::pool::Gates;
use crate::proxy::ProxyRules;
use crate::tls::TlsSettings;

// For doc links.
#[cfg(doc)]
use crate::host;

type HyperClient = Client<Connector, Body>;

/// The hyper-util clients of one pool configuration, over one connector.
/// Plain `http://` requests go to a client that leaves the `Host` header
/// to this transport (see [`host`]); others to one that sets it itself
/// (over TLS, only ALPN tells whether a request goes over HTTP/1, where
/// `Host` is written, or HTTP/2, where it is not). The two never share a
/// connection anyway: a pool key includes the scheme.
#[derive(Clone)]
pub(crate) struct Clients {
    plain: HyperClient,
    other: HyperClient,
}

impl Clients {
    /// `plain` for a request this transport wrote `Host` for (or that needs
    /// none: plain HTTP/2 by prior knowledge), `other` for the rest.
    #[inline]
    pub(crate) fn pick(&self, plain: bool) -> &HyperClient {
        if plain {
            &self.plain
        } else {
            &self.other
        }
    }
}

/// Everything needed to make another client for a security profile.
#[derive(Clone, Debug)]
pub(crate) struct Recipe {
    pub(crate) tls: TlsSettings,
    pub(crate) resolve: HashMap<String, Vec<SocketAddr>>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) pool_idle_timeout: Option<Duration>,
    pub(crate) pool_max_idle_per_host: usize,
    pub(crate) http2_prior_knowledge: bool,
    pub(crate) nodelay: bool,
    pub(crate) max_header_size: usize,
    pub(crate) gates: Arc<Gates>,
}

impl Recipe {
    pub(crate) fn clients(
        &self,
        tls: &TlsSettings,
        proxies: Arc<ProxyRules>,
        counters: Arc<Counters>,
        profile: u64,
    ) -> Result<Clients, BoxError> {
        let config = tls.client_config()?;
        // The connect timeout is applied around TCP, proxy and TLS together
        // (in the connector), so it fails as `TimedOut(TimeoutKind::Connect)`.
        let connector = Connector::new(ConnectorParts {
            resolver: Resolver::new(self.resolve.clone()),
            nodelay: self.nodelay,
            proxy_tls: std::sync::OnceLock::new(),
            tls: config,
            server_name: tls.server_name.clone(),
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
