//! The retry layer over a plain hyper-util client (no session-core
//! `Session`), against real servers on 127.0.0.1.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
#[cfg(feature = "session-core")]
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use session_retry::policy::{classify_fn, find_source};
use session_retry::{
    Counter, Error, ErrorKind, Outcome, Retry, RetryBudget, RetryHistory, RetryLayer, StopReason,
};
use tower::{Layer, ServiceExt};

fn client<B>() -> Client<HttpConnector, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new()).build_http()
}

/// The classification hook a plain hyper-util user plugs in.
fn hyper_util_retry() -> Retry {
    Retry::new().policy(classify_fn(|err| {
        let err = find_source::<hyper_util::client::legacy::Error>(err)?;
        Some(if err.is_connect() {
            ErrorKind::Connect
        } else {
            ErrorKind::Read
        })
    }))
}

fn request(method: Method, url: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

fn retry_error(err: session_retry::BoxError) -> Error {
    *err.downcast::<Error>().expect("a session_retry::Error")
}

/// Answers 503 to the first `failures` requests, then 200; counts them.
async fn flaky(failures: usize, hits: Arc<AtomicUsize>) -> support::Server {
    support::http(move |_req| {
        let n = hits.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < failures {
                support::reply(503, "try again")
            } else {
                support::reply(200, "finally")
            }
        }
    })
    .await
}

#[tokio::test]
async fn get_succeeds_on_the_third_attempt() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = flaky(2, hits.clone()).await;
    let retry = hyper_util_retry()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([500, 502, 503, 504]);
    let service = RetryLayer::new(retry).unwrap().layer(client());
    let res = service
        .oneshot(request(Method::GET, &server.url("/"), ""))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "the server counted three attempts"
    );
    let history = res.extensions().get::<RetryHistory>().unwrap().clone();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.sleeps(),
        [Duration::ZERO, Duration::from_millis(200)]
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "finally");
}

#[tokio::test]
async fn post_is_not_retried_on_503_nor_500() {
    for code in [503u16, 500] {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let server = support::http(move |_req| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { support::reply(code, "no") }
        })
        .await;
        let retry = hyper_util_retry()
            .total(3)
            .status_forcelist([500, 502, 503, 504]);
        let service = RetryLayer::new(retry).unwrap().layer(client());
        let res = service
            .oneshot(request(Method::POST, &server.url("/"), "form=1"))
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), code);
        assert_eq!(hits.load(Ordering::SeqCst), 1, "POST {code} was sent once");
        let history = res.extensions().get::<RetryHistory>().unwrap();
        assert_eq!(history.stop_reason(), Some(&StopReason::MethodNotRetryable));
    }
}

#[tokio::test]
async fn connection_closed_by_the_server_is_a_read_error() {
    let server = support::accept_and_close().await;
    let retry = hyper_util_retry().total(2);
    let service = RetryLayer::new(retry).unwrap().layer(client());
    let err = service
        .clone()
        .oneshot(request(Method::GET, &server.url("/"), ""))
        .await
        .unwrap_err();
    let err = retry_error(err);
    assert_eq!(server.connections(), 3, "GET was tried three times");
    assert!(err.is_exhausted() && !err.is_connect());
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::Exhausted(Counter::Total))
    );
    assert!(err.history().attempts().iter().all(|a| matches!(
        a.outcome,
        Outcome::Error {
            kind: ErrorKind::Read,
            ..
        }
    )));
    // The same failure for a POST may have reached the server: sent once.
    let err = service
        .oneshot(request(Method::POST, &server.url("/"), "x"))
        .await
        .unwrap_err();
    assert_eq!(server.connections(), 4);
    assert_eq!(
        retry_error(err).history().stop_reason(),
        Some(&StopReason::MethodNotRetryable)
    );
}

