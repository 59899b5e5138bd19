//! Name resolution with per-host overrides (curl's `--resolve`).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};

use session_core::BoxError;

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
            let addrs = addrs.clone();
            return Box::pin(async move { Ok(addrs.into_iter()) });
        }
        let lookup = self.system.call(name);
        Box::pin(async move {
            let addrs = lookup.await?;
            Ok(addrs.collect::<Vec<_>>().into_iter())
        })
    }
}
