//! `requests.Session` for Rust: cookies, pooled connections, defaults,
//! retries and redirects, over hyper and tower.
//!
//! # Overview
//!
//! A [`Session`] keeps state and settings across many requests: cookies the
//! server sets are sent back, TCP and TLS connections are pooled and reused,
//! and defaults (headers, query params, auth, timeout) apply to every request
//! unless the request overrides them. It is `Clone + Send + Sync`: one session
//! serves any number of tasks, and every clone shares everything.
//!
//! This crate is a facade over layered crates, each usable alone:
//!
//! | crate | what it holds | feature |
//! |---|---|---|
//! | [`core`] (`session-core`) | `Session`, builders, `Body`, `Error`, middleware, mock transport | always |
//! | [`hyper`] (`session-hyper`) | the pooled hyper + rustls transport | `hyper` |
//! | [`cookies`] (`session-cookies`) | the RFC 6265bis cookie jar, persistence, a tower layer | `cookies` |
//! | [`retry`] (`session-retry`) | urllib3's `Retry` as tower layers | `retry` |
//! | [`budget`] (`session-budget`) | a per-host rate and concurrency budget, local or shared through Redis | `budget` |
//! | [`cache`] (`session-cache`) | an RFC 9111 HTTP cache as a tower layer: memory and SQLite stores | `cache` |
//!
//! For code that is not async, [`blocking`] has the same session with
//! blocking calls (feature `blocking`).
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> Result<(), http_session::Error> {
//! let session = http_session::Session::builder()
//!     .user_agent("MyApp/1.0")
//!     .build()?;
//! let data: serde_json::Value = session.get("https://api.example.com/data").send().await?.json().await?;
//! session.post("https://api.example.com/submit").form(&[("key", "value")]).send().await?;
//! session.close().await?;
//! # let _ = data; Ok(()) }
//! ```
//!
//! # Tracing
//!
//! Each request is a `tracing` span (`request`, level `INFO`), each
//! redirect hop (`hop`) and retry attempt (`attempt`) a span inside it, with
//! the OpenTelemetry HTTP client fields (`http.request.method`, `url.full`
//! with credentials redacted, `http.response.status_code`,
//! `network.protocol.version`, `http.request.resend_count`, `error.type`);
//! the transport adds `connection opened`, `connection reused` and
//! `pool wait` events. Each response also tells how its connection was made
//! and how long its first byte took ([`ConnectionTimings`], through
//! `Response::connection()`). See [`trace`] for the whole list.
//!
//! # Features
//!
//! - `full` (default): everything below but the Redis-backed features
//!   (`redis`, `budget-redis`, `cache-redis`), which pull in the `redis`
//!   crate; `fleet` turns on `full` and all three.
//! - `hyper`: the hyper transport, and `Session::new()` / `Session::builder()` wired with it.
//! - `cookies`: a cookie jar in every session (`Session::cookies`), on by default.
//! - `redis`: `SessionBuilder::redis_cookie_jar`, one cookie jar in Redis shared by many
//!   processes (`cookies::RedisJar`).
//! - `retry`: `SessionBuilder::retry`, and the retry layers for mounts.
//! - `budget`: `SessionBuilder::budget`, a per-host politeness budget
//!   (rate and concurrency) below the retries; `budget-redis` (not in
//!   `full`) adds its Redis backend, shared by a fleet.
//! - `cache`: `SessionBuilder::cache`, an HTTP cache below the redirects and
//!   above the retries (see [`cache`]); `cache-redis` adds its Redis store.
//! - `multipart`: `multipart/form-data` bodies ([`multipart::Form`],
//!   `RequestBuilder::multipart`), file parts read in chunks.
//! - `blocking`: [`blocking::Session`], the same session for code that is not
//!   async, driven by a runtime on a background thread.
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

#[cfg(feature = "blocking")]
pub mod blocking;
mod builder;
#[cfg(feature = "hyper")]
pub mod oneoff;
#[cfg(feature = "hyper")]
pub mod request_ext;
mod session;
#[cfg(feature = "cookies")]
pub mod state;
#[cfg(feature = "hyper")]
mod unbuilt;

#[cfg(feature = "hyper")]
pub use oneoff::{delete, get, head, options, patch, post, put, request};
#[cfg(feature = "hyper")]
pub use request_ext::RequestBuilderExt;

pub use builder::SessionBuilder;
pub use session::Session;

pub use session_core::http;
pub use session_core::{
    auth, body, defaults, error, middleware, mock, progress, redirect, trace, transport, Body,
    BoxError, ConnectionInfo, ConnectionTimings, Defaults, Error, History, HistoryEntry, IntoUrl,
    RequestBuilder, Response, Result, Url,
};

/// `multipart/form-data` bodies: `Form` and `Part` (`session_core::multipart`).
#[cfg(feature = "multipart")]
#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
pub use session_core::multipart;

/// The transport-agnostic core (`session-core`).
pub use session_core as core;

/// The hyper transport (`session-hyper`).
#[cfg(feature = "hyper")]
pub use session_hyper as hyper;

/// The cookie jar (`session-cookies`).
#[cfg(feature = "cookies")]
pub use session_cookies as cookies;

/// Retries and backoff (`session-retry`).
#[cfg(feature = "retry")]
pub use session_retry as retry;

/// The per-host politeness budget (`session-budget`).
#[cfg(feature = "budget")]
#[cfg_attr(docsrs, doc(cfg(feature = "budget")))]
pub use session_budget as budget;
/// The HTTP cache (`session-cache`).
#[cfg(feature = "cache")]
pub use session_cache as cache;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctests {}
