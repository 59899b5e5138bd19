//! Building one request: [`RequestBuilder`].

use std::fmt;
use std::time::Duration;

use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE,
    TRANSFER_ENCODING,
};
use http::{Method, Version};
use url::Url;

use crate::auth;
use crate::body::Body;
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::pending::Pending;
use crate::session::Session;
use crate::target::{Target, TargetUrl};

/// Something that names a URL: `&str`, `String` or [`Url`]. A string
/// without a scheme is relative and joined to the session's base URL.
///
/// A string that is a plain `http` or `https` URL is parsed by `http` and
/// sent as written: no userinfo or fragment, a host that is an IP address or
/// a name of letters, digits, dots and hyphens, and nothing in its path and
/// query that the WHATWG parser would rewrite (dot segments, characters it
/// percent-encodes). Any other string, and every [`Url`], is parsed by the
/// `url` crate and sent as it serializes. Either way the request goes where
/// the WHATWG URL says; the response's `url()` is parsed when asked for.
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

    impl Sealed for &str {
        fn into_target(self) -> Result<Target, url::ParseError> {
            Target::from_text(self)
        }
    }
    impl Sealed for String {
        fn into_target(self) -> Result<Target, url::ParseError> {
            Target::from_text(&self)
        }
    }
    impl Sealed for &String {
        fn into_target(self) -> Result<Target, url::ParseError> {
            self.as_str().into_target()
        }
    }
    impl Sealed for Url {
        fn into_target(self) -> Result<Target, url::ParseError> {
            Ok(Target::Absolute(Box::new(self)))
        }
    }
    impl Sealed for &Url {
        fn into_target(self) -> Result<Target, url::ParseError> {
            Ok(Target::Absolute(Box::new(self.clone())))
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
    pub(crate) body: Option<Body>,
    pub(crate) extensions: http::Extensions,
    /// What most requests do not set, boxed on first use: a builder (moved
    /// from call to call) stays small.
    rare: Option<Box<Rare>>,
}

/// The settings of a [`Draft`] that most requests leave alone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rare {
    removed: Vec<HeaderName>,
    query: Vec<(String, String)>,
    timeout: Option<Duration>,
    version: Option<Version>,
    upload_progress: Option<crate::progress::UploadProgress>,
}

/// A request with the session's defaults merged in, ready for the stack.
pub(crate) struct Prepared {
    pub(crate) request: http::Request<Body>,
    pub(crate) url: TargetUrl,
    pub(crate) timeout: Option<Duration>,
}

