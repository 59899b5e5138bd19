//! [`Session`]: defaults, a middleware stack and transports, shared by clones.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;
use http::Method;

use crate::auth::layer::ResponseFuture as AuthFuture;
use crate::body::Body;
use crate::builder::SessionBuilder;
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::mount::Router;
use crate::pending::Pending;
use crate::recipe::Recipe;
use crate::redirect::SessionStack;
use crate::request::{into_target, Draft, IntoUrl, Prepared, RequestBuilder};
use crate::response::Response;
use crate::retry::{AttemptRequest, RetryPolicy};
use crate::simple_url::LazyUrl;
use crate::transport::{BoxFuture, BoxTransport};

/// A future run by [`Session::close`].
pub type CloseFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

/// A hook run by [`Session::close`], such as saving a cookie jar.
pub type CloseHook = Box<dyn Fn() -> CloseFuture + Send + Sync>;

/// A session: default settings, a middleware stack and transports, used for
/// many requests. Cloning is cheap and every clone shares everything.
///
/// See the [crate docs](crate) for an example.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) defaults: ArcSwap<Defaults>,
    pub(crate) stack: BoxTransport,
    /// The built-in redirect and auth stack, when nothing is layered above
    /// it: the session then drives each request's first hop itself.
    pub(crate) direct: Option<SessionStack>,
    /// The router, when the session sends its first hops straight to it:
    /// nothing is layered between the auth service and the router, and the
    /// auth service has no step of its own (a scheme or `.netrc`). The
    /// session then adds and stores the cookies of those hops itself, with
    /// the URL it keeps anyway, and can drive their retries.
    pub(crate) plain: Option<Arc<Router>>,
    /// The retry policy, when the session drives the attempts of its first
    /// hops itself (only with `plain`).
    pub(crate) retries: Option<Arc<dyn RetryPolicy>>,
    pub(crate) max_body: usize,
    pub(crate) close_hooks: Vec<CloseHook>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("defaults", &**self.inner.defaults.load())
            .finish_non_exhaustive()
    }
}

macro_rules! method_shortcuts {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("Starts a `", stringify!($method), "` request.")]
            pub fn $name(&self, url: impl IntoUrl) -> RequestBuilder {
                self.request(Method::$method, url)
            }
        )*
    };
}

