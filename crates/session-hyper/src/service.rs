//! The transport service: [`HyperTransport`], its `Service` and
//! `SharedTransport` impls, and the per-request steps before a request is
//! handed to the pool (read timeout override, `Accept-Encoding`, `Host`,
//! proxy credentials, the client of the request's security profile).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::header::{ACCEPT_ENCODING, PROXY_AUTHORIZATION};

use session_core::{Body, BoxError, SharedTransport};

use crate::client::{Clients, Recipe};
use crate::connect::Counters;
use crate::decompress;
use crate::future::{Limits, ResponseFuture};
use crate::host;
use crate::proxy::{ProxyKind, ProxyRules, RequestProxies, RequestProxy};
use crate::timeout::{RequestConnectTimeout, RequestReadTimeout};
use crate::tls::RequestTls;

/// The most security profiles (per-request TLS or proxy overrides) whose
/// pools are kept; past it the cache starts over.
const MAX_PROFILES: usize = 32;

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
/// settings, its proxy or proxy map. (Its timeouts do not: a request with
/// its own connect or read timeout shares the default pool.)
type ProfileKey = (
    Option<RequestTls>,
    Option<RequestProxy>,
    Option<RequestProxies>,
);

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("connections_opened", &self.connections_opened())
            .finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// A transport over `clients`, the default pool, with no security
    /// profile made yet.
    pub(crate) fn from_parts(
        clients: Clients,
        counters: Arc<Counters>,
        limits: Limits,
        proxies: Arc<ProxyRules>,
        recipe: Recipe,
    ) -> Self {
        HyperTransport {
            shared: Arc::new(Shared {
                clients,
                counters,
                limits,
                proxies,
                recipe,
                profiles: Mutex::new(HashMap::new()),
                next_profile: AtomicU64::new(1),
            }),
        }
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
        map: Option<&RequestProxies>,
    ) -> Result<(Clients, Arc<ProxyRules>), BoxError> {
        let shared = &self.shared;
        // A single proxy for the request wins over its map.
        let map = map.filter(|_| proxy.is_none());
        let key = (tls.cloned(), proxy.cloned(), map.cloned());
        let rules = match (proxy, map) {
            (Some(p), _) => Arc::new(ProxyRules::single(p.0.clone())),
            (None, Some(map)) => Arc::new(ProxyRules::with_request(map, shared.proxies.clone())),
            (None, None) => shared.proxies.clone(),
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
        let clients =
            shared
                .recipe
                .clients(&settings, rules.clone(), shared.counters.clone(), id)?;
        if profiles.len() >= MAX_PROFILES {
            profiles.clear();
        }
        profiles.insert(key, clients.clone());
        Ok((clients, rules))
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
        let sent = tokio::time::Instant::now();
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
        if let Some(RequestConnectTimeout(t)) = ext.get::<RequestConnectTimeout>() {
            limits.connect_timeout = Some(*t);
        }
        let (tls, proxy) = (ext.get::<RequestTls>(), ext.get::<RequestProxy>());
        let map = ext.get::<RequestProxies>();
        let inner = if tls.is_none() && proxy.is_none() && map.is_none() {
            if !self.shared.proxies.is_empty() {
                forward_auth(&self.shared.proxies, &mut req);
            }
            self.shared.clients.pick(plain).request(req)
        } else {
            match self.profile_client(tls, proxy, map) {
                Ok((clients, rules)) => {
                    forward_auth(&rules, &mut req);
                    clients.pick(plain).request(req)
                }
                Err(err) => return ResponseFuture::failed(err, limits, head, sent),
            }
        };
        ResponseFuture::new(inner, limits, head, sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_is_send_sync_clone() {
        fn assert_impls<T: Send + Sync + Clone + 'static>() {}
        assert_impls::<HyperTransport>();
        fn assert_send<T: Send>() {}
        assert_send::<ResponseFuture>();
    }
}