impl Draft {
    #[inline]
    pub(crate) fn new(method: Method, target: Target) -> Self {
        Draft {
            method,
            target,
            headers: HeaderMap::new(),
            body: None,
            extensions: http::Extensions::new(),
            rare: None,
        }
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Applies a snapshot of the session's defaults (see [`crate::defaults`]).
    #[inline]
    pub(crate) fn prepare(self, defaults: &Defaults) -> Result<Prepared> {
        let rare = self.rare.as_deref();
        let query = rare.map_or(&[][..], |rare| &rare.query);
        let (uri, url, fragment) = self.target.resolve(query, defaults)?;
        let mut headers = self.headers;
        defaults.merge_headers(&mut headers, rare.map_or(&[], |rare| &rare.removed));
        if self.body.is_none() && matches!(self.method, Method::POST | Method::PUT | Method::PATCH)
        {
            // What requests sends (RFC 9110 §8.6): a method that takes a
            // body says when it has none.
            if !headers.contains_key(CONTENT_LENGTH) && !headers.contains_key(TRANSFER_ENCODING) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
            }
        }
        let mut body = self.body.unwrap_or_default();
        if let Some(progress) = rare.and_then(|rare| rare.upload_progress.as_ref()) {
            let total = body.content_length().or_else(|| {
                headers
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok()?.parse().ok())
            });
            body = body.with_hook(progress.0.clone(), total);
        }
        let mut request = http::Request::new(body);
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        if let Some(version) = rare.and_then(|rare| rare.version) {
            *request.version_mut() = version;
        }
        *request.extensions_mut() = self.extensions;
        if let Some(fragment) = fragment {
            request
                .extensions_mut()
                .insert(crate::redirect::RequestFragment(fragment));
        }
        Ok(Prepared {
            request,
            url,
            timeout: rare.and_then(|rare| rare.timeout).or(defaults.timeout),
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
            draft.rare_mut().removed.push(name);
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
                .rare_mut()
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
            draft.rare_mut().removed.push(AUTHORIZATION);
            Ok(())
        })
    }

    /// Sends this request with no auth of the session's: no default
    /// `Authorization` (Basic or Bearer), no scheme (Digest or your own), no
    /// `.netrc` entry, no credentials from the URL (requests' `auth=None`
    /// for one call). An `Authorization` header set on this request is
    /// still sent.
    pub fn without_auth(self) -> Self {
        self.with(|draft| {
            draft.extensions.insert(auth::NoAuth);
            draft.rare_mut().removed.push(AUTHORIZATION);
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

    /// Sends `form` as `multipart/form-data` (requests' `files=`, with
    /// `data=`): `Content-Type: multipart/form-data; boundary=...`, and a
    /// `Content-Length` when every part's length is known. The body is
    /// replayable (a `307` redirect, a retry) unless a part is a one-shot
    /// stream; files are opened again rather than kept in memory. See
    /// [`crate::multipart`].
    #[cfg(feature = "multipart")]
    #[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
    pub fn multipart(self, form: crate::multipart::Form) -> Self {
        self.with(|draft| {
            let content_type =
                HeaderValue::try_from(form.content_type()).map_err(Error::builder)?;
            draft.headers.insert(CONTENT_TYPE, content_type);
            if let Some(len) = form.content_length() {
                draft.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
            draft.body = Some(form.into_body());
            Ok(())
        })
    }

    /// Reports the upload of the body to `progress`: after each chunk the
    /// transport takes, the bytes sent so far and the total when known (see
    /// [`crate::progress`]). A body sent again (a `307`/`308` redirect, a
    /// retry) counts from zero again.
    ///
    /// ```
    /// # use session_core::{progress::Progress, Session};
    /// # async fn run(session: Session) -> Result<(), session_core::Error> {
    /// session
    ///     .put("http://api.test/upload")
    ///     .body(vec![0u8; 1 << 20])
    ///     .upload_progress(|p: Progress| println!("{} of {:?} bytes sent", p.done, p.total))
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn upload_progress(
        self,
        progress: impl Fn(crate::progress::Progress) + Send + Sync + 'static,
    ) -> Self {
        self.with(|draft| {
            let hook = crate::progress::UploadProgress(std::sync::Arc::new(progress));
            draft.rare_mut().upload_progress = Some(hook);
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
    ///
    /// The text is serde_json's compact form (`{"a":1}`), where requests
    /// writes `{"a": 1}` (with `", "` and `": "` separators): the same JSON
    /// value, which a server must not tell apart. A signature computed over
    /// the body by hand must use the compact form.
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
            draft.rare_mut().timeout = Some(timeout);
            Ok(())
        })
    }

    /// Asks for an HTTP version (the transport decides what it can do).
    pub fn version(self, version: Version) -> Self {
        self.with(|draft| {
            draft.rare_mut().version = Some(version);
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
        let target = draft.target.try_clone();
        Some(RequestBuilder {
            session: self.session.clone(),
            draft: Ok(Draft {
                method: draft.method.clone(),
                target,
                headers: draft.headers.clone(),
                body,
                extensions: draft.extensions.clone(),
                rare: draft.rare.clone(),
            }),
        })
    }
}

/// `builder.await` sends it, as [`send`](RequestBuilder::send) does.
///
/// ```
/// # use session_core::{mock::MockTransport, Session};
/// # async fn run() -> Result<(), session_core::Error> {
/// # let session = Session::builder().transport(MockTransport::new()).build()?;
/// let response = session.get("http://api.test/items").header("x-trace", "1").await?;
/// # let _ = response;
/// # Ok(()) }
/// ```
impl std::future::IntoFuture for RequestBuilder {
    type Output = Result<crate::response::Response>;
    type IntoFuture = Pending;

    fn into_future(self) -> Pending {
        self.send()
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
