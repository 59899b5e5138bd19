//! Retries through a Session: the builder's `.retry(...)`, and retries mounted
//! on one prefix as the requests guide does with an adapter.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_session::hyper::HyperTransport;
use http_session::retry::{Retry, RetryHistory, RetryService};
use http_session::Session;
use support::server::{self, response, Req};

/// Answers 503 to the first `failures` requests, then 200.
fn flaky(failures: usize) -> (server::Server, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |_req: Req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < failures {
                response(503, "busy")
            } else {
                response(200, "ok")
            }
        }
    });
    (srv, hits)
}

fn guide_retry() -> Retry {
    Retry::new()
        .total(3)
        .backoff_factor(0.01)
        .status_forcelist([500, 502, 503, 504])
}

#[tokio::test]
async fn the_builder_retry_recovers_from_two_503s() {
    let (srv, hits) = flaky(2);
    let session = Session::builder().retry(guide_retry()).build().unwrap();
    let res = session.get(srv.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let history = res.extensions().get::<RetryHistory>().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history.retries(), 2);
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn post_is_not_retried_and_the_default_session_does_not_retry() {
    let (srv, hits) = flaky(2);
    let session = Session::builder().retry(guide_retry()).build().unwrap();
    let res = session.post(srv.url("/")).body("x").send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let (srv, hits) = flaky(1);
    let plain = Session::new();
    assert_eq!(plain.get(srv.url("/")).send().await.unwrap().status(), 503);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn retries_mounted_on_one_prefix_only() {
    let (srv, hits) = flaky(2);
    let retrying = RetryService::new(HyperTransport::new(), guide_retry()).unwrap();
    let prefix = format!("http://127.0.0.1:{}/api/", srv.port());
    let session = Session::builder().mount(&prefix, retrying).build().unwrap();

    let res = session.get(srv.url("/api/items")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);

    hits.store(0, Ordering::SeqCst);
    let res = session.get(srv.url("/other")).send().await.unwrap();
    assert_eq!(res.status(), 503, "no retries outside the mount");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn exhausted_status_retries_are_an_error_with_history() {
    let (srv, hits) = flaky(100);
    let session = Session::builder()
        .retry(guide_retry().backoff_factor(0.0))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = session.get(srv.url("/")).send().await.unwrap_err();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    let retry_err = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<http_session::retry::Error>())
        .expect("the retry error is the cause");
    assert_eq!(
        retry_err.status(),
        Some(http::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(retry_err.history().len(), 4);
    assert!(Session::builder()
        .retry(Retry::new().backoff_factor(f64::NAN))
        .build()
        .unwrap_err()
        .is_builder());
}

/// The jar sits inside the retries: each attempt is sent the cookies known
/// at that moment, and a retried response's `Set-Cookie` is kept (a load
/// balancer's affinity cookie on a 503 reaches the next attempt).
#[tokio::test]
async fn each_attempt_sends_and_stores_cookies() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let srv = server::http(move |req: Req| {
        let cookie = req
            .headers
            .get(http::header::COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        let attempt = {
            let mut seen = record.lock().unwrap();
            seen.push(cookie);
            seen.len()
        };
        async move {
            let mut res = if attempt == 1 {
                response(503, "busy")
            } else {
                response(200, "ok")
            };
            let set = format!("attempt{attempt}={attempt}");
            res.headers_mut()
                .insert(http::header::SET_COOKIE, set.parse().unwrap());
            res
        }
    });
    let session = Session::builder().retry(guide_retry()).build().unwrap();
    let res = session.get(srv.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        *seen.lock().unwrap(),
        [None, Some("attempt1=1".to_owned())],
        "the retry carried the cookie the 503 set"
    );
    let url = http_session::Url::parse(&srv.url("/")).unwrap();
    let header = session.cookies().unwrap().cookie_header(&url).unwrap();
    assert_eq!(header, "attempt1=1; attempt2=2");
}
