//! [`SessionBuilder`]: configures and builds a [`Session`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use url::Url;

use crate::auth::{Auth, AuthLayer, Netrc};

use crate::cookies::{CookieStore, SharedStore};
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::middleware::{Middleware, MiddlewareLayer};
use crate::mount::Router;
use crate::redirect::{BoxPolicy, Policy, RedirectLayer};
use crate::retry::{PolicyHops, RetryPolicy};
use crate::session::{CloseFuture, Session, Shared};
use crate::transport::{self, BoxTransport};

/// Reads into memory (`bytes`, `text`, `json`) stop with an error past this
/// many bytes unless the session says otherwise: 256 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 256 * 1024 * 1024;

type BoxLayer = Box<dyn FnOnce(BoxTransport) -> BoxTransport + Send>;

/// Builds a [`Session`]. Setters take and return the builder; a setter that
/// fails keeps its error, and [`build`](Self::build) returns it.
///
/// ```
/// use std::time::Duration;
/// use session_core::{mock::MockTransport, Session};
///
/// let session = Session::builder()
///     .transport(MockTransport::new())
///     .header("accept", "application/json")
///     .bearer_auth("secret-token")
///     .timeout(Duration::from_secs(5))
///     .base_url("https://api.test/v1")
///     .build()
///     .unwrap();
/// # let _ = session;
/// ```
#[must_use]
pub struct SessionBuilder {
    config: Config,
}

struct Config {
    error: Option<Error>,
    defaults: Defaults,
    transport: Option<BoxTransport>,
    mounts: Vec<(String, BoxTransport)>,
    outer_layers: Vec<BoxLayer>,
    redirect: Option<BoxLayer>,
    redirects: RedirectLayer<BoxPolicy>,
    auth: AuthLayer,
    hop_layers: Vec<BoxLayer>,
    retry: Option<Arc<dyn RetryPolicy>>,
    cookies: Option<SharedStore>,
    max_body: usize,
    close_hooks: Vec<crate::session::CloseHook>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("defaults", &self.config.defaults)
            .field(
                "mounts",
                &self.config.mounts.iter().map(|m| &m.0).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder::new()
    }
}

impl SessionBuilder {
    /// A builder with the defaults: `User-Agent: http-session/<version>`,
    /// no auth, no timeout, no transport yet.
    pub fn new() -> Self {
        SessionBuilder {
            config: Config {
                error: None,
                defaults: Defaults::default(),
                transport: None,
                mounts: Vec::new(),
                outer_layers: Vec::new(),
                redirect: None,
                redirects: RedirectLayer::with_policy(BoxPolicy::default()),
                auth: AuthLayer::new(),
                hop_layers: Vec::new(),
                retry: None,
                cookies: None,
                max_body: DEFAULT_MAX_BODY_SIZE,
                close_hooks: Vec::new(),
            },
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Config) -> Result<()>) -> Self {
        if self.config.error.is_none() {
            if let Err(err) = f(&mut self.config) {
                self.config.error = Some(err);
            }
        }
        self
    }

