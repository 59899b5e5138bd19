//! Building one request: [`RequestBuilder`].

use std::fmt;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE};
use http::{Method, Version};
use url::Url;

use crate::auth;
use crate::body::Body;
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::pending::Pending;
use crate::session::Session;

/// Something that names a URL: `&str`, `String` or [`Url`]. A string
/// without a scheme is relative and joined to the session's base URL.
pub trait IntoUrl: into_url::Sealed {}

impl IntoUrl for &str {}
impl IntoUrl for String {}
impl IntoUrl for &String {}
impl IntoUrl for Url {}
impl IntoUrl for &Url {}

#[allow(private_interfaces, unreachable_pub)]
mod into_url {
    use super::Target;
    use url::Url;

    pub trait Sealed {
        fn into_target(self) -> Result<Target, url::ParseError>;
    }

    fn parse(s: &str) -> Result<Target, url::ParseError> {
        if let Some(uri) = crate::simple_url::simple_uri(s) {
            return Ok(Target::Simple(uri));
        }
        match Url::parse(s) {
            Ok(url) => Ok(Target::Absolute(url)),
            Err(url::ParseError::RelativeUrlWithoutBase) => Ok(Target::Relative(s.to_owned())),
            Err(err) => Err(err),
        }
    }

    impl Sealed for &str {
        fn into_target(self) -> Result<Target, url::ParseError> {
            parse(self)
        }
    }
    impl Sealed for String {
        fn into_target(self) -> Result<Target, url::ParseError> {
            parse(&self)
        }
    }
    impl Sealed for &String {
        fn into_target(self) -> Result<Target, url::ParseError> {
            parse(self)
        }
    }
    impl Sealed for Url {
        fn into_target(self) -> Result<Target, url::ParseError> {
            Ok(Target::Absolute(self))
        }
    }
    impl Sealed for &Url {
        fn into_target(self) -> Result<Target, url::ParseError> {
            Ok(Target::Absolute(self.clone()))
        }
    }
}

pub(crate) enum Target {
    /// A URL `url` would not rewrite, kept as the `Uri` it will be sent as.
    Simple(http::Uri),
    Absolute(Url),
    Relative(String),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Simple(uri) => write!(f, "{uri}"),
            Target::Absolute(url) => write!(f, "{}", crate::error::redacted(url)),
            // A relative URL has no userinfo of its own.
            Target::Relative(s) => write!(f, "{s}"),
        }
    }
}

pub(crate) fn into_target(url: impl IntoUrl, raw: impl FnOnce() -> String) -> Result<Target> {
    url.into_target().map_err(|err| {
        Error::builder(InvalidUrl {
            url: raw(),
            source: err,
        })
    })
}

/// A URL could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid URL {url:?}")]
pub struct InvalidUrl {
    url: String,
    #[source]
    source: url::ParseError,
}

/// A request being built, before the session's defaults are merged in.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) method: Method,
    pub(crate) target: Target,
    pub(crate) headers: HeaderMap,
    pub(crate) removed: Vec<HeaderName>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) version: Option<Version>,
    pub(crate) extensions: http::Extensions,
}

/// A request with the session's defaults merged in, ready for the stack.
pub(crate) struct Prepared {
    pub(crate) request: http::Request<Body>,
    /// The parsed URL, unless the request took the simple-URL fast path.
    /// Boxed, as a [`LazyUrl`](crate::simple_url::LazyUrl) keeps it.
    pub(crate) url: Option<Box<Url>>,
    pub(crate) timeout: Option<Duration>,
}

impl Draft {
    pub(crate) fn new(method: Method, target: Target) -> Self {
        Draft {
            method,
            target,
            headers: HeaderMap::new(),
            removed: Vec::new(),
            query: Vec::new(),
            body: None,
            timeout: None,
            version: None,
            extensions: http::Extensions::new(),
        }
    }

    /// Applies a snapshot of the session's defaults (see [`crate::defaults`]).
    #[inline]
    pub(crate) fn prepare(self, defaults: &Defaults) -> Result<Prepared> {
        let needs_query = !self.query.is_empty() || !defaults.query.is_empty();
        let (uri, url) = match self.target {
            Target::Simple(uri) if !needs_query => (uri, None),
            target => {
                let mut url = match target {
                    Target::Absolute(url) => url,
                    Target::Relative(relative) => defaults.resolve(&relative)?,
                    Target::Simple(uri) => Url::parse(&uri.to_string()).map_err(Error::builder)?,
                };
                defaults.merge_query(&mut url, &self.query);
                let uri = http::Uri::try_from(url.as_str())
                    .map_err(|err| Error::builder(err).with_url(url.clone()))?;
                (uri, Some(Box::new(url)))
            }
        };
        let mut headers = self.headers;
        defaults.merge_headers(&mut headers, &self.removed);
        let mut request = http::Request::new(self.body.unwrap_or_default());
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        if let Some(version) = self.version {
            *request.version_mut() = version;
        }
        *request.extensions_mut() = self.extensions;
        if let Some(fragment) = url.as_deref().and_then(Url::fragment) {
            request
                .extensions_mut()
                .insert(crate::redirect::RequestFragment(fragment.to_owned()));
        }
        Ok(Prepared {
            request,
            url,
            timeout: self.timeout.or(defaults.timeout),
        })
    }
}

