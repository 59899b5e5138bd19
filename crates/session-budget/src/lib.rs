//! `Service<http::Request<B>>` that waits its turn: a per-host politeness
//! budget (rate and concurrency), for one process or shared by a fleet
//! through Redis.
//!
//! # Overview
//!
//! A crawler or an API client run by many workers must stay within what
//! each host allows, counted for all workers together. This crate is that
//! budget as a tower layer:
//!
//! - [`Budget`] says what each host may receive: [`Limits`] per host or
//!   host pattern (`api.example.com`, `*.example.com`) and a default. A
//!   [`Limits`] is a rate (`rate(n, per, burst)`, a GCRA), a concurrency cap
//!   (`max_concurrent(k)`) and the TTL of a concurrency lease.
//! - A [`BudgetBackend`] keeps the budgets: [`MemoryBudget`] for one
//!   process, `RedisBudget` (feature `redis`) for every process sharing a
//!   Redis server, with one atomic Lua script per operation that reads the
//!   clock from Redis, not from the workers.
//! - [`BudgetLayer`] makes [`BudgetService`]s, whose future is
//!   [`future::ResponseFuture`].
//!
//! # The rules
//!
//! - A request is counted against its host: the URI's scheme, host and
//!   port (`https://api.example.com:443`). Hosts that no limit applies to
//!   pass through with no call to the backend.
//! - Before each request the service asks the backend; the answer is "go"
//!   or "wait this long". A rate wait is exact (the time until the request
//!   is due), so workers sleep exactly that long and ask again; a full
//!   concurrency cap is asked again after a short poll (20 ms by default),
//!   or when the earliest lease expires if that is sooner.
//! - A lease of the cap is held **until the response head arrives** (not
//!   until the body is read: the layer leaves the body type alone, and a
//!   response whose body is never read cannot hold a slot). A request that
//!   is dropped while it waits for its head hands its lease back from a
//!   task of its own; a worker that dies leaves its lease to expire after
//!   [`Limits::lease_ttl`].
//! - A `429 Too Many Requests` or `503 Service Unavailable` with a
//!   `Retry-After` (read as session-retry reads it, capped by
//!   [`Budget::retry_after_max`]) pauses the host for everyone sharing the
//!   backend; a `429` without one pauses it for [`Budget::pause_on_429`]
//!   (1 s). After a pause the rate starts with an empty burst.
//! - Sleeps use `tokio::time`, so tests can pause tokio's clock.
//!
//! Put the layer where each request that reaches the network is counted:
//! below a retry layer (each attempt consumes budget) and below a cache (a
//! hit costs none). The `http-session` facade's `SessionBuilder::budget`
//! does that.
//!
//! # Example
//!
//! With one process's budget:
//!
//! ```
//! use std::time::Duration;
//! use session_budget::{Budget, BudgetLayer, Limits, MemoryBudget};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), session_budget::BoxError> {
//! # let transport = service_fn(|_req: http::Request<String>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//! let budget = Budget::new().default_limits(Limits::new().rate(5, Duration::from_secs(1), 1));
//! let service = BudgetLayer::new(budget, MemoryBudget::new())?.layer(transport);
//!
//! let start = tokio::time::Instant::now();
//! for _ in 0..10 {
//!     let req = http::Request::get("https://example.com/").body(String::new())?;
//!     service.clone().oneshot(req).await?;
//! }
//! assert!(start.elapsed() >= Duration::from_millis(1800)); // one every 200 ms
//! # Ok(()) }
//! ```
//!
//! Customised, and shared by every worker through Redis:
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn main() -> Result<(), session_budget::Error> {
//! use std::time::Duration;
//! use session_budget::{Budget, BudgetLayer, Limits, RedisBudget};
//!
//! let budget = Budget::new()
//!     .default_limits(Limits::new().rate(2, Duration::from_secs(1), 1).max_concurrent(2))
//!     .host("api.example.com", Limits::new().rate(20, Duration::from_secs(1), 5).max_concurrent(8))
//!     .host("*.static.example.com", Limits::new().max_concurrent(16).lease_ttl(Duration::from_secs(120)));
//! let backend = RedisBudget::builder("redis://10.0.0.5:6379/")
//!     .fallback_share(8) // while Redis is down, each of 8 workers keeps 1/8 of every limit
//!     .build()?;
//! let layer = BudgetLayer::new(budget, backend)?;
//! # let _ = layer; Ok(()) }
//! # #[cfg(not(feature = "redis"))]
//! # fn main() {}
//! ```
//!
//! # Faults
//!
//! `RedisBudget` treats a Redis that refuses, times out (slow) or restarts
//! as down: with a `tracing` warning it either falls back to a local
//! budget of a configured share of every limit (never the full limit in
//! every process) or fails requests to limited hosts with an [`Error`]
//! ([`Error::is_unavailable`]), as its builder was told; it tries Redis
//! again after a second and returns to the shared budget when it answers.
//! See `RedisBudget`.
//!
//! # Features
//!
//! - `redis` (off by default): `RedisBudget`, over the `redis` crate's
//!   tokio connection.
//!
//! The crate depends on session-retry without its default feature, for its
//! `Retry-After` reader only.
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod backend;
mod config;
mod error;
pub mod future;
mod layer;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod service;

pub use backend::{Backend, BudgetBackend, Decision, Lease};
pub use config::{
    Budget, Limits, Rate, DEFAULT_CONCURRENCY_POLL, DEFAULT_LEASE_TTL, DEFAULT_PAUSE_ON_429,
};
pub use error::{BoxError, Error, Result};
pub use layer::BudgetLayer;
pub use memory::MemoryBudget;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisBudget, RedisBudgetBuilder, DEFAULT_KEY_PREFIX};
pub use service::BudgetService;
