//! Response decompression with async-compression's decoders (gzip,
//! deflate, br, zstd), up to [`MAX_CODINGS`] stacked codings, with a limit
//! on the decompressed size. Decoding is lazy: a body nobody reads (a
//! redirect, a retried response) is never decompressed.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH};
use http_body::{Body as HttpBody, Frame};
use tokio::io::{AsyncBufRead, AsyncRead};
use tokio_util::io::{poll_read_buf, StreamReader};

use session_core::error::ContentDecodingError;
use session_core::{Body, BoxError};

use crate::timeout::{limited, LimitExceeded};

/// The most content codings a response may stack (`gzip, br, ...`).
pub const MAX_CODINGS: usize = 5;

/// What `Accept-Encoding` says by default.
pub(crate) const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("gzip, deflate, br, zstd");

/// How many decoded bytes one frame carries at most.
const CHUNK: usize = 8 * 1024;

/// A content coding this module decodes.
#[derive(Clone, Copy, Debug)]
enum Coding {
    Gzip,
    /// HTTP's `deflate` is the zlib format (RFC 9110, 8.4.1.2).
    Deflate,
    Br,
    Zstd,
}

impl Coding {
    /// The coding's name, as errors give it.
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }
}

fn known(coding: &str) -> Option<Coding> {
    Some(match coding {
        "gzip" | "x-gzip" => Coding::Gzip,
        "deflate" => Coding::Deflate,
        "br" => Coding::Br,
        "zstd" => Coding::Zstd,
        _ => return None,
    })
}

/// Decodes `body` as the `Content-Encoding` of `headers` says, removing
/// that header and `Content-Length` when it does. A coding it does not know
/// leaves the body as it is.
///
/// # Errors
/// [`LimitExceeded`] for more than [`MAX_CODINGS`] codings.
pub(crate) fn decode(headers: &mut HeaderMap, body: Body, limit: u64) -> Result<Body, BoxError> {
    let mut codings: Vec<Coding> = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let Ok(value) = value.to_str() else {
            return Ok(body);
        };
        for coding in value.split(',') {
            let coding = coding.trim().to_ascii_lowercase();
            if coding.is_empty() || coding == "identity" {
                continue;
            }
            if codings.len() == MAX_CODINGS {
                return Err(Box::new(LimitExceeded::new(
                    "content codings",
                    MAX_CODINGS as u64,
                )));
            }
            match known(&coding) {
                Some(c) => codings.push(c),
                None => return Ok(body),
            }
        }
    }
    if codings.is_empty() {
        return Ok(body);
    }
    let mut body = body;
    for coding in codings.iter().rev() {
        body = decode_one(*coding, body);
    }
    headers.remove(CONTENT_ENCODING);
    headers.remove(CONTENT_LENGTH);
    Ok(limited(body, limit, "decompressed body"))
}

/// The reader under every decoder: the coded body's bytes.
type Input = StreamReader<Coded, Bytes>;

/// `body` decoded by one coding.
fn decode_one(coding: Coding, body: Body) -> Body {
    let input = StreamReader::new(Coded {
        body,
        trailers: None,
        read_some: false,
    });
    let decoder: Box<dyn Decoder> = match coding {
        Coding::Gzip => {
            // A gzip file may hold several members, one after the other
            // (RFC 1952, 2.2): all of them are the body.
            let mut gzip = GzipDecoder::new(input);
            gzip.multiple_members(true);
            Box::new(gzip)
        }
        Coding::Deflate => Box::new(ZlibDecoder::new(input)),
        Coding::Br => Box::new(BrotliDecoder::new(input)),
        Coding::Zstd => {
            // So may a zstd stream hold several frames (RFC 8878, 3.1).
            let mut zstd = ZstdDecoder::new(input);
            zstd.multiple_members(true);
            Box::new(zstd)
        }
    };
    Body::wrap(Decoded {
        coding: coding.name(),
        decoder,
        buf: BytesMut::new(),
        done: false,
    })
}

