//! `Service<http::Request<B>>` that tries again: urllib3's `Retry` as tower layers.
//!
//! (placeholder; see below)

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod backoff;
pub mod body;
mod budget;
mod config;
pub mod error;
pub mod future;
pub mod history;
mod layer;
pub mod policy;
mod retry_after;
mod service;

pub use backoff::DEFAULT_BACKOFF_MAX;
pub use body::ReplayBody;
pub use budget::RetryBudget;
pub use config::{
    Retry, DEFAULT_ALLOWED_METHODS, DEFAULT_DRAIN_LIMIT, IDEMPOTENCY_KEY, RETRY_AFTER_STATUS_CODES,
};
pub use error::{BoxError, Error, Result};
pub use history::{Attempt, Counter, Outcome, RetryHistory, StopReason};
pub use layer::RetryLayer;
pub use policy::{ErrorKind, Policy};
pub use retry_after::DEFAULT_RETRY_AFTER_MAX;
pub use service::RetryService;
