//! [`RedirectLayer`]: a tower layer that wraps a service in [`FollowRedirect`].

use std::sync::Arc;

use http::header::HeaderName;

use super::policy::Standard;
use super::service::{Config, FollowRedirect};

/// Follows redirects with requests' rules; see the [module docs](super).
///
/// ```
/// use session_core::redirect::RedirectLayer;
///
/// let layer = RedirectLayer::new()
///     .max_redirects(5)
///     .https_only(true)
///     .sensitive_header(http::HeaderName::from_static("x-api-key"));
/// # let _ = layer;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RedirectLayer<P = Standard> {
    policy: P,
    config: Arc<Config>,
}

impl RedirectLayer {
    /// Follows up to 30 redirects with the [`Standard`] policy.
    pub fn new() -> Self {
        RedirectLayer::with_policy(Standard)
    }
}

impl Default for RedirectLayer {
    fn default() -> Self {
        RedirectLayer::new()
    }
}

impl<P> RedirectLayer<P> {
    /// Follows redirects as this policy decides.
    pub fn with_policy(policy: P) -> Self {
        RedirectLayer {
            policy,
            config: Arc::new(Config::default()),
        }
    }

    /// Replaces the policy, keeping the settings.
    pub fn policy<Q>(self, policy: Q) -> RedirectLayer<Q> {
        RedirectLayer {
            policy,
            config: self.config,
        }
    }

    /// The most redirects one request follows (default 30); one more is an
    /// error that carries the history. A request can override it.
    pub fn max_redirects(mut self, max: usize) -> Self {
        Arc::make_mut(&mut self.config).max = max;
        self
    }

    /// The most bytes of response heads a redirect chain keeps in its history
    /// (default [`DEFAULT_MAX_HISTORY_BYTES`](super::DEFAULT_MAX_HISTORY_BYTES));
    /// past it the chain fails with [`HistoryTooLarge`](super::HistoryTooLarge).
    pub fn max_history_bytes(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.config).max_history_bytes = bytes;
        self
    }

    /// Whether redirects are followed (default: yes). When not, the 3xx is
    /// returned with its `next_request()`. A request can override it.
    pub fn follow(mut self, follow: bool) -> Self {
        Arc::make_mut(&mut self.config).follow = follow;
        self
    }

    /// Refuses every `http://` URL, first request and redirect targets alike.
    pub fn https_only(mut self, https_only: bool) -> Self {
        Arc::make_mut(&mut self.config).https_only = https_only;
        self
    }

    /// Treats a header as a credential: it is removed when a redirect
    /// changes origin, as `Authorization` is.
    pub fn sensitive_header(mut self, name: HeaderName) -> Self {
        let config = Arc::make_mut(&mut self.config);
        if !config.sensitive.contains(&name) {
            config.sensitive.push(name);
        }
        self
    }
}

impl<S, P: Clone> tower_layer::Layer<S> for RedirectLayer<P> {
    type Service = FollowRedirect<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        FollowRedirect::from_parts(inner, self.policy.clone(), self.config.clone())
    }
}
