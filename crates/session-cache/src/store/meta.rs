//! [`Meta`]: the head of a stored entry.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use http_cache_semantics::CachePolicy;
use serde::{Deserialize, Serialize};

use super::{BoxError, VariantKey};

/// The first byte of [`Meta::encode`]'s output: the format's version.
const FORMAT: u8 = 1;

/// The head of a stored entry: the response's status and headers, the RFC
/// 9111 policy that judges it (`http-cache-semantics`), and when it stops
/// being fresh and stops being of use.
///
/// A store treats it as opaque bytes ([`encode`](Self::encode),
/// [`decode`](Self::decode)) and reads only [`variant`](Self::variant),
/// [`expires_at`](Self::expires_at) / [`ttl`](Self::ttl) and
/// [`size`](Self::size). It holds no credential: the request headers it
/// keeps (to match `Vary`) carry `Authorization`, `Proxy-Authorization` and
/// `Cookie` only as SHA-256 digests.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub(crate) variant: VariantKey,
    pub(crate) url: String,
    #[serde(with = "http_serde::status_code")]
    pub(crate) status: StatusCode,
    #[serde(with = "http_serde::header_map")]
    pub(crate) headers: HeaderMap,
    pub(crate) policy: CachePolicy,
    pub(crate) stored_at: SystemTime,
    /// Fresh until then (from the headers, or an expiry rule).
    pub(crate) fresh_until: SystemTime,
    /// Of no more use from then: the store's TTL.
    pub(crate) expires_at: SystemTime,
    /// `stale-if-error` / `stale-while-revalidate` of the response, seconds.
    pub(crate) stale_if_error: Option<u64>,
    pub(crate) stale_while_revalidate: Option<u64>,
    /// The response forbids serving it stale (`must-revalidate`,
    /// `no-cache`; in a shared cache also `proxy-revalidate`, `s-maxage`).
    pub(crate) no_stale: bool,
    /// Freshness comes from an expiry rule, not from the headers.
    pub(crate) overridden: bool,
}

impl Meta {
    /// A head for a `GET url` answered with `status` and `headers`, stored
    /// at `stored_at` and kept until `expires_at` (its freshness ends then
    /// too). The layer builds its own; this is for testing a store.
    pub fn new(
        url: &str,
        variant: VariantKey,
        status: StatusCode,
        headers: HeaderMap,
        stored_at: SystemTime,
        expires_at: SystemTime,
    ) -> Meta {
        let mut req = http::Request::new(());
        if let Ok(uri) = url.parse() {
            *req.uri_mut() = uri;
        }
        let mut res = http::Response::new(());
        *res.status_mut() = status;
        *res.headers_mut() = headers.clone();
        let policy = CachePolicy::new_options(&req, &res, stored_at, Default::default());
        Meta {
            variant,
            url: url.to_owned(),
            status,
            headers,
            policy,
            stored_at,
            fresh_until: expires_at,
            expires_at,
            stale_if_error: None,
            stale_while_revalidate: None,
            no_stale: false,
            overridden: true,
        }
    }

    /// Which variant of its key the entry is.
    pub fn variant(&self) -> VariantKey {
        self.variant
    }

    /// The request URL it answers (query parameters the cache ignores left
    /// out).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers as stored.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// When it was stored (or last revalidated).
    pub fn stored_at(&self) -> SystemTime {
        self.stored_at
    }

    /// Until when it is fresh.
    pub fn fresh_until(&self) -> SystemTime {
        self.fresh_until
    }

    /// When the entry is of no more use: a store must not return it after
    /// this, and frees it then or soon after.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The time left until [`expires_at`](Self::expires_at), at least one
    /// second (a Redis TTL).
    pub fn ttl(&self, now: SystemTime) -> Duration {
        self.expires_at
            .duration_since(now)
            .unwrap_or_default()
            .max(Duration::from_secs(1))
    }

    /// Whether the entry is still of use at `now`.
    pub fn is_live(&self, now: SystemTime) -> bool {
        now < self.expires_at
    }

    /// An estimate of the head's size in bytes, for a store's accounting.
    pub fn size(&self) -> u64 {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        // The policy keeps the request's and the response's headers again.
        (2 * headers + self.url.len() + 512) as u64
    }

    /// The head as bytes, for a store that keeps bytes: a version byte, then
    /// JSON.
    ///
    /// # Errors
    /// When the head cannot be serialized (it always can).
    pub fn encode(&self) -> Result<Vec<u8>, BoxError> {
        let mut out = vec![FORMAT];
        serde_json::to_writer(&mut out, self)?;
        Ok(out)
    }

    /// A head from [`encode`](Self::encode)'s bytes.
    ///
    /// # Errors
    /// Bytes of another format or version, or not a head.
    pub fn decode(bytes: &[u8]) -> Result<Meta, BoxError> {
        match bytes.split_first() {
            Some((&FORMAT, json)) => Ok(serde_json::from_slice(json)?),
            _ => Err("not a cache entry head of a known format".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        headers.insert("etag", "\"x\"".parse().unwrap());
        let meta = Meta::new(
            "http://a.test/x",
            VariantKey::NONE,
            StatusCode::OK,
            headers,
            now,
            now + Duration::from_secs(60),
        );
        let back = Meta::decode(&meta.encode().unwrap()).unwrap();
        assert_eq!(back.url(), "http://a.test/x");
        assert_eq!(back.headers()["etag"], "\"x\"");
        assert_eq!(back.expires_at(), meta.expires_at());
        assert!(Meta::decode(b"\x02{}").is_err());
        assert!(Meta::decode(b"").is_err());
    }
}
