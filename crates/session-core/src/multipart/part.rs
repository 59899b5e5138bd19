//! One field of a form: [`Part`].

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use bytes::Bytes;
use http::HeaderMap;

use crate::body::Body;
use crate::error::{Error, Result};

/// One field of a [`Form`](super::Form): text, bytes, a file or a stream,
/// with an optional file name, content type and extra headers.
///
/// ```
/// # fn main() -> Result<(), session_core::Error> {
/// use session_core::multipart::Part;
///
/// let part = Part::bytes(&b"\x89PNG..."[..])
///     .file_name("avatar.png")
///     .mime_str("image/png")?;
/// assert_eq!(part.content_length(), Some(7));
/// assert!(part.is_replayable());
/// # Ok(()) }
/// ```
///
/// See the [module docs](super) for more details.
pub struct Part {
    pub(super) body: Body,
    pub(super) length: Option<u64>,
    pub(super) file_name: Option<String>,
    pub(super) mime: Option<String>,
    pub(super) headers: HeaderMap,
}

impl Part {
    fn new(body: Body, length: Option<u64>) -> Self {
        Part {
            body,
            length,
            file_name: None,
            mime: None,
            headers: HeaderMap::new(),
        }
    }

    /// A text field (requests' `data=` entries): no file name, no content
    /// type (a receiver reads it as `text/plain`, RFC 7578).
    pub fn text(value: impl Into<Cow<'static, str>>) -> Self {
        let bytes = match value.into() {
            Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
            Cow::Owned(text) => Bytes::from(text),
        };
        Part::bytes(bytes)
    }

    /// A field of bytes held in memory; give it a
    /// [`file_name`](Self::file_name) to send it as a file (requests'
    /// `files={'f': ('name', b'...')}`).
    pub fn bytes(value: impl Into<Bytes>) -> Self {
        let bytes = value.into();
        let len = bytes.len() as u64;
        Part::new(Body::from(bytes), Some(len))
    }

    /// The file at `path`, read in chunks when the form is sent and opened
    /// again each time it is sent again ([`Body::from_file`]). Its file name
    /// is the last component of the path, and its content type is guessed
    /// from the extension (`application/octet-stream` when unknown); both
    /// can be changed.
    ///
    /// # Errors
    /// As [`Body::from_file`]: no such file, no permission, not a regular
    /// file.
    pub fn file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref();
        let body = Body::from_file(path)?;
        let length = body.content_length();
        let mut part = Part::new(body, length);
        part.file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        part.mime = Some(
            mime_guess::from_path(path)
                .first_or_octet_stream()
                .essence_str()
                .to_owned(),
        );
        Ok(part)
    }

    /// A field read from a body: a one-shot stream makes the form one-shot
    /// (a `307` redirect or a retry of it stops with an error), a replayable
    /// body keeps it replayable. Its length is the body's, when known; see
    /// [`stream_with_length`](Self::stream_with_length) to give it.
    pub fn stream(body: impl Into<Body>) -> Self {
        let body = body.into();
        let length = body.content_length();
        Part::new(body, length)
    }

    /// A field read from a body of `length` bytes, so the form can send a
    /// `Content-Length`. A body of another length fails the request.
    pub fn stream_with_length(body: impl Into<Body>, length: u64) -> Self {
        Part::new(body.into(), Some(length))
    }

    /// The file name sent with the field (`filename="..."`).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The content type of the field (`Content-Type: ...`).
    ///
    /// # Errors
    /// `mime` is not a media type (`type/subtype`, with parameters).
    pub fn mime_str(mut self, mime: &str) -> Result<Self> {
        let parsed: mime::Mime = mime.parse().map_err(Error::builder)?;
        self.mime = Some(parsed.to_string());
        Ok(self)
    }

    /// Extra headers for the field, written after its `Content-Disposition`
    /// and `Content-Type` (a `Content-Type` here replaces the field's; a
    /// `Content-Disposition` here is not written).
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// The length of the field's content, when known.
    pub fn content_length(&self) -> Option<u64> {
        self.length
    }

    /// Can the field be sent again (bytes, text, a file)?
    pub fn is_replayable(&self) -> bool {
        self.body.is_replayable()
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("body", &self.body)
            .field("file_name", &self.file_name)
            .field("mime", &self.mime)
            .finish_non_exhaustive()
    }
}
