//! [`SessionBuilder`]: configures and builds a [`Session`].

use std::fmt;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use tower_layer::{Identity, Layer, Stack};
use url::Url;

use crate::auth::{Auth, AuthLayer, Netrc};
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::hops::Hops;
use crate::middleware::{Middleware, MiddlewareLayer};
use crate::mount::Router;
use crate::redirect::{BoxPolicy, Policy, RedirectLayer};
use crate::session::{CloseFuture, Session, Shared};
use crate::transport::{self, BoxTransport, HttpService};

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
///
/// The layers around the mount router (`router_layer`) are part of the
/// builder's type, so the finished stack is made of concrete types and
/// erased once.
#[must_use]
pub struct SessionBuilder<L = Identity, T = BoxTransport> {
    config: Config,
    router_layer: L,
    transport: Option<T>,
}

struct Config {
    error: Option<Error>,
    defaults: Defaults,
    mounts: Vec<(String, BoxTransport)>,
    outer_layers: Vec<BoxLayer>,
    redirect: Option<BoxLayer>,
    redirects: RedirectLayer<BoxPolicy>,
    auth: AuthLayer,
    hop_layers: Vec<BoxLayer>,
    max_body: usize,
    close_hooks: Vec<crate::session::CloseHook>,
}

impl<L, T> fmt::Debug for SessionBuilder<L, T> {
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
                mounts: Vec::new(),
                outer_layers: Vec::new(),
                redirect: None,
                redirects: RedirectLayer::with_policy(BoxPolicy::default()),
                auth: AuthLayer::new(),
                hop_layers: Vec::new(),
                max_body: DEFAULT_MAX_BODY_SIZE,
                close_hooks: Vec::new(),
            },
            router_layer: Identity::new(),
            transport: None,
        }
    }
}

impl<L, T> SessionBuilder<L, T> {
    fn with(mut self, f: impl FnOnce(&mut Config) -> Result<()>) -> Self {
        if self.config.error.is_none() {
            if let Err(err) = f(&mut self.config) {
                self.config.error = Some(err);
            }
        }
        self
    }

    /// Changes the defaults directly, as [`Session::update`] does once the
    /// session is built (the facade's session files restore headers and
    /// query parameters this way).
    ///
    /// ```
    /// # use session_core::{mock::MockTransport, Session};
    /// let session = Session::builder()
    ///     .update(|d| {
    ///         d.query_mut().push(("api-version".into(), "2".into()));
    ///         Ok(())
    ///     })
    ///     .transport(MockTransport::new())
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(session.defaults().query().len(), 1);
    /// ```
    pub fn update(self, f: impl FnOnce(&mut Defaults) -> Result<()>) -> Self {
        self.with(|c| f(&mut c.defaults))
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

    /// Removes a default header (`User-Agent` or `Accept`, say): no request
    /// of the session sends it unless it sets it itself.
    pub fn without_default_header<K>(self, name: K) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        self.with(|c| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            c.defaults.headers.remove(name);
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
    pub fn query<Q: serde::Serialize + ?Sized>(self, query: &Q) -> Self {
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

    /// The most bytes of response heads a redirect chain keeps in its
    /// history (default 256 KiB); see [`crate::redirect`].
    pub fn max_history_bytes(self, bytes: usize) -> Self {
        self.with(|c| {
            c.redirects = c.redirects.clone().max_history_bytes(bytes);
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
    /// on those two prefixes). It is kept as its own type in the stack (no
    /// box per request); a later `mount` of either prefix replaces it there.
    pub fn transport<S>(self, transport: S) -> SessionBuilder<L, S>
    where
        S: HttpService,
    {
        SessionBuilder {
            config: self.config,
            router_layer: self.router_layer,
            transport: Some(transport),
        }
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
    pub fn layer<O>(self, layer: O) -> Self
    where
        O: tower_layer::Layer<BoxTransport> + Send + 'static,
        O::Service: crate::transport::HttpService,
    {
        self.with(|c| {
            c.outer_layers.push(box_layer(layer));
            Ok(())
        })
    }

    /// Adds a tower layer that runs for every hop of a redirect chain (and
    /// for the one hop of a request that is not redirected). The first layer
    /// added is the outermost of the per-hop layers.
    pub fn hop_layer<H>(self, layer: H) -> Self
    where
        H: tower_layer::Layer<BoxTransport> + Send + 'static,
        H::Service: crate::transport::HttpService,
    {
        self.with(|c| {
            c.hop_layers.push(box_layer(layer));
            Ok(())
        })
    }

    /// Adds a tower layer around the mount router: the innermost step of
    /// the stack, below the hop layers, run for every attempt of every hop.
    /// A layer added later wraps the ones added before. The facade puts its
    /// cookie jar (`session_cookies::CookieLayer`) and its retries
    /// (`session_retry::RetryLayer`) here.
    ///
    /// Unlike the other layers, these are kept as concrete types: the stack
    /// they make with the router, the auth and the redirect services is
    /// erased once.
    ///
    /// ```
    /// use session_core::{mock::MockTransport, Session};
    /// use tower::ServiceBuilder;
    ///
    /// // Every attempt carries a header, set next to the transport.
    /// let tag = tower::util::MapRequestLayer::new(|mut req: http::Request<session_core::Body>| {
    ///     req.headers_mut().insert("x-attempt", http::HeaderValue::from_static("1"));
    ///     req
    /// });
    /// let session = Session::builder().transport(MockTransport::new()).router_layer(tag).build()?;
    /// # let _ = session;
    /// # Ok::<(), session_core::Error>(())
    /// ```
    pub fn router_layer<M>(self, layer: M) -> SessionBuilder<Stack<L, M>, T> {
        SessionBuilder {
            config: self.config,
            router_layer: Stack::new(self.router_layer, layer),
            transport: self.transport,
        }
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
    pub fn redirect_layer<R>(self, layer: R) -> Self
    where
        R: tower_layer::Layer<BoxTransport> + Send + 'static,
        R::Service: crate::transport::HttpService,
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

    /// Builds the session: the stack of the [crate docs](crate#the-stack),
    /// built once, from the router up, and erased once (the user's outer
    /// and hop layers, when there are any, are erased where they stand).
    ///
    /// # Errors
    /// The first setter that failed, or no transport and no mount at all.
    pub fn build(self) -> Result<Session>
    where
        T: HttpService,
        L: Layer<Router<T>>,
        L::Service: HttpService,
    {
        let Config {
            error,
            defaults,
            mounts,
            outer_layers,
            redirect,
            redirects,
            auth,
            hop_layers,
            max_body,
            close_hooks,
        } = self.config;
        if let Some(err) = error {
            return Err(err);
        }
        if self.transport.is_none() && mounts.is_empty() {
            return Err(Error::builder(
                "a session needs a transport: call `transport` or `mount`",
            ));
        }
        let attempts = self.router_layer.layer(Router::new(self.transport, mounts));
        let hops = if hop_layers.is_empty() {
            Hops::Stack(attempts)
        } else {
            let mut hops = BoxTransport::new(attempts);
            for layer in hop_layers.into_iter().rev() {
                hops = layer(hops);
            }
            Hops::Layered(hops)
        };
        let signed = auth.layer(hops);
        let mut stack = match redirect {
            None => BoxTransport::shared(redirects.layer(signed)),
            Some(custom) => custom(BoxTransport::new(signed)),
        };
        for layer in outer_layers.into_iter().rev() {
            stack = layer(stack);
        }
        Ok(Session::from_shared(Shared {
            defaults: ArcSwap::from_pointee(defaults),
            stack,
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
