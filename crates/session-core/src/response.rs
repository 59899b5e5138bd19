//! A response as the session returns it: [`Response`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, CONTENT_TYPE};
use http::{StatusCode, Version};
use http_body_util::BodyExt;
use tokio::time::Instant;
use url::Url;

use crate::body::Body;
use crate::error::{Error, Result, TimedOut, TimeoutKind};
use crate::target::TargetUrl;
use crate::transport::ConnectionInfo;

/// The response to a request sent through a [`Session`](crate::Session).
///
/// Its body is read once, by [`bytes`](Self::bytes), [`text`](Self::text),
/// [`json`](Self::json), or chunk by chunk with [`chunk`](Self::chunk). Reads
/// into memory are capped by the session's `max_body_size`, and a session or
/// request timeout covers the body too.
pub struct Response {
    inner: http::Response<Body>,
    url: TargetUrl,
    /// When the request was sent and its answer's head arrived (the
    /// difference is only taken when [`elapsed`](Self::elapsed) asks).
    sent: Instant,
    answered: Instant,
    deadline: Option<Instant>,
    max_body: usize,
}

/// The responses a request went through before its answer, oldest first:
/// redirects, and `401` challenges the auth layer answered. The redirect and
/// auth layers put it in the final response's extensions.
#[derive(Debug, Clone, Default)]
pub struct History(pub Vec<HistoryEntry>);

/// One intermediate response of a redirect chain.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// Its status (3xx).
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// The URL it answered.
    pub url: Url,
}

/// The URL that finally answered, after redirects; the redirect layer puts it
/// in the response's extensions.
#[derive(Debug, Clone)]
pub struct FinalUrl(pub Url);

