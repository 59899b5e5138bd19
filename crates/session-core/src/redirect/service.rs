//! [`FollowRedirect`]: the service that follows redirects.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderName, HOST};
use tower::ServiceExt;
use tracing::Instrument;
use url::Url;

use super::error::{
    BodyNotReplayable, HistoryTooLarge, HttpsOnly, InvalidLocation, TooManyRedirects,
};
use super::future::ResponseFuture;

use super::location;
use super::policy::{Action, Attempt, Policy, Standard};
use super::{
    Hop, NextRequest, RedirectOptions, RequestFragment, DEFAULT_MAX_HISTORY_BYTES,
    DEFAULT_MAX_REDIRECTS,
};
use crate::body::{Body, DRAIN_LIMIT};
use crate::error::{BoxError, Error};
use crate::replay::Replay;
use crate::response::{FinalUrl, History, HistoryEntry};
use crate::trace;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) max: usize,
    pub(crate) max_history_bytes: usize,
    pub(crate) follow: bool,
    pub(crate) https_only: bool,
    pub(crate) sensitive: Vec<HeaderName>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max: DEFAULT_MAX_REDIRECTS,
            max_history_bytes: DEFAULT_MAX_HISTORY_BYTES,
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
        // The ready service serves the first request; its clone the later ones.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        self.start(inner, req)
    }
}

/// A session erases its stack once, at its top: this service (see
/// [`BoxTransport::shared`](crate::transport::BoxTransport::shared)).
/// Each request clones the inner service once, for the hops to come, and
/// sends the first request through it as soon as it is ready (at once, for a
/// session's own stack).
impl<S, P> crate::transport::SharedTransport for FollowRedirect<S, P>
where
    S: crate::transport::BodyService + Sync,
    P: Policy + Clone + Send + Sync + 'static,
{
    type Future = ResponseFuture<S, P>;

    #[inline]
    fn send(&self, req: http::Request<Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match inner.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => self.start(inner, req),
            Poll::Ready(Err(err)) => {
                let err: BoxError = err.into();
                ResponseFuture::follow(Box::pin(std::future::ready(Err(err))))
            }
            Poll::Pending => {
                let this = self.clone();
                ResponseFuture::follow(Box::pin(async move {
                    let inner = inner.ready_oneshot().await.map_err(Into::into)?;
                    this.start(inner, req).await
                }))
            }
        }
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
        // The common case: send the first request now, and only build the
        // redirect machinery if the answer is a redirect.
        let saved = Replay::of(&req);
        let span = trace::SpanSlot::new(trace::hop_span(&req, 0));
        let first = {
            let _entered = span.enter();
            inner.call(req)
        };
        ResponseFuture::sent(
            first,
            Unanswered {
                saved,
                inner,
                policy,
                config,
            },
            span,
        )
    }
}

impl<S, P> FollowRedirect<S, P> {
    /// Does `req` need work before its first request (URL credentials to take
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

/// What a request keeps until its answer, to follow a redirect should one come back.
pub(crate) struct Unanswered<S, P> {
    saved: Replay,
    inner: S,
    policy: P,
    config: Arc<Config>,
}

impl<S, P> Unanswered<S, P>
where
    S: crate::transport::BodyService,
    P: Policy + Clone + Send + 'static,
{
    /// The first request's answer was a redirect: the full loop follows it.
    pub(crate) fn follow(
        self,
        result: Result<http::Response<Body>, BoxError>,
    ) -> super::future::BoxFuture {
        let start = Start::Answered {
            saved: Box::new(self.saved),
            result,
        };
        Box::pin(follow(self.inner, self.policy, self.config, start))
    }
}

/// How [`follow`] starts: with a request to send, or with the first request
/// already answered.
enum Start {
    Request(http::Request<Body>),
    Answered {
        // Boxed: only a redirect answer gets here.
        saved: Box<Replay>,
        result: Result<http::Response<Body>, BoxError>,
    },
}

fn parse_uri(uri: &http::Uri, fragment: Option<&str>) -> Result<Url, BoxError> {
    let mut url = Url::parse(&uri.to_string()).map_err(Error::builder)?;
    url.set_fragment(fragment);
    Ok(url)
}

/// The bytes a response head's fields take, as a limit counts them.
fn head_bytes(headers: &http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
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
        Start::Answered { saved, result } => (None, Some((*saved, result))),
    };
    let options = match (&pending, &answered) {
        (Some(req), _) => req.extensions().get::<RedirectOptions>().copied(),
        (None, Some((saved, _))) => saved.extensions().get::<RedirectOptions>().copied(),
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
    let mut history_bytes = 0usize;
    let mut hop = Hop::default();
    let mut first = answered.is_none();
    loop {
        let (saved, sent) = match answered.take() {
            Some(done) => done,
            None => {
                let req = pending.take().expect("a request waits when no answer does");
                let saved = Replay::of(&req);
                let span = trace::hop_span(&req, hop.index);
                let ready_first = std::mem::replace(&mut first, false);
                let inner = &mut inner;
                let sent: Result<http::Response<Body>, BoxError> = async move {
                    if ready_first {
                        inner.call(req).await.map_err(Into::into)
                    } else {
                        let ready = inner.ready().await.map_err(Into::into)?;
                        ready.call(req).await.map_err(Into::into)
                    }
                }
                .instrument(span.clone())
                .await;
                match &sent {
                    Ok(res) => trace::record_response(Some(&span), res),
                    Err(err) => trace::record_boxed_error(Some(&span), err),
                }
                (saved, sent)
            }
        };
        let mut res = match sent {
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
        // A hop's own history (a 401 the auth layer answered) comes first.
        if let Some(History(own)) = res.extensions_mut().remove::<History>() {
            history_bytes += own.iter().map(|e| head_bytes(&e.headers)).sum::<usize>();
            history.extend(own);
        }
        let status = res.status();
        if !location::is_redirect(status) {
            return Ok(finish(
                res,
                history,
                current.filter(|_| hop.index > 0 || had_userinfo),
            ));
        }
        let (saved, saved_body) = saved.into_parts();
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
        // What the chain keeps of the heads it received is bounded, however
        // many hops each bring their own (bounded) head.
        history_bytes += head_bytes(res.headers());
        if history_bytes > config.max_history_bytes {
            let err = HistoryTooLarge {
                limit: config.max_history_bytes,
            };
            return Err(redirect_error(err, &url));
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
            match saved_body {
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
