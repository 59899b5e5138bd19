//! `Service<http::Request<B>>` that tries again: urllib3's `Retry` as tower layers.
//!
//! # Overview
//!
//! Python's requests mounts retries on a session with urllib3's `Retry`:
//!
//! ```python
//! retries = Retry(total=3, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504])
//! session.mount('https://', HTTPAdapter(max_retries=retries))
//! ```
//!
//! This crate is that `Retry` for any tower service over `http` types (a
//! session-core transport, a plain `hyper_util` client, anything serving
//! `http::Request<B>`):
//!
//! - [`Retry`] is the configuration, with urllib3's names and defaults: the
//!   counters `total`, `connect`, `read`, `status` and `other`,
//!   `status_forcelist`, `allowed_methods`, `backoff_factor`, `backoff_max`,
//!   `backoff_jitter`, `respect_retry_after`, `retry_after_max` and
//!   `raise_on_status`; plus full jitter, a shared [`RetryBudget`], and
//!   a [`Policy`] hook that classifies errors.
//! - [`RetryLayer`] is its tower layer, and [`RetryService`] the service it
//!   makes, whose future is [`future::ResponseFuture`]. (The names follow
//!   tower's `retry` module, except that `Retry` is the configuration, so
//!   that `.retry(Retry::new().total(3))` reads as in urllib3; the service
//!   is therefore `RetryService`.)
//! - Every response carries a [`RetryHistory`] in its extensions: each
//!   attempt's status or error and the time slept before it, and why the
//!   retries stopped. The final [`Error`] carries it too.
//!
//! # The rules
//!
//! | what happened | counted as | retried for |
//! |---|---|---|
//! | an error before the request reached the server ([`ErrorKind::Connect`]: a refused connection or, with the `session-core` feature, `session_core::error::Connect` in the error's chain) | `connect` | every method |
//! | an error after it may have reached the server ([`ErrorKind::Read`]: reset, closed, timed out) | `read` | allowed methods |
//! | another error ([`ErrorKind::Other`]) | `other` | allowed methods |
//! | a status in `status_forcelist`, or 413/429/503 with `Retry-After` | `status` | allowed methods |
//!
//! - Allowed methods default to HEAD, GET, PUT, DELETE, OPTIONS and TRACE
//!   ([`DEFAULT_ALLOWED_METHODS`]). A request with an `Idempotency-Key`
//!   header is retried whatever its method, as Go's `net/http` does.
//! - Each retry takes one from `total` and one from its own counter; when
//!   either runs out the retries stop. `total(0)` means no retries.
//! - Sleeps: none before the first retry, then `backoff_factor * 2^(n-1)`
//!   (0, 0.2, 0.4, 0.8 s, ... for a factor of 0.1), plus jitter, capped by
//!   `backoff_max` (120 s). A `Retry-After` in seconds or as an HTTP date
//!   replaces the backoff, capped by `retry_after_max` (6 h); a value that
//!   does not parse (`-5`, `abc`) or is zero falls back to the backoff.
//! - When the status retries run out, `raise_on_status(true)` (the default)
//!   returns an [`Error`] with the last status and the history; `false`
//!   returns the last response as it is.
//! - Bodies are resent byte for byte when they are replayable
//!   ([`ReplayBody`]); a one-shot stream is sent once, and the history says
//!   [`StopReason::BodyNotReplayable`]. A retried response's body is read
//!   (up to 64 KiB, else dropped) before the next attempt, so its connection
//!   goes back to the pool.
//! - Sleeps use `tokio::time::sleep`, so tests can pause tokio's clock.
//!
//! # Example
//!
//! With the defaults (urllib3's: up to 10 retries of connect and read
//! errors, no status retried but 413/429/503 with `Retry-After`, no sleep):
//!
//! ```
//! use session_retry::{Retry, RetryLayer, RetryHistory};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_retry::BoxError> {
//! # let transport = service_fn(|_req: http::Request<String>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
//! # });
//! let service = RetryLayer::new(Retry::new())?.layer(transport);
//! let res = service.oneshot(http::Request::new(String::new())).await?;
//! assert_eq!(res.extensions().get::<RetryHistory>().unwrap().len(), 1);
//! # Ok(()) }
//! ```
//!
//! Customised as in the requests guide, over a flaky transport that answers
//! 503 twice (with session-core's `Body`, which needs the `session-core`
//! feature):
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//! use http::StatusCode;
//! use session_retry::{Retry, RetryHistory, RetryLayer};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[cfg(feature = "session-core")]
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), session_retry::BoxError> {
//! # let hits = Arc::new(AtomicUsize::new(0));
//! # let transport = service_fn(move |_req: http::Request<session_core::Body>| {
//! #     let n = hits.fetch_add(1, Ordering::SeqCst);
//! #     async move {
//! #         let mut res = http::Response::new(session_core::Body::empty());
//! #         if n < 2 { *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE; }
//! #         Ok::<_, std::convert::Infallible>(res)
//! #     }
//! # });
//! let retry = Retry::new()
//!     .total(3)
//!     .backoff_factor(0.1)
//!     .status_forcelist([500, 502, 503, 504]);
//! let service = RetryLayer::new(retry)?.layer(transport);
//!
//! let res = service.oneshot(http::Request::new(session_core::Body::empty())).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! let history = res.extensions().get::<RetryHistory>().unwrap();
//! assert_eq!(history.len(), 3);
//! assert_eq!(history.sleeps(), [Duration::ZERO, Duration::from_millis(200)]);
//! # Ok(()) }
//! # #[cfg(not(feature = "session-core"))]
//! # fn main() {}
//! ```
//!
//! In a session-core `Session`, the layer goes around the mount router
//! (`SessionBuilder::router_layer(RetryLayer::new(retry)?)`, which the
//! `http-session` facade's `.retry(retry)` does): the one retry loop of the
//! session, run for every hop of a redirect chain, just above the cookie
//! jar so that each attempt is sent the cookies known when it starts. It
//! also works as a per-hop layer
//! (`SessionBuilder::hop_layer(RetryLayer::new(retry)?)`), or around one
//! transport for a mount
//! (`SessionBuilder::mount("https://", RetryService::new(transport, retry)?)`).
//! On the success path it costs a copy of the request's head, kept for a
//! retry, only when the configuration can retry at all.
//! A plain hyper-util client classifies its errors through a [`Policy`]; see
//! [`policy`].
//!
//! # Tracing
//!
//! Each attempt is a `tracing` span named `attempt` (level `DEBUG`), made
//! inside whatever span is current when the request is sent (in a session,
//! the redirect hop's). Its fields follow the OpenTelemetry HTTP client
//! conventions: `http.request.resend_count` (0 for the first attempt),
//! `http.response.status_code`, `error.type` (the status code of a `4xx` or
//! `5xx`, or the [`ErrorKind`]), and on an attempt that is retried,
//! `retry.reason` (`status`, or the error's kind) and `retry.delay_ms`, the
//! sleep before the next attempt. The events `retrying`, `retrying after
//! error` and `not retrying` tell the same story as lines. With no
//! subscriber listening, a span costs a check of its level.
//!
//! # Features
//!
//! - `session-core` (on by default): depends on session-core, for
//!   [`ReplayBody`] on `session_core::Body` and for the classification of
//!   its errors (`session_core::error::Connect` and `error::TimedOut`, and
//!   `session_core::Error`'s connect, timeout, builder, redirect and decode
//!   errors) by [`policy::Standard`], [`Error::is_connect`] and
//!   [`Error::is_timeout`].
//!
//! Without it (`default-features = false`), the layer serves any
//! `http::Request<B>` whose body is [`ReplayBody`] (`Full<Bytes>`,
//! `Empty<Bytes>`, `String`, `Bytes`, `Vec<u8>`, `()` or your own), as for a
//! bare hyper-util client, and errors are classified by their io error kinds
//! and tokio's `Elapsed` (plus your [`Policy`]). [`BoxError`] and
//! [`DEFAULT_DRAIN_LIMIT`] are the same with or without the feature.
//!
//! The crate always depends on tower's `retry` budget, tokio's timer and
//! `httpdate`.
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

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
pub use retry_after::{parse_retry_after, DEFAULT_RETRY_AFTER_MAX};
pub use service::RetryService;
