//! [`AuthLayer`]: the per-hop layer that applies auth schemes, `.netrc` and
//! URL userinfo.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::StatusCode;
use tower::ServiceExt;

use super::{basic_header, take_userinfo, Auth, Netrc, NoAuth, RequestAuth, UrlCredentials};
use crate::body::{Body, DRAIN_LIMIT};
use crate::error::{BoxError, Error};
use crate::redirect::Hop;
use crate::replay::Replay;
use crate::response::{History, HistoryEntry};

/// Applies auth to every hop, with the precedence of the
/// [module docs](super): a scheme (the request's, else the layer's), then
/// `.netrc` for the hop's host, then URL userinfo. A session installs it
/// just inside its redirect layer.
///
/// ```
/// use std::sync::Arc;
/// use session_core::auth::{AuthLayer, Digest, Netrc};
///
/// let layer = AuthLayer::new()
///     .auth(Digest::new("user", "pass"))
///     .netrc(Netrc::parse("machine files.test login me password pw").unwrap());
/// # let _ = layer;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct AuthLayer {
    scheme: Option<Arc<dyn Auth>>,
    netrc: Option<Arc<Netrc>>,
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthLayer")
            .field("scheme", &self.scheme.is_some())
            .field("netrc", &self.netrc)
            .finish()
    }
}

impl AuthLayer {
    /// No scheme and no `.netrc`: only URL userinfo and request schemes.
    pub fn new() -> Self {
        AuthLayer::default()
    }

    /// The session's scheme.
    pub fn auth(mut self, scheme: impl Auth) -> Self {
        self.scheme = Some(Arc::new(scheme));
        self
    }

    pub(crate) fn set_scheme(&mut self, scheme: Option<Arc<dyn Auth>>) {
        self.scheme = scheme;
    }

    /// Credentials by host from a `.netrc`.
    pub fn netrc(mut self, netrc: Netrc) -> Self {
        self.netrc = Some(Arc::new(netrc));
        self
    }

    pub(crate) fn set_netrc(&mut self, netrc: Option<Netrc>) {
        self.netrc = netrc.map(Arc::new);
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            scheme: self.scheme.clone(),
            netrc: self.netrc.clone(),
        }
    }
}

/// The service an [`AuthLayer`] makes.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    scheme: Option<Arc<dyn Auth>>,
    netrc: Option<Arc<Netrc>>,
}

impl<S: fmt::Debug> fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .field("scheme", &self.scheme.is_some())
            .field("netrc", &self.netrc)
            .finish()
    }
}

impl<S> AuthService<S> {
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

/// The future of [`AuthService`]: the inner service's own future when the
/// request needs no auth step, else the boxed signing (and 401 answering)
/// of the request.
type ResponseFuture<F> = crate::transport::OrBoxed<F>;

impl<S> tower_service::Service<http::Request<Body>> for AuthService<S>
where
    S: crate::transport::BodyService,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let Some(scheme) = self.auth_step(&req) else {
            return ResponseFuture::inline(self.inner.call(req));
        };
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::boxed(Box::pin(authorize(inner, scheme, self.netrc.clone(), req)))
    }
}

impl<S> AuthService<S> {
    /// `None` when `req` needs no auth step at all (no scheme, no `.netrc`,
    /// no credentials); otherwise the scheme to sign it with, if any: the
    /// request's own, else the layer's.
    #[inline]
    fn auth_step(&self, req: &http::Request<Body>) -> Option<Option<Arc<dyn Auth>>> {
        let extensions = req.extensions();
        let request_scheme = extensions.get::<RequestAuth>().map(|a| a.0.clone());
        let needed = self.scheme.is_some()
            || self.netrc.is_some()
            || request_scheme.is_some()
            || extensions.get::<UrlCredentials>().is_some()
            || req
                .uri()
                .authority()
                .is_some_and(|a| a.as_str().as_bytes().contains(&b'@'));
        if needed && extensions.get::<NoAuth>().is_some() {
            // The request asked for no auth: only its own `Authorization`.
            return None;
        }
        needed.then(|| request_scheme.or_else(|| self.scheme.clone()))
    }
}

fn scheme_error(err: BoxError) -> BoxError {
    Box::new(Error::request(err))
}

async fn authorize<S>(
    mut inner: S,
    scheme: Option<Arc<dyn Auth>>,
    netrc: Option<Arc<Netrc>>,
    mut req: http::Request<Body>,
) -> Result<http::Response<Body>, BoxError>
where
    S: crate::transport::BodyService,
{
    take_userinfo(&mut req)?;
    let hop = req.extensions().get::<Hop>().copied().unwrap_or_default();
    let url_credentials = req.extensions_mut().remove::<UrlCredentials>();
    let explicit = req.headers().contains_key(AUTHORIZATION);
    let scheme = scheme.filter(|_| !explicit && !hop.credentials_dropped());
    if let Some(scheme) = &scheme {
        scheme.sign(&mut req).map_err(scheme_error)?;
    } else if !explicit {
        let host = req.uri().host().unwrap_or("");
        if let Some(entry) = netrc.as_ref().and_then(|n| n.lookup(host)) {
            let value = basic_header(entry.login(), entry.password());
            req.headers_mut().insert(AUTHORIZATION, value);
        } else if let Some(credentials) = url_credentials.filter(|_| !hop.credentials_dropped()) {
            req.headers_mut()
                .insert(AUTHORIZATION, credentials.header());
        }
    }
    let Some(scheme) = scheme else {
        return inner.call(req).await.map_err(Into::into);
    };

    // Keep what answering a 401 needs.
    let kept = Replay::of(&req);

    let res = inner.call(req).await.map_err(Into::into)?;
    if res.status() != StatusCode::UNAUTHORIZED || !kept.is_replayable() {
        return Ok(res);
    }
    if !scheme
        .on_unauthorized(&kept.head(), &res)
        .map_err(scheme_error)?
    {
        return Ok(res);
    }
    // The challenge goes in the answer's history, as in requests.
    let challenge = url::Url::parse(&kept.uri().to_string())
        .ok()
        .map(|url| HistoryEntry {
            status: res.status(),
            headers: res.headers().clone(),
            url,
        });
    res.into_body().discard(DRAIN_LIMIT).await;
    let (mut parts, body) = kept.into_parts();
    let Some(body) = body else {
        return Err(scheme_error("the request's body could not be kept".into()));
    };
    parts.headers.remove(AUTHORIZATION);
    let mut retry = http::Request::from_parts(parts, body);
    scheme.sign(&mut retry).map_err(scheme_error)?;
    let ready = inner.ready().await.map_err(Into::into)?;
    let mut answer = ready.call(retry).await.map_err(Into::into)?;
    if let Some(entry) = challenge {
        let extensions = answer.extensions_mut();
        match extensions.get_mut::<History>() {
            Some(History(entries)) => entries.insert(0, entry),
            None => {
                extensions.insert(History(vec![entry]));
            }
        }
    }
    Ok(answer)
}
