//! Decompression over loopback: gzip, deflate, br and zstd bodies, stacked
//! codings, `Accept-Encoding` on by default and switchable off, and a gzip
//! bomb (10 MiB expanding to 10 GiB, generated lazily by the server) that
//! fails at the decompressed-size limit instead of filling memory.

mod support;

use std::error::Error as _;
use std::io::Write;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use http_session::Session;
use support::server::{self, Req, ResBody};

const TEXT: &str = "the quick brown fox jumps over the lazy dog, again and again and again";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        enc.write_all(data).unwrap();
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

fn encoded(req: &Req) -> http::Response<ResBody> {
    let coding = req.uri.path().trim_start_matches('/').to_owned();
    let mut body = TEXT.as_bytes().to_vec();
    for c in coding.split(',').filter(|c| !c.is_empty()) {
        body = match c {
            "gzip" => gzip(&body),
            "deflate" => deflate(&body),
            "br" => br(&body),
            "zstd" => zstd(&body),
            _ => body,
        };
    }
    let accept = req
        .headers
        .get("accept-encoding")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let mut res = server::response(200, body);
    if !coding.is_empty() {
        res.headers_mut().insert(
            "content-encoding",
            coding.replace(',', ", ").parse().unwrap(),
        );
    }
    res.headers_mut()
        .insert("x-accept", accept.parse().unwrap());
    res
}

#[tokio::test]
async fn each_coding_is_decoded_and_accept_encoding_is_sent() {
    let srv = server::http(|req| async move { encoded(&req) });
    let session = Session::builder().trust_env(false).build().unwrap();
    for coding in [
        "gzip",
        "deflate",
        "br",
        "zstd",
        "gzip,br",
        "zstd,gzip,deflate",
    ] {
        let res = session
            .get(srv.url(&format!("/{coding}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["x-accept"], "gzip, deflate, br, zstd");
        assert!(res.headers().get("content-encoding").is_none(), "{coding}");
        assert_eq!(res.text().await.unwrap(), TEXT, "{coding}");
    }
}

#[tokio::test]
async fn decompression_can_be_turned_off() {
    let srv = server::http(|req| async move { encoded(&req) });
    let session = Session::builder()
        .trust_env(false)
        .decompress(false)
        .build()
        .unwrap();
    let res = session.get(srv.url("/gzip")).send().await.unwrap();
    assert_eq!(res.headers()["x-accept"], "");
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.bytes().await.unwrap(), gzip(TEXT.as_bytes()));
}

#[tokio::test]
async fn more_than_five_codings_is_an_error() {
    let srv = server::http(|req| async move { encoded(&req) });
    let session = Session::builder().trust_env(false).build().unwrap();
    let err = session
        .get(srv.url("/gzip,gzip,gzip,gzip,gzip,gzip"))
        .send()
        .await
        .unwrap_err();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    assert!(
        text.contains("more than 5 stacked content codings"),
        "{text}"
    );
}

/// 10 GiB of zeros, gzip-compressed 1 MiB at a time as the client reads.
fn bomb() -> ResBody {
    let steps = 10 * 1024u32;
    let stream = futures_util::stream::unfold(
        (
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()),
            0u32,
        ),
        move |(mut enc, step)| async move {
            if step > steps {
                return None;
            }
            let chunk = if step == steps {
                enc.try_finish().unwrap();
                std::mem::take(enc.get_mut())
            } else {
                enc.write_all(&vec![0u8; 1 << 20]).unwrap();
                std::mem::take(enc.get_mut())
            };
            let frame = hyper::body::Frame::data(Bytes::from(chunk));
            Some((
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(frame),
                (enc, step + 1),
            ))
        },
    );
    BodyExt::boxed(StreamBody::new(stream))
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_limit() {
    let srv = server::http_raw(|_req| async move {
        let mut res = http::Response::new(bomb());
        res.headers_mut()
            .insert("content-encoding", "gzip".parse().unwrap());
        res
    });
    let session = Session::builder()
        .trust_env(false)
        .max_body_size(1 << 30)
        .max_decompressed_size(8 << 20)
        .build()
        .unwrap();
    let res = session.get(srv.url("/bomb")).send().await.unwrap();
    let err = res.bytes().await.unwrap_err();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    assert!(
        text.contains("decompressed body is over the limit of 8388608 bytes"),
        "{text}"
    );
}
