//! [`FollowRedirect`]: the service that follows redirects.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderMap, HeaderName, HOST};
use http::{Method, Version};
use tower::ServiceExt;
use url::Url;

use super::error::{BodyNotReplayable, HttpsOnly, InvalidLocation, TooManyRedirects};
use super::future::ResponseFuture;

use super::location;
use super::policy::{Action, Attempt, Policy, Standard};
use super::{Hop, NextRequest, RedirectOptions, RequestFragment, DEFAULT_MAX_REDIRECTS};
use crate::body::Body;
use crate::error::{BoxError, Error};
use crate::response::{FinalUrl, History, HistoryEntry};
use crate::simple_url::LazyUrl;
use crate::transport::BoxTransport;

/// The most bytes of a discarded redirect body that are read (so the
/// connection can be reused); a longer body is dropped unread.
const DRAIN_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) max: usize,
    pub(crate) follow: bool,
    pub(crate) https_only: bool,
    pub(crate) sensitive: Vec<HeaderName>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max: DEFAULT_MAX_REDIRECTS,
            follow: true,
            https_only: false,
            sensitive: Vec::new(),
        }
    }
}

/// Follows the redirects of each request through `S`; made by
/// [`RedirectLayer`](super::RedirectLayer).
///
/// See the [module docs](super) for more details.
#[derive(Debug, Clone)]
pub struct FollowRedirect<S, P = Standard> {
    inner: S,
    policy: P,
    config: Arc<Config>,
}

impl<S> FollowRedirect<S> {
    /// Wraps `inner` with the default settings and the [`Standard`] policy.
    pub fn new(inner: S) -> Self {
        FollowRedirect::from_parts(inner, Standard, Arc::new(Config::default()))
    }

    /// A [`RedirectLayer`](super::RedirectLayer) with the defaults.
    pub fn layer() -> super::RedirectLayer {
        super::RedirectLayer::new()
    }
}

impl<S, P> FollowRedirect<S, P> {
    pub(crate) fn from_parts(inner: S, policy: P, config: Arc<Config>) -> Self {
        FollowRedirect {
            inner,
            policy,
            config,
        }
    }

    /// Wraps `inner`, following redirects as `policy` decides.
    pub fn with_policy(inner: S, policy: P) -> Self {
        FollowRedirect::from_parts(inner, policy, Arc::new(Config::default()))
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, P> tower_service::Service<http::Request<Body>> for FollowRedirect<S, P>
where
    S: crate::transport::BodyService,
    P: Policy + Clone + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture<S, P>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The ready service serves the first hop; its clone the later ones.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.start(inner, req)
    }
}

/// A session holds its built-in redirect and auth stack erased: each request
/// clones the inner services once, with no further clone of the redirect
/// service itself and no extra box around its future. No readiness to wait
/// for: a [`BoxTransport`] drives its service's readiness inside each call,
/// so it and the auth service over it are always ready.
impl crate::transport::Erased
    for FollowRedirect<crate::auth::AuthService<BoxTransport>, super::BoxPolicy>
{
    fn call(
        &self,
        req: http::Request<Body>,
        cookies: Option<crate::cookies::StoreCookies>,
    ) -> crate::transport::BoxFuture {
        // Cookie steps are passed only by the router to its transports,
        // below this stack; the redirect chain stores its hops' cookies there.
        debug_assert!(cookies.is_none(), "no cookie step above the router");
        Box::pin(self.start(self.inner.clone(), req))
    }
}

impl<S, P> FollowRedirect<S, P>
where
    S: crate::transport::BodyService,
    P: Policy + Clone + Send + 'static,
{
    /// Sends `req` through `inner`, a service made ready for it.
    #[inline]
    fn start(&self, mut inner: S, req: http::Request<Body>) -> ResponseFuture<S, P> {
        let policy = self.policy.clone();
        let config = self.config.clone();
        if self.needs_setup(&req) {
            return ResponseFuture::follow(Box::pin(follow(
                inner,
                policy,
                config,
                Start::Request(req),
            )));
        }
        // The common case: send the first hop now, and only build the
        // redirect machinery if the answer is a redirect.
        let saved = Saved::of(&req);
        let first = inner.call(req);
        ResponseFuture::first(
            first,
            FirstHop {
                saved,
                inner,
                policy,
                config,
            },
        )
    }
}

