//! Response decompression through tower-http's decoders (gzip, deflate, br,
//! zstd), up to [`MAX_CODINGS`] stacked codings, with a limit on the
//! decompressed size. Decoding is lazy: a body nobody reads (a redirect, a
//! retried response) is never decompressed.

use futures_util::FutureExt;
use http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH};
use tower::ServiceExt;
use tower_http::decompression::Decompression;

use session_core::{Body, BoxError};

use crate::timeout::{LimitExceeded, Limited};

/// The most content codings a response may stack (`gzip, br, ...`).
pub const MAX_CODINGS: usize = 5;

/// What `Accept-Encoding` says by default.
pub(crate) const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("gzip, deflate, br, zstd");

fn known(coding: &str) -> Option<&'static str> {
    Some(match coding {
        "gzip" | "x-gzip" => "gzip",
        "deflate" => "deflate",
        "br" => "br",
        "zstd" => "zstd",
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
    let mut codings: Vec<&'static str> = Vec::new();
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
        body = decode_one(coding, body)?;
    }
    headers.remove(CONTENT_ENCODING);
    headers.remove(CONTENT_LENGTH);
    Ok(Body::wrap(Limited::new(body, limit, "decompressed body")))
}

/// Runs one coding through tower-http's `Decompression` (its decoder
/// bodies are only reachable through the service).
fn decode_one(coding: &'static str, body: Body) -> Result<Body, BoxError> {
    let mut res = http::Response::new(body);
    res.headers_mut()
        .insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    let mut slot = Some(res);
    let inner = tower::service_fn(move |_: http::Request<()>| {
        let res = slot.take().ok_or("decoder already used");
        async move { res }
    });
    let decoded = Decompression::new(inner)
        .oneshot(http::Request::new(()))
        .now_or_never()
        .ok_or("decoder did not answer at once")??;
    Ok(Body::wrap(decoded.into_body()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

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
