//! Retries through a Session: the builder's `.retry(...)`, and retries mounted
//! on one prefix as the requests guide does with an adapter.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_session::hyper::HyperTransport;
use http_session::retry::{
    Counter, ErrorKind, Outcome, Retry, RetryHistory, RetryService, StopReason,
};
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
/// When status retries run out, the session's error answers like a plain
/// status error (`is_status`, `status`, the URL) and still carries the
/// retry history as its cause.
#[tokio::test]
async fn exhausted_status_retries_answer_is_status() {
    let (srv, _hits) = flaky(100);
    let session = Session::builder()
        .retry(guide_retry().backoff_factor(0.0))
        .build()
        .unwrap();
    let err = session.get(srv.url("/")).send().await.unwrap_err();
    assert!(err.is_status(), "{err:?}");
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.url().map(|u| u.path()), Some("/"));
    let retry_err = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<http_session::retry::Error>())
        .expect("the retry error is the cause");
    assert_eq!(retry_err.history().len(), 4);
}

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

// The session drives the attempts of the requests it sends itself (no hop
// layer, no per-request extension): the tests below check that this path
// keeps every rule of the retry layer.

/// A server that accepts connections and closes them at once, counting them.
async fn accept_and_close() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, accepted)
}

fn retry_error(err: &http_session::Error) -> &http_session::retry::Error {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(retry) = cause.downcast_ref::<http_session::retry::Error>() {
            return retry;
        }
        source = cause.source();
    }
    panic!("no retry error in {err:?}")
}

#[tokio::test]
async fn a_retried_response_is_drained_so_its_connection_is_reused() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |_req: Req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                response(503, vec![b'x'; 32 * 1024])
            } else {
                response(200, "ok")
            }
        }
    });
    let session = Session::builder().retry(guide_retry()).build().unwrap();
    let res = session.get(srv.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert!(res.connection().unwrap().reused);
    assert_eq!(srv.connections(), 1, "each 503 body was read to its end");
}

#[tokio::test]
async fn every_attempt_sends_the_same_head_and_one_mib_body() {
    let (srv, log) = server::recording(|_req| response(503, ""));
    let session = Session::builder()
        .retry(guide_retry().backoff_factor(0.0).raise_on_status(false))
        .header("x-default", "kept")
        .header("x-removed", "default")
        .build()
        .unwrap();
    let payload: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let res = session
        .put(srv.url("/upload?q=1"))
        .header("x-own", "mine")
        .without_header("x-removed")
        .body(payload.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503, "the last answer, returned as it is");
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 4, "one attempt and three retries");
    for req in log.iter() {
        assert_eq!(req.method, http::Method::PUT);
        assert_eq!(req.uri, "/upload?q=1");
        assert_eq!(req.body, payload, "the body is resent byte for byte");
        assert_eq!(req.headers["x-own"], "mine");
        assert_eq!(req.headers["x-default"], "kept");
        assert!(!req.headers.contains_key("x-removed"));
        assert_eq!(req.headers["content-length"], "1048576");
    }
}

#[tokio::test]
async fn a_streaming_body_is_sent_once_and_the_history_says_why() {
    let (srv, hits) = flaky(2);
    let session = Session::builder()
        .retry(guide_retry().raise_on_status(false))
        .build()
        .unwrap();
    let chunks = futures_util::stream::iter(
        ["one ", "shot"].map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
    );
    let res = session
        .put(srv.url("/"))
        .body(http_session::Body::from_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let history = res.extensions().get::<RetryHistory>().unwrap();
    assert_eq!(history.stop_reason(), Some(&StopReason::BodyNotReplayable));
}

#[tokio::test]
async fn a_refused_port_is_retried_as_a_connect_error_even_for_post() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let session = Session::builder()
        .retry(Retry::new().total(5).connect(2))
        .build()
        .unwrap();
    let err = session
        .post(format!("http://{addr}/"))
        .body("x")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let history = retry_error(&err).history();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.stop_reason(),
        Some(&StopReason::Exhausted(Counter::Connect))
    );
}

#[tokio::test]
async fn a_closed_connection_is_a_read_error_retried_for_get_only() {
    let (addr, accepted) = accept_and_close().await;
    let session = Session::builder()
        .retry(Retry::new().total(2))
        .build()
        .unwrap();
    let err = session
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        3,
        "GET was tried three times"
    );
    assert!(!err.is_connect(), "{err:?}");
    assert!(retry_error(&err)
        .history()
        .attempts()
        .iter()
        .all(|a| matches!(
            a.outcome,
            Outcome::Error {
                kind: ErrorKind::Read,
                ..
            }
        )));

    let err = session
        .post(format!("http://{addr}/"))
        .body("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(accepted.load(Ordering::SeqCst), 4, "POST was sent once");
    assert_eq!(
        retry_error(&err).history().stop_reason(),
        Some(&StopReason::MethodNotRetryable)
    );
}

