//! Errors you can ask: each of requests' exceptions, made to happen for real
//! over loopback sockets, and the questions `Error` answers about it. Each
//! test asserts the questions that must be true and those that must not:
//! a name that does not resolve, a refused connection, expired, wrong-name
//! and untrusted certificates from rcgen, proxies that refuse, answer
//! `CONNECT` with 403 or 407 or never answer, each timeout (connect, read,
//! total, pool wait), limits, a body that does not decode, a redirect loop,
//! status errors, and bad URLs.

mod support;

use std::error::Error as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use http_session::error::{CertificateProblem, ProxyError, TimeoutKind, TooLarge};
use http_session::redirect::TooManyRedirects;
use http_session::{Error, Session};
use support::chain;
use support::server::{self, response, Req, ResBody};
use support::tls::{Ca, Leaf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The first error of type `T` in `err`'s chain of causes.
fn find<T: std::error::Error + 'static>(err: &Error) -> Option<&T> {
    let mut next = err.source();
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// Every question, as `name=answer` pairs, so a failing assertion shows
/// them all.
fn answers(err: &Error) -> String {
    format!(
        "connect={} dns={} tls={} cert={:?} proxy={} timeout={} kind={:?} redirect={} \
         body={} decode={} too_large={} status={:?} builder={} request={}\n{}",
        err.is_connect(),
        err.is_dns(),
        err.is_tls(),
        err.certificate_problem(),
        err.is_proxy(),
        err.is_timeout(),
        err.timeout_kind(),
        err.is_redirect(),
        err.is_body(),
        err.is_decode(),
        err.is_too_large(),
        err.status(),
        err.is_builder(),
        err.is_request(),
        chain(err),
    )
}

/// A session that ignores the environment's proxies.
fn builder() -> http_session::SessionBuilder {
    Session::builder().trust_env(false)
}

/// A loopback port nothing listens on.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

async fn hello(_req: Req) -> http::Response<ResBody> {
    response(200, "hello")
}

/// requests' `ConnectionError` from name resolution: `is_dns()`. The name
/// is made not to resolve by a `resolve_to_addrs` override with no address:
/// no resolver is asked, so it fails at once, offline or not.
#[tokio::test]
async fn a_name_that_does_not_resolve_is_dns() {
    let session = builder()
        .resolve_to_addrs("nowhere.example.test", &[])
        .build()
        .unwrap();
    let started = Instant::now();
    let err = session
        .get("http://nowhere.example.test/")
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert!(started.elapsed() < Duration::from_secs(2), "{why}");
    assert!(
        err.is_dns() && err.is_connect() && err.is_request(),
        "{why}"
    );
    assert!(
        !err.is_tls() && !err.is_proxy() && !err.is_timeout(),
        "{why}"
    );
    let dns = find::<http_session::error::DnsError>(&err).unwrap();
    assert_eq!(dns.host(), "nowhere.example.test");
    assert_eq!(err.url().unwrap().host_str(), Some("nowhere.example.test"));

    // The same name over https fails the same way, before any TLS.
    let err = session
        .get("https://nowhere.example.test/")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_dns() && !err.is_tls(), "{}", answers(&err));
}

/// requests' `ConnectionError` for a refused connection: `is_connect()`,
/// and none of the narrower questions.
#[tokio::test]
async fn a_refused_connection_is_connect_only() {
    let addr = closed_port();
    let err = builder()
        .build()
        .unwrap()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert!(err.is_connect() && err.is_request(), "{why}");
    assert!(!err.is_dns() && !err.is_tls() && !err.is_proxy(), "{why}");
    assert!(!err.is_timeout() && err.timeout_kind().is_none(), "{why}");
    assert!(err.status().is_none() && !err.is_body(), "{why}");
}