/// An async-compression decoder over [`Input`], whatever its coding.
trait Decoder: AsyncRead + Send + Unpin {
    /// The reader it decodes from.
    fn input(&mut self) -> &mut Input;
}

macro_rules! decoder {
    ($($ty:ident),*) => {$(
        impl Decoder for $ty<Input> {
            fn input(&mut self) -> &mut Input {
                self.get_mut()
            }
        }
    )*};
}
decoder!(GzipDecoder, ZlibDecoder, BrotliDecoder, ZstdDecoder);

/// The data of a coded body, as a stream of chunks for [`StreamReader`]
/// (decoders read `io::Result`s). Its trailers are kept for after the
/// decoded data; its own error travels through the decoder as a
/// [`BodyError`] and comes out as it went in.
struct Coded {
    body: Body,
    trailers: Option<HeaderMap>,
    /// Whether any coded byte came: an empty body decodes to an empty one.
    read_some: bool,
}

impl Stream for Coded {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let frame = match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(err)) => return Poll::Ready(Some(Err(io::Error::other(BodyError(err))))),
                Some(Ok(frame)) => frame,
            };
            match frame.into_data() {
                Ok(data) => {
                    self.read_some |= !data.is_empty();
                    return Poll::Ready(Some(Ok(data)));
                }
                Err(frame) => self.trailers = frame.into_trailers().ok(),
            }
        }
    }
}

/// A body's own error inside the `io::Error` a decoder passes on.
#[derive(Debug)]
struct BodyError(BoxError);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyError {}

/// Is this the body's own error?
fn from_body(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<BodyError>())
}

/// The error a decoder of `coding` returned: the body's own (a read
/// timeout stays a `TimedOut`, an over-limit body a `LimitExceeded`), or
/// the decoder's, as a [`ContentDecodingError`].
fn from_io(err: io::Error, coding: &'static str) -> BoxError {
    if !from_body(&err) {
        return Box::new(ContentDecodingError::new(coding).with_source(err));
    }
    match err.into_inner().map(|e| e.downcast::<BodyError>()) {
        Some(Ok(body)) => body.0,
        Some(Err(other)) => other,
        None => "decoder failed".into(), // not reached: checked above
    }
}

/// A decoded body. Written here rather than taken from tokio-util's
/// `ReaderStream`, which drops the reader at its end: after the coded
/// stream ends, the rest of the body must be empty (anything else is an
/// error, not something to ignore) and its trailers follow the data.
struct Decoded {
    /// The coding's name, for errors.
    coding: &'static str,
    decoder: Box<dyn Decoder>,
    buf: BytesMut,
    /// The decoder has said the coded stream has ended.
    done: bool,
}

