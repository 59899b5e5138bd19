//! Name resolution with per-host overrides (curl's `--resolve`). Failures
//! are `session_core::error::DnsError`s: the system resolver's error, or an
//! override with no address (a name made not to resolve).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

use session_core::BoxError;

use crate::errors;

/// Resolves through the system (`getaddrinfo`) unless a host has an override.
#[derive(Clone, Debug)]
pub(crate) struct Resolver {
    overrides: Arc<HashMap<String, Vec<SocketAddr>>>,
    system: GaiResolver,
    /// Where the time each resolution took is added, for one connection.
    clock: Option<Arc<DnsClock>>,
}

impl Resolver {
    pub(crate) fn new(overrides: HashMap<String, Vec<SocketAddr>>) -> Self {
        Resolver {
            overrides: Arc::new(overrides),
            system: GaiResolver::new(),
            clock: None,
        }
    }

    /// This resolver, adding the time its resolutions take to `clock`.
    pub(crate) fn timed(&self, clock: Arc<DnsClock>) -> Self {
        Resolver {
            clock: Some(clock),
            ..self.clone()
        }
    }
}

/// The time one connection spent resolving names (`None` until a name was
/// resolved).
#[derive(Debug, Default)]
pub(crate) struct DnsClock(Mutex<Option<Duration>>);

impl DnsClock {
    pub(crate) fn add(&self, spent: Duration) {
        let mut total = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *total = Some(total.unwrap_or_default() + spent);
    }

    pub(crate) fn total(&self) -> Option<Duration> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Addrs = std::vec::IntoIter<SocketAddr>;

impl tower_service::Service<Name> for Resolver {
    type Response = Addrs;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Addrs, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.system.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let start = Instant::now();
        let clock = self.clock.clone();
        if let Some(addrs) = self.overrides.get(&name.as_str().to_ascii_lowercase()) {
            let result = if addrs.is_empty() {
                Err(errors::dns_failed(
                    name.as_str(),
                    "no address (an override)",
                ))
            } else {
                Ok(addrs.clone().into_iter())
            };
            if let Some(clock) = clock {
                clock.add(start.elapsed());
            }
            return Box::pin(std::future::ready(result));
        }
        let lookup = self.system.call(name.clone());
        Box::pin(async move {
            let addrs = lookup.await;
            if let Some(clock) = clock {
                clock.add(start.elapsed());
            }
            let addrs = addrs.map_err(|err| errors::dns_failed(name.as_str(), err))?;
            Ok(addrs.collect::<Vec<_>>().into_iter())
        })
    }
}
