//! The blocking [`Response`]: the async response, its body read on the
//! session's runtime.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::header::HeaderMap;
use http::{StatusCode, Version};

use super::runtime::Runtime;
use crate::{ConnectionInfo, Error, HistoryEntry, Result, Url};

/// The response to a request sent through a blocking
/// [`Session`](super::Session).
///
/// Its head is here as soon as `send` returns. Its body is read once: all
/// of it by [`bytes`](Self::bytes), [`text`](Self::text) or
/// [`json`](Self::json) (capped by the session's `max_body_size`), or as it
/// arrives, through [`Read`] or [`chunk`](Self::chunk). The session's or
/// request's timeout covers the body too. Each read blocks this thread while
/// the session's runtime does the work.
///
/// See the [module docs](super) for more details.
pub struct Response {
    /// Always there, except while lent to the runtime for a read.
    inner: Option<crate::Response>,
    /// Read from the body but not yet returned by `read`.
    buffered: Bytes,
    runtime: Arc<Runtime>,
}

/// What a [`Response`] holds when asked while its async response is lent
/// out: never, since lending blocks until it comes back.
const LENT: &str = "the async response comes back from every read";

macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident(&self) -> $ret:ty; )*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> $ret {
                self.inner().$name()
            }
        )*
    };
}

impl Response {
    pub(crate) fn new(inner: crate::Response, runtime: Arc<Runtime>) -> Self {
        Response {
            inner: Some(inner),
            buffered: Bytes::new(),
            runtime,
        }
    }

    fn inner(&self) -> &crate::Response {
        self.inner.as_ref().expect(LENT)
    }

    fn inner_mut(&mut self) -> &mut crate::Response {
        self.inner.as_mut().expect(LENT)
    }

    forward! {
        /// The status code.
        fn status(&self) -> StatusCode;
        /// The HTTP version of the response.
        fn version(&self) -> Version;
        /// The headers.
        fn headers(&self) -> &HeaderMap;
        /// The URL that answered (after redirects).
        fn url(&self) -> &Url;
        /// Time from sending the request to receiving the response head.
        fn elapsed(&self) -> Duration;
        /// The `Content-Length` announced by the server, when known.
        fn content_length(&self) -> Option<u64>;
        /// The connection the response came over, when the transport tells.
        fn connection(&self) -> Option<&ConnectionInfo>;
        /// The responses before this one, oldest first (redirects, and `401`
        /// challenges an auth scheme answered), as requests' `r.history`.
        fn history(&self) -> &[HistoryEntry];
        /// For a redirect that was not followed, the request it pointed to.
        fn next_request(&self) -> Option<&crate::redirect::NextRequest>;
        /// The response's extensions (what middleware and transports attached).
        fn extensions(&self) -> &http::Extensions;
        /// An error if the status is 4xx or 5xx, without consuming.
        fn error_for_status_ref(&self) -> Option<Error>;
        /// The encoding [`text`](Self::text) will use.
        fn encoding(&self) -> &'static encoding_rs::Encoding;
    }

    /// The headers, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.inner_mut().headers_mut()
    }

    /// The response's extensions, to change them.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        self.inner_mut().extensions_mut()
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

    /// Reads the whole body (what [`Read`] has not returned yet).
    ///
    /// # Errors
    /// A body error (connection lost, body over `max_body_size`), a timeout,
    /// or [`RuntimeStopped`](super::RuntimeStopped).
    pub fn bytes(mut self) -> Result<Bytes> {
        let inner = self.inner.take().expect(LENT);
        let rest = self.runtime.run(inner.bytes())??;
        if self.buffered.is_empty() {
            return Ok(rest);
        }
        let mut all = Vec::with_capacity(self.buffered.len() + rest.len());
        all.extend_from_slice(&self.buffered);
        all.extend_from_slice(&rest);
        Ok(all.into())
    }

    /// Reads the body as text, decoded as the async `text` does (see
    /// [`crate::Response::text`]).
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes).
    pub fn text(self) -> Result<String> {
        let encoding = self.encoding();
        let bytes = self.bytes()?;
        let (text, _, _) = encoding.decode(&bytes);
        Ok(text.into_owned())
    }

    /// Reads the body and parses it as JSON.
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), or a decode error naming the URL.
    pub fn json<T: serde::de::DeserializeOwned>(self) -> Result<T> {
        let url = self.url().clone();
        let bytes = self.bytes()?;
        serde_json::from_slice(&bytes).map_err(|err| Error::decode(err).with_url(url))
    }

    /// The next chunk of the body, or `None` at its end.
    ///
    /// # Errors
    /// A body error, a timeout, or [`RuntimeStopped`](super::RuntimeStopped).
    pub fn chunk(&mut self) -> Result<Option<Bytes>> {
        if !self.buffered.is_empty() {
            return Ok(Some(std::mem::take(&mut self.buffered)));
        }
        let inner = self.inner.take().expect(LENT);
        let (inner, chunk) = self
            .runtime
            .lend(inner, |response| Box::pin(response.chunk()));
        self.inner = Some(inner);
        chunk?
    }

    /// Closes the response: its body is dropped unread, and its connection
    /// with it unless the body was read to its end (requests'
    /// `Response.close()`).
    pub fn close(self) {
        drop(self);
    }
}

/// Streams the body: each `read` that finds nothing buffered waits for the
/// next chunk from the runtime. Errors keep their cause; a timeout is
/// [`io::ErrorKind::TimedOut`].
impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.buffered.is_empty() {
            match self.chunk() {
                Ok(Some(chunk)) => self.buffered = chunk,
                Ok(None) => return Ok(0),
                Err(err) => {
                    let kind = if err.is_timeout() {
                        io::ErrorKind::TimedOut
                    } else {
                        io::ErrorKind::Other
                    };
                    return Err(io::Error::new(kind, err));
                }
            }
        }
        let n = buf.len().min(self.buffered.len());
        buf[..n].copy_from_slice(&self.buffered[..n]);
        self.buffered.advance(n);
        Ok(n)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Some(inner) => fmt::Debug::fmt(inner, f),
            None => f.debug_struct("Response").finish_non_exhaustive(),
        }
    }
}
