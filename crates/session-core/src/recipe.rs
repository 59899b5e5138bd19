//! [`Recipe`]: what a request the session prepared was made of, so that it
//! can be made again if its first hop is redirected, instead of a copy of
//! every request kept against that chance.

use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use http::{Method, Version};

use crate::body::Body;
use crate::defaults::Defaults;

/// The request's own headers and the defaults it removed (rarely any).
pub(crate) type OwnHeaders = (HeaderMap, Vec<HeaderName>);

/// The inputs of a prepared request: the defaults snapshot it was merged
/// with, its own headers, method, version and a replayable copy of its body.
/// Its URI is the one the response's URL keeps.
pub(crate) struct Recipe {
    pub(crate) defaults: Arc<Defaults>,
    /// `None` when the request had no headers of its own (the common case).
    pub(crate) own: Option<Box<OwnHeaders>>,
    pub(crate) method: Method,
    pub(crate) version: Version,
    pub(crate) body: Option<Body>,
}

impl Recipe {
    /// The request's own headers and removals, kept only when there are any.
    #[inline]
    pub(crate) fn own_headers(
        headers: &HeaderMap,
        removed: &[HeaderName],
    ) -> Option<Box<OwnHeaders>> {
        (!headers.is_empty() || !removed.is_empty())
            .then(|| Box::new((headers.clone(), removed.to_vec())))
    }

    /// Can the request be made again with its body?
    #[inline]
    pub(crate) fn is_replayable(&self) -> bool {
        self.body.is_some()
    }

    /// The value the prepared request had for a header: its own, else the
    /// default it did not remove (the session's auth is `Authorization`).
    pub(crate) fn header(&self, name: &HeaderName) -> Option<&HeaderValue> {
        let removed: &[HeaderName] = match &self.own {
            None => &[],
            Some(own) => {
                if let Some(value) = own.0.get(name) {
                    return Some(value);
                }
                &own.1
            }
        };
        if removed.contains(name) {
            return None;
        }
        self.defaults.headers.get(name).or_else(|| {
            (name == AUTHORIZATION)
                .then_some(self.defaults.auth.as_ref())
                .flatten()
        })
    }

    /// The request again, to `uri`, headers merged as the first time; its
    /// body is `None` when it was a one-shot stream.
    pub(crate) fn rebuild(self, uri: http::Uri) -> (http::Request<()>, Option<Body>) {
        let (mut headers, removed) = match self.own {
            Some(own) => *own,
            None => (HeaderMap::new(), Vec::new()),
        };
        self.defaults.merge_headers(&mut headers, &removed);
        (head(self.method, uri, self.version, headers), self.body)
    }

    /// The request again for another attempt, keeping the recipe for the
    /// next; `None` when its body was a one-shot stream.
    pub(crate) fn again(&self, uri: http::Uri) -> Option<http::Request<Body>> {
        let body = self.body.as_ref()?.try_clone()?;
        let mut headers = HeaderMap::new();
        match &self.own {
            Some(own) => {
                headers.clone_from(&own.0);
                self.defaults.merge_headers(&mut headers, &own.1);
            }
            None => self.defaults.merge_headers(&mut headers, &[]),
        }
        let head = head(self.method.clone(), uri, self.version, headers);
        Some(head.map(|()| body))
    }
}

fn head(method: Method, uri: http::Uri, version: Version, headers: HeaderMap) -> http::Request<()> {
    let mut req = http::Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.version_mut() = version;
    *req.headers_mut() = headers;
    req
}
