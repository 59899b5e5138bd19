//! What a request asks of the cache ([`CacheControl`], [`CachePartition`])
//! and what the cache tells of a response ([`CacheStatus`]).

use std::sync::Arc;

/// Per-request control, set as a request extension
/// (`request.extensions_mut().insert(CacheControl::Refresh)`).
///
/// The request's own `Cache-Control` header is honoured too: `no-cache`
/// (revalidate), `max-age`, `min-fresh`, `max-stale`, `only-if-cached`,
/// `no-store` (nothing stored) and `stale-if-error`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheControl {
    /// Revalidate with the origin even when the stored response is fresh: a
    /// conditional request when it has validators, else a full one
    /// (requests-cache's `refresh=True`).
    Refresh,
    /// Ignore what is stored: fetch from the origin and store the answer
    /// (requests-cache's `force_refresh=True`).
    Reload,
    /// Never contact the origin: a fresh stored response, or `504 Gateway
    /// Timeout` (RFC 9111 §5.2.1.7; requests-cache's `only_if_cached=True`).
    OnlyIfCached,
}

/// Where a response came from: an extension on every response the layer
/// returns (`response.extensions().get::<CacheStatus>()`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// From the cache, fresh; the origin was not contacted.
    Hit,
    /// From the origin (and stored, when it may be).
    Miss,
    /// From the cache after the origin answered `304 Not Modified` to a
    /// conditional request; the `304`'s headers were merged into it.
    Revalidated,
    /// From the cache although stale: the origin failed (`stale-if-error`)
    /// or is being asked in the background (`stale-while-revalidate`).
    Stale,
}

impl CacheStatus {
    /// Whether the body came from the cache (every status but `Miss`).
    pub fn from_cache(self) -> bool {
        !matches!(self, CacheStatus::Miss)
    }
}

/// A partition of the cache, set as a request extension: requests with
/// different partitions never share an entry (the partition is part of the
/// key). A shared cache serving several tenants whose answers must never
/// cross sets one per tenant; RFC 9111 alone lets a shared cache serve a
/// `public` answer to anyone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CachePartition(pub Arc<str>);

impl CachePartition {
    /// A partition named `name`.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        CachePartition(name.into())
    }
}
