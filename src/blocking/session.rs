//! The blocking [`Session`]: the async [`crate::Session`] and the runtime
//! that drives it.

use std::sync::Arc;

use http::Method;

use super::request::RequestBuilder;
use super::response::Response;
use super::runtime::Runtime;
use crate::builder::SessionBuilder;
use crate::{Body, Defaults, IntoUrl, Result};

/// A session whose calls block: the async [`Session`](crate::Session), the
/// same stack and the same settings, driven by a runtime on a background
/// thread. Cloning is cheap; every clone shares the cookies, the connection
/// pool and the runtime, which stops when the last clone (and the last
/// [`Response`] of any of them) is dropped.
///
/// It is `Clone + Send + Sync`: share one session between threads.
///
/// See the [module docs](super) for more details.
#[derive(Clone, Debug)]
pub struct Session {
    // Dropped before the runtime: the async session's last handle goes
    // while the runtime that ran it is still there.
    inner: crate::Session,
    runtime: Arc<Runtime>,
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
    /// A session with the defaults (those of [`crate::Session::new`]).
    ///
    /// # Panics
    /// When the OS cannot start the runtime's thread (as
    /// [`std::thread::spawn`]); the default configuration always builds.
    /// Use [`Session::builder`] to get that as an error.
    #[cfg(feature = "hyper")]
    pub fn new() -> Self {
        SessionBuilder::new()
            .build_blocking()
            .expect("the default blocking session builds")
    }

    /// A builder for a session: the same [`SessionBuilder`] as the async
    /// session's; finish it with [`build_blocking`](SessionBuilder::build_blocking).
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// Builds the async session, then starts the runtime that drives it.
    pub(crate) fn from_builder(builder: SessionBuilder) -> Result<Self> {
        let inner = builder.build()?;
        Ok(Session {
            inner,
            runtime: Arc::new(Runtime::start()?),
        })
    }

    /// Drives `session` with a runtime of its own. Its cookies, pool and
    /// settings stay shared with the async clones of it.
    ///
    /// # Errors
    /// The OS cannot start the runtime's thread.
    pub fn from_async(session: crate::Session) -> Result<Self> {
        Ok(Session {
            inner: session,
            runtime: Arc::new(Runtime::start()?),
        })
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
        RequestBuilder::new(self.inner.request(method, url), self.runtime.clone())
    }

    /// Sends an `http::Request` as it is (no defaults merged) through the
    /// session's stack, and blocks until its response head arrives.
    ///
    /// # Errors
    /// As [`crate::core::Session::execute`].
    pub fn execute(&self, request: http::Request<Body>) -> Result<Response> {
        let session = self.inner.as_core().clone();
        let response = self
            .runtime
            .run(async move { session.execute(request).await })??;
        Ok(Response::new(response, self.runtime.clone()))
    }

    /// A snapshot of the current defaults.
    pub fn defaults(&self) -> Arc<Defaults> {
        self.inner.defaults()
    }

    /// Changes the defaults; every clone (async ones too) sees the change.
    /// See [`crate::core::Session::update`].
    ///
    /// # Errors
    /// Whatever `f` returns; the defaults are then left unchanged.
    pub fn update<T>(&self, f: impl Fn(&mut Defaults) -> Result<T>) -> Result<T> {
        self.inner.update(f)
    }

    /// The session's cookie jar (`None` when cookies are turned off).
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> Option<&crate::cookies::Jar> {
        self.inner.cookies()
    }

    /// The hyper transport of this session, unless another transport was set.
    #[cfg(feature = "hyper")]
    pub fn hyper_transport(&self) -> Option<&crate::hyper::HyperTransport> {
        self.inner.hyper_transport()
    }

    /// The async session this drives: the same cookies, pool and defaults.
    /// Use it from async code (on any runtime) instead of blocking there.
    pub fn as_async(&self) -> &crate::Session {
        &self.inner
    }

    /// Closes the session: runs its close hooks (saving a persistent cookie
    /// jar) on the background runtime, blocks until they are done, and drops
    /// this handle; connections close, and the runtime stops, with the last
    /// clone.
    ///
    /// # Errors
    /// The first close hook that failed, or [`RuntimeStopped`](super::RuntimeStopped).
    pub fn close(self) -> Result<()> {
        let Session { inner, runtime } = self;
        runtime.run(inner.close())?
    }
}

#[cfg(feature = "hyper")]
impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// Drives an async session with a runtime of its own (see
/// [`Session::from_async`]).
///
/// # Panics
/// When the OS cannot start the runtime's thread.
impl From<crate::Session> for Session {
    fn from(session: crate::Session) -> Self {
        Session::from_async(session).expect("the blocking session's runtime starts")
    }
}
