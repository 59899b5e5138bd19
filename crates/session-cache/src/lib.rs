//! `Service<http::Request<B>>` that answers from a cache: an RFC 9111 HTTP
//! cache as a tower layer.
//!
//! # Overview
//!
//! Python users put requests-cache (or CacheControl) on a session:
//!
//! ```python
//! session = requests_cache.CachedSession('demo', backend='sqlite', expire_after=300)
//! ```
//!
//! This crate is that cache for any tower service over `http` types (a
//! session-core transport stack, a plain `hyper_util` client):
//!
//! - [`CacheLayer`] puts a [`Cache`] (the settings) in front of a service,
//!   making a [`CacheService`] whose future is [`future::ResponseFuture`]
//!   and whose response body is [`CacheBody`].
//! - The RFC 9111 judgements (storable or not, fresh or stale, heuristic
//!   freshness, `Vary`, `no-store`, `private`, `Authorization`, revalidation
//!   and the merge of a `304`) are `http-cache-semantics`'; this crate adds
//!   RFC 5861 (`stale-if-error`, `stale-while-revalidate`), the storage, and
//!   what requests-cache users expect.
//! - Every response carries a [`CacheStatus`] in its extensions: `Hit`,
//!   `Miss`, `Revalidated` (a `304` merged into the stored response) or
//!   `Stale`.
//! - Storage is behind one trait, [`store::Store`]: [`store::MemoryStore`]
//!   (the default, bounded in bytes, LRU), [`store::SqliteStore`] (feature
//!   `sqlite`) and, in its own crate, Redis.
//!
//! # The rules
//!
//! | what | how |
//! |---|---|
//! | methods | `GET` and `HEAD`; `POST` when [`Cache::methods`] says so, keyed by its body's bytes (a streamed body is not cached) |
//! | key | the exact bytes of a length-prefixed form of the method, the URL (scheme and host lowercase) without [`Cache::ignored_parameters`], the `POST` body's SHA-256 and the [`CachePartition`]: keys cannot collide; SQLite and Redis name entries by its SHA-256 |
//! | variants | a response with `Vary` is stored as one variant of its key, keyed by the values of the headers it names; variants coexist (up to [`store::MAX_VARIANTS`]); `Vary: *` is not stored |
//! | freshness | as the headers say (`max-age`, `s-maxage` in a shared cache, `Expires`, heuristics from `Last-Modified`), or an [`Expiry`] override per URL pattern ([`Cache::expire_urls`]); an override never extends `must-revalidate` or `no-cache` |
//! | revalidation | a stale entry with an `ETag` or `Last-Modified` is revalidated with `If-None-Match` / `If-Modified-Since`; a `304`'s headers are merged into it and it is served as `Revalidated` |
//! | stale on error | a connection error or a `500`/`502`/`503`/`504` is answered with the stale entry within its `stale-if-error` (response or request) or [`Cache::stale_if_error`]; never a `404` or `403` (they are answers), never past `must-revalidate`, `no-cache` (or, shared, `proxy-revalidate`, `s-maxage`) |
//! | stale while revalidating | within `stale-while-revalidate` (or [`Cache::stale_while_revalidate`]) the stale entry is served at once and revalidated in the background |
//! | per request | [`CacheControl::Refresh`] (revalidate), [`CacheControl::Reload`] (fetch and store), [`CacheControl::OnlyIfCached`] (`504` when nothing fresh is stored), as request extensions; the request's `Cache-Control` is honoured |
//! | conditional requests | a request with its own `If-None-Match`, `If-Modified-Since`, `If-Match`, `If-Unmodified-Since`, `If-Range` or `Range` passes through untouched |
//! | unsafe methods | a successful `POST`, `PUT`, `PATCH` or `DELETE` removes the URL's `GET` and `HEAD` entries (RFC 9111 §4.4) |
//! | single-flight | concurrent misses for one key make one origin request; the others wait for it and read the stored entry (or, when it was not storable, go to the origin themselves) |
//! | streaming | a response streams to the caller while it is written to the store, chunk by chunk; it is committed when the body ends, and dropped if the body fails, is dropped early or grows past [`Cache::max_entry_size`] (it still streams to the caller); a stored body is read chunk by chunk |
//! | faults | the cache fails open: a store error is a miss (or an answer not stored), with a `tracing` warning |
//!
//! # Private and shared
//!
//! [`Mode::Private`] (the default) is a cache for one user, as a session
//! is: responses marked `private` and answers to requests with credentials
//! are stored. [`Mode::Shared`] serves several identities and follows RFC
//! 9111 §3.5: no `private` response, no answer to a request with
//! `Authorization` unless `public`, `s-maxage` or `must-revalidate` allows
//! it, no answer to a request with cookies unless `public` or `s-maxage`,
//! no response with `Set-Cookie` unless `public`, and then the entry is
//! stored without its `Set-Cookie`: a cached `Set-Cookie` is never replayed
//! to another identity. In both modes an entry holds no credential: the
//! request headers it keeps to match `Vary` carry `Authorization`,
//! `Proxy-Authorization` and `Cookie` as SHA-256 digests only. Requests
//! that must never share an entry (tenants) carry a [`CachePartition`].
//!
//! # Example
//!
//! With the defaults (a private cache in memory, `GET` and `HEAD`, the
//! headers' freshness):
//!
//! ```
//! use session_cache::{Cache, CacheLayer, CacheStatus};
//! use tower::{service_fn, Layer, Service, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_cache::BoxError> {
//! let origin = service_fn(|_req: http::Request<String>| async {
//!     let res = http::Response::builder()
//!         .header("cache-control", "max-age=60")
//!         .body(String::from("hello"))?;
//!     Ok::<_, http::Error>(res)
//! });
//! let mut service = CacheLayer::new(Cache::private()).layer(origin);
//!
//! let req = || http::Request::get("http://api.test/data").body(String::new()).unwrap();
//! let first = service.ready().await?.call(req()).await?;
//! assert_eq!(first.extensions().get::<CacheStatus>(), Some(&CacheStatus::Miss));
//! # use http_body_util::BodyExt;
//! first.into_body().collect().await?; // stored as it streams; committed at its end
//! let second = service.ready().await?.call(req()).await?;
//! assert_eq!(second.extensions().get::<CacheStatus>(), Some(&CacheStatus::Hit));
//! # Ok(()) }
//! ```
//!
//! Customised as requests-cache users do:
//!
//! ```
//! use std::time::Duration;
//! use http::Method;
//! use session_cache::{Cache, CacheLayer, Expiry};
//! use session_cache::store::MemoryStore;
//!
//! let cache = Cache::private()
//!     .store(MemoryStore::new(128 * 1024 * 1024))       // bytes, LRU
//!     .methods([Method::GET, Method::HEAD, Method::POST])  // POST keyed by body
//!     .ignored_parameters(["api_key"])
//!     .expire_urls("api.example.com/static/*", Expiry::Never)
//!     .expire_urls("api.example.com/feed", Expiry::After(Duration::from_secs(60)))
//!     .stale_if_error(Duration::from_secs(600));
//! let layer = CacheLayer::new(cache);
//! # let _ = layer;
//! ```
//!
//! # In a session
//!
//! In an `http-session` `Session` (`SessionBuilder::cache(Cache::private())`)
//! the layer sits below the redirect layer, so each hop of a redirect chain
//! is cached on its own (a `301` too), and above the retry layer, so a hit
//! makes no attempt at all: `FollowRedirect → Auth → cache → retries →
//! cookies → transport`. The cookie jar is below the cache, so a cached
//! response's `Set-Cookie` is **not** applied to the jar again when it is
//! served: the jar stored it when the response first arrived, and replaying
//! it later would resurrect cookies the server has since changed or
//! expired. The jar's `Cookie` header is not on the request when the cache
//! sees it, so the facade tells the cache what the jar will add
//! ([`Cache::request_cookies`]): `Vary: Cookie` and the shared-cache rules
//! see it.
//!
//! # Features
//!
//! - `session-core` (on by default): [`CacheKeyBody`] for
//!   `session_core::Body` and `From<CacheBody<session_core::Body>>` for
//!   `session_core::Body`.
//! - `sqlite` (on by default): [`store::SqliteStore`], linking the system's
//!   SQLite (Debian's `libsqlite3-dev`).
//! - `bundled`: builds SQLite from its C source instead (slower to build).
//!
//! A tokio runtime is needed: entries are written by a spawned task.
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod body;
mod config;
mod control;
mod flight;
mod flow;
pub mod future;
mod key;
mod layer;
mod service;
pub mod store;

pub use body::{CacheBody, CacheKeyBody};
pub use config::{Cache, CookieSource, Expiry, Mode, DEFAULT_KEEP_STALE, DEFAULT_MAX_ENTRY_SIZE};
pub use control::{CacheControl, CachePartition, CacheStatus};
pub use layer::CacheLayer;
pub use service::CacheService;
pub use store::BoxError;
