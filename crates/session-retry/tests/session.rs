//! The layer composes with session-core: a `Session` over a `MockTransport`
//! with `RetryLayer` as a hop layer, and per mount around a transport; and
//! retried response bodies are drained before the next attempt.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use session_core::mock::MockTransport;
use session_core::{Body, Session};
use session_retry::{Retry, RetryHistory, RetryLayer, RetryService, StopReason};
use tower::{service_fn, Layer, ServiceExt};

fn flaky_mock(failures: usize) -> (MockTransport, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let mock = MockTransport::new().route_any("/flaky", move |_req| {
        if counted.fetch_add(1, Ordering::SeqCst) < failures {
            (StatusCode::SERVICE_UNAVAILABLE, "busy")
        } else {
            (StatusCode::OK, "done")
        }
    });
    (mock, hits)
}

fn guide_retry() -> Retry {
    Retry::new()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([500, 502, 503, 504])
}

#[tokio::test(start_paused = true)]
async fn session_hop_layer_retries_and_exposes_the_history() {
    let (mock, hits) = flaky_mock(2);
    let session = Session::builder()
        .transport(mock.clone())
        .hop_layer(RetryLayer::new(guide_retry()).unwrap())
        .build()
        .unwrap();
    let res = session.get("http://api.test/flaky").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let history = res.extensions().get::<RetryHistory>().unwrap().clone();
    assert_eq!(history.len(), 3);
    assert_eq!(res.text().await.unwrap(), "done");
    // POST with a body: sent once.
    let res = session
        .post("http://api.test/flaky")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn session_error_keeps_the_retry_error_in_its_chain() {
    let (mock, hits) = flaky_mock(usize::MAX);
    let session = Session::builder()
        .transport(mock)
        .hop_layer(RetryLayer::new(guide_retry()).unwrap())
        .build()
        .unwrap();
    let err = session
        .get("http://api.test/flaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    let retry_err = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<session_retry::Error>())
        .expect("the retry error is the cause");
    assert_eq!(retry_err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(retry_err.history().sleeps().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn per_mount_retry_wraps_one_transport_only() {
    let (flaky, flaky_hits) = flaky_mock(1);
    let (plain, plain_hits) = flaky_mock(1);
    let session = Session::builder()
        .mount("https://", RetryService::new(flaky, guide_retry()).unwrap())
        .mount("http://", plain)
        .build()
        .unwrap();
    let res = session.get("https://api.test/flaky").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(flaky_hits.load(Ordering::SeqCst), 2);
    let res = session.get("http://api.test/flaky").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(plain_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn connect_errors_through_a_session_are_still_connect_errors() {
    let mock = MockTransport::new().fallback(|_req| {
        Err::<(StatusCode, &str), _>(session_core::error::Connect::new("refused").into())
    });
    let session = Session::builder()
        .transport(mock.clone())
        .hop_layer(RetryLayer::new(Retry::new().total(2)).unwrap())
        .build()
        .unwrap();
    let err = session
        .post("http://api.test/x")
        .body("form")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_eq!(mock.requests().len(), 3, "connect errors retry POST too");
}

/// A response body that notes when it was read to its end.
struct Watched {
    chunks: Vec<Bytes>,
    finished: Arc<AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.chunks.is_empty() {
            self.finished.store(true, Ordering::SeqCst);
            return Poll::Ready(None);
        }
        let chunk = self.chunks.remove(0);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }
}

async fn drained(chunks: Vec<Bytes>) -> bool {
    let finished = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let backend = {
        let finished = finished.clone();
        let calls = calls.clone();
        service_fn(move |_req: Request<()>| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let body = Watched {
                chunks: if n == 0 { chunks.clone() } else { Vec::new() },
                finished: if n == 0 {
                    finished.clone()
                } else {
                    Arc::default()
                },
            };
            async move {
                let mut res = Response::new(body);
                *res.status_mut() = if n == 0 {
                    StatusCode::BAD_GATEWAY
                } else {
                    StatusCode::OK
                };
                Ok::<_, Infallible>(res)
            }
        })
    };
    let retry = Retry::new().total(1).status_forcelist([502]);
    let res = RetryLayer::new(retry)
        .unwrap()
        .layer(backend)
        .oneshot(Request::new(()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    finished.load(Ordering::SeqCst)
}

#[tokio::test]
async fn retried_bodies_are_drained_up_to_the_limit() {
    let small = vec![
        Bytes::from_static(b"error page, "),
        Bytes::from_static(b"read it all"),
    ];
    assert!(drained(small).await, "a small body is read to its end");
    let big = vec![Bytes::from(vec![b'x'; 40 * 1024]); 3];
    assert!(!drained(big).await, "past 64 KiB the body is dropped");
}

#[tokio::test]
async fn session_body_is_resent_and_bad_settings_fail() {
    let echo = service_fn(|req: Request<Body>| async move {
        let body = req.into_body().collect_limited(1024).await?;
        Ok::<_, session_core::BoxError>(Response::new(Body::from(body)))
    });
    let service = RetryLayer::new(Retry::new()).unwrap().layer(echo);
    let req = Request::builder()
        .method(Method::PUT)
        .body(Body::from("same"))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.into_body().as_bytes(), Some(&b"same"[..]));
    let err = RetryLayer::new(Retry::new().backoff_factor(f64::NAN)).unwrap_err();
    assert!(err.is_builder());
    assert_eq!(
        StopReason::BodyNotReplayable.to_string(),
        "the request body is a one-shot stream and cannot be sent again"
    );
}
