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
//! Every request goes down one stack of tower services, built once by
//! [`SessionBuilder::build`] and erased once; its response comes back up:
//!
//! ```text
//!  Session::request ─ RequestBuilder::send: merge defaults (headers, query, auth, timeout)
//!   └ Pending                  the total timeout; the answer becomes a Response
//!     └ [outer layers]         SessionBuilder::layer, ::middleware (boxed, only when any)
//!       └ FollowRedirect       follows 3xx, history, strips credentials across origins
//!         └ AuthService        signs each hop (Basic, Bearer, Digest, netrc, URL userinfo)
//!           └ [hop layers]     SessionBuilder::hop_layer, ::hop_middleware (boxed, only when any)
//!             └ router layers  SessionBuilder::router_layer (concrete types): the
//!                              facade's retries, then its cookie jar, every attempt
//!               └ Router       mounts, longest prefix wins
//!                 └ transports any tower::Service<http::Request<Body>>
//! ```
//!
//! A layer with nothing to do answers with a branch: the redirect service
//! returns a response that is not a redirect as it is, the auth service
//! passes a request with no credentials to find through. Nothing goes
//! around a layer.
//!
//! The merge rules for defaults are in one table in [`defaults`].
//!
//! # Tracing
//!
//! Each request is a `tracing` span, each redirect hop and each retry
//! attempt one inside it, with the OpenTelemetry HTTP client fields
//! (`http.request.method`, `url.full` with credentials redacted,
//! `http.response.status_code`, ...); a transport adds what it knows of its
//! connections, and the phases' timings on
//! [`ConnectionInfo::timings`](transport::ConnectionInfo::timings). With no
//! subscriber, a span costs a level check. See [`trace`] for the spans,
//! fields and events.
//!
//! # Features
//!
//! - `json` (default): `RequestBuilder::json` and `Response::json`.
//! - `multipart` (default): `multipart/form-data` bodies ([`multipart::Form`],
//!   `RequestBuilder::multipart`), with file parts read in chunks and content
//!   types guessed from the file name (`mime_guess`).
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod auth;
pub mod body;
mod builder;
pub mod defaults;
pub mod error;
mod hops;
pub mod middleware;
pub mod mock;
mod mount;
#[cfg(feature = "multipart")]
#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
pub mod multipart;
mod pending;
pub mod progress;
pub mod redirect;
pub mod replay;
mod request;
mod response;
mod session;
mod target;
pub mod trace;
pub mod transport;

pub use body::Body;
pub use builder::{SessionBuilder, DEFAULT_MAX_BODY_SIZE};
pub use defaults::{Defaults, DEFAULT_USER_AGENT};
pub use error::{BoxError, Error, Result};
pub use mount::Router;
pub use pending::Pending;
pub use request::{IntoUrl, InvalidUrl, RequestBuilder, ZeroTimeout};
pub use response::{FinalUrl, History, HistoryEntry, Response};
pub use session::{CloseFuture, CloseHook, Session};
pub use transport::{
    BodyService, BoxTransport, ConnectionInfo, ConnectionTag, ConnectionTimings, HttpService,
    OrBoxed, SharedTransport,
};

pub use http;
pub use url::Url;
