//! [`CacheLayer`]: wraps services in [`CacheService`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::config::Cache;
use crate::service::{CacheService, Shared};
use crate::store::Store;

/// Puts a cache in front of services: a [`tower::Layer`](tower_layer::Layer)
/// of [`CacheService`]. Every service it makes (and every clone) shares one
/// store and one single-flight table.
///
/// ```
/// use session_cache::{Cache, CacheLayer};
///
/// let layer = CacheLayer::new(Cache::private());
/// # let _ = layer;
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct CacheLayer {
    shared: Arc<Shared>,
}

impl CacheLayer {
    /// A layer with these settings.
    pub fn new(cache: Cache) -> Self {
        CacheLayer {
            shared: Arc::new(Shared::new(cache)),
        }
    }

    /// The store (to clear it, say).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.config.store
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CacheService::from_shared(inner, self.shared.clone())
    }
}

impl fmt::Debug for CacheLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheLayer")
            .field("cache", &self.shared.config)
            .finish()
    }
}
