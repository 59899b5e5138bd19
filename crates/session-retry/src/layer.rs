//! [`RetryLayer`]: wraps services in [`RetryService`].

use std::fmt;
use std::sync::Arc;

use session_core::retry::{
    AfterAttempt, AfterFirst, AttemptOutcome as Attempted, AttemptRequest, RequestRetries,
    RetryPolicy,
};
use session_core::BoxTransport;
use tower_layer::Layer;

use crate::config::{Config, Retry};
use crate::error::Result;
use crate::future::Tracker;
use crate::history::{Outcome, RetryHistory};
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

/// A session given the layer as its policy
/// ([`SessionBuilder::retry_policy`](session_core::SessionBuilder::retry_policy))
/// drives the attempts of the requests it sends itself with the same
/// bookkeeping as [`RetryService`], and wraps its other hops in the layer.
impl RetryPolicy for RetryLayer {
    fn layer(&self, inner: BoxTransport) -> Option<BoxTransport> {
        Some(BoxTransport::new(RetryService::from_config(
            inner,
            self.config.clone(),
        )))
    }

    fn on_request(&self, _request: &AttemptRequest<'_>) {
        if let Some(budget) = &self.config.budget {
            budget.deposit();
        }
    }

    fn after_first(&self, request: &AttemptRequest<'_>, outcome: &mut Attempted) -> AfterFirst {
        let config = &self.config;
        if let Ok(res) = outcome {
            if !config.may_retry_status(res.status()) {
                // The common case: answered, and nothing to retry.
                let history = RetryHistory::first(Outcome::Status(res.status()));
                res.extensions_mut().insert(history);
                return AfterFirst::Done;
            }
        }
        let idempotent = config.is_idempotent(request.method(), |name| request.has_header(name));
        let mut tracker = Tracker::new(config.clone(), idempotent);
        match tracker.after_attempt(request, outcome) {
            AfterAttempt::Retry {
                delay, drain_limit, ..
            } => AfterFirst::retry(delay, Box::new(tracker)).drain_limit(drain_limit),
            _ => AfterFirst::Done,
        }
    }
}

impl fmt::Debug for RetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("retry", &self.config)
            .finish()
    }
}