/// requests' `SSLError`: `is_tls()`, with the certificate's problem as a
/// value. Three real servers with rcgen certificates: expired, for another
/// name, and from a CA the session does not trust.
#[tokio::test]
async fn certificate_problems_are_tls_errors_with_a_reason() {
    let ca = Ca::new("errors test ca");
    let session = builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .resolve("api.example.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let expired = ca.leaf_with(&["api.example.test"], |p| {
        p.not_before = rcgen::date_time_ymd(2000, 1, 1);
        p.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    let wrong_name = ca.leaf(&["other.example.test"]);
    let untrusted = Ca::new("someone else's ca").leaf(&["api.example.test"]);
    let self_signed = Leaf::self_signed(&["api.example.test"]);
    for (leaf, problem) in [
        (expired, CertificateProblem::Expired),
        (wrong_name, CertificateProblem::NameMismatch),
        (untrusted, CertificateProblem::UnknownIssuer),
        (self_signed, CertificateProblem::UnknownIssuer),
    ] {
        let srv = server::https(leaf.server_config(), hello);
        let url = format!("https://api.example.test:{}/", srv.port());
        let err = session.get(&url).send().await.unwrap_err();
        let why = answers(&err);
        assert_eq!(err.certificate_problem(), Some(problem), "{why}");
        assert!(err.is_tls() && err.is_connect(), "{why}");
        assert!(
            !err.is_dns() && !err.is_proxy() && !err.is_timeout(),
            "{why}"
        );
        // rustls's own error is still the cause, for whoever wants it.
        let rustls = find::<rustls::Error>(&err).expect("rustls's error in the chain");
        assert!(
            matches!(rustls, rustls::Error::InvalidCertificate(_)),
            "{rustls:?}"
        );
        assert!(srv.connections() >= 1);
    }

    // The same session reaches a good certificate.
    let good = server::https(ca.leaf(&["api.example.test"]).server_config(), hello);
    let url = format!("https://api.example.test:{}/", good.port());
    assert_eq!(session.get(&url).send().await.unwrap().status(), 200);
}

/// A TLS failure that is not about the certificate (the server speaks no
/// TLS) is still `is_tls()`, with no certificate problem.
#[tokio::test]
async fn a_server_that_does_not_speak_tls_is_a_tls_error_without_a_problem() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let err = builder()
        .build()
        .unwrap()
        .get(format!("https://localhost:{}/", addr.port()))
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert!(err.is_tls() && err.is_connect(), "{why}");
    assert_eq!(err.certificate_problem(), None, "{why}");
    server.abort();
}

/// A proxy that answers `CONNECT` with `status`, then closes.
async fn connect_answering(status: u16) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                assert!(head.starts_with(b"CONNECT "), "{head:?}");
                let answer = format!("HTTP/1.1 {status} No\r\ncontent-length: 0\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (addr, task)
}

/// requests' `ProxyError`: `is_proxy()` (and `is_connect()`), for a proxy
/// that refuses connections and for one that refuses the tunnel with 403
/// or asks for credentials with 407. The `ProxyError` in the chain names
/// the proxy and its answer; the request's own `status()` stays `None`.
#[tokio::test]
async fn proxies_that_refuse_are_proxy_errors() {
    let ca = Ca::new("errors test ca");
    let origin = server::https(ca.leaf(&["localhost"]).server_config(), hello);

    let refusing = closed_port();
    let session = builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .proxy("all", &format!("http://{refusing}"))
        .build()
        .unwrap();
    for url in [origin.https_url("/"), origin.url("/")] {
        let err = session.get(&url).send().await.unwrap_err();
        let why = answers(&err);
        assert!(err.is_proxy() && err.is_connect(), "{url}: {why}");
        assert!(!err.is_tls() && !err.is_dns() && !err.is_timeout(), "{why}");
        let proxy = find::<ProxyError>(&err).unwrap();
        assert_eq!(proxy.proxy(), format!("http://{refusing}"));
        assert_eq!(proxy.connect_status(), None);
    }
    assert_eq!(origin.connections(), 0);

    for status in [403, 407] {
        let (addr, task) = connect_answering(status).await;
        let session = builder()
            .add_root_certificate_pem(ca.cert_pem.as_bytes())
            .proxy("all", &format!("http://{addr}"))
            .build()
            .unwrap();
        let err = session.get(origin.https_url("/")).send().await.unwrap_err();
        let why = answers(&err);
        assert!(err.is_proxy() && err.is_connect(), "{why}");
        assert!(err.status().is_none() && !err.is_status(), "{why}");
        assert!(!err.is_tls() && !err.is_timeout(), "{why}");
        let proxy = find::<ProxyError>(&err).unwrap();
        assert_eq!(proxy.connect_status().map(|s| s.as_u16()), Some(status));
        task.abort();
    }
}