/// A request under construction; `send().await` sends it through the session.
///
/// Errors in the builder (a bad header, a body that fails to serialize) are
/// kept and returned by [`send`](Self::send) or [`build`](Self::build).
///
/// ```
/// # use session_core::{mock::MockTransport, Session};
/// # async fn run() -> Result<(), session_core::Error> {
/// # let session = Session::builder().transport(MockTransport::new()).build()?;
/// let response = session
///     .post("http://api.test/items")
///     .header("x-trace", "1")
///     .query(&[("dry_run", "true")])
///     .json(&serde_json::json!({"name": "widget"}))
///     .send()
///     .await?;
/// # let _ = response;
/// # Ok(()) }
/// ```
#[must_use = "a RequestBuilder does nothing until you `send` it"]
pub struct RequestBuilder {
    session: Session,
    draft: Result<Draft>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("draft", &self.draft)
            .finish()
    }
}

impl RequestBuilder {
    pub(crate) fn new(session: Session, draft: Result<Draft>) -> Self {
        RequestBuilder { session, draft }
    }

    fn with(mut self, f: impl FnOnce(&mut Draft) -> Result<()>) -> Self {
        if let Ok(draft) = &mut self.draft {
            if let Err(err) = f(draft) {
                self.draft = Err(err);
            }
        }
        self
    }

