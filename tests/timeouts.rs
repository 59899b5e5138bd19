//! Timeouts against loopback servers that stall at the right point: a
//! server that never answers the TLS handshake (connect), a listener whose
//! accept queue is full (connect), slow headers and a stalled body (read),
//! and the session's total deadline. Each error is `is_timeout()` and names
//! the timer; a timed-out connection is not reused.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use http_session::Session;
use support::chain;
use support::server::{self, response, ResBody};

/// The read timeout of the tests that also send a request after it fires:
/// that request's new connection must answer within it on a busy CI machine.
const READ_TIMEOUT: Duration = Duration::from_secs(1);

/// `/slow` waits long before its head, `/stall` sends one chunk then
/// nothing, anything else answers at once.
fn stalling_server() -> server::Server {
    server::http_raw(|req| async move {
        match req.uri().path() {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                response(200, "late")
            }
            "/stall" => {
                let first = futures_util::stream::iter(vec![Ok::<
                    _,
                    Box<dyn std::error::Error + Send + Sync>,
                >(
                    hyper::body::Frame::data(Bytes::from("first chunk")),
                )]);
                let body: ResBody = BodyExt::boxed(StreamBody::new(
                    first.chain(futures_util::stream::pending()),
                ));
                http::Response::new(body)
            }
            _ => response(200, "fast"),
        }
    })
}

#[tokio::test]
async fn slow_headers_fire_the_read_timeout_and_drop_the_connection() {
    let srv = stalling_server();
    let session = Session::builder()
        .read_timeout(READ_TIMEOUT)
        .build()
        .unwrap();
    let first = session.get(srv.url("/")).send().await.unwrap();
    let first_id = first.connection().unwrap().id;
    assert_eq!(first.text().await.unwrap(), "fast");

    let err = session.get(srv.url("/slow")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
    assert!(chain(&err).contains("read timed out"), "{}", chain(&err));

    let again = session.get(srv.url("/")).send().await.unwrap();
    assert_ne!(again.connection().unwrap().id, first_id, "not reused");
    assert_eq!(srv.connections(), 2);
}

#[tokio::test]
async fn a_stalled_body_fires_the_read_timeout() {
    let srv = stalling_server();
    let session = Session::builder()
        .read_timeout(READ_TIMEOUT)
        .build()
        .unwrap();
    let res = session.get(srv.url("/stall")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let err = res.bytes().await.unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
    assert!(chain(&err).contains("read timed out"), "{}", chain(&err));

    let next = session.get(srv.url("/")).send().await.unwrap();
    assert!(!next.connection().unwrap().reused);
    assert_eq!(srv.connections(), 2);
}

#[tokio::test]
async fn the_session_deadline_covers_the_body() {
    let srv = stalling_server();
    let session = Session::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let res = session.get(srv.url("/stall")).send().await.unwrap();
    let err = res.bytes().await.unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_fires_the_connect_timeout() {
    // Accepts TCP, then says nothing: the TLS handshake hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let session = Session::builder()
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = session
        .get(format!("https://localhost:{}/", addr.port()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.is_connect(), "{}", chain(&err));
    assert!(chain(&err).contains("connect timed out"), "{}", chain(&err));
    held.abort();
}

/// A listener with a backlog of one, never accepted, filled by other
/// connections: the kernel stops answering SYNs to it.
async fn never_accepting_listener() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    (listener, fillers)
}

#[tokio::test]
async fn a_listener_that_never_accepts_fires_the_connect_timeout() {
    let (listener, _fillers) = never_accepting_listener().await;
    let addr = listener.local_addr().unwrap();
    let session = Session::builder()
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = session
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.is_connect(), "{}", chain(&err));
    assert!(chain(&err).contains("connect timed out"), "{}", chain(&err));
    drop(listener);
}

#[test]
fn zero_timeouts_are_builder_errors() {
    for builder in [
        Session::builder().read_timeout(Duration::ZERO),
        Session::builder().connect_timeout(Duration::ZERO),
        Session::builder().pool_wait_timeout(Duration::ZERO),
    ] {
        assert!(builder.build().unwrap_err().is_builder());
    }
}

#[tokio::test]
async fn a_per_request_read_timeout_replaces_the_session_one() {
    use http_session::hyper::RequestReadTimeout;
    let srv = stalling_server();
    // No read timeout on the session: one request sets its own.
    let session = Session::new();
    let err = session
        .get(srv.url("/slow"))
        .extension(RequestReadTimeout(Duration::from_millis(150)))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
    assert!(chain(&err).contains("read timed out"), "{}", chain(&err));

    // A session with a short read timeout; one request allows longer.
    let strict = Session::builder()
        .read_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let res = strict
        .get(srv.url("/stall"))
        .extension(RequestReadTimeout(Duration::from_secs(30)))
        .timeout(Duration::from_millis(400))
        .send()
        .await
        .unwrap();
    let err = res.bytes().await.unwrap_err();
    // The total deadline fired, not the (longer) per-request read timeout.
    assert!(err.is_timeout());
    assert!(!chain(&err).contains("read timed out"), "{}", chain(&err));
}

#[tokio::test]
async fn a_per_request_connect_timeout_replaces_the_session_one() {
    use http_session::hyper::RequestConnectTimeout;
    let (listener, _fillers) = never_accepting_listener().await;
    let addr = listener.local_addr().unwrap();
    // The session has no connect timeout; the request brings its own.
    let session = Session::new();
    let err = session
        .get(format!("http://{addr}/"))
        .extension(RequestConnectTimeout(Duration::from_millis(250)))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.is_connect(), "{}", chain(&err));
    assert!(chain(&err).contains("connect timed out"), "{}", chain(&err));

    // And a request's own timeout still reaches a working server.
    let srv = stalling_server();
    let ok = session
        .get(srv.url("/"))
        .extension(RequestConnectTimeout(Duration::from_secs(5)))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.text().await.unwrap(), "fast");
    drop(listener);
}

#[tokio::test]
async fn a_request_with_its_own_timeouts_rides_the_pooled_connection() {
    use http_session::RequestBuilderExt as _;
    let srv = stalling_server();
    let session = Session::new();
    let first = session.get(srv.url("/")).send().await.unwrap();
    assert!(!first.connection().unwrap().reused);
    first.bytes().await.unwrap();
    // requests: timeout=(5, 5): only timeouts differ, so the same pool.
    let second = session
        .get(srv.url("/"))
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert!(second.connection().unwrap().reused);
    assert_eq!(second.text().await.unwrap(), "fast");
    assert_eq!(srv.connections(), 1);
    // The request's read timeout applies to it alone.
    let err = session
        .get(srv.url("/slow"))
        .read_timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
    assert!(chain(&err).contains("read timed out"), "{}", chain(&err));
}