/// A loopback listener that accepts connections, keeps them open and never
/// says a word; abort the task to close them.
async fn silent_listener() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    (addr, held)
}

/// A proxy that accepts and never answers `CONNECT`: the connect timeout
/// fires, and the error says it was the proxy (requests' `ProxyError`) as
/// well as which timer (`TimeoutKind::Connect`).
#[tokio::test]
async fn a_proxy_that_never_answers_is_a_proxy_connect_timeout() {
    let (addr, held) = silent_listener().await;
    let session = builder()
        .proxy("all", &format!("http://{addr}"))
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = session
        .get("https://api.example.test/")
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert!(
        err.is_proxy() && err.is_connect() && err.is_timeout(),
        "{why}"
    );
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Connect), "{why}");
    assert!(!err.is_dns() && !err.is_tls(), "{why}");
    held.abort();
}

/// requests' `ConnectTimeout`: a server that accepts TCP and never answers
/// the TLS handshake. `TimeoutKind::Connect`, and `is_connect()`: the
/// request was not sent.
#[tokio::test]
async fn a_handshake_that_never_ends_is_a_connect_timeout() {
    let (addr, held) = silent_listener().await;
    let err = builder()
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap()
        .get(format!("https://localhost:{}/", addr.port()))
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Connect), "{why}");
    assert!(err.is_timeout() && err.is_connect(), "{why}");
    assert!(!err.is_proxy() && !err.is_tls() && !err.is_dns(), "{why}");
    held.abort();
}

/// `/slow` answers after 30 s; `/stall` sends one chunk then nothing.
fn stalling_server() -> server::Server {
    server::http_raw(|req| async move {
        match req.uri().path() {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                response(200, "late")
            }
            _ => {
                let first = futures_util::stream::iter(vec![Ok::<
                    _,
                    Box<dyn std::error::Error + Send + Sync>,
                >(
                    hyper::body::Frame::data(Bytes::from("first chunk")),
                )]);
                http::Response::new(BodyExt::boxed(StreamBody::new(
                    first.chain(futures_util::stream::pending()),
                )))
            }
        }
    })
}

/// requests' `ReadTimeout`: the head is late, or the body stalls.
/// `TimeoutKind::Read`, not a connect error (the request may have been
/// processed); a stalled body is also `is_body()`.
#[tokio::test]
async fn a_stalling_server_is_a_read_timeout() {
    let srv = stalling_server();
    let session = builder()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = session.get(srv.url("/slow")).send().await.unwrap_err();
    let why = answers(&err);
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{why}");
    assert!(
        err.is_timeout() && !err.is_connect() && !err.is_body(),
        "{why}"
    );

    let res = session.get(srv.url("/stall")).send().await.unwrap();
    let err = res.bytes().await.unwrap_err();
    let why = answers(&err);
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{why}");
    assert!(
        err.is_timeout() && err.is_body() && !err.is_connect(),
        "{why}"
    );
}

/// requests' `Timeout` for the whole request (the session's `timeout`):
/// `TimeoutKind::Total`, before the head and while the body is read.
#[tokio::test]
async fn the_session_timeout_is_a_total_timeout() {
    let srv = stalling_server();
    let session = builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = session.get(srv.url("/slow")).send().await.unwrap_err();
    let why = answers(&err);
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total), "{why}");
    assert!(err.is_timeout() && !err.is_connect(), "{why}");

    let res = session.get(srv.url("/stall")).send().await.unwrap();
    let err = res.bytes().await.unwrap_err();
    assert_eq!(
        err.timeout_kind(),
        Some(TimeoutKind::Total),
        "{}",
        answers(&err)
    );
}

/// One connection per host, held by a request the server does not answer:
/// the next request waits for a slot and gives up after the pool wait
/// timeout (`TimeoutKind::Pool`). No connection was had, so it is
/// `is_connect()` too.
#[tokio::test]
async fn waiting_for_a_pooled_connection_is_a_pool_timeout() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let rx = Arc::new(tokio::sync::Mutex::new(Some(rx)));
    let srv = server::http(move |req| {
        let rx = rx.clone();
        async move {
            if req.uri.path() == "/hold" {
                if let Some(rx) = rx.lock().await.take() {
                    let _ = rx.await;
                }
            }
            response(200, "ok")
        }
    });
    let session = builder()
        .pool_max_connections_per_host(1)
        .pool_wait_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let holder = tokio::spawn({
        let (s, url) = (session.clone(), srv.url("/hold"));
        async move { s.get(url).send().await.unwrap().text().await.unwrap() }
    });
    while srv.connections() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = session.get(srv.url("/")).send().await.unwrap_err();
    let why = answers(&err);
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Pool), "{why}");
    assert!(err.is_timeout() && err.is_connect(), "{why}");
    assert!(!err.is_proxy() && !err.is_dns(), "{why}");
    tx.send(()).unwrap();
    assert_eq!(holder.await.unwrap(), "ok");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// `/big`: 64 KiB; `/zeros`: 64 KiB of zeros, gzip-coded; `/bad-gzip`:
/// says gzip and is not; `/truncated-gzip`: the first half of a gzip body.
fn content_server() -> server::Server {
    server::http(|req: Req| async move {
        let (coding, body): (Option<&str>, Vec<u8>) = match req.uri.path() {
            "/big" => (None, vec![b'x'; 64 * 1024]),
            "/zeros" => (Some("gzip"), gzip(&[0u8; 64 * 1024])),
            "/bad-gzip" => (Some("gzip"), b"this is not gzip at all".to_vec()),
            "/truncated-gzip" => {
                let whole = gzip(&[b'y'; 4096]);
                (Some("gzip"), whole[..whole.len() / 2].to_vec())
            }
            _ => (None, b"ok".to_vec()),
        };
        let mut res = response(200, body);
        if let Some(coding) = coding {
            res.headers_mut()
                .insert("content-encoding", coding.parse().unwrap());
        }
        res
    })
}

/// Bodies over a limit: the transport's `max_response_body_size` (refused
/// with the head: a request error), its `max_decompressed_size`, and the
/// session's `max_body_size` (both while reading: body errors). No requests
/// exception matches; `is_too_large()` answers for all three.
#[tokio::test]
async fn bodies_over_a_limit_are_too_large() {
    let srv = content_server();

    let wire = builder().max_response_body_size(1024).build().unwrap();
    let err = wire.get(srv.url("/big")).send().await.unwrap_err();
    let why = answers(&err);
    assert!(
        err.is_too_large() && !err.is_connect() && !err.is_timeout(),
        "{why}"
    );
    assert_eq!(find::<TooLarge>(&err).map(|t| t.limit()), Some(1024));

    let decoded = builder().max_decompressed_size(1024).build().unwrap();
    let res = decoded.get(srv.url("/zeros")).send().await.unwrap();
    let err = res.bytes().await.unwrap_err();
    let why = answers(&err);
    assert!(
        err.is_too_large() && err.is_body() && !err.is_decode(),
        "{why}"
    );
    assert_eq!(
        find::<TooLarge>(&err).map(|t| t.what()),
        Some("decompressed body")
    );

    let session_limit = builder().max_body_size(1024).build().unwrap();
    let res = session_limit.get(srv.url("/big")).send().await.unwrap();
    let err = res.bytes().await.unwrap_err();
    let why = answers(&err);
    assert!(err.is_too_large() && err.is_body(), "{why}");
}

/// A response head over `max_response_header_size` is too large as well
/// (a request error: no response was had).
#[tokio::test]
async fn a_head_over_the_limit_is_too_large() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nx-filler: {}\r\ncontent-length: 0\r\n\r\n",
                "a".repeat(64 * 1024)
            );
            let _ = stream.write_all(head.as_bytes()).await;
        }
    });
    let err = builder()
        .max_response_header_size(16 * 1024)
        .build()
        .unwrap()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert!(err.is_too_large() && err.is_request(), "{why}");
    assert!(!err.is_connect() && !err.is_body(), "{why}");
    let limit = find::<TooLarge>(&err).unwrap();
    assert_eq!((limit.what(), limit.limit()), ("response head", 16 * 1024));
    server.abort();
}