impl Session {
    /// A builder for a session.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    pub(crate) fn from_shared(shared: Shared) -> Self {
        Session {
            inner: Arc::new(shared),
        }
    }

    method_shortcuts! {
        get => GET,
        post => POST,
        put => PUT,
        patch => PATCH,
        delete => DELETE,
        head => HEAD,
        options => OPTIONS,
    }

    /// Starts a request with any method.
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        let draft = into_target(url, || String::from("(url)")).map(|t| Draft::new(method, t));
        RequestBuilder::new(self.clone(), draft)
    }

    /// A snapshot of the current defaults.
    pub fn defaults(&self) -> Arc<Defaults> {
        self.inner.defaults.load_full()
    }

    /// Changes the defaults; every clone sees the change, requests already
    /// sent keep the snapshot they took.
    ///
    /// ```
    /// # use session_core::{mock::MockTransport, Session};
    /// # let session = Session::builder().transport(MockTransport::new()).build().unwrap();
    /// session.update(|d| d.set_bearer_auth("token-after-login")).unwrap();
    /// assert!(session.defaults().has_auth());
    /// ```
    ///
    /// # Errors
    /// Whatever `f` returns; the defaults are then left unchanged.
    pub fn update<T>(&self, f: impl Fn(&mut Defaults) -> Result<T>) -> Result<T> {
        let mut result = None;
        self.inner.defaults.rcu(|current| {
            let mut next = Defaults::clone(current);
            match f(&mut next) {
                Ok(value) => {
                    result = Some(Ok(value));
                    Arc::new(next)
                }
                Err(err) => {
                    result = Some(Err(err));
                    Arc::clone(current)
                }
            }
        });
        result.expect("rcu runs the closure at least once")
    }

    /// Sends an `http::Request` as it is (no defaults merged) through the
    /// session's stack.
    ///
    /// # Errors
    /// A transport error or a bad URL.
    pub async fn execute(&self, request: http::Request<Body>) -> Result<Response> {
        let url = url::Url::parse(&request.uri().to_string()).map_err(Error::builder)?;
        let timeout = self.inner.defaults.load().timeout;
        self.dispatch(request, LazyUrl::parsed(url), timeout).await
    }

    #[inline]
    pub(crate) fn send_draft(self, draft: Draft) -> Pending {
        if self.inner.direct.is_some() {
            return self.send_direct(draft);
        }
        let prepared = {
            let defaults = self.inner.defaults.load();
            draft.prepare(&defaults)
        };
        match prepared {
            Ok(p) => self.dispatch(p.request, p.url, p.timeout),
            Err(err) => Pending::failed(err),
        }
    }

    /// Sends a draft's first hop through the built-in stack directly,
    /// keeping its [`Recipe`] should a redirect come back. A request with
    /// extensions (per-request auth or redirect settings, a fragment) goes
    /// the general way, through the erased stack.
    #[inline]
    fn send_direct(self, draft: Draft) -> Pending {
        let defaults = self.inner.defaults.load_full();
        // Only a request without extensions can go direct; others need no recipe.
        let own = if draft.extensions.is_empty() {
            Recipe::own_headers(&draft.headers, draft.removed())
        } else {
            None
        };
        let Prepared {
            request: req,
            url,
            timeout,
        } = match draft.prepare(&defaults) {
            Ok(p) => p,
            Err(err) => return Pending::failed(err),
        };
        let direct = match &self.inner.direct {
            Some(direct) if req.extensions().is_empty() && direct.sends_directly(&req, &url) => {
                direct
            }
            _ => return self.dispatch(req, url, timeout),
        };
        let recipe = Recipe {
            defaults,
            own,
            method: req.method().clone(),
            version: req.version(),
            body: req.body().try_clone(),
        };
        let future = match &self.inner.plain {
            None => direct.send_first_hop(req),
            Some(router) => {
                if let Some(policy) = &self.inner.retries {
                    policy.on_request(&AttemptRequest::new(&recipe, &url));
                }
                AuthFuture::Direct {
                    inner: router.send_first_hop(req, &url),
                }
            }
        };
        let max_body = self.inner.max_body;
        Pending::first_hop(future, self, recipe, url, timeout, max_body)
    }

    /// The retry policy that decides after the attempts of the first hops
    /// the session sends itself.
    pub(crate) fn retry_policy(&self) -> Option<&dyn RetryPolicy> {
        self.inner.retries.as_deref()
    }

    /// Sends another attempt of a first hop (see [`Pending`]): only a session
    /// with a retry policy it drives itself asks for one.
    pub(crate) fn send_attempt(
        &self,
        req: http::Request<Body>,
        url: &LazyUrl,
    ) -> AuthFuture<BoxFuture> {
        let router = self
            .inner
            .plain
            .as_ref()
            .expect("only a session that drives its retries sends another attempt");
        AuthFuture::Direct {
            inner: router.send_first_hop(req, url),
        }
    }

    /// Stores the cookies of a first hop's answer, when the session sent it
    /// straight to the router (see [`Shared::plain`]).
    #[inline]
    pub(crate) fn store_cookies(&self, res: &http::Response<Body>, url: &LazyUrl) {
        if let Some(router) = &self.inner.plain {
            router.store_cookies(res, url);
        }
    }

    /// The built-in stack a [`Pending`] hands a redirect to.
    pub(crate) fn direct_stack(&self) -> Option<&SessionStack> {
        self.inner.direct.as_ref()
    }

    #[inline]
    fn dispatch(
        &self,
        request: http::Request<Body>,
        url: LazyUrl,
        timeout: Option<std::time::Duration>,
    ) -> Pending {
        let future = self.inner.stack.send(request);
        Pending::sending(future, url, timeout, self.inner.max_body)
    }

    /// Closes the session: runs the close hooks (a persistent cookie jar is
    /// saved) and drops this handle. Connections close once the last clone
    /// is dropped.
    ///
    /// # Errors
    /// The first hook that failed; every hook runs regardless.
    pub async fn close(self) -> Result<()> {
        let mut first_error = None;
        for hook in &self.inner.close_hooks {
            if let Err(err) = hook().await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A session is itself a tower service over `http` types, so it can be the
/// inner service of other stacks.
impl tower_service::Service<http::Request<Body>> for Session {
    type Response = Response;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let session = self.clone();
        Box::pin(async move { session.execute(req).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_its_futures_are_thread_safe() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        fn assert_send<T: Send>() {}
        assert_send_sync::<Session>();
        assert_send::<Pending>();
        assert_send::<RequestBuilder>();
    }
}
