//! The facade's [`SessionBuilder`]: the core builder's settings, plus the
//! transport's, wired into the default stack by [`build`](SessionBuilder::build).

use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use session_core::middleware::Middleware;
#[cfg(any(
    feature = "hyper",
    feature = "cookies",
    feature = "retry",
    feature = "budget"
))]
use session_core::Error;
#[cfg(feature = "cache")]
use session_core::{transport::HttpService, Router};
use session_core::{BoxTransport, CloseFuture, Result};

use crate::session::Session;

/// Builds a [`Session`]: every setting of [`session_core::SessionBuilder`]
/// plus the hyper transport's. Setters take and return the builder; a setter
/// that fails keeps its error for [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
///
/// let session = http_session::Session::builder()
///     .user_agent("MyApp/1.0")
///     .bearer_auth("secret")
///     .timeout(Duration::from_secs(5))
///     .connect_timeout(Duration::from_secs(2))
///     .build()
///     .unwrap();
/// # let _ = session;
/// ```
#[must_use]
#[derive(Debug)]
pub struct SessionBuilder {
    core: session_core::SessionBuilder,
    custom_transport: bool,
    #[cfg(feature = "hyper")]
    hyper: session_hyper::HyperTransportBuilder,
    #[cfg(feature = "cookies")]
    cookies: CookieSettings,
    #[cfg(feature = "retry")]
    retry: Option<session_retry::Retry>,
    #[cfg(feature = "budget")]
    budget: Option<(session_budget::Budget, session_budget::Backend)>,
    #[cfg(feature = "cache")]
    cache: Option<session_cache::Cache>,
    #[cfg(feature = "cookies")]
    state: StateSettings,
}

/// The session file, what it loaded, and the auth it cannot read back from
/// the defaults.
#[cfg(feature = "cookies")]
#[derive(Debug, Default)]
struct StateSettings {
    file: Option<crate::state::StateFile>,
    loaded: Option<crate::state::Loaded>,
    auth: crate::state::AuthRecord,
}

/// What the session does with cookies.
#[cfg(feature = "cookies")]
#[derive(Debug)]
struct CookieSettings {
    enabled: bool,
    jar: Option<session_cookies::Jar>,
    file: Option<CookieFile>,
    #[cfg(feature = "redis")]
    redis: Option<session_cookies::RedisJar>,
}

/// A file the jar is loaded from at build and saved to at close.
#[cfg(feature = "cookies")]
#[derive(Debug, Clone)]
struct CookieFile {
    path: std::path::PathBuf,
    format: session_cookies::persist::Format,
    include_session: bool,
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder::new()
    }
}