    /// Adds a header; it replaces the session's default of the same name.
    /// Call it again with the same name to send several values.
    pub fn header<K, V>(self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.with(|draft| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            let mut value = HeaderValue::try_from(value).map_err(|e| Error::builder(e.into()))?;
            if name == AUTHORIZATION || name == COOKIE {
                value.set_sensitive(true);
            }
            draft.headers.append(name, value);
            Ok(())
        })
    }

    /// Adds every header of a map.
    pub fn headers(self, headers: HeaderMap) -> Self {
        self.with(|draft| {
            let mut last = None;
            for (name, value) in headers {
                let name = match name {
                    Some(name) => {
                        last = Some(name.clone());
                        name
                    }
                    None => last.clone().expect("HeaderMap yields a name first"),
                };
                draft.headers.append(name, value);
            }
            Ok(())
        })
    }

    /// Does not send the session's default header of this name on this
    /// request (requests' `headers={'name': None}`).
    pub fn without_header<K>(self, name: K) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
    {
        self.with(|draft| {
            let name = HeaderName::try_from(name).map_err(|e| Error::builder(e.into()))?;
            draft.removed.push(name);
            Ok(())
        })
    }

    /// Adds query parameters, after the session's (see [`crate::defaults`]).
    ///
    /// Takes anything `serde_urlencoded` serializes: a slice of pairs, a map,
    /// a struct.
    pub fn query<T: serde::Serialize + ?Sized>(self, query: &T) -> Self {
        self.with(|draft| {
            let encoded = serde_urlencoded::to_string(query).map_err(Error::builder)?;
            draft
                .query
                .extend(url::form_urlencoded::parse(encoded.as_bytes()).into_owned());
            Ok(())
        })
    }

    /// Sends the cookie `name=value` with this request only: it is added to
    /// the request's `Cookie` header, and never stored in the session's jar
    /// (requests' `cookies=` argument). A jar cookie of the same name is not
    /// sent next to it.
    ///
    /// # Errors
    /// At `send`: a name that is not an HTTP token, or a value with
    /// characters a cookie cannot carry (controls, space, `"`, `,`, `;`, `\\`).
    pub fn cookie(self, name: &str, value: &str) -> Self {
        self.with(|draft| {
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            let value_ok = value
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b));
            if !name_ok || !value_ok {
                return Err(Error::builder(format!("invalid cookie {name:?}")));
            }
            let pair = format!("{name}={value}");
            let joined = match draft.headers.get(COOKIE).map(|v| v.as_bytes()) {
                Some(existing) if !existing.is_empty() => {
                    let mut joined = existing.to_vec();
                    joined.extend_from_slice(b"; ");
                    joined.extend_from_slice(pair.as_bytes());
                    joined
                }
                _ => pair.into_bytes(),
            };
            let mut value = HeaderValue::from_bytes(&joined).map_err(Error::builder)?;
            value.set_sensitive(true);
            draft.headers.insert(COOKIE, value);
            Ok(())
        })
    }

    /// Sends `Authorization: Basic ...` on this request.
    pub fn basic_auth(self, username: &str, password: Option<&str>) -> Self {
        self.with(|draft| {
            draft
                .headers
                .insert(AUTHORIZATION, auth::basic(username, password));
            Ok(())
        })
    }

    /// Sends `Authorization: Bearer <token>` on this request.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.with(|draft| {
            draft.headers.insert(AUTHORIZATION, auth::bearer(token)?);
            Ok(())
        })
    }

    /// Uses an auth scheme ([`Digest`](crate::auth::Digest) or your own
    /// [`Auth`](crate::auth::Auth)) for this request, instead of the
    /// session's auth; see [`crate::auth`] for the precedence.
    pub fn auth<A: crate::auth::Auth>(self, scheme: A) -> Self {
        self.with(|draft| {
            let scheme: std::sync::Arc<dyn crate::auth::Auth> = std::sync::Arc::new(scheme);
            draft.extensions.insert(auth::RequestAuth(scheme));
            draft.removed.push(AUTHORIZATION);
            Ok(())
        })
    }

    /// HTTP Digest auth for this request: `auth(Digest::new(..))`. The
    /// challenge is not kept for later requests; set Digest on the session
    /// for that.
    pub fn digest_auth(self, username: &str, password: &str) -> Self {
        self.auth(crate::auth::Digest::new(username, password))
    }

    /// The most redirects this request follows, instead of the session's.
    pub fn max_redirects(self, max: usize) -> Self {
        self.redirect_options(|o| o.max_redirects(max))
    }

    /// Whether this request follows redirects. When not, a redirect comes
    /// back as it is, with [`Response::next_request`](crate::Response::next_request) telling where it pointed.
    pub fn follow_redirects(self, follow: bool) -> Self {
        self.redirect_options(|o| o.follow(follow))
    }

    fn redirect_options(
        self,
        f: impl FnOnce(crate::redirect::RedirectOptions) -> crate::redirect::RedirectOptions,
    ) -> Self {
        self.with(|draft| {
            let current = draft
                .extensions
                .get::<crate::redirect::RedirectOptions>()
                .copied()
                .unwrap_or_default();
            draft.extensions.insert(f(current));
            Ok(())
        })
    }

    /// Sets the body (bytes, a string, or a streaming [`Body`]).
    pub fn body(self, body: impl Into<Body>) -> Self {
        self.with(|draft| {
            draft.body = Some(body.into());
            Ok(())
        })
    }

    /// Sends `form` URL-encoded, with `Content-Type:
    /// application/x-www-form-urlencoded` unless a content type is set.
    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.with(|draft| {
            let encoded = serde_urlencoded::to_string(form).map_err(Error::builder)?;
            set_default_content_type(&mut draft.headers, "application/x-www-form-urlencoded");
            draft.body = Some(Body::from(encoded));
            Ok(())
        })
    }

    /// Sends `json` serialized, with `Content-Type: application/json` unless a
    /// content type is set.
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        self.with(|draft| {
            let bytes = serde_json::to_vec(json).map_err(Error::builder)?;
            set_default_content_type(&mut draft.headers, "application/json");
            draft.body = Some(Body::from(bytes));
            Ok(())
        })
    }

    /// A timeout for this request (response head and body), replacing the
    /// session's.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|draft| {
            if timeout.is_zero() {
                return Err(Error::builder(ZeroTimeout));
            }
            draft.timeout = Some(timeout);
            Ok(())
        })
    }

    /// Asks for an HTTP version (the transport decides what it can do).
    pub fn version(self, version: Version) -> Self {
        self.with(|draft| {
            draft.version = Some(version);
            Ok(())
        })
    }

    /// Adds a typed extension that middleware and transports can read.
    pub fn extension<T: Clone + Send + Sync + 'static>(self, value: T) -> Self {
        self.with(|draft| {
            draft.extensions.insert(value);
            Ok(())
        })
    }

    /// Merges the session's defaults and returns the request as the stack
    /// would see it, without sending it.
    ///
    /// # Errors
    /// Whatever went wrong while building.
    pub fn build(self) -> Result<http::Request<Body>> {
        let defaults = self.session.defaults();
        Ok(self.draft?.prepare(&defaults)?.request)
    }

    /// Sends the request and waits for the response head.
    ///
    /// # Errors
    /// A builder error, a transport error, or a timeout; each names the URL.
    #[inline]
    pub fn send(self) -> Pending {
        match self.draft {
            Ok(draft) => self.session.send_draft(draft),
            Err(err) => Pending::failed(err),
        }
    }

    /// A copy of this builder, if its body is replayable.
    pub fn try_clone(&self) -> Option<RequestBuilder> {
        let draft = self.draft.as_ref().ok()?;
        let body = match &draft.body {
            Some(body) => Some(body.try_clone()?),
            None => None,
        };
        let target = match &draft.target {
            Target::Simple(uri) => Target::Simple(uri.clone()),
            Target::Absolute(url) => Target::Absolute(url.clone()),
            Target::Relative(s) => Target::Relative(s.clone()),
        };
        Some(RequestBuilder {
            session: self.session.clone(),
            draft: Ok(Draft {
                method: draft.method.clone(),
                target,
                headers: draft.headers.clone(),
                removed: draft.removed.clone(),
                query: draft.query.clone(),
                body,
                timeout: draft.timeout,
                version: draft.version,
                extensions: draft.extensions.clone(),
            }),
        })
    }
}

fn set_default_content_type(headers: &mut HeaderMap, value: &'static str) {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
    }
}

/// A timeout of zero was given; it would fail every request.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a timeout of zero would fail every request")]
pub struct ZeroTimeout;
