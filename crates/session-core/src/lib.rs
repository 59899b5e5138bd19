//! `Session`: `requests.Session` over any `tower::Service<http::Request<Body>>`.
//!
//! # Overview
//!
//! This crate is the transport-agnostic core of
//! [http-session](https://docs.rs/http-session): the [`Session`] and its
//! [`SessionBuilder`], the [`RequestBuilder`], [`Response`], [`Body`],
//! [`Error`] and the [`Middleware`](middleware::Middleware) trait. It names no
//! socket and no HTTP implementation: the transport is any tower service over
//! `http` types, so a test swaps it for a [`MockTransport`](mock::MockTransport)
//! in one line, and `mount` picks a transport per URL prefix.
//!
//! Most users depend on the `http-session` facade, whose `Session::new()`
//! wires the hyper transport, the cookie jar and retries.
//!
//! # Example
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::{mock::MockTransport, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let mock = MockTransport::new().route(Method::GET, "/data", |_| (StatusCode::OK, r#"{"ok":true}"#));
//! let session = Session::builder()
//!     .transport(mock)
//!     .user_agent("MyApp/1.0")
//!     .build()?;
//! let data: serde_json::Value = session.get("https://api.test/data").send().await?.json().await?;
//! assert_eq!(data["ok"], true);
//! # Ok(()) }
//! ```
//!
//! # The stack
//!
//! Each request goes down this stack and its response comes back up:
//!
//! ```text
//!  Session::send ── merges defaults (headers, query, auth, timeout) ─ total timeout
//!        │
//!  ┌─────▼──────────────────────────────────┐
//!  │ layers / middleware   (once per request) │  SessionBuilder::layer, ::middleware
//!  ├──────────────────────────────────────────┤
//!  │ redirect layer        (follows 3xx)      │  SessionBuilder::redirect_layer
//!  ├──────────────────────────────────────────┤
//!  │ auth layer            (every hop)        │  SessionBuilder::auth, ::netrc; URL userinfo
//!  ├──────────────────────────────────────────┤
//!  │ hop layers / middleware (every hop)      │  SessionBuilder::hop_layer, ::hop_middleware
//!  │ retry policy (every hop, innermost)      │  SessionBuilder::retry_policy
//!  ├──────────────────────────────────────────┤
//!  │ cookie store (every attempt)             │  SessionBuilder::cookie_store
//!  │ mount router (longest prefix wins)       │  SessionBuilder::transport, ::mount
//!  └─────┬──────────────────────┬─────────────┘
//!     transport A           transport B ...      any tower::Service<http::Request<Body>>
//! ```
//!
//! When nothing is layered above the built-in redirect layer, the session
//! sends a request's first hop through the auth layer itself and keeps what
//! the request was made of (the defaults snapshot, its own headers, a
//! replayable body) rather than a copy of it; only a redirect answer rebuilds
//! the request and continues in the redirect layer. What is sent is the same
//! either way; a request with per-request extensions takes the layered path.
//! When nothing else needs to run between the auth layer and the router (no
//! hop layers, no auth scheme or `.netrc`), that first hop goes straight to
//! the router, and the session adds and stores its cookies itself with the
//! URL it keeps anyway: the same cookies, read and stored at the same points
//! (before a retry or a redirect sends the next request). With a
//! [retry policy](retry), the session then also drives that hop's attempts
//! itself ([when](retry#who-sends-the-attempts)), making each new attempt
//! from the same inputs: the success path copies nothing against a retry.
//!
//! The merge rules for defaults are in one table in [`defaults`].
//!
//! # Features
//!
//! - `json` (default): `RequestBuilder::json` and `Response::json`.
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod auth;
pub mod body;
mod builder;
pub mod cookies;
pub mod defaults;
pub mod error;
pub mod middleware;
pub mod mock;
mod mount;
mod pending;
mod recipe;
pub mod redirect;
mod request;
mod response;
pub mod retry;
mod session;
mod simple_url;
pub mod transport;

pub use body::Body;
pub use builder::{SessionBuilder, DEFAULT_MAX_BODY_SIZE};
pub use defaults::{Defaults, DEFAULT_USER_AGENT};
pub use error::{BoxError, Error, Result};
pub use pending::Pending;
pub use request::{IntoUrl, InvalidUrl, RequestBuilder, ZeroTimeout};
pub use response::{FinalUrl, History, HistoryEntry, Response};
pub use session::{CloseFuture, CloseHook, Session};
pub use transport::{
    BodyService, BoxTransport, ConnectionInfo, ConnectionTag, HttpService, SharedTransport,
};

pub use http;
pub use url::Url;