/// requests' `ContentDecodingError`: a body whose `Content-Encoding` lies,
/// or that ends in the middle of its coding. `is_decode()`, not
/// `is_body()`; the coding is named.
#[tokio::test]
async fn a_body_that_does_not_decode_is_a_decode_error() {
    let srv = content_server();
    let session = builder().build().unwrap();
    for path in ["/bad-gzip", "/truncated-gzip"] {
        let res = session.get(srv.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let err = res.text().await.unwrap_err();
        let why = answers(&err);
        assert!(err.is_decode() && !err.is_body(), "{path}: {why}");
        assert!(
            !err.is_too_large() && !err.is_timeout() && !err.is_connect(),
            "{why}"
        );
        let bad = find::<http_session::error::ContentDecodingError>(&err).unwrap();
        assert_eq!(bad.coding(), "gzip");
    }
    // JSON that does not parse is a decode error too (`JSONDecodeError`).
    let err = session
        .get(srv.url("/big"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(err.is_decode() && !err.is_body(), "{}", answers(&err));
}

/// requests' `TooManyRedirects`: a server that redirects to itself.
/// `is_redirect()`, with the history in the chain.
#[tokio::test]
async fn a_redirect_loop_is_a_redirect_error() {
    let srv = server::http(|_req: Req| async {
        let mut res = response(302, "");
        res.headers_mut()
            .insert("location", "/again".parse().unwrap());
        res
    });
    let err = builder()
        .max_redirects(5)
        .build()
        .unwrap()
        .get(srv.url("/"))
        .send()
        .await
        .unwrap_err();
    let why = answers(&err);
    assert!(err.is_redirect(), "{why}");
    assert!(
        !err.is_connect() && !err.is_status() && !err.is_too_large(),
        "{why}"
    );
    let too_many = find::<TooManyRedirects>(&err).unwrap();
    assert_eq!(too_many.max(), 5);
    assert_eq!(too_many.history().len(), 6);
}

/// requests' `HTTPError` (`raise_for_status`) and `RetryError` (status
/// retries that ran out): both `is_status()` with the status; the second
/// keeps the retry history as its cause.
#[tokio::test]
async fn status_errors_and_exhausted_status_retries_answer_is_status() {
    let srv = server::http(|_req: Req| async { response(503, "busy") });
    let plain = builder().build().unwrap();
    let res = plain.get(srv.url("/")).send().await.unwrap();
    let err = res.error_for_status().unwrap_err();
    assert!(err.is_status() && !err.is_connect(), "{}", answers(&err));
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));

    let retrying = builder()
        .retry(
            http_session::retry::Retry::new()
                .total(2)
                .backoff_factor(0.0)
                .status_forcelist([503]),
        )
        .build()
        .unwrap();
    let err = retrying.get(srv.url("/")).send().await.unwrap_err();
    let why = answers(&err);
    assert!(
        err.is_status() && !err.is_connect() && !err.is_timeout(),
        "{why}"
    );
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    let retry = find::<http_session::retry::Error>(&err).expect("the retry error");
    assert_eq!(retry.history().len(), 3);
}

/// requests' `InvalidURL`, `MissingSchema`, `InvalidSchema` and
/// `InvalidHeader`: builder errors, found before anything is sent.
#[tokio::test]
async fn bad_urls_and_headers_are_builder_errors() {
    let session = builder().build().unwrap();
    for url in [
        "http://",
        "example.test/no-scheme",
        "http://exa mple.test/",
        "ftp://example.test/",
    ] {
        let err = session.get(url).send().await.unwrap_err();
        let why = answers(&err);
        assert!(err.is_builder(), "{url}: {why}");
        assert!(!err.is_connect() && !err.is_request(), "{url}: {why}");
    }
    let err = session
        .get("http://example.test/")
        .header("bad header", "x")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_builder(), "{}", answers(&err));
}

/// The retry layer still tells connect failures (retried whatever the
/// method) from others after the errors became typed: a POST to a name that
/// does not resolve and to a proxy that refuses is retried, up to the
/// connect count.
#[tokio::test]
async fn connect_failures_are_still_retried_as_connect_errors() {
    let session = builder()
        .resolve_to_addrs("nowhere.example.test", &[])
        .retry(
            http_session::retry::Retry::new()
                .total(5)
                .connect(2)
                .backoff_factor(0.0),
        )
        .build()
        .unwrap();
    let err = session
        .post("http://nowhere.example.test/")
        .body("once")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_dns() && err.is_connect(), "{}", answers(&err));
    let retry = find::<http_session::retry::Error>(&err).expect("the retry error");
    assert!(retry.is_exhausted() && retry.is_connect(), "{retry:?}");
    assert_eq!(retry.history().len(), 3, "{retry:?}");
}
