//! The `multipart/form-data` encoding: boundaries, part heads, and the body
//! that sends the parts one after another.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http_body::Frame;

use super::Part;
use crate::body::Body;
use crate::error::BoxError;

/// A fresh random boundary: 128 random bits in hex, which no content is
/// expected to contain.
pub(super) fn boundary() -> String {
    format!(
        "----http-session-{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

/// The head of a part: its delimiter line, `Content-Disposition`, content
/// type and extra headers, and the blank line before its content.
pub(super) fn part_head(boundary: &str, name: &str, part: &Part) -> Vec<u8> {
    let mut head = Vec::with_capacity(boundary.len() + name.len() + 80);
    head.extend_from_slice(b"--");
    head.extend_from_slice(boundary.as_bytes());
    head.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
    escape_into(name, &mut head);
    head.push(b'"');
    if let Some(file_name) = &part.file_name {
        head.extend_from_slice(b"; filename=\"");
        escape_into(file_name, &mut head);
        head.push(b'"');
    }
    head.extend_from_slice(b"\r\n");
    if let Some(mime) = part
        .mime
        .as_ref()
        .filter(|_| !part.headers.contains_key(CONTENT_TYPE))
    {
        head.extend_from_slice(b"Content-Type: ");
        head.extend_from_slice(mime.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    for (name, value) in &part.headers {
        if name == CONTENT_DISPOSITION {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// The line that ends the form.
pub(super) fn closing(boundary: &str) -> Vec<u8> {
    format!("--{boundary}--\r\n").into_bytes()
}

/// A field name or file name in a quoted string, as browsers write it (the
/// HTML form-data encoding, which RFC 7578 §4.2 points to): `"`, CR and LF
/// become `%22`, `%0D` and `%0A`; anything else, non-ASCII included, is
/// written as its UTF-8 bytes.
pub(super) fn escape_into(value: &str, out: &mut Vec<u8>) {
    for byte in value.bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"%22"),
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            _ => out.push(byte),
        }
    }
}

/// A piece of the encoded form: bytes in memory (heads, delimiters, text
/// fields, run together), or the content of a streamed part.
pub(super) enum Segment {
    Bytes(Bytes),
    Body(Body),
}

impl Segment {
    /// A copy to send again (`None` when a part is a one-shot stream).
    pub(super) fn try_clone(&self) -> Option<Segment> {
        match self {
            Segment::Bytes(bytes) => Some(Segment::Bytes(bytes.clone())),
            Segment::Body(body) => body.try_clone().map(Segment::Body),
        }
    }
}

/// The body of a form with streamed parts: each segment in turn.
pub(super) struct FormBody {
    segments: VecDeque<Option<Segment>>,
}

impl FormBody {
    pub(super) fn new(segments: impl IntoIterator<Item = Option<Segment>>) -> Self {
        FormBody {
            segments: segments.into_iter().collect(),
        }
    }
}

/// A part of a replayable form could not be copied to send it again.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a part of the form could not be sent again")]
struct PartNotReplayable;

impl http_body::Body for FormBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            let Some(front) = this.segments.front_mut() else {
                return Poll::Ready(None);
            };
            match front {
                None => {
                    this.segments.clear();
                    return Poll::Ready(Some(Err(Box::new(PartNotReplayable))));
                }
                Some(Segment::Bytes(bytes)) => {
                    let bytes = std::mem::take(bytes);
                    this.segments.pop_front();
                    if !bytes.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(bytes))));
                    }
                }
                Some(Segment::Body(body)) => match ready!(Pin::new(body).poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        // A part's trailers have no place in a form.
                        if let Ok(data) = frame.into_data() {
                            if !data.is_empty() {
                                return Poll::Ready(Some(Ok(Frame::data(data))));
                            }
                        }
                    }
                    Some(Err(err)) => {
                        this.segments.clear();
                        return Poll::Ready(Some(Err(err)));
                    }
                    None => {
                        this.segments.pop_front();
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.segments.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_line_breaks_are_escaped_and_utf8_is_kept() {
        let mut out = Vec::new();
        escape_into("a\"b\r\nc ü.txt", &mut out);
        assert_eq!(out, "a%22b%0D%0Ac ü.txt".as_bytes());
    }

    #[test]
    fn a_head_names_the_field_file_and_type() {
        let part = Part::bytes("x")
            .file_name("r\u{e9}sum\u{e9}.pdf")
            .mime_str("application/pdf")
            .unwrap();
        let head = part_head("XyZ", "cv", &part);
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "--XyZ\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"r\u{e9}sum\u{e9}.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        );
        let mut headers = http::HeaderMap::new();
        headers.insert(CONTENT_TYPE, "text/csv".parse().unwrap());
        headers.insert("x-note", "kept".parse().unwrap());
        headers.insert(CONTENT_DISPOSITION, "attachment".parse().unwrap());
        let part = Part::text("t")
            .mime_str("text/plain")
            .unwrap()
            .headers(headers);
        let head = String::from_utf8(part_head("B", "n", &part)).unwrap();
        assert_eq!(
            head,
            "--B\r\nContent-Disposition: form-data; name=\"n\"\r\ncontent-type: text/csv\r\nx-note: kept\r\n\r\n"
        );
    }

    #[test]
    fn boundaries_differ() {
        let (a, b) = (boundary(), boundary());
        assert_ne!(a, b);
        assert!(a.len() <= 70, "RFC 2046 allows 70 characters");
    }
}