impl<S, P> FollowRedirect<S, P> {
    /// Does `req` need work before its first hop (URL credentials to take
    /// out, a fragment to carry, the https-only check)? Otherwise the first
    /// hop is sent as it is and redirects are only looked at in its answer.
    #[inline]
    fn needs_setup(&self, req: &http::Request<Body>) -> bool {
        self.config.https_only
            || req
                .uri()
                .authority()
                .is_some_and(|a| a.as_str().as_bytes().contains(&b'@'))
            || req.extensions().get::<RequestFragment>().is_some()
    }
}

/// The redirect and auth stack a session builds for itself.
pub(crate) type SessionStack =
    FollowRedirect<crate::auth::AuthService<BoxTransport>, super::BoxPolicy>;

/// A session drives the first hop of a request it prepared itself: it sends
/// the request through the auth service, keeps what rebuilding the request
/// takes (not a copy of it), and hands over to the redirect loop only when
/// the answer is a redirect.
impl SessionStack {
    /// Can `req`, sent to `url`, be sent with
    /// [`send_first_hop`](Self::send_first_hop)? Not when it needs setup
    /// before its first hop. A simple URL has neither userinfo nor a
    /// fragment, so only `https_only` is left to ask about.
    #[inline]
    pub(crate) fn sends_directly(&self, req: &http::Request<Body>, url: &LazyUrl) -> bool {
        if url.is_simple() {
            !self.config.https_only
        } else {
            !self.needs_setup(req)
        }
    }

    /// Sends `req` as its first hop, through the auth service only. `req`
    /// is one [`sends_directly`](Self::sends_directly) accepted and has no
    /// extensions.
    #[inline]
    pub(crate) fn send_first_hop(
        &self,
        req: http::Request<Body>,
    ) -> crate::auth::layer::ResponseFuture<crate::transport::BoxFuture> {
        self.inner.send_plain(req)
    }

    /// Follows the redirect that answered a first hop sent with
    /// [`send_first_hop`](Self::send_first_hop); `head` and `body` are that
    /// hop's request, rebuilt (`body` is `None` for a one-shot stream).
    pub(crate) fn follow_redirect(
        &self,
        head: http::Request<()>,
        body: Option<Body>,
        res: http::Response<Body>,
    ) -> super::future::BoxFuture {
        let (parts, ()) = head.into_parts();
        let saved = Saved {
            method: parts.method,
            uri: parts.uri,
            version: parts.version,
            headers: parts.headers,
            body,
            extensions: parts.extensions,
        };
        let start = Start::Answered {
            saved,
            result: Ok(res),
        };
        Box::pin(follow(
            self.inner.clone(),
            self.policy.clone(),
            self.config.clone(),
            start,
        ))
    }
}

/// What the first hop keeps to follow a redirect, should one come back.
pub(crate) struct FirstHop<S, P> {
    saved: Saved,
    inner: S,
    policy: P,
    config: Arc<Config>,
}

impl<S, P> FirstHop<S, P>
where
    S: crate::transport::BodyService,
    P: Policy + Clone + Send + 'static,
{
    /// The first hop's answer: returned as it is unless it is a redirect,
    /// which starts the full loop.
    pub(crate) fn answered(
        self,
        result: Result<http::Response<Body>, BoxError>,
    ) -> Result<Result<http::Response<Body>, BoxError>, super::future::BoxFuture> {
        match result {
            Ok(res) if location::is_redirect(res.status()) => {
                let start = Start::Answered {
                    saved: self.saved,
                    result: Ok(res),
                };
                Err(Box::pin(follow(
                    self.inner,
                    self.policy,
                    self.config,
                    start,
                )))
            }
            other => Ok(other),
        }
    }
}

/// How [`follow`] starts: with a request to send, or with the first hop
/// already answered.
enum Start {
    Request(http::Request<Body>),
    Answered {
        saved: Saved,
        result: Result<http::Response<Body>, BoxError>,
    },
}

