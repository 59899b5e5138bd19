//! [`Router`]: the innermost service of a session, which sends each request
//! to the transport mounted for its URL.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::body::Body;
use crate::error::{BoxError, Error, NoTransport};
use crate::transport::{BoxTransport, HttpService, OrBoxed};

/// Transports by URL prefix: case-insensitive, longest prefix wins, equal
/// lengths in insertion order (requests' `Session.mount`). A request whose
/// URL matches no mount fails with a builder error.
///
/// The session's transport (`SessionBuilder::transport`, mounted on
/// `http://` and `https://`) is kept as its own type `T` and called without
/// a box; the other mounts are erased. The router is ready when that
/// transport is.
///
/// It is the innermost service of every session's stack, and the service a
/// [`SessionBuilder::router_layer`](crate::SessionBuilder::router_layer)
/// wraps. Cloning it clones the transport and a reference count.
#[derive(Clone)]
pub struct Router<T = BoxTransport> {
    routes: Arc<Routes>,
    transport: Option<T>,
}

/// Where a mount sends.
enum Mounted {
    /// The session's transport.
    Transport,
    /// Another transport, erased.
    Erased(BoxTransport),
}

struct Routes {
    mounts: Box<[(Prefix, Mounted)]>,
    /// When every prefix is a bare scheme, the mount an `http` and an
    /// `https` URI go to (in [`STANDARD`]'s order), found once (see
    /// [`Router::route`]).
    by_scheme: Option<[Option<usize>; 2]>,
}

impl<T> fmt::Debug for Router<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("mounts", &self.routes.mounts.len())
            .finish()
    }
}

/// The schemes `http::Uri` parses into its standard variants, with a URI of
/// each: bare scheme prefixes route those by the scheme alone.
const STANDARD: [(http::uri::Scheme, &str); 2] = [
    (http::uri::Scheme::HTTP, "http://h/"),
    (http::uri::Scheme::HTTPS, "https://h/"),
];

/// A mount's prefix, lowercase.
enum Prefix {
    /// Only a scheme and `://` (the `http://` and `https://` every session
    /// has): compared with the URI's scheme alone, without looking at the
    /// rest of the URI; first as parsed (an enum compare for `http` and
    /// `https`), then as text.
    Scheme(http::uri::Scheme, String),
    /// Anything longer, compared piece by piece.
    Text(String),
}

impl Prefix {
    fn new(prefix: String) -> Self {
        let scheme = prefix
            .strip_suffix("://")
            .filter(|s| !s.is_empty() && !s.contains([':', '/']))
            .and_then(|s| Some((s.parse().ok()?, s.to_owned())));
        match scheme {
            Some((parsed, text)) => Prefix::Scheme(parsed, text),
            None => Prefix::Text(prefix),
        }
    }

    fn matches(&self, uri: &http::Uri) -> bool {
        match self {
            // A URI built from parts keeps its scheme as written: `HTTP` is
            // not `Scheme::HTTP`, hence the text compare.
            Prefix::Scheme(parsed, text) => uri
                .scheme()
                .is_some_and(|s| s == parsed || s.as_str().eq_ignore_ascii_case(text)),
            Prefix::Text(prefix) => starts_with(&pieces(uri), prefix),
        }
    }
}

impl<T> Router<T> {
    /// `mounts` in insertion order, after `transport`'s own `http://` and
    /// `https://`; a later mount of the same prefix replaces the earlier
    /// one.
    pub(crate) fn new(transport: Option<T>, mounts: Vec<(String, BoxTransport)>) -> Self {
        let own = transport
            .is_some()
            .then(|| ["http://", "https://"].map(|p| (p.to_owned(), Mounted::Transport)));
        let mut unique: Vec<(String, Mounted)> = Vec::with_capacity(mounts.len() + 2);
        let all = own
            .into_iter()
            .flatten()
            .chain(mounts.into_iter().map(|(p, t)| (p, Mounted::Erased(t))));
        for (prefix, mounted) in all {
            let prefix = prefix.to_ascii_lowercase();
            match unique.iter_mut().find(|(p, _)| *p == prefix) {
                Some(slot) => slot.1 = mounted,
                None => unique.push((prefix, mounted)),
            }
        }
        // A stable sort keeps insertion order among equal lengths.
        unique.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        let mounts: Box<[(Prefix, Mounted)]> = unique
            .into_iter()
            .map(|(prefix, mounted)| (Prefix::new(prefix), mounted))
            .collect();
        let by_scheme = mounts
            .iter()
            .all(|(prefix, _)| matches!(prefix, Prefix::Scheme(..)))
            .then(|| {
                STANDARD.map(|(_, example)| {
                    let uri = http::Uri::from_static(example);
                    mounts.iter().position(|(p, _)| p.matches(&uri))
                })
            });
        // A transport both of whose prefixes were mounted over is not kept:
        // the router's readiness is then no longer its.
        let routed = mounts
            .iter()
            .any(|(_, mounted)| matches!(mounted, Mounted::Transport));
        Router {
            routes: Arc::new(Routes { mounts, by_scheme }),
            transport: transport.filter(|_| routed),
        }
    }

