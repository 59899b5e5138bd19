//! [`BudgetLayer`]: wraps services in [`BudgetService`].

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use crate::backend::BudgetBackend;
use crate::config::Budget;
use crate::error::Result;
use crate::service::{BudgetService, Shared};

/// Applies a [`Budget`], kept by a [`BudgetBackend`], to services: a
/// [`tower::Layer`](tower_layer::Layer) of [`BudgetService`]. Clones share
/// the backend: in one process, every layer made from clones of one backend
/// (or one layer) shares the budget; with `RedisBudget`, every process that
/// uses the same Redis server and key prefix does.
///
/// ```
/// use std::time::Duration;
/// use session_budget::{Budget, BudgetLayer, Limits, MemoryBudget};
///
/// let budget = Budget::new().default_limits(Limits::new().rate(5, Duration::from_secs(1), 1));
/// let layer = BudgetLayer::new(budget, MemoryBudget::new())?;
/// # let _ = layer;
/// # Ok::<(), session_budget::Error>(())
/// ```
///
/// See the [crate docs](crate) for more details.
pub struct BudgetLayer<B> {
    shared: Arc<Shared<B>>,
}

impl<B> Clone for BudgetLayer<B> {
    fn clone(&self) -> Self {
        BudgetLayer {
            shared: self.shared.clone(),
        }
    }
}

impl<B: BudgetBackend> BudgetLayer<B> {
    /// A layer for `budget`, kept in `backend`.
    ///
    /// # Errors
    /// A [config](crate::Error::is_config) error for a setting that cannot
    /// work: a rate of zero, a burst or cap of zero, a bad host pattern.
    pub fn new(budget: Budget, backend: B) -> Result<Self> {
        budget.validate()?;
        Ok(BudgetLayer {
            shared: Arc::new(Shared::new(budget, backend)),
        })
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.shared.backend
    }

    /// The budget.
    pub fn budget(&self) -> &Budget {
        &self.shared.budget
    }
}

impl<S, B> Layer<S> for BudgetLayer<B> {
    type Service = BudgetService<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        BudgetService::from_shared(inner, self.shared.clone())
    }
}

impl<B: fmt::Debug> fmt::Debug for BudgetLayer<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetLayer")
            .field("budget", &self.shared.budget)
            .field("backend", &self.shared.backend)
            .finish()
    }
}
