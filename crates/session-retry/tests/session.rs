//! The layer composes with session-core: a `Session` over a `MockTransport`
//! with `RetryLayer` as a hop layer, and per mount around a transport; and
//! retried response bodies are drained before the next attempt.

// `RetryLayer` over `session_core::Body` needs the `session-core` feature.
#![cfg(feature = "session-core")]

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

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

// The layer in the two places a session takes it: around the mount router
// (where the facade puts it, below the cookie jar's place) and as a hop
// layer. Each scenario runs in both and must give the same history, the same
// requests and the same answer.

/// 503 with `Retry-After: 2`, then 503 without it, then 200.
fn slow_to_recover() -> MockTransport {
    let calls = Arc::new(AtomicUsize::new(0));
    MockTransport::new().fallback(move |_req| {
        let mut res = Response::new(Body::from("busy"));
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 => {
                *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                res.headers_mut()
                    .insert("retry-after", http::HeaderValue::from_static("2"));
            }
            1 => *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE,
            _ => *res.body_mut() = Body::from("done"),
        }
        res
    })
}

/// Both ways of giving a session the same retries.
fn both_ways(
    mock: impl Fn() -> MockTransport,
    retry: impl Fn() -> Retry,
) -> [(&'static str, Session, MockTransport); 2] {
    let router_mock = mock();
    let router = Session::builder()
        .transport(router_mock.clone())
        .router_layer(RetryLayer::new(retry()).unwrap())
        .build()
        .unwrap();
    let layer_mock = mock();
    let layer = Session::builder()
        .transport(layer_mock.clone())
        .hop_layer(RetryLayer::new(retry()).unwrap())
        .build()
        .unwrap();
    [
        ("router layer", router, router_mock),
        ("hop layer", layer, layer_mock),
    ]
}

#[tokio::test(start_paused = true)]
async fn the_router_layer_and_the_hop_layer_retry_alike() {
    let retry = || guide_retry().backoff_factor(0.5);
    let mut histories = Vec::new();
    for (way, session, mock) in both_ways(slow_to_recover, retry) {
        let start = tokio::time::Instant::now();
        let res = session
            .post("http://api.test/upload")
            .header("idempotency-key", "k1")
            .body("payload")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{way}");
        let history = res.extensions().get::<RetryHistory>().unwrap().clone();
        // Retry-After's 2 s, then the backoff after two failures: 0.5 * 2.
        assert_eq!(
            history.sleeps(),
            [Duration::from_secs(2), Duration::from_secs(1)],
            "{way}"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(3), "{way}");
        let sent = mock.requests();
        assert_eq!(sent.len(), 3, "{way}");
        for req in &sent {
            assert_eq!(req.method, Method::POST, "{way}");
            assert_eq!(&req.body[..], b"payload", "{way}");
            assert_eq!(req.headers["idempotency-key"], "k1", "{way}");
        }
        histories.push(history);
    }
    assert_eq!(histories[0], histories[1]);
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_raise_alike_and_post_stays_single() {
    let always_busy = || MockTransport::new().fallback(|_| (StatusCode::BAD_GATEWAY, "down"));
    let mut errors = Vec::new();
    for (way, session, mock) in both_ways(always_busy, guide_retry) {
        let err = session.get("http://api.test/").send().await.unwrap_err();
        let retry_err = std::error::Error::source(&err)
            .and_then(|e| e.downcast_ref::<session_retry::Error>())
            .unwrap_or_else(|| panic!("{way}: {err:?}"));
        assert_eq!(retry_err.status(), Some(StatusCode::BAD_GATEWAY), "{way}");
        assert_eq!(mock.requests().len(), 4, "{way}");
        errors.push(retry_err.history().clone());

        let res = session
            .post("http://api.test/")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{way}");
        assert_eq!(mock.requests().len(), 5, "{way}: POST is sent once");
        assert_eq!(
            res.extensions()
                .get::<RetryHistory>()
                .unwrap()
                .stop_reason(),
            Some(&StopReason::MethodNotRetryable),
            "{way}"
        );
    }
    assert_eq!(errors[0], errors[1]);
}

#[tokio::test(start_paused = true)]
async fn the_total_timeout_ends_a_wait_between_attempts() {
    for (way, session, mock) in both_ways(slow_to_recover, guide_retry) {
        let err = session
            .get("http://api.test/")
            .timeout(Duration::from_millis(500))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{way}: {err:?}");
        assert_eq!(
            mock.requests().len(),
            1,
            "{way}: no attempt after the deadline"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn each_request_deposits_in_the_budget_before_its_retries() {
    // Every request earns exactly one retry; none is held in reserve.
    let budget = session_retry::RetryBudget::new(Duration::from_secs(10), 0, 1.0).unwrap();
    let retry = || guide_retry().budget(budget.clone());
    for (way, session, mock) in both_ways(|| flaky_mock(1).0, retry) {
        let res = session.get("http://api.test/flaky").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{way}");
        assert_eq!(mock.requests().len(), 2, "{way}");
    }
    let none = session_retry::RetryBudget::new(Duration::from_secs(10), 0, 0.0).unwrap();
    let retry = || guide_retry().raise_on_status(false).budget(none.clone());
    for (way, session, mock) in both_ways(|| flaky_mock(1).0, retry) {
        let res = session.get("http://api.test/flaky").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{way}");
        assert_eq!(mock.requests().len(), 1, "{way}");
        assert_eq!(
            res.extensions()
                .get::<RetryHistory>()
                .unwrap()
                .stop_reason(),
            Some(&StopReason::BudgetExhausted),
            "{way}"
        );
    }
}

/// An auth scheme signs once per hop, above the retries: each attempt is
/// sent as signed.
#[tokio::test(start_paused = true)]
async fn a_session_auth_scheme_signs_once_above_the_retries() {
    struct Counted(Arc<AtomicUsize>);
    impl session_core::auth::Auth for Counted {
        fn sign(&self, req: &mut Request<Body>) -> Result<(), session_core::BoxError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            req.headers_mut()
                .insert("x-signature", n.to_string().parse().unwrap());
            Ok(())
        }
    }
    let signed = Arc::new(AtomicUsize::new(0));
    let (mock, hits) = flaky_mock(2);
    let session = Session::builder()
        .transport(mock.clone())
        .auth(Counted(signed.clone()))
        .router_layer(RetryLayer::new(guide_retry()).unwrap())
        .build()
        .unwrap();
    let res = session.get("http://api.test/flaky").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(
        signed.load(Ordering::SeqCst),
        1,
        "signed once, resent as signed"
    );
    assert!(mock
        .requests()
        .iter()
        .all(|r| r.headers["x-signature"] == "0"));
}