#[tokio::test]
async fn an_idempotency_key_default_makes_post_retryable_unless_removed() {
    let (srv, hits) = flaky(1);
    let session = Session::builder()
        .retry(guide_retry())
        .header("idempotency-key", "8e03978e")
        .build()
        .unwrap();
    let res = session.post(srv.url("/")).body("x").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    hits.store(0, Ordering::SeqCst);
    let res = session
        .post(srv.url("/"))
        .without_header("idempotency-key")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503, "without the key POST is not retried");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redirect_after_retries_is_followed_and_its_next_hop_retried() {
    let hits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = hits.clone();
    let srv = server::http(move |req: Req| {
        let path = req.uri.path().to_owned();
        let seen = {
            let mut hits = record.lock().unwrap();
            hits.push(path.clone());
            hits.iter().filter(|p| **p == path).count()
        };
        async move {
            match (path.as_str(), seen) {
                (_, 1) => response(503, "busy"),
                ("/start", _) => {
                    let mut res = response(302, "");
                    res.headers_mut()
                        .insert(http::header::LOCATION, "/end".parse().unwrap());
                    res
                }
                _ => response(200, "end"),
            }
        }
    });
    let session = Session::builder().retry(guide_retry()).build().unwrap();
    let res = session.get(srv.url("/start")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.url().path(), "/end");
    assert_eq!(*hits.lock().unwrap(), ["/start", "/start", "/end", "/end"]);
    assert_eq!(res.extensions().get::<RetryHistory>().unwrap().len(), 2);
}

#[tokio::test]
async fn a_request_with_its_own_auth_is_retried_by_the_layer() {
    let (srv, hits) = flaky(2);
    let session = Session::builder().retry(guide_retry()).build().unwrap();
    let res = session
        .get(srv.url("/"))
        .basic_auth("user", Some("pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(res.extensions().get::<RetryHistory>().unwrap().len(), 3);
}

/// Answers an HTTP/2 request with its own body.
async fn echo_h2(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<bytes::Bytes>,
) {
    let mut body = req.into_body();
    let mut received = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        received.extend_from_slice(&chunk);
    }
    let mut send = respond
        .send_response(http::Response::new(()), false)
        .unwrap();
    send.send_data(bytes::Bytes::from(received), true).unwrap();
}

/// An HTTP/2 peer that refuses the first stream (`RST_STREAM` with
/// `REFUSED_STREAM`) and answers the rest, over h2c on loopback. Returns its
/// address and how many streams it saw.
async fn refusing_h2_peer() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let streams = Arc::new(AtomicUsize::new(0));
    let seen = streams.clone();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut conn = h2::server::handshake(socket).await.unwrap();
        while let Some(Ok((req, mut respond))) = conn.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                respond.send_reset(h2::Reason::REFUSED_STREAM);
                continue;
            }
            echo_h2(req, respond).await;
        }
    });
    (addr, streams)
}

/// POSTs `payload` over h2c with two retries allowed, and checks that it
/// is answered with its own body.
async fn post_payload_with_retries(addr: std::net::SocketAddr) {
    let session = Session::builder()
        .http2_prior_knowledge()
        .retry(Retry::new().total(2))
        .build()
        .unwrap();
    let res = session
        .post(format!("http://{addr}/upload"))
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "payload");
}

/// RFC 9113 §8.7: a refused stream was not processed, so even a POST is
/// sent again (as a connect error, under the same limits); without retries
/// the refusal is an error that says so.
#[tokio::test]
async fn a_post_on_a_refused_h2_stream_is_sent_again() {
    let (addr, streams) = refusing_h2_peer().await;
    post_payload_with_retries(addr).await;
    assert_eq!(streams.load(Ordering::SeqCst), 2);

    let (addr, _) = refusing_h2_peer().await;
    let plain = Session::builder().http2_prior_knowledge().build().unwrap();
    let err = plain
        .post(format!("http://{addr}/upload"))
        .body("payload")
        .send()
        .await
        .unwrap_err();
    let mut source = std::error::Error::source(&err);
    let mut not_sent = false;
    while let Some(cause) = source {
        not_sent |= cause.is::<http_session::core::error::NotSent>();
        source = cause.source();
    }
    assert!(not_sent, "{err:?}");
}

/// An HTTP/2 peer whose first connection sends a graceful `GOAWAY` naming
/// no stream as processed, while the client's first stream is in flight;
/// later connections answer. Returns its address, and the connections and
/// answered streams it saw.
async fn going_away_h2_peer() -> (std::net::SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (connections, answered) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (seen, done) = (connections.clone(), answered.clone());
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let first = seen.fetch_add(1, Ordering::SeqCst) == 0;
            let done = done.clone();
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(socket).await.unwrap();
                if first {
                    // The client's stream arrives while the connection is
                    // not read: the GOAWAY names stream 0 as the last one.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                    while conn.accept().await.is_some() {}
                    return;
                }
                while let Some(Ok((req, respond))) = conn.accept().await {
                    done.fetch_add(1, Ordering::SeqCst);
                    echo_h2(req, respond).await;
                }
            });
        }
    });
    (addr, connections, answered)
}

/// RFC 9113 §8.7: a stream above a graceful GOAWAY's last stream id was not
/// processed, so even a POST is sent again, on a new connection.
#[tokio::test]
async fn a_post_above_a_graceful_goaway_is_sent_again() {
    let (addr, connections, answered) = going_away_h2_peer().await;
    post_payload_with_retries(addr).await;
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert_eq!(answered.load(Ordering::SeqCst), 1);
}