    #[cfg(test)]
    fn route(&self, uri: &http::Uri) -> Option<&Mounted> {
        self.routes.route(uri)
    }

    #[cfg(test)]
    fn route_by_prefix(&self, uri: &http::Uri) -> Option<&Mounted> {
        self.routes.route_by_prefix(uri)
    }
}

impl Routes {
    /// The first mount, longest first, whose prefix the URI starts with.
    /// Bare scheme prefixes (a session's usual `http://` and `https://`)
    /// make that a function of the scheme, so a URI whose scheme was parsed
    /// as `http` or `https` takes the mount found for it in `new`.
    #[inline]
    fn route(&self, uri: &http::Uri) -> Option<&Mounted> {
        if let (Some(by_scheme), Some(scheme)) = (&self.by_scheme, uri.scheme()) {
            if let Some(slot) = STANDARD.iter().position(|(s, _)| s == scheme) {
                return by_scheme[slot].map(|i| &self.mounts[i].1);
            }
        }
        self.route_by_prefix(uri)
    }

    fn route_by_prefix(&self, uri: &http::Uri) -> Option<&Mounted> {
        self.mounts
            .iter()
            .find(|(prefix, _)| prefix.matches(uri))
            .map(|(_, mounted)| mounted)
    }
}

impl<T: HttpService> tower_service::Service<http::Request<Body>> for Router<T> {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = OrBoxed<T::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Erased mounts are driven to readiness inside their calls.
        match &mut self.transport {
            Some(transport) => transport.poll_ready(cx).map_err(Into::into),
            None => Poll::Ready(Ok(())),
        }
    }

    #[inline]
    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The routes and the transport are borrowed apart.
        let Router { routes, transport } = self;
        match routes.route(req.uri()) {
            Some(Mounted::Transport) => match transport {
                Some(transport) => OrBoxed::inline(transport.call(req)),
                None => unreachable!("only a router with a transport mounts it"),
            },
            Some(Mounted::Erased(erased)) => OrBoxed::boxed(erased.send(req)),
            None => {
                let err = no_transport(req.uri());
                OrBoxed::boxed(Box::pin(std::future::ready(Err(err))))
            }
        }
    }
}

/// The URI as the pieces a prefix is matched against, in order.
fn pieces(uri: &http::Uri) -> [&str; 4] {
    [
        uri.scheme_str().unwrap_or(""),
        "://",
        uri.authority().map_or("", |a| a.as_str()),
        uri.path_and_query().map_or("", |p| p.as_str()),
    ]
}

#[cfg(test)]
fn uri_starts_with(uri: &http::Uri, prefix: &str) -> bool {
    starts_with(&pieces(uri), prefix)
}

/// Does the URI, as `pieces`, start with `prefix` (lowercase),
/// ignoring ASCII case? Compares piece by piece, without formatting the URI.
fn starts_with(pieces: &[&str; 4], prefix: &str) -> bool {
    let mut rest = prefix.as_bytes();
    for piece in pieces {
        if rest.is_empty() {
            return true;
        }
        let n = piece.len().min(rest.len());
        if !piece.as_bytes()[..n].eq_ignore_ascii_case(&rest[..n]) {
            return false;
        }
        rest = &rest[n..];
    }
    rest.is_empty()
}