impl Response {
    /// A response answered at `answered` to a request sent at `sent` to
    /// `url`, unless a [`FinalUrl`] extension names the URL that finally
    /// answered (the redirect layer, or a transport, puts one there).
    #[inline]
    pub(crate) fn new(
        mut inner: http::Response<Body>,
        url: TargetUrl,
        (sent, answered): (Instant, Instant),
        deadline: Option<Instant>,
        max_body: usize,
    ) -> Self {
        // Looked up before it is removed: a lookup is a third of a removal,
        // and most responses (no redirect) have none.
        let redirected = inner.extensions().get::<FinalUrl>().is_some();
        let url = match redirected.then(|| inner.extensions_mut().remove::<FinalUrl>()) {
            Some(Some(FinalUrl(url))) => TargetUrl::parsed(Box::new(url)),
            _ => url,
        };
        Response {
            inner,
            url,
            sent,
            answered,
            deadline,
            max_body,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The HTTP version of the response.
    pub fn version(&self) -> Version {
        self.inner.version()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The headers, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.inner.headers_mut()
    }

    /// The URL that answered (after redirects).
    pub fn url(&self) -> &Url {
        self.url.get()
    }

    /// Time from sending the request to receiving the response head.
    pub fn elapsed(&self) -> Duration {
        self.answered.saturating_duration_since(self.sent)
    }

    /// The `Content-Length` announced by the server, when known.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.body().content_length().or_else(|| {
            self.headers()
                .get(http::header::CONTENT_LENGTH)?
                .to_str()
                .ok()?
                .parse()
                .ok()
        })
    }

    /// The connection the response came over, when the transport tells.
    pub fn connection(&self) -> Option<&ConnectionInfo> {
        ConnectionInfo::from_extensions(self.inner.extensions())
    }

    /// The responses before this one, oldest first: each redirect followed,
    /// and each `401` challenge an auth scheme (Digest) answered, as in
    /// requests' `r.history` (empty when there was none).
    pub fn history(&self) -> &[HistoryEntry] {
        self.inner
            .extensions()
            .get::<History>()
            .map_or(&[], |h| h.0.as_slice())
    }

    /// For a redirect that was not followed (`follow_redirects(false)`, or a
    /// policy that stopped), the request it pointed to.
    pub fn next_request(&self) -> Option<&crate::redirect::NextRequest> {
        self.inner
            .extensions()
            .get::<crate::redirect::NextRequest>()
    }

    /// The response's extensions (what middleware and transports attached).
    pub fn extensions(&self) -> &http::Extensions {
        self.inner.extensions()
    }

    /// The response's extensions, to change them.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        self.inner.extensions_mut()
    }

    /// An error if the status is 4xx or 5xx, naming the status and URL.
    ///
    /// # Errors
    /// [`Error::is_status`] is true, and `status()` gives the code.
    pub fn error_for_status(self) -> Result<Self> {
        match self.error_for_status_ref() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Like [`error_for_status`](Self::error_for_status), without consuming.
    pub fn error_for_status_ref(&self) -> Option<Error> {
        let status = self.status();
        (status.is_client_error() || status.is_server_error())
            .then(|| Error::for_status(status, self.url().clone()))
    }

    /// Reads the whole body.
    ///
    /// # Errors
    /// A body error (connection lost, body over `max_body_size`) or a timeout.
    pub async fn bytes(self) -> Result<Bytes> {
        self.read().await.map(|(bytes, _)| bytes)
    }

    /// Reads the whole body, keeping the URL for an error about its content.
    async fn read(self) -> Result<(Bytes, TargetUrl)> {
        let Response {
            inner,
            url,
            deadline,
            max_body,
            ..
        } = self;
        let read = inner.into_body().collect_limited(max_body);
        let result = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, read).await,
            None => Ok(read.await),
        };
        match result {
            Ok(Ok(bytes)) => Ok((bytes, url)),
            Ok(Err(err)) => Err(Error::body(err).with_url(url.into_url())),
            Err(_) => Err(Error::timeout(TimedOut(TimeoutKind::Total)).with_url(url.into_url())),
        }
    }

    /// Reads the body as text. The charset comes from `Content-Type`; without
    /// one, a byte-order mark decides, then requests' fallbacks: UTF-8 for
    /// JSON, ISO-8859-1 (as windows-1252) for other `text/*`, UTF-8 otherwise.
    /// Invalid sequences become U+FFFD, never an error.
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes).
    pub async fn text(self) -> Result<String> {
        let encoding = self.encoding();
        let bytes = self.bytes().await?;
        let (text, _, _) = encoding.decode(&bytes);
        Ok(text.into_owned())
    }

    /// The encoding [`text`](Self::text) will use.
    pub fn encoding(&self) -> &'static encoding_rs::Encoding {
        let mime: Option<mime::Mime> = self
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let Some(mime) = mime else {
            return encoding_rs::UTF_8;
        };
        if let Some(charset) = mime.get_param(mime::CHARSET) {
            if let Some(enc) = encoding_rs::Encoding::for_label(charset.as_str().as_bytes()) {
                return enc;
            }
        }
        if mime.type_() == mime::TEXT {
            encoding_rs::WINDOWS_1252
        } else {
            encoding_rs::UTF_8
        }
    }

    /// Reads the body and parses it as JSON.
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), or a decode error naming the URL.
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let (bytes, url) = self.read().await?;
        serde_json::from_slice(&bytes).map_err(|err| Error::decode(err).with_url(url.into_url()))
    }

    /// The next chunk of the body, or `None` at its end.
    ///
    /// # Errors
    /// A body error or a timeout.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            let next = self.inner.body_mut().frame();
            let frame = match self.deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, next).await {
                    Ok(frame) => frame,
                    Err(_) => {
                        return Err(Error::timeout(TimedOut(TimeoutKind::Total))
                            .with_url(self.url().clone()))
                    }
                },
                None => next.await,
            };
            match frame {
                None => return Ok(None),
                Some(Err(err)) => return Err(Error::body(err).with_url(self.url().clone())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Ok(Some(data));
                        }
                    }
                }
            }
        }
    }

    /// Reports the reading of the body to `progress`: after each chunk
    /// that [`bytes`](Self::bytes), [`text`](Self::text),
    /// [`json`](Self::json) or [`chunk`](Self::chunk) reads, the bytes read
    /// so far and the [`content_length`](Self::content_length) when known.
    /// See [`crate::progress`] for an example.
    pub fn download_progress(
        mut self,
        progress: impl Fn(crate::progress::Progress) + Send + Sync + 'static,
    ) -> Self {
        let total = self.content_length();
        let body = std::mem::take(self.inner.body_mut());
        *self.inner.body_mut() = body.with_hook(std::sync::Arc::new(progress), total);
        self
    }

    /// The underlying `http::Response` (the body unread).
    pub fn into_http(self) -> http::Response<Body> {
        self.inner
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &crate::error::redacted(self.url()).as_str())
            .field("status", &self.status())
            .field("version", &self.version())
            .field("headers", self.headers())
            .finish()
    }
}