impl HttpBody for Decoded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if !this.done {
            if this.buf.capacity() == 0 {
                this.buf.reserve(CHUNK);
            }
            match ready!(poll_read_buf(
                Pin::new(&mut *this.decoder),
                cx,
                &mut this.buf
            )) {
                Ok(0) => this.done = true,
                Ok(_) => return Poll::Ready(Some(Ok(Frame::data(this.buf.split().freeze())))),
                // An empty body with a `Content-Encoding` decodes to an
                // empty body: the decoder's complaint about it is dropped.
                Err(err) if !from_body(&err) && !this.decoder.input().get_ref().read_some => {
                    this.done = true;
                }
                Err(err) => return Poll::Ready(Some(Err(from_io(err, this.coding)))),
            }
        }
        let input = this.decoder.input();
        match ready!(Pin::new(&mut *input).poll_fill_buf(cx)) {
            Ok([]) => Poll::Ready(
                input
                    .get_mut()
                    .trailers
                    .take()
                    .map(|t| Ok(Frame::trailers(t))),
            ),
            Ok(_) => Poll::Ready(Some(Err(Box::new(
                ContentDecodingError::new(this.coding)
                    .with_source("bytes after the end of the compressed body"),
            )))),
            Err(err) => Poll::Ready(Some(Err(from_io(err, this.coding)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// `frames` as a body encoded with `coding`, through [`decode`].
    fn decoded(coding: &'static str, frames: Vec<Frame<Bytes>>) -> Result<Body, BoxError> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
        let frames = futures_util::stream::iter(frames.into_iter().map(Ok::<_, BoxError>));
        decode(&mut headers, Body::wrap(StreamBody::new(frames)), 1 << 20)
    }

    fn chunked(data: &[u8], size: usize) -> Vec<Frame<Bytes>> {
        data.chunks(size)
            .map(|c| Frame::data(Bytes::copy_from_slice(c)))
            .collect()
    }

    #[tokio::test]
    async fn two_gzip_members_decode_fully() {
        let mut data = gzip(b"hello, ");
        data.extend(gzip(b"world"));
        // In one frame, and in frames of 3 bytes (a member ends inside a
        // frame, the next one starts in a later frame).
        for size in [data.len(), 3] {
            let body = decoded("gzip", chunked(&data, size)).unwrap();
            assert_eq!(body.collect().await.unwrap().to_bytes(), "hello, world");
        }
    }

    #[tokio::test]
    async fn two_zstd_frames_decode_fully() {
        use tokio::io::AsyncReadExt;
        let mut data = Vec::new();
        for part in [&b"hello, "[..], b"world"] {
            let mut enc = async_compression::tokio::bufread::ZstdEncoder::new(part);
            enc.read_to_end(&mut data).await.unwrap();
        }
        let body = decoded("zstd", chunked(&data, 5)).unwrap();
        assert_eq!(body.collect().await.unwrap().to_bytes(), "hello, world");
    }

    #[tokio::test]
    async fn the_bodys_own_error_comes_out_unchanged() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let wire = limited(
            Full::new(Bytes::from(gzip(&[b'x'; 100]))),
            5,
            "response body",
        );
        let err = decode(&mut headers, wire, 1 << 20)
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        let limit = err.downcast_ref::<LimitExceeded>().expect("the wire limit");
        assert_eq!(limit.what(), "response body");
    }

    #[tokio::test]
    async fn empty_bodies_trailers_and_trailing_bytes() {
        let body = decoded("gzip", vec![]).unwrap();
        assert!(body.collect().await.unwrap().to_bytes().is_empty());

        let mut trailers = HeaderMap::new();
        trailers.insert("x-sum", HeaderValue::from_static("1"));
        let mut frames = chunked(&gzip(b"data"), 4);
        frames.push(Frame::trailers(trailers.clone()));
        let collected = decoded("gzip", frames).unwrap().collect().await.unwrap();
        assert_eq!(collected.trailers(), Some(&trailers));
        assert_eq!(collected.to_bytes(), "data");

        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"data").unwrap();
        let mut data = enc.finish().unwrap();
        data.extend_from_slice(b"junk");
        let err = decoded("deflate", chunked(&data, 100))
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        let bad = err
            .downcast_ref::<ContentDecodingError>()
            .expect("a decoding error");
        assert_eq!(bad.coding(), "deflate");
        let cause = std::error::Error::source(bad).unwrap().to_string();
        assert!(cause.contains("after the end"), "{cause}");

        // Bytes that are not gzip at all.
        let err = decoded("gzip", chunked(b"not gzip at all", 100))
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        assert_eq!(
            err.downcast_ref::<ContentDecodingError>()
                .map(|e| e.coding()),
            Some("gzip"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unknown_and_absent_codings_pass_through() {
        let mut headers = HeaderMap::new();
        let body = decode(&mut headers, Body::from("plain"), 100).unwrap();
        assert_eq!(body.collect().await.unwrap().to_bytes(), "plain");
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("compress"));
        let body = decode(&mut headers, Body::from("x"), 100).unwrap();
        assert_eq!(body.collect().await.unwrap().to_bytes(), "x");
        assert!(headers.contains_key(CONTENT_ENCODING));
    }

    #[test]
    fn more_than_five_codings_is_an_error() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_ENCODING,
            HeaderValue::from_static("gzip, gzip, gzip, gzip, gzip, gzip"),
        );
        let err = decode(&mut headers, Body::empty(), 100).unwrap_err();
        assert_eq!(err.to_string(), "more than 5 stacked content codings");
    }
}
