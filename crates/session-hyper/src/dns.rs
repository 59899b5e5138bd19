//! Name resolution with per-host overrides (curl's `--resolve`). Failures
//! are `session_core::error::DnsError`s: the system resolver's error, or an
//! override with no address (a name made not to resolve).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

use session_core::BoxError;

use crate::errors;

/// Resolves through the system (`getaddrinfo`) unless a host has an override.
#[derive(Clone, Debug)]
pub(crate) struct Resolver {
    overrides: Arc<HashMap<String, Vec<SocketAddr>>>,
    system: GaiResolver,
}

impl Resolver {
    pub(crate) fn new(overrides: HashMap<String, Vec<SocketAddr>>) -> Self {
        Resolver {
            overrides: Arc::new(overrides),
            system: GaiResolver::new(),
        }
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
        if let Some(addrs) = self.overrides.get(&name.as_str().to_ascii_lowercase()) {
            let result = if addrs.is_empty() {
                Err(errors::dns_failed(
                    name.as_str(),
                    "no address (an override)",
                ))
            } else {
                Ok(addrs.clone().into_iter())
            };
            return Box::pin(std::future::ready(result));
        }
        let lookup = self.system.call(name.clone());
        Box::pin(async move {
            let addrs = lookup
                .await
                .map_err(|err| errors::dns_failed(name.as_str(), err))?;
            Ok(addrs.collect::<Vec<_>>().into_iter())
        })
    }
}