    /// Adds a default header; it replaces an earlier default of that name.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.with(|c| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            let value = HeaderValue::try_from(value).map_err(|e| Error::builder(e.into()))?;
            c.defaults.headers.insert(name, value);
            Ok(())
        })
    }

    /// Adds every header of a map as a default (replacing earlier defaults of
    /// the same names).
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.with(|c| {
            for name in headers.keys() {
                c.defaults.headers.remove(name);
            }
            for (name, value) in &headers {
                c.defaults.headers.append(name.clone(), value.clone());
            }
            Ok(())
        })
    }

    /// Sets the default `User-Agent`.
    pub fn user_agent<V>(self, value: V) -> Self
    where
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.header(USER_AGENT, value)
    }

    /// Adds default query parameters (anything `serde_urlencoded` takes).
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        self.with(|c| {
            let encoded = serde_urlencoded::to_string(query).map_err(Error::builder)?;
            c.defaults
                .query
                .extend(url::form_urlencoded::parse(encoded.as_bytes()).into_owned());
            Ok(())
        })
    }

    /// HTTP Basic auth on every request (sent to the request's own origin
    /// only, never carried across a redirect to another origin).
    pub fn basic_auth(self, username: &str, password: Option<&str>) -> Self {
        self.with(|c| {
            c.defaults.set_basic_auth(username, password);
            c.auth.set_scheme(None);
            Ok(())
        })
    }

    /// Bearer auth on every request.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.with(|c| {
            c.auth.set_scheme(None);
            c.defaults.set_bearer_auth(token)
        })
    }

    /// An auth scheme for every request without request auth: [`Digest`](crate::auth::Digest)
    /// or your own [`Auth`]. It replaces session Basic or Bearer auth; see
    /// [`crate::auth`] for the precedence and the redirect rules.
    pub fn auth<A: Auth>(self, scheme: A) -> Self {
        self.with(|c| {
            c.defaults.clear_auth();
            c.auth.set_scheme(Some(std::sync::Arc::new(scheme)));
            Ok(())
        })
    }

    /// HTTP Digest auth (RFC 7616) on every request: `auth(Digest::new(..))`.
    pub fn digest_auth(self, username: &str, password: &str) -> Self {
        self.auth(crate::auth::Digest::new(username, password))
    }

    /// Reads credentials by host from `$NETRC`, else `~/.netrc` (no file:
    /// no credentials). Off by default; see [`crate::auth`].
    ///
    /// A file that cannot be read or parsed makes [`build`](Self::build) fail.
    pub fn netrc(self) -> Self {
        self.with(|c| {
            let netrc = Netrc::from_env().map_err(Error::builder)?;
            c.auth.set_netrc(netrc);
            Ok(())
        })
    }

    /// Reads credentials by host from this `.netrc` file.
    ///
    /// A file that cannot be read or parsed makes [`build`](Self::build) fail.
    pub fn netrc_path(self, path: impl AsRef<std::path::Path>) -> Self {
        self.with(|c| {
            let netrc = Netrc::from_path(path).map_err(Error::builder)?;
            c.auth.set_netrc(Some(netrc));
            Ok(())
        })
    }

    /// The most redirects a request follows (default 30); see
    /// [`crate::redirect`].
    pub fn max_redirects(self, max: usize) -> Self {
        self.with(|c| {
            c.redirects = c.redirects.clone().max_redirects(max);
            Ok(())
        })
    }

    /// Returns redirect responses instead of following them (a request can
    /// still ask with `follow_redirects(true)`).
    pub fn no_redirects(self) -> Self {
        self.with(|c| {
            c.redirects = c.redirects.clone().follow(false);
            Ok(())
        })
    }

    /// Decides which redirects are followed, and may edit each next request
    /// (see [`redirect::Policy`](crate::redirect::Policy)).
    pub fn redirect_policy<P>(self, policy: P) -> Self
    where
        P: Policy + Clone + Send + Sync + 'static,
    {
        self.with(|c| {
            c.redirects = c.redirects.clone().policy(BoxPolicy::new(policy));
            Ok(())
        })
    }

    /// Refuses `http://` URLs: the first request and every redirect target.
    pub fn https_only(self, https_only: bool) -> Self {
        self.with(|c| {
            c.redirects = c.redirects.clone().https_only(https_only);
            Ok(())
        })
    }

    /// Treats a header as a credential, removed when a redirect changes
    /// origin (as `Authorization`, `Proxy-Authorization` and `Cookie` are).
    pub fn sensitive_header<K>(self, name: K) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        self.with(|c| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            c.redirects = c.redirects.clone().sensitive_header(name);
            Ok(())
        })
    }

    /// A default timeout for each request: from sending it to reading the
    /// last byte of its body.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|c| {
            if timeout.is_zero() {
                return Err(Error::builder(crate::request::ZeroTimeout));
            }
            c.defaults.timeout = Some(timeout);
            Ok(())
        })
    }

    /// The base URL that relative request URLs join (rule:
    /// [`Defaults::base_url`]).
    pub fn base_url(self, base: &str) -> Self {
        self.with(|c| {
            let url = Url::parse(base).map_err(Error::builder)?;
            if url.cannot_be_a_base() {
                return Err(Error::builder(format!("{base:?} cannot be a base URL")));
            }
            c.defaults.base_url = Some(url);
            Ok(())
        })
    }

    /// The transport for `http://` and `https://` URLs (what requests mounts
    /// on those two prefixes).
    pub fn transport<S>(self, transport: S) -> Self
    where
        S: crate::transport::HttpService,
    {
        self.with(|c| {
            c.transport = Some(transport::boxed(transport));
            Ok(())
        })
    }

    /// Mounts a transport for URLs that start with `prefix`: compared without
    /// regard to case, the longest matching prefix wins, equal lengths go by
    /// insertion order, and mounting a prefix again replaces it. A URL that
    /// matches no mount fails with a builder error.
    pub fn mount<S>(self, prefix: &str, transport: S) -> Self
    where
        S: crate::transport::HttpService,
    {
        self.with(|c| {
            if prefix.is_empty() {
                return Err(Error::builder("an empty mount prefix"));
            }
            c.mounts
                .push((prefix.to_owned(), transport::boxed(transport)));
            Ok(())
        })
    }

    /// Adds a tower layer that runs once per logical request, outside the
    /// redirect handling. The first layer added is the outermost.
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: crate::transport::HttpService,
    {
        self.with(|c| {
            c.outer_layers.push(box_layer(layer));
            Ok(())
        })
    }

    /// Adds a tower layer that runs for every hop of a redirect chain (and
    /// for the one hop of a request that is not redirected). The first layer
    /// added is the outermost of the per-hop layers.
    pub fn hop_layer<L>(self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: crate::transport::HttpService,
    {
        self.with(|c| {
            c.hop_layers.push(box_layer(layer));
            Ok(())
        })
    }

    /// Retries requests as `policy` decides (see [`retry`](crate::retry)):
    /// the innermost per-hop step, just above the cookie store, so each
    /// attempt sends the cookies known when it starts. The facade's
    /// `SessionBuilder::retry` sets `session-retry`'s policy here. A later
    /// call replaces the policy.
    ///
    /// The session drives the attempts of the first hops it sends itself
    /// when it can, and otherwise retries through the policy's layer; see
    /// [`retry`](crate::retry#who-sends-the-attempts) for when. Each attempt
    /// sends the same request either way.
    pub fn retry_policy(self, policy: impl RetryPolicy) -> Self {
        self.with(|c| {
            c.retry = Some(Arc::new(policy));
            Ok(())
        })
    }

    /// Adds a [`Middleware`] that runs once per logical request.
    pub fn middleware<M: Middleware>(self, middleware: M) -> Self {
        self.layer(MiddlewareLayer::new(middleware))
    }

    /// Adds a [`Middleware`] that runs for every redirect hop.
    pub fn hop_middleware<M: Middleware>(self, middleware: M) -> Self {
        self.hop_layer(MiddlewareLayer::new(middleware))
    }

    /// Sets the layer that follows redirects; it sits between the per-request
    /// and the per-hop layers. Redirect crates and the facade call this.
    pub fn redirect_layer<L>(self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: crate::transport::HttpService,
    {
        self.with(|c| {
            c.redirect = Some(box_layer(layer));
            Ok(())
        })
    }

    /// The most bytes `Response::bytes`, `text` and `json` read into memory
    /// (default [`DEFAULT_MAX_BODY_SIZE`]); stream larger bodies with `chunk`.
    pub fn max_body_size(self, bytes: usize) -> Self {
        self.with(|c| {
            c.max_body = bytes;
            Ok(())
        })
    }

    /// Keeps cookies in `store`: every request that reaches a transport is
    /// sent the store's cookies, and every response's `Set-Cookie` headers
    /// are stored (see [`cookies`](crate::cookies)). The facade's session
    /// sets its jar here.
    pub fn cookie_store(self, store: impl CookieStore) -> Self {
        self.with(|c| {
            c.cookies = Some(SharedStore::new(store));
            Ok(())
        })
    }

    /// Runs `hook` when [`Session::close`] is called (to save state).
    pub fn on_close<F>(self, hook: F) -> Self
    where
        F: Fn() -> CloseFuture + Send + Sync + 'static,
    {
        self.with(|c| {
            c.close_hooks.push(Box::new(hook));
            Ok(())
        })
    }

    /// Builds the session.
    ///
    /// # Errors
    /// The first setter that failed, or no transport and no mount at all.
    pub fn build(self) -> Result<Session> {
        let Config {
            error,
            defaults,
            transport,
            mut mounts,
            outer_layers,
            redirect,
            redirects,
            auth,
            hop_layers,
            retry,
            cookies,
            max_body,
            close_hooks,
        } = self.config;
        if let Some(err) = error {
            return Err(err);
        }
        if let Some(transport) = transport {
            mounts.insert(0, ("https://".to_owned(), transport.clone()));
            mounts.insert(0, ("http://".to_owned(), transport));
        }
        if mounts.is_empty() {
            return Err(Error::builder(
                "a session needs a transport: call `transport` or `mount`",
            ));
        }
        let plain_router = std::sync::Arc::new(Router::new(mounts, cookies));
        let router = BoxTransport::from_shared(plain_router.clone());
        let mut stack = match &retry {
            Some(policy) => policy.layer(router.clone()).unwrap_or_else(|| {
                BoxTransport::from_erased(PolicyHops::new(router.clone(), policy.clone()))
            }),
            None => router.clone(),
        };
        let plain_hops = hop_layers.is_empty();
        for layer in hop_layers.into_iter().rev() {
            stack = layer(stack);
        }
        // The built-in redirect and auth layers compose without a box between
        // them: one erased service for both.
        let mut direct = None;
        stack = match redirect {
            Some(redirect) => redirect(transport::boxed(tower_layer::Layer::layer(&auth, stack))),
            None => {
                let built =
                    tower_layer::Layer::layer(&redirects, tower_layer::Layer::layer(&auth, stack));
                direct = Some(built.clone());
                BoxTransport::from_erased(built)
            }
        };
        if !outer_layers.is_empty() {
            // Requests must cross the outer layers first.
            direct = None;
        }
        for layer in outer_layers.into_iter().rev() {
            stack = layer(stack);
        }
        // The session sends its first hops straight to the router when
        // nothing stands between the auth service and the router, and the
        // auth service has no step of its own to run once per hop (above the
        // retries): then a hop, and each attempt of it, is the same request
        // either way. Only then does it drive the retries too.
        let plain = (direct.is_some() && plain_hops && !auth.has_steps()).then_some(plain_router);
        let retries = retry.filter(|_| plain.is_some());
        Ok(Session::from_shared(Shared {
            defaults: ArcSwap::from_pointee(defaults),
            stack,
            direct,
            plain,
            retries,
            max_body,
            close_hooks,
        }))
    }
}

fn box_layer<L>(layer: L) -> BoxLayer
where
    L: tower_layer::Layer<BoxTransport> + Send + 'static,
    L::Service: crate::transport::HttpService,
{
    Box::new(move |inner| transport::boxed(layer.layer(inner)))
}
