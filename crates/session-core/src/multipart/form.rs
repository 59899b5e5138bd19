//! A whole form: [`Form`].

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::encode::{self, FormBody, Segment};
use super::Part;
use crate::body::Body;

/// A `multipart/form-data` body: named fields in order, each a [`Part`].
///
/// ```
/// use session_core::multipart::{Form, Part};
///
/// let form = Form::new()
///     .text("title", "holiday")
///     .part("photo", Part::bytes(vec![0u8; 1024]).file_name("beach.jpg"));
/// assert!(form.content_type().starts_with("multipart/form-data; boundary="));
/// assert!(form.content_length().is_some());
/// assert!(form.is_replayable());
/// ```
///
/// See the [module docs](super) for more details.
pub struct Form {
    boundary: String,
    fields: Vec<(Cow<'static, str>, Part)>,
}

impl Form {
    /// An empty form with a fresh random boundary.
    pub fn new() -> Self {
        Form {
            boundary: encode::boundary(),
            fields: Vec::new(),
        }
    }

    /// The boundary between the parts.
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// Adds a text field (requests' `data={'name': 'value'}` beside
    /// `files=`).
    pub fn text(
        self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.part(name, Part::text(value))
    }

    /// Adds the file at `path` ([`Part::file`]: file name from the path,
    /// content type guessed from its extension, read in chunks and opened
    /// again for each send).
    ///
    /// # Errors
    /// As [`Part::file`].
    pub fn file(
        self,
        name: impl Into<Cow<'static, str>>,
        path: impl AsRef<Path>,
    ) -> std::io::Result<Self> {
        Ok(self.part(name, Part::file(path)?))
    }

    /// Adds a field.
    pub fn part(mut self, name: impl Into<Cow<'static, str>>, part: Part) -> Self {
        self.fields.push((name.into(), part));
        self
    }

    /// `multipart/form-data; boundary=...`, the request's `Content-Type`.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// The length of the encoded form, when every part's length is known.
    pub fn content_length(&self) -> Option<u64> {
        let mut total = encode::closing(&self.boundary).len() as u64;
        for (name, part) in &self.fields {
            let head = encode::part_head(&self.boundary, name, part).len() as u64;
            total += head + part.length? + 2;
        }
        Some(total)
    }

    /// Can the form be sent again: are all its parts text, bytes, files or
    /// other replayable bodies?
    pub fn is_replayable(&self) -> bool {
        self.fields.iter().all(|(_, part)| part.is_replayable())
    }

    /// The encoded form as a body: bytes in memory when every part is, a
    /// replayable stream when every part is replayable (files are opened
    /// again), a one-shot stream otherwise.
    pub fn into_body(self) -> Body {
        let length = self.content_length();
        let boundary = self.boundary;
        let mut segments = Vec::new();
        // Heads, delimiters and in-memory parts, run together.
        let mut pending: Vec<u8> = Vec::new();
        for (name, part) in self.fields {
            pending.extend_from_slice(&encode::part_head(&boundary, &name, &part));
            match part.body.as_bytes() {
                Some(bytes) => pending.extend_from_slice(bytes),
                None => {
                    let before = Bytes::from(std::mem::take(&mut pending));
                    segments.push(Segment::Bytes(before));
                    segments.push(Segment::Body(part.body));
                }
            }
            pending.extend_from_slice(b"\r\n");
        }
        pending.extend_from_slice(&encode::closing(&boundary));
        if segments.is_empty() {
            return Body::from(pending);
        }
        segments.push(Segment::Bytes(Bytes::from(pending)));
        let replayable = segments.iter().all(|segment| match segment {
            Segment::Bytes(_) => true,
            Segment::Body(body) => body.is_replayable(),
        });
        if replayable {
            let segments: Arc<[Segment]> = segments.into();
            Body::replayable(length, move || {
                FormBody::new(segments.iter().map(Segment::try_clone))
            })
        } else {
            Body::wrap(FormBody::new(segments.into_iter().map(Some)))
        }
    }
}

impl Default for Form {
    fn default() -> Self {
        Form::new()
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("boundary", &self.boundary)
            .field("fields", &self.fields)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_in_memory_form_is_one_buffer_of_its_announced_length() {
        let form = Form::new()
            .text("a", "1")
            .part("f", Part::bytes("xyz").file_name("f.txt"));
        let boundary = form.boundary().to_owned();
        let length = form.content_length().unwrap();
        let body = form.into_body();
        let bytes = body.as_bytes().expect("in memory").to_vec();
        assert_eq!(bytes.len() as u64, length);
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\r\nxyz\r\n\
             --{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[tokio::test]
    async fn a_stream_part_makes_a_one_shot_form_in_order() {
        let chunks = ["str", "eam"].map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
        let form = Form::new()
            .text("before", "b")
            .part(
                "s",
                Part::stream(Body::from_stream(futures_util::stream::iter(chunks))),
            )
            .text("after", "a");
        assert_eq!(form.content_length(), None);
        assert!(!form.is_replayable());
        let boundary = form.boundary().to_owned();
        let body = form.into_body();
        assert!(body.try_clone().is_none());
        let text =
            String::from_utf8(body.collect_limited(1 << 16).await.unwrap().to_vec()).unwrap();
        let stream_at = text.find("stream").unwrap();
        assert!(text.find("\r\n\r\nb\r\n").unwrap() < stream_at);
        assert!(text[stream_at..].starts_with(&format!("stream\r\n--{boundary}\r\n")));
        assert!(text.ends_with(&format!("\r\na\r\n--{boundary}--\r\n")));
    }

    #[tokio::test]
    async fn a_replayable_stream_part_keeps_the_form_replayable_and_sized() {
        let part = Part::stream(Body::replayable(Some(4), || {
            http_body_util::Full::new(Bytes::from_static(b"data"))
        }));
        let form = Form::new().part("p", part).text("t", "x");
        let length = form.content_length().unwrap();
        let body = form.into_body();
        assert!(body.as_bytes().is_none());
        assert_eq!(body.content_length(), Some(length));
        let copy = body.try_clone().unwrap();
        let first = body.collect_limited(1 << 16).await.unwrap();
        assert_eq!(first.len() as u64, length);
        assert_eq!(copy.collect_limited(1 << 16).await.unwrap(), first);
    }
}