/// What a hop's request leaves behind to build the next one.
struct Saved {
    method: Method,
    uri: http::Uri,
    version: Version,
    headers: HeaderMap,
    body: Option<Body>,
    extensions: http::Extensions,
}

impl Saved {
    fn of(req: &http::Request<Body>) -> Self {
        Saved {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
            body: req.body().try_clone(),
            extensions: req.extensions().clone(),
        }
    }
}

fn parse_uri(uri: &http::Uri, fragment: Option<&str>) -> Result<Url, BoxError> {
    let mut url = Url::parse(&uri.to_string()).map_err(Error::builder)?;
    url.set_fragment(fragment);
    Ok(url)
}

fn redirect_error(source: impl Into<BoxError>, url: &Url) -> BoxError {
    Box::new(Error::redirect(source).with_url(url.clone()))
}

fn finish(
    mut res: http::Response<Body>,
    history: Vec<HistoryEntry>,
    url: Option<Url>,
) -> http::Response<Body> {
    if !history.is_empty() {
        res.extensions_mut().insert(History(history));
    }
    if let Some(url) = url {
        res.extensions_mut().insert(FinalUrl(url));
    }
    res
}

async fn follow<S, P>(
    mut inner: S,
    mut policy: P,
    config: Arc<Config>,
    start: Start,
) -> Result<http::Response<Body>, BoxError>
where
    S: crate::transport::BodyService,
    P: Policy + Clone + Send + 'static,
{
    let (mut pending, mut answered) = match start {
        Start::Request(req) => (Some(req), None),
        Start::Answered { saved, result } => (None, Some((saved, result))),
    };
    let options = match (&pending, &answered) {
        (Some(req), _) => req.extensions().get::<RedirectOptions>().copied(),
        (None, Some((saved, _))) => saved.extensions.get::<RedirectOptions>().copied(),
        (None, None) => None,
    }
    .unwrap_or_default();
    let max = options.max.unwrap_or(config.max);
    let follow = options.follow.unwrap_or(config.follow);
    let (had_userinfo, fragment) = match pending.as_mut() {
        Some(req) => (
            crate::auth::take_userinfo(req)?,
            req.extensions_mut()
                .remove::<RequestFragment>()
                .map(|f| f.0),
        ),
        // The fast path is only taken without userinfo or fragment.
        None => (false, None),
    };
    // The URL of the current hop, parsed only when needed.
    let mut current: Option<Url> = None;
    if let Some(req) = pending
        .as_ref()
        .filter(|_| had_userinfo || config.https_only)
    {
        current = Some(parse_uri(req.uri(), fragment.as_deref())?);
    }
    if config.https_only {
        if let Some(url) = current.as_ref().filter(|u| u.scheme() != "https") {
            return Err(redirect_error(HttpsOnly { url: url.clone() }, url));
        }
    }
    let mut history: Vec<HistoryEntry> = Vec::new();
    let mut hop = Hop::default();
    let mut first = answered.is_none();
    loop {
        let (saved, sent) = match answered.take() {
            Some(done) => done,
            None => {
                let req = pending.take().expect("a request waits when no answer does");
                let saved = Saved::of(&req);
                let sent: Result<http::Response<Body>, BoxError> = if first {
                    first = false;
                    inner.call(req).await.map_err(Into::into)
                } else {
                    match inner.ready().await.map_err(Into::into) {
                        Ok(ready) => ready.call(req).await.map_err(Into::into),
                        Err(err) => Err(err),
                    }
                };
                (saved, sent)
            }
        };
        let res = match sent {
            Ok(res) => res,
            Err(err) => {
                return Err(match &current {
                    Some(url) if hop.index > 0 => {
                        Box::new(Error::from_boxed(err).with_url(url.clone()))
                    }
                    _ => err,
                });
            }
        };
        let status = res.status();
        if !location::is_redirect(status) {
            return Ok(finish(
                res,
                history,
                current.filter(|_| hop.index > 0 || had_userinfo),
            ));
        }
        let url = match current.take() {
            Some(url) => url,
            None => parse_uri(&saved.uri, fragment.as_deref())?,
        };
        let raw = match location::location(res.headers()) {
            Ok(Some(raw)) => raw.as_bytes().to_vec(),
            Ok(None) => return Ok(finish(res, history, Some(url))),
            Err(err) if follow => return Err(redirect_error(err, &url)),
            Err(_) => return Ok(finish(res, history, Some(url))),
        };
        let target = match location::resolve(&url, &raw) {
            Ok(target) => target,
            Err(err) if follow => return Err(redirect_error(err, &url)),
            Err(_) => return Ok(finish(res, history, Some(url))),
        };
        let method = location::next_method(status, &saved.method);
        let mut headers = saved.headers;
        let cross_origin = !location::same_origin(&url, &target);
        let keep_authorization = location::is_default_port_upgrade(&url, &target);
        if cross_origin {
            location::strip_credentials(&mut headers, &config.sensitive, keep_authorization);
        }
        if !location::keeps_body(status) {
            location::drop_body_headers(&mut headers);
        }
        if !follow {
            let next = NextRequest {
                method,
                url: target,
                headers,
            };
            let mut res = finish(res, history, Some(url));
            res.extensions_mut().insert(next);
            return Ok(res);
        }
        let entry = HistoryEntry {
            status,
            headers: res.headers().clone(),
            url: url.clone(),
        };
        if history.len() >= max {
            history.push(entry);
            let err = TooManyRedirects {
                max,
                history: History(history),
            };
            return Err(redirect_error(err, &url));
        }
        if config.https_only && target.scheme() != "https" {
            return Err(redirect_error(HttpsOnly { url: target }, &url));
        }
        let decision = policy.redirect(&Attempt {
            status,
            headers: res.headers(),
            location: &target,
            previous: &url,
            method: &method,
            hops: history.len(),
        });
        match decision {
            Ok(Action::Follow) => {}
            Ok(Action::Stop) => {
                let next = NextRequest {
                    method,
                    url: target,
                    headers,
                };
                let mut res = finish(res, history, Some(url));
                res.extensions_mut().insert(next);
                return Ok(res);
            }
            Err(err) => return Err(redirect_error(err, &url)),
        }
        let body = if location::keeps_body(status) {
            match saved.body {
                Some(body) => body,
                None => return Err(redirect_error(BodyNotReplayable { status }, &url)),
            }
        } else {
            Body::empty()
        };
        history.push(entry);

        let uri = http::Uri::try_from(target.as_str())
            .map_err(|_| redirect_error(InvalidLocation::new(&raw, "not a valid URI"), &url))?;
        let mut next = http::Request::new(body);
        *next.method_mut() = method;
        *next.uri_mut() = uri.clone();
        *next.version_mut() = saved.version;
        *next.headers_mut() = headers;
        *next.extensions_mut() = saved.extensions;
        policy.on_request(&mut next);

        // The policy may have moved the request: check it again.
        let mut target = target;
        if *next.uri() != uri {
            let moved = parse_uri(next.uri(), target.fragment())?;
            if !matches!(moved.scheme(), "http" | "https") {
                let err = super::error::UnsupportedScheme {
                    scheme: moved.scheme().to_owned(),
                };
                return Err(redirect_error(err, &url));
            }
            if config.https_only && moved.scheme() != "https" {
                return Err(redirect_error(HttpsOnly { url: moved }, &url));
            }
            target = moved;
        }
        // The credential rules, after the policy: nothing it added survives
        // an origin change.
        if !location::same_origin(&url, &target) {
            let keep = location::is_default_port_upgrade(&url, &target);
            location::strip_credentials(next.headers_mut(), &config.sensitive, keep);
            if !keep {
                hop.credentials_dropped = true;
            }
        }
        if hop.credentials_dropped {
            next.extensions_mut()
                .remove::<crate::auth::UrlCredentials>();
        }
        if url.host() != target.host()
            || url.port_or_known_default() != target.port_or_known_default()
        {
            next.headers_mut().remove(HOST);
        }
        hop.index += 1;
        next.extensions_mut().insert(hop);

        // Read a little of the discarded body so the connection can be
        // reused; never decode it.
        res.into_body().discard(DRAIN_LIMIT).await;

        pending = Some(next);
        current = Some(target);
    }
}
