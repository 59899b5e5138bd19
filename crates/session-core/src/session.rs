//! [`Session`]: defaults, a middleware stack and transports, shared by clones.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;
use http::Method;

use crate::body::Body;
use crate::builder::SessionBuilder;
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::pending::Pending;
use crate::request::{into_target, Draft, IntoUrl, Prepared, RequestBuilder};
use crate::response::Response;
use crate::target::TargetUrl;
use crate::transport::BoxTransport;

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
    /// The stack every request goes down, built once and erased once.
    pub(crate) stack: BoxTransport,
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
        self.dispatch(request, TargetUrl::parsed(Box::new(url)), timeout)
            .await
    }

    /// Merges the defaults into a draft and sends it down the stack.
    pub(crate) fn send_draft(self, draft: Draft) -> Pending {
        let prepared = {
            let defaults = self.inner.defaults.load();
            draft.prepare(&defaults)
        };
        match prepared {
            Ok(Prepared {
                request,
                url,
                timeout,
            }) => self.dispatch(request, url, timeout),
            Err(err) => Pending::failed(err),
        }
    }

    fn dispatch(
        &self,
        request: http::Request<Body>,
        url: TargetUrl,
        timeout: Option<std::time::Duration>,
    ) -> Pending {
        // The request's span is the parent of what the stack does for it.
        let span = crate::trace::SpanSlot::new(crate::trace::request_span(&request));
        // Before the stack is called: the transport starts its own clocks
        // (time to first byte) inside that call.
        let start = tokio::time::Instant::now();
        let future = {
            let _entered = span.enter();
            self.inner.stack.send(request)
        };
        Pending::new(future, url, start, timeout, self.inner.max_body, span)
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
