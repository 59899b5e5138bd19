//! [`RetryLayer`]: wraps services in [`RetryService`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::config::{Config, Retry};
use crate::error::Result;
use crate::service::RetryService;

/// Applies a [`Retry`] configuration to services: a
/// [`tower::Layer`](tower_layer::Layer) of [`RetryService`]. Clones share
/// the configuration (and its budget).
///
/// ```
/// use session_retry::{Retry, RetryLayer};
///
/// let layer = RetryLayer::new(Retry::new().total(3).backoff_factor(0.1).status_forcelist([503]))?;
/// # let _ = layer;
/// # Ok::<(), session_retry::Error>(())
/// ```
///
/// See the [crate docs](crate) for more details.
#[derive(Clone)]
pub struct RetryLayer {
    config: Arc<Config>,
}

impl RetryLayer {
    /// A layer for these settings.
    ///
    /// # Errors
    /// A builder [`Error`](crate::Error) for a bad setting (see
    /// [`Retry::validate`]).
    pub fn new(retry: Retry) -> Result<Self> {
        Ok(RetryLayer {
            config: Arc::new(retry.into_config()?),
        })
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService::from_config(inner, self.config.clone())
    }
}

impl fmt::Debug for RetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("retry", &self.config)
            .finish()
    }
}