fn no_transport(uri: &http::Uri) -> BoxError {
    let url = uri.to_string();
    let mut err = Error::builder(NoTransport { url: url.clone() });
    if let Ok(parsed) = url::Url::parse(&url) {
        err = err.with_url(parsed);
    }
    Box::new(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_match_is_case_insensitive_and_piecewise() {
        let uri: http::Uri = "HTTPS://Api.Example.test/V1/x?q=1".parse().unwrap();
        assert!(uri_starts_with(&uri, "https://"));
        assert!(uri_starts_with(&uri, "https://api.example.test/v1"));
        assert!(uri_starts_with(&uri, "https://api.example.test/v1/x?q=1"));
        assert!(!uri_starts_with(&uri, "https://api.example.test/v2"));
        assert!(!uri_starts_with(&uri, "http://"));
        assert!(!uri_starts_with(&uri, "https://api.example.test/v1/x?q=12"));
    }

    /// A URI whose scheme is kept as written, `HTTP`, not as `Scheme::HTTP`.
    fn upper_case_http() -> http::Uri {
        http::Uri::builder()
            .scheme("HTTP")
            .authority("h.test")
            .path_and_query("/")
            .build()
            .unwrap()
    }

    #[test]
    fn routing_by_scheme_agrees_with_the_prefixes() {
        let mock = || BoxTransport::new(crate::mock::MockTransport::new());
        type Plain = Router<BoxTransport>;
        let routers = [
            Plain::new(
                None,
                vec![("https://".into(), mock()), ("http://".into(), mock())],
            ),
            Plain::new(
                None,
                vec![("HTTP://".into(), mock()), ("unix://".into(), mock())],
            ),
            Plain::new(None, vec![("https://".into(), mock())]),
            Plain::new(
                None,
                vec![("http://".into(), mock()), ("http://a.test".into(), mock())],
            ),
            // The session's own transport, with a longer mount over it.
            Plain::new(Some(mock()), vec![("http://a.test".into(), mock())]),
        ];
        assert!(routers[..3].iter().all(|r| r.routes.by_scheme.is_some()));
        assert!(routers[3].routes.by_scheme.is_none());
        assert!(routers[4].routes.by_scheme.is_none());
        let upper = upper_case_http();
        let uris = [
            "http://a.test/x".parse().unwrap(),
            "HTTPS://b.test/".parse().unwrap(),
            "unix://s/".parse().unwrap(),
            "ftp://f.test/".parse().unwrap(),
            upper,
        ];
        for router in &routers {
            for uri in &uris {
                let (fast, slow) = (router.route(uri), router.route_by_prefix(uri));
                assert_eq!(
                    fast.map(|t| t as *const _),
                    slow.map(|t| t as *const _),
                    "{uri}"
                );
            }
        }
        assert!(routers[0].route(&uris[0]).is_some());
        assert!(routers[2].route(&uris[0]).is_none());
    }

    #[test]
    fn scheme_prefixes_match_the_scheme_in_any_case() {
        let uri: http::Uri = "HTTPS://Api.Example.test/".parse().unwrap();
        let upper = upper_case_http();
        for (prefix, on_uri, on_upper) in [
            ("https://", true, false),
            ("http://", false, true),
            ("ftp://", false, false),
            ("https://api.example.test", true, false),
            ("https:/", true, false),
            ("https:", true, false),
            ("http", true, true),
            ("://", false, false),
        ] {
            let prefix_ = Prefix::new(prefix.to_owned());
            assert_eq!(prefix_.matches(&uri), on_uri, "{prefix} on {uri}");
            assert_eq!(prefix_.matches(&upper), on_upper, "{prefix} on {upper}");
        }
        assert!(matches!(Prefix::new("https://".into()), Prefix::Scheme(..)));
        assert!(matches!(Prefix::new("https://x".into()), Prefix::Text(_)));
        assert!(matches!(Prefix::new("://".into()), Prefix::Text(_)));
        // Any text is a prefix; one that is not a scheme is matched as text
        // (a cut inside a multi-byte character used to panic here).
        for odd in ["€a", "é://", "€", "a€://x"] {
            let prefix = Prefix::new(odd.to_owned());
            assert!(matches!(prefix, Prefix::Text(_)), "{odd}");
            assert!(!prefix.matches(&uri), "{odd}");
        }
        let custom: http::Uri = "unix://socket/x".parse().unwrap();
        assert!(Prefix::new("unix://".into()).matches(&custom));
    }
}