macro_rules! forward_core {
    ($( $(#[$doc:meta])* fn $name:ident $(<$($g:ident),*>)? ($($arg:ident: $ty:ty),*) $(where [$($w:tt)*])? );* $(;)?) => {
        $(
            $(#[$doc])*
            pub fn $name $(<$($g),*>)? (mut self, $($arg: $ty),*) -> Self $(where $($w)*)? {
                self.core = self.core.$name($($arg),*);
                self
            }
        )*
    };
}

#[cfg(feature = "hyper")]
macro_rules! forward_hyper {
    ($( $(#[$doc:meta])* fn $name:ident ($($arg:ident: $ty:ty),*) );* $(;)?) => {
        $(
            $(#[$doc])*
            #[doc = ""]
            #[doc = "A transport setting: it has no effect when `transport` replaces the hyper transport."]
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                self.hyper = self.hyper.$name($($arg),*);
                self
            }
        )*
    };
}

impl SessionBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        SessionBuilder {
            core: session_core::SessionBuilder::new(),
            custom_transport: false,
            #[cfg(feature = "hyper")]
            hyper: session_hyper::HyperTransport::builder(),
            #[cfg(feature = "cookies")]
            cookies: CookieSettings {
                enabled: true,
                jar: None,
                file: None,
                #[cfg(feature = "redis")]
                redis: None,
            },
            #[cfg(feature = "retry")]
            retry: None,
            #[cfg(feature = "budget")]
            budget: None,
            #[cfg(feature = "cache")]
            cache: None,
            #[cfg(feature = "cookies")]
            state: StateSettings::default(),
        }
    }

    /// Notes the auth a session file would save (see [`crate::state`]).
    #[cfg_attr(not(feature = "cookies"), allow(unused_variables))]
    fn record_auth(&mut self, record: impl FnOnce() -> AuthRecordOf) {
        #[cfg(feature = "cookies")]
        {
            self.state.auth = record();
        }
    }

    /// HTTP Basic auth on every request.
    pub fn basic_auth(mut self, username: &str, password: Option<&str>) -> Self {
        self.record_auth(AuthRecordOf::default);
        self.core = self.core.basic_auth(username, password);
        self
    }

    /// Bearer auth on every request.
    pub fn bearer_auth(mut self, token: &str) -> Self {
        self.record_auth(AuthRecordOf::default);
        self.core = self.core.bearer_auth(token);
        self
    }

    /// An auth scheme (Digest or your own) for every request (see
    /// [`session_core::auth`]). A session file cannot save your own scheme.
    pub fn auth<A: session_core::auth::Auth>(mut self, scheme: A) -> Self {
        self.record_auth(|| other_auth("an auth scheme of your own"));
        self.core = self.core.auth(scheme);
        self
    }

    /// HTTP Digest auth (RFC 7616) on every request.
    pub fn digest_auth(mut self, username: &str, password: &str) -> Self {
        self.record_auth(|| digest_auth_record(username, password));
        self.core = self.core.digest_auth(username, password);
        self
    }

    /// Reads credentials by host from `$NETRC`, else `~/.netrc`.
    pub fn netrc(mut self) -> Self {
        self.record_auth(|| other_auth("credentials from .netrc"));
        self.core = self.core.netrc();
        self
    }

    /// Reads credentials by host from this `.netrc` file.
    pub fn netrc_path<P: AsRef<std::path::Path>>(mut self, path: P) -> Self {
        self.record_auth(|| other_auth("credentials from .netrc"));
        self.core = self.core.netrc_path(path);
        self
    }

    /// Loads a session file here in the chain, and saves to it on
    /// [`Session::close`] (see [`crate::state`]): the file's headers, query
    /// parameters, base URL and auth replace what the setters before this
    /// one set; setters after it replace the file's. Its cookies go into the
    /// session's jar at [`build`](Self::build). A missing file is a new
    /// session; a file that cannot be used makes `build` fail with a
    /// [`StateError`](crate::state::StateError).
    ///
    /// ```
    /// use http_session::state::StateFile;
    ///
    /// let path = std::env::temp_dir().join("http-session-doc-state-file-missing.json");
    /// let session = http_session::Session::builder()
    ///     .state_file(StateFile::httpie(&path).save_on_close(false))
    ///     .build()
    ///     .unwrap();
    /// assert!(session.loaded_state().is_none()); // no file yet
    /// ```
    #[cfg(feature = "cookies")]
    pub fn state_file(mut self, file: crate::state::StateFile) -> Self {
        match file.read() {
            Err(err) => self.core = self.core.update(move |_| Err(Error::builder(err))),
            Ok(None) => {}
            Ok(Some((state, mut report))) => {
                self.core = self.core.update(|d| {
                    state.apply_defaults(d, &mut report);
                    Ok(())
                });
                self = match &state.auth {
                    None => self,
                    Some(crate::state::Credentials::Basic { username, password }) => {
                        self.basic_auth(username, password.as_deref())
                    }
                    Some(crate::state::Credentials::Bearer { token }) => self.bearer_auth(token),
                    Some(crate::state::Credentials::Digest { username, password }) => {
                        self.digest_auth(username, password)
                    }
                };
                self.state.loaded = Some(crate::state::Loaded {
                    cookies: state.cookies,
                    report,
                });
            }
        }
        self.state.file = Some(file);
        self
    }

    /// Keeps cookies (default: on). Off, no jar is made and `Set-Cookie` is
    /// ignored; a per-request `cookie(..)` is still sent.
    #[cfg(feature = "cookies")]
    pub fn cookie_store(mut self, enabled: bool) -> Self {
        self.cookies.enabled = enabled;
        self
    }

    /// Uses this jar (share one jar between sessions by passing clones).
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(mut self, jar: session_cookies::Jar) -> Self {
        self.cookies.enabled = true;
        self.cookies.jar = Some(jar);
        self
    }

    /// Keeps cookies in Redis, in a jar that every process using the same
    /// server and prefix shares ([`session_cookies::RedisJar`]): one
    /// worker's login is every worker's, and concurrent `Set-Cookie` from
    /// different workers never overwrite each other. It replaces the local
    /// jar ([`Session::cookies`] is then `None`); a cookie file cannot be
    /// used with it (`build` fails).
    ///
    /// When Redis cannot be read before a request or written after its
    /// response, the request fails: the `session_cookies::Error` in its
    /// chain says so ([`is_unavailable`](session_cookies::Error::is_unavailable)).
    ///
    /// ```no_run
    /// use http_session::cookies::RedisJar;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let jar = RedisJar::builder("redis://127.0.0.1:6379/")?.prefix("crawler:cookies").build();
    /// let session = http_session::Session::builder().redis_cookie_jar(jar).build()?;
    /// # let _ = session; Ok(()) }
    /// ```
    #[cfg(feature = "redis")]
    pub fn redis_cookie_jar(mut self, jar: session_cookies::RedisJar) -> Self {
        self.cookies.enabled = true;
        self.cookies.redis = Some(jar);
        self
    }

    /// Loads the jar from `path` when the session is built (a missing file
    /// is an empty jar) and saves it there, atomically, on
    /// [`Session::close`]. Session cookies are saved only when
    /// `include_session` is true.
    #[cfg(feature = "cookies")]
    pub fn cookie_file(
        mut self,
        path: impl Into<std::path::PathBuf>,
        format: session_cookies::persist::Format,
        include_session: bool,
    ) -> Self {
        self.cookies.enabled = true;
        self.cookies.file = Some(CookieFile {
            path: path.into(),
            format,
            include_session,
        });
        self
    }

    /// Retries with urllib3's semantics on every hop (off by default: only
    /// the transparent resend of a request that never left the client).
    /// The retry layer goes around the cookie jar, just above the mount
    /// router: each attempt is sent the cookies known when it starts, and a
    /// retried response's `Set-Cookie` is stored.
    ///
    /// ```
    /// use http_session::retry::Retry;
    ///
    /// let session = http_session::Session::builder()
    ///     .retry(Retry::new().total(3).backoff_factor(0.1).status_forcelist([500, 502, 503, 504]))
    ///     .build()
    ///     .unwrap();
    /// # let _ = session;
    /// ```
    #[cfg(feature = "retry")]
    pub fn retry(mut self, retry: session_retry::Retry) -> Self {
        self.retry = Some(retry);
        self
    }

    /// A per-host politeness budget (rate and concurrency; see
    /// [`crate::budget`]), kept in `backend`: a
    /// [`MemoryBudget`](session_budget::MemoryBudget) for this process, or a
    /// `RedisBudget` (feature `budget-redis`) shared by every process using
    /// the same Redis. It sits below the retries, so each attempt is
    /// counted, and waits as long as the budget says before each request;
    /// a `429` (or `Retry-After` on a `429`/`503`) pauses the host for
    /// everyone sharing the backend. Share one budget between sessions by
    /// passing clones of one backend. A bad setting makes
    /// [`build`](Self::build) fail.
    ///
    /// ```
    /// use std::time::Duration;
    /// use http_session::budget::{Budget, Limits, MemoryBudget};
    ///
    /// let budget = Budget::new()
    ///     .default_limits(Limits::new().rate(5, Duration::from_secs(1), 1).max_concurrent(2));
    /// let session = http_session::Session::builder()
    ///     .budget(budget, MemoryBudget::new())
    ///     .build()
    ///     .unwrap();
    /// # let _ = session;
    /// ```
    #[cfg(feature = "budget")]
    pub fn budget(
        mut self,
        budget: session_budget::Budget,
        backend: impl Into<session_budget::Backend>,
    ) -> Self {
        self.budget = Some((budget, backend.into()));
        self
    }

    /// Caches responses (RFC 9111; off by default): see [`crate::cache`].
    /// The cache sits below the redirects (each hop is cached on its own)
    /// and above the retries and the cookie jar (a hit makes no attempt; a
    /// cached `Set-Cookie` is not applied to the jar again, and the cache is
    /// told the `Cookie` header the jar will add).
    ///
    /// ```
    /// use http_session::cache::Cache;
    ///
    /// let session = http_session::Session::builder()
    ///     .cache(Cache::private())
    ///     .build()
    ///     .unwrap();
    /// # let _ = session;
    /// ```
    #[cfg(feature = "cache")]
    pub fn cache(mut self, cache: session_cache::Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    forward_core! {
        /// Adds a default header (see [`session_core::defaults`] for the merge rules).
        fn header<K, V>(name: K, value: V)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
            HeaderValue: TryFrom<V>,
            <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
        ];
        /// Adds default headers.
        fn headers(headers: HeaderMap);
        /// Removes a default header (`User-Agent`, `Accept`).
        fn without_default_header<K>(name: K)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        ];
        /// Sets the default `User-Agent`.
        fn user_agent<V>(value: V)
        where [
            HeaderValue: TryFrom<V>,
            <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
        ];
        /// Adds default query parameters.
        fn query<T>(query: &T) where [T: serde::Serialize + ?Sized];
        /// A default timeout per request, body included.
        fn timeout(timeout: Duration);
        /// The base URL for relative request URLs.
        fn base_url(base: &str);
        /// The most bytes `bytes`, `text` and `json` read into memory.
        fn max_body_size(bytes: usize);
        /// Adds a middleware that runs once per logical request.
        fn middleware<M>(middleware: M) where [M: Middleware];
        /// Adds a middleware that runs for every redirect hop.
        fn hop_middleware<M>(middleware: M) where [M: Middleware];
        /// Runs `hook` when the session is closed.
        fn on_close<F>(hook: F) where [F: Fn() -> CloseFuture + Send + Sync + 'static];
        /// The most redirects a request follows (default 30; see [`session_core::redirect`]).
        fn max_redirects(max: usize);
        /// The most bytes of response heads a redirect chain keeps (default 256 KiB).
        fn max_history_bytes(bytes: usize);
        /// Returns redirect responses instead of following them.
        fn no_redirects();
        /// Decides which redirects are followed, and may edit each next request.
        fn redirect_policy<P>(policy: P)
        where [P: session_core::redirect::Policy + Clone + Send + Sync + 'static];
        /// Refuses `http://` URLs: the first request and every redirect target.
        fn https_only(https_only: bool);
        /// Treats a header as a credential, removed when a redirect changes origin.
        fn sensitive_header<K>(name: K)
        where [
            HeaderName: TryFrom<K>,
            <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        ];
    }

    /// Adds a tower layer that runs once per logical request (see the stack
    /// in [`session_core`]).
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: session_core::transport::HttpService,
    {
        self.core = self.core.layer(layer);
        self
    }

    /// Adds a tower layer that runs for every redirect hop.
    pub fn hop_layer<L>(mut self, layer: L) -> Self
    where
        L: tower_layer::Layer<BoxTransport> + Send + 'static,
        L::Service: session_core::transport::HttpService,
    {
        self.core = self.core.hop_layer(layer);
        self
    }

    /// Replaces the hyper transport for `http://` and `https://` (with a
    /// [`MockTransport`](session_core::mock::MockTransport) in tests, say).
    pub fn transport<S>(mut self, transport: S) -> Self
    where
        S: session_core::transport::HttpService,
    {
        self.custom_transport = true;
        self.core = self.core.transport(BoxTransport::new(transport));
        self
    }

    /// Mounts a transport for URLs starting with `prefix` (longest prefix
    /// wins; see [`session_core::SessionBuilder::mount`]).
    pub fn mount<S>(mut self, prefix: &str, transport: S) -> Self
    where
        S: session_core::transport::HttpService,
    {
        self.core = self.core.mount(prefix, transport);
        self
    }

    #[cfg(feature = "hyper")]
    forward_hyper! {
        /// Sends `host` to `addr` instead of resolving it (curl's `--resolve`).
        fn resolve(host: &str, addr: std::net::SocketAddr);
        /// Sends `host` to `addrs` instead of resolving it; with no address
        /// the name does not resolve (`is_dns()`), without asking a resolver.
        fn resolve_to_addrs(host: &str, addrs: &[std::net::SocketAddr]);
        /// Limits how long connecting (TCP and TLS) may take.
        fn connect_timeout(timeout: Duration);
        /// How long an idle pooled connection is kept (`None`: forever).
        fn pool_idle_timeout(timeout: Option<Duration>);
        /// The most idle connections kept per host.
        fn pool_max_idle_per_host(max: usize);
        /// Speaks HTTP/2 without negotiation, also over plain TCP (`h2c`).
        fn http2_prior_knowledge();
        /// Never negotiates HTTP/2.
        fn http1_only();
        /// Trusts the bundled Mozilla roots (default: on).
        fn tls_built_in_roots(enabled: bool);
        /// Trusts the certificates of a PEM bundle as extra roots.
        fn add_root_certificate_pem(pem: &[u8]);
        /// Presents a client certificate (mTLS): PEM chain and PEM key.
        fn identity_pem(cert_chain: &[u8], key: &[u8]);
        /// Accepts TLS 1.3 only.
        fn tls_min_version_1_3();
        /// Sends this name in SNI and verifies certificates for it, instead of each URL's host.
        fn tls_server_name(name: &str);
        /// URLs matching `key` connect directly (requests' `proxies={key: None}`).
        fn direct(key: &str);
        /// **Dangerous**: accepts any server certificate. Tests only.
        fn danger_accept_invalid_certs(accept: bool);
        /// Sends URLs matching `key` (`http`, `https`, `all`, optionally `://host`) through the proxy at `url`.
        fn proxy(key: &str, url: &str);
        /// Hosts reached directly, comma-separated (`localhost, .corp.test, 10.0.0.0/8`).
        fn no_proxy(list: &str);
        /// Reads proxy variables and `SSL_CERT_FILE` from the environment (default: on).
        fn trust_env(trust: bool);
        /// The longest wait for the response head or between two body reads.
        fn read_timeout(timeout: Duration);
        /// The most connections open at once per host; more requests queue.
        fn pool_max_connections_per_host(max: usize);
        /// How long a request waits for a connection under the per-host cap.
        fn pool_wait_timeout(timeout: Duration);
        /// Trusts the certificates of a PEM file as extra roots.
        fn add_root_certificate_file(path: &std::path::Path);
        /// The oldest TLS version accepted (default: TLS 1.2).
        fn tls_min_version(version: session_hyper::TlsVersion);
        /// Sends `Accept-Encoding` and decodes gzip, deflate, br, zstd (default: on).
        fn decompress(enabled: bool);
        /// The largest response head accepted, in bytes.
        fn max_response_header_size(bytes: usize);
        /// The most bytes a response body may have on the wire.
        fn max_response_body_size(bytes: u64);
        /// The most bytes a body may decompress to (a bomb is an error).
        fn max_decompressed_size(bytes: u64);
    }

    /// Builds the session: the core stack (see [`session_core`]'s "The
    /// stack") with the hyper transport mounted for `http://` and
    /// `https://`, and around the mount router, as concrete tower layers,
    /// the cookie jar (`session_cookies::CookieLayer`, innermost: every
    /// attempt is sent the cookies known when it starts, and every answer's
    /// `Set-Cookie` is stored) and the retries (`session_retry::RetryLayer`,
    /// the one retry loop), each present only when turned on.
    ///
    /// # Errors
    /// The first setter that failed.
    pub fn build(#[allow(unused_mut)] mut self) -> Result<Session> {
        #[cfg(feature = "redis")]
        let redis = match (self.cookies.enabled, self.cookies.redis.take()) {
            (true, Some(_)) if self.cookies.file.is_some() => {
                return Err(Error::builder(
                    "a cookie file cannot be used with a Redis cookie jar",
                ))
            }
            (true, Some(redis)) => {
                self.cookies.enabled = false; // no local jar
                Some(redis)
            }
            _ => None,
        };
        #[cfg(feature = "redis")]
        let shared_jar = redis.is_some();
        #[cfg(all(feature = "cookies", not(feature = "redis")))]
        let shared_jar = false;
        #[cfg(feature = "cookies")]
        let (jar, cookie_file) = {
            let settings = self.cookies;
            let jar = settings.enabled.then(|| settings.jar.unwrap_or_default());
            (jar, settings.file)
        };
        let stack = Stack {
            #[cfg(feature = "cookies")]
            jar: jar.clone(),
            #[cfg(feature = "cookies")]
            cookie_file,
            #[cfg(feature = "redis")]
            redis,
            #[cfg(feature = "retry")]
            retry: self.retry,
            #[cfg(feature = "budget")]
            budget: self.budget,
            #[cfg(feature = "cache")]
            cache: self.cache,
        };
        #[cfg(feature = "hyper")]
        let (core, transport) = if self.custom_transport {
            (stack.finish(self.core)?, None)
        } else {
            let transport = self.hyper.build().map_err(Error::builder)?;
            // Kept as its own type in the router: no box per request.
            let core = stack.finish(self.core.transport(transport.clone()))?;
            (core, Some(transport))
        };
        #[cfg(not(feature = "hyper"))]
        let core = {
            let _ = self.custom_transport;
            stack.finish(self.core)?
        };
        #[cfg(feature = "cookies")]
        let state = {
            let settings = self.state;
            let loaded = settings
                .loaded
                .map(|l| restore_cookies(jar.as_ref(), shared_jar, l));
            std::sync::Arc::new(crate::state::Binding {
                file: settings.file,
                loaded,
                auth: settings.auth,
            })
        };
        Ok(Session {
            core,
            #[cfg(feature = "hyper")]
            transport,
            #[cfg(feature = "cookies")]
            jar,
            #[cfg(feature = "cookies")]
            state,
        })
    }

    /// Builds a [`blocking::Session`](crate::blocking::Session): this session,
    /// driven by a runtime on a background thread that it starts.
    ///
    /// # Errors
    /// As [`build`](Self::build), or the OS cannot start the runtime's thread.
    #[cfg(feature = "blocking")]
    pub fn build_blocking(self) -> Result<crate::blocking::Session> {
        crate::blocking::Session::from_builder(self)
    }
}

/// What the facade puts around the router of any transport: the cookie jar
/// and the retries.
struct Stack {
    #[cfg(feature = "cookies")]
    jar: Option<session_cookies::Jar>,
    #[cfg(feature = "cookies")]
    cookie_file: Option<CookieFile>,
    #[cfg(feature = "redis")]
    redis: Option<session_cookies::RedisJar>,
    #[cfg(feature = "retry")]
    retry: Option<session_retry::Retry>,
    #[cfg(feature = "budget")]
    budget: Option<(session_budget::Budget, session_budget::Backend)>,
    #[cfg(feature = "cache")]
    cache: Option<session_cache::Cache>,
}

impl Stack {
    /// Puts the jar (innermost), the politeness budget and the retries
    /// around the router, as concrete layers, and builds the session.
    fn finish<T>(
        self,
        core: session_core::SessionBuilder<tower_layer::Identity, T>,
    ) -> Result<session_core::Session>
    where
        T: session_core::transport::HttpService,
    {
        #[cfg(feature = "cache")]
        let cache = {
            #[cfg(feature = "cookies")]
            let cache = cache_sees_jar(self.cache, self.jar.as_ref());
            #[cfg(not(feature = "cookies"))]
            let cache = self.cache;
            cache
        };
        #[cfg(feature = "cookies")]
        let core = {
            let mut core = core;
            if let (Some(jar), Some(file)) = (&self.jar, self.cookie_file) {
                core = with_cookie_file(core, jar, file)?;
            }
            let layer = self.jar.map(session_cookies::CookieLayer::new);
            core.router_layer(tower::util::option_layer(layer))
        };
        // A shared jar instead of the local one (at most one of the two).
        #[cfg(feature = "redis")]
        let core = core.router_layer(tower::util::option_layer(
            self.redis.map(session_cookies::CookieLayer::with_store),
        ));
        // The budget, between the jar and the retries: each attempt is
        // counted. Always a layer: a host without limits passes through it.
        #[cfg(feature = "budget")]
        let core = {
            let (budget, backend) = self.budget.unwrap_or_default();
            let layer =
                session_budget::BudgetLayer::new(budget, backend).map_err(Error::builder)?;
            core.router_layer(layer)
        };
        // Retries are a layer of the stack only when asked for: the stack is
        // built with what the session was configured with.
        #[cfg(feature = "retry")]
        if let Some(retry) = self.retry {
            let layer = session_retry::RetryLayer::new(retry).map_err(Error::builder)?;
            #[cfg(feature = "cache")]
            return with_cache(core.router_layer(layer), cache);
            #[cfg(not(feature = "cache"))]
            return core.router_layer(layer).build();
        }
        #[cfg(feature = "cache")]
        return with_cache(core, cache);
        #[cfg(not(feature = "cache"))]
        core.build()
    }
}

/// The cache above the retries (the outermost router layer), when asked
/// for; its body is the session's `Body` again (unwrapped, not boxed, when
/// the cache let the origin's body through).
#[cfg(feature = "cache")]
fn with_cache<L, T>(
    core: session_core::SessionBuilder<L, T>,
    cache: Option<session_cache::Cache>,
) -> Result<session_core::Session>
where
    T: HttpService,
    L: tower_layer::Layer<Router<T>>,
    L::Service: HttpService,
{
    let Some(cache) = cache else {
        return core.build();
    };
    type CacheResponse = http::Response<session_cache::CacheBody<session_core::Body>>;
    let to_body: fn(CacheResponse) -> http::Response<session_core::Body> =
        |res| res.map(session_core::Body::from);
    core.router_layer(session_cache::CacheLayer::new(cache))
        .router_layer(tower::util::MapResponseLayer::new(to_body))
        .build()
}

/// Tells the cache which `Cookie` header the jar below it adds.
#[cfg(all(feature = "cache", feature = "cookies"))]
fn cache_sees_jar(
    cache: Option<session_cache::Cache>,
    jar: Option<&session_cookies::Jar>,
) -> Option<session_cache::Cache> {
    let (cache, jar) = match (cache, jar) {
        (Some(cache), Some(jar)) if !cache.has_request_cookies() => (cache, jar.clone()),
        (cache, _) => return cache,
    };
    Some(cache.request_cookies(move |uri| {
        if jar.is_empty() {
            return None;
        }
        let url = session_core::Url::parse(&uri.to_string()).ok()?;
        jar.cookie_header(&url)
    }))
}

/// Loads the jar now, and saves it when the session closes.
#[cfg(feature = "cookies")]
fn with_cookie_file<T>(
    core: session_core::SessionBuilder<tower_layer::Identity, T>,
    jar: &session_cookies::Jar,
    file: CookieFile,
) -> Result<session_core::SessionBuilder<tower_layer::Identity, T>> {
    if file.path.exists() {
        jar.load(&file.path, file.format).map_err(Error::builder)?;
    }
    let jar = jar.clone();
    Ok(core.on_close(move || {
        let (jar, file) = (jar.clone(), file.clone());
        Box::pin(async move {
            let options = session_cookies::persist::SaveOptions::new(file.format)
                .include_session(file.include_session);
            // Saving writes and fsyncs a file: keep it off the async workers.
            tokio::task::spawn_blocking(move || jar.save(&file.path, &options))
                .await
                .map_err(Error::body)?
                .map(|_| ())
                .map_err(Error::body)
        })
    }))
}

#[cfg(feature = "cookies")]
type AuthRecordOf = crate::state::AuthRecord;
#[cfg(not(feature = "cookies"))]
type AuthRecordOf = ();

#[cfg(feature = "cookies")]
fn other_auth(what: &'static str) -> AuthRecordOf {
    crate::state::AuthRecord::Other(what)
}
#[cfg(not(feature = "cookies"))]
fn other_auth(_: &'static str) -> AuthRecordOf {}

#[cfg(feature = "cookies")]
fn digest_auth_record(username: &str, password: &str) -> AuthRecordOf {
    crate::state::AuthRecord::Digest {
        username: username.to_owned(),
        password: password.to_owned(),
    }
}
#[cfg(not(feature = "cookies"))]
fn digest_auth_record(_: &str, _: &str) -> AuthRecordOf {}

/// Puts a loaded file's cookies into the jar, one by one so the report can
/// say which were left out and why.
#[cfg(feature = "cookies")]
fn restore_cookies(
    jar: Option<&session_cookies::Jar>,
    shared_jar: bool,
    loaded: crate::state::Loaded,
) -> crate::state::LoadReport {
    use crate::state::Issue;
    let mut report = loaded.report;
    let Some(jar) = jar else {
        if !loaded.cookies.is_empty() {
            let n = loaded.cookies.len();
            let why = if shared_jar {
                "the session's cookies are in a shared Redis jar, which a session file does not write to"
            } else {
                "the session keeps no cookies (cookie_store(false))"
            };
            report
                .issues
                .push(Issue::new("cookies", format!("{n} not loaded: {why}")));
        }
        return report;
    };
    for cookie in loaded.cookies {
        let subject = format!("cookie {} ({})", cookie.name(), cookie.domain());
        let one = jar.restore_cookies([cookie]);
        if one.loaded == 1 {
            report.cookies += 1;
        } else if one.expired == 1 {
            report
                .issues
                .push(Issue::new(subject, "expired: not loaded"));
        } else {
            report.issues.push(Issue::new(
                subject,
                "refused by the jar's rules (public suffix, prefix, size, or a bad domain or path)",
            ));
        }
    }
    report
}