#[tokio::test]
async fn refused_port_is_retried_as_connect_error_for_any_method() {
    let addr = support::refused_port();
    let url = format!("http://{addr}/");
    for method in [Method::GET, Method::POST] {
        let retry = hyper_util_retry().total(5).connect(2);
        let service = RetryLayer::new(retry).unwrap().layer(client());
        let err = retry_error(
            service
                .oneshot(request(method.clone(), &url, ""))
                .await
                .unwrap_err(),
        );
        assert!(err.is_connect(), "{method}: {err:?}");
        assert_eq!(err.history().len(), 3, "{method}");
        assert_eq!(
            err.history().stop_reason(),
            Some(&StopReason::Exhausted(Counter::Connect))
        );
        assert!(err.history().attempts().iter().all(|a| matches!(
            a.outcome,
            Outcome::Error {
                kind: ErrorKind::Connect,
                ..
            }
        )));
    }
    // The standard classification finds the refused connection in the chain
    // without the hyper-util hook.
    let service = RetryLayer::new(Retry::new().total(1))
        .unwrap()
        .layer(client());
    let err = retry_error(
        service
            .oneshot(request(Method::POST, &url, ""))
            .await
            .unwrap_err(),
    );
    assert_eq!(err.history().len(), 2);
    assert!(err.is_connect());
}

// `ReplayBody` for `session_core::Body` needs the `session-core` feature.
#[cfg(feature = "session-core")]
#[tokio::test]
async fn put_of_one_mib_arrives_identical_on_every_attempt() {
    let payload: Bytes = (0..1024 * 1024)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    let seen: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let server = {
        let seen = seen.clone();
        support::http(move |req| {
            let seen = seen.clone();
            async move {
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let mut seen = seen.lock().unwrap();
                seen.push(body);
                if seen.len() < 3 {
                    support::reply(503, "again")
                } else {
                    support::reply(200, "stored")
                }
            }
        })
        .await
    };
    let retry = Retry::new().total(3).status_forcelist([503]);
    let service = RetryLayer::new(retry)
        .unwrap()
        .layer(client::<session_core::Body>());
    let req = Request::put(server.url("/upload"))
        .body(session_core::Body::from(payload.clone()))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for (n, body) in seen.iter().enumerate() {
        assert_eq!(body.len(), payload.len(), "attempt {n}");
        assert!(*body == payload, "attempt {n} differs");
    }
}

// `ReplayBody` for `session_core::Body` needs the `session-core` feature.
#[cfg(feature = "session-core")]
#[tokio::test]
async fn streaming_body_is_not_replayed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = flaky(usize::MAX, hits.clone()).await;
    let retry = Retry::new().total(3).status_forcelist([503]);
    let service = RetryLayer::new(retry)
        .unwrap()
        .layer(client::<session_core::Body>());
    let chunks = futures_util::stream::iter(
        ["one ", "shot"].map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c.as_bytes()))),
    );
    let req = Request::put(server.url("/"))
        .body(session_core::Body::from_stream(chunks))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let history = res.extensions().get::<RetryHistory>().unwrap();
    assert_eq!(history.stop_reason(), Some(&StopReason::BodyNotReplayable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_caps_attempts_of_200_concurrent_requests() {
    let hits = Arc::new(AtomicUsize::new(0));
    let server = flaky(usize::MAX, hits.clone()).await;
    // A 10% share of the first attempts, plus 1 retry a second over 10 s.
    let budget = RetryBudget::new(Duration::from_secs(10), 1, 0.1).unwrap();
    let retry = Retry::new()
        .total(3)
        .status_forcelist([503])
        .raise_on_status(false)
        .budget(budget);
    let service = RetryLayer::new(retry).unwrap().layer(client());
    let url = server.url("/");
    let requests = (0..200).map(|_| {
        let service = service.clone();
        let req = request(Method::GET, &url, "");
        tokio::spawn(async move { service.oneshot(req).await })
    });
    let mut by_budget = 0;
    for handle in futures_util::future::join_all(requests).await {
        let res = handle.unwrap().unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let history = res.extensions().get::<RetryHistory>().unwrap();
        if history.stop_reason() == Some(&StopReason::BudgetExhausted) {
            by_budget += 1;
        }
    }
    let attempts = hits.load(Ordering::SeqCst);
    // Without the budget: 800. With it: 200 + 20 (10%) + 10 (reserve), and a
    // few more where concurrent withdrawals race.
    assert!((200..=240).contains(&attempts), "{attempts} attempts");
    assert!(
        by_budget >= 150,
        "{by_budget} requests stopped by the budget"
    );
}
