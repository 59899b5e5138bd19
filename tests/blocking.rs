//! The blocking session against loopback servers: defaults and cookies
//! across requests, redirects, retries, JSON, text and bytes, a large body
//! streamed through `Read`, timeouts, close hooks, the runtime's lifetime,
//! and the three places it is called from: a plain thread, a pool of threads
//! sharing one clone, and inside an async runtime (multi-thread and
//! current-thread).

mod support;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::HeaderValue;
use http_body_util::{BodyExt, StreamBody};
use http_session::blocking::{self, CalledFromRuntime, RuntimeStopped};
use http_session::cookies::persist::Format;
use http_session::retry::{Retry, RetryHistory};
use http_session::Body;
use support::chain;
use support::server::{self, response, Req, ResBody};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn header(req: &Req, name: &str) -> String {
    req.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// `/login` sets `sid=42`; every path answers with the request's `Cookie`
/// and `X-App` headers.
fn cookie_server() -> server::Server {
    server::http(|req: Req| async move {
        let mut res = response(
            200,
            format!(
                "cookie={} x-app={}",
                header(&req, "cookie"),
                header(&req, "x-app")
            ),
        );
        if req.uri.path() == "/login" {
            res.headers_mut()
                .insert(SET_COOKIE, HeaderValue::from_static("sid=42; Path=/"));
        }
        res
    })
}

/// Logs in and checks that the cookie and the default header come back:
/// what every calling context below runs.
fn login_round_trip(session: &blocking::Session, srv: &server::Server) {
    let first = session.get(srv.url("/login")).send().unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().unwrap(), "cookie= x-app=1");
    let second = session.get(srv.url("/me")).send().unwrap().text().unwrap();
    assert_eq!(second, "cookie=sid=42 x-app=1");
}

fn cookie_session() -> blocking::Session {
    blocking::Session::builder()
        .header("x-app", "1")
        .build_blocking()
        .unwrap()
}

#[test]
fn defaults_and_cookies_carry_across_requests() {
    let (srv, log) = server::recording(|req| {
        let mut res = response(200, "ok");
        if req.uri.path() == "/login" {
            res.headers_mut()
                .insert(SET_COOKIE, HeaderValue::from_static("sid=42; Path=/"));
        }
        res
    });
    let session = blocking::Session::builder()
        .user_agent("blocking-test/1")
        .header("x-app", "1")
        .query(&[("v", "2")])
        .build_blocking()
        .unwrap();
    session.get(srv.url("/login")).send().unwrap();
    session
        .post(srv.url("/items"))
        .without_header("x-app")
        .json(&serde_json::json!({"n": 1}))
        .send()
        .unwrap();

    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(header(&log[0], "user-agent"), "blocking-test/1");
    assert_eq!(header(&log[0], "x-app"), "1");
    assert_eq!(log[0].uri.query(), Some("v=2"));
    assert_eq!(
        header(&log[1], "cookie"),
        "sid=42",
        "the jar's cookie is sent back"
    );
    assert_eq!(header(&log[1], "x-app"), "", "removed for one request");
    assert_eq!(header(&log[1], "content-type"), "application/json");
    assert_eq!(log[1].body, r#"{"n":1}"#);
    assert!(session
        .cookies()
        .unwrap()
        .cookies()
        .iter()
        .any(|c| c.name() == "sid"));
}

#[test]
fn redirects_are_followed_with_history() {
    let srv = server::http(|req: Req| async move {
        match req.uri.path() {
            "/old" => {
                let mut res = response(302, "");
                res.headers_mut()
                    .insert(LOCATION, HeaderValue::from_static("/new"));
                res
            }
            "/new" => response(200, "moved here"),
            _ => response(404, ""),
        }
    });
    let session = blocking::Session::builder().build_blocking().unwrap();
    let res = session.get(srv.url("/old")).send().unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.url().path(), "/new");
    assert_eq!(res.history().len(), 1);
    assert_eq!(res.history()[0].status, 302);
    assert_eq!(res.text().unwrap(), "moved here");

    let not_followed = session
        .get(srv.url("/old"))
        .follow_redirects(false)
        .send()
        .unwrap();
    assert_eq!(not_followed.status(), 302);
    assert!(not_followed.next_request().is_some());
}

#[test]
fn a_retried_request_succeeds() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |_req: Req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                response(503, "busy")
            } else {
                response(200, "finally")
            }
        }
    });
    let session = blocking::Session::builder()
        .retry(
            Retry::new()
                .total(3)
                .backoff_factor(0.01)
                .status_forcelist([503]),
        )
        .build_blocking()
        .unwrap();
    let res = session.get(srv.url("/flaky")).send().unwrap();
    assert_eq!(res.status(), 200);
    let history = res.extensions().get::<RetryHistory>().cloned().unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(res.text().unwrap(), "finally");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[test]
fn json_text_and_bytes() {
    let srv = server::http(|req: Req| async move {
        let (body, content_type): (&[u8], &str) = match req.uri.path() {
            "/json" => (br#"{"name":"ada","id":7}"#, "application/json"),
            "/latin1" => (b"caf\xe9", "text/plain; charset=iso-8859-1"),
            _ => (b"\x00\x01\xff", "application/octet-stream"),
        };
        let mut res = response(200, Bytes::copy_from_slice(body));
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        res
    });
    let session = blocking::Session::builder().build_blocking().unwrap();

    let json: serde_json::Value = session
        .get(srv.url("/json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(json["name"], "ada");
    assert_eq!(json["id"], 7);

    let latin1 = session.get(srv.url("/latin1")).send().unwrap();
    // As browsers read `iso-8859-1`.
    assert_eq!(latin1.encoding().name(), "windows-1252");
    assert_eq!(latin1.text().unwrap(), "café");

    let bytes = session.get(srv.url("/raw")).send().unwrap();
    assert_eq!(bytes.content_length(), Some(3));
    assert_eq!(bytes.bytes().unwrap(), &b"\x00\x01\xff"[..]);

    let err = session
        .get(srv.url("/raw"))
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap_err();
    assert!(err.is_decode(), "{}", chain(&err));
    assert_eq!(err.url().unwrap().path(), "/raw");
}

/// 8 MiB in 64 KiB chunks of a known pattern. The second half is sent only
/// after the test says so: a reader that waited for the whole body would
/// never get it.
const CHUNK: usize = 64 * 1024;
const CHUNKS: usize = 128;

fn pattern(offset: usize) -> u8 {
    (offset % 251) as u8
}

fn gated_body(gate: Arc<tokio::sync::Notify>) -> ResBody {
    let stream = futures_util::stream::unfold(0usize, move |i| {
        let gate = gate.clone();
        async move {
            if i == CHUNKS {
                return None;
            }
            if i == CHUNKS / 2
                && tokio::time::timeout(Duration::from_secs(20), gate.notified())
                    .await
                    .is_err()
            {
                let err: BoxError = "the reader never asked for the second half".into();
                return Some((Err(err), CHUNKS));
            }
            let chunk: Vec<u8> = (0..CHUNK).map(|j| pattern(i * CHUNK + j)).collect();
            Some((Ok(hyper::body::Frame::data(Bytes::from(chunk))), i + 1))
        }
    });
    BodyExt::boxed(StreamBody::new(stream))
}

#[test]
fn read_streams_a_large_body() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let server_gate = gate.clone();
    let srv = server::http_raw(move |_req| {
        let gate = server_gate.clone();
        async move { http::Response::new(gated_body(gate)) }
    });
    // The in-memory cap is far below the body: `Read` is not capped by it.
    let session = blocking::Session::builder()
        .max_body_size(CHUNK)
        .build_blocking()
        .unwrap();
    let mut res = session.get(srv.url("/big")).send().unwrap();

    let mut first_half = vec![0u8; CHUNK * CHUNKS / 2];
    res.read_exact(&mut first_half).unwrap();
    assert!(first_half.iter().enumerate().all(|(i, b)| *b == pattern(i)));

    gate.notify_one();
    let mut rest = Vec::new();
    res.read_to_end(&mut rest).unwrap();
    assert_eq!(first_half.len() + rest.len(), CHUNK * CHUNKS);
    let offset = first_half.len();
    assert!(rest
        .iter()
        .enumerate()
        .all(|(i, b)| *b == pattern(offset + i)));
    assert_eq!(
        res.read(&mut [0u8; 16]).unwrap(),
        0,
        "the end stays the end"
    );

    // The same body into memory is refused by the cap.
    gate.notify_one();
    let err = session
        .get(srv.url("/big"))
        .send()
        .unwrap()
        .bytes()
        .unwrap_err();
    assert!(err.is_body(), "{}", chain(&err));
}

#[test]
fn read_and_chunk_share_one_position() {
    let srv = server::http(|_req: Req| async { response(200, "hello, world") });
    let session = blocking::Session::builder().build_blocking().unwrap();
    let mut res = session.get(srv.url("/")).send().unwrap();
    let mut head = [0u8; 5];
    res.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"hello");
    // What `read` left buffered comes first.
    assert_eq!(res.chunk().unwrap().unwrap(), ", world");
    assert_eq!(res.chunk().unwrap(), None);

    let mut res = session.get(srv.url("/")).send().unwrap();
    let mut head = [0u8; 7];
    res.read_exact(&mut head).unwrap();
    assert_eq!(res.text().unwrap(), "world", "text() reads the rest");
}

/// `/slow` answers after 30 s; `/stall` sends one chunk and then nothing.
fn stalling_server() -> server::Server {
    server::http_raw(|req| async move {
        match req.uri().path() {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                response(200, "late")
            }
            "/stall" => {
                let first = futures_util::stream::iter([Ok::<_, BoxError>(
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

#[test]
fn timeouts_end_blocking_calls() {
    let srv = stalling_server();
    let session = blocking::Session::builder()
        .timeout(Duration::from_millis(300))
        .build_blocking()
        .unwrap();

    let start = Instant::now();
    let err = session.get(srv.url("/slow")).send().unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
    assert_eq!(err.url().unwrap().path(), "/slow");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );

    // A request's own timeout replaces the session's.
    let start = Instant::now();
    let err = session
        .get(srv.url("/slow"))
        .timeout(Duration::from_millis(100))
        .send()
        .unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));
    assert!(start.elapsed() < Duration::from_secs(10));

    // The timeout covers the body read through `Read`.
    let mut res = session.get(srv.url("/stall")).send().unwrap();
    let mut body = Vec::new();
    let err = res.read_to_end(&mut body).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert_eq!(body, b"first chunk");

    // And through `text`.
    let err = session
        .get(srv.url("/stall"))
        .send()
        .unwrap()
        .text()
        .unwrap_err();
    assert!(err.is_timeout(), "{}", chain(&err));

    assert_eq!(
        session.get(srv.url("/")).send().unwrap().text().unwrap(),
        "fast"
    );
}

#[test]
fn a_panicking_layer_is_an_error_not_a_hang() {
    let srv = server::http(|_req: Req| async { response(200, "fine") });
    let session = blocking::Session::builder()
        .middleware(http_session::middleware::from_fn(
            |req: http::Request<Body>, next: http_session::middleware::Next| async move {
                if req.uri().path() == "/panic" {
                    panic!("a layer panicked (expected by the test)");
                }
                next.run(req).await
            },
        ))
        .build_blocking()
        .unwrap();
    let err = session.get(srv.url("/panic")).send().unwrap_err();
    let source = std::error::Error::source(&err).unwrap();
    assert!(source.is::<RuntimeStopped>(), "{}", chain(&err));
    // The runtime goes on: the next request is answered.
    assert_eq!(
        session.get(srv.url("/")).send().unwrap().text().unwrap(),
        "fine"
    );
}

#[test]
fn a_call_from_the_sessions_own_runtime_is_refused() {
    let srv = server::http(|_req: Req| async { response(200, "fine") });
    let slot: Arc<Mutex<Option<blocking::Session>>> = Arc::default();
    let inner_slot = slot.clone();
    let url = srv.url("/");
    let session = blocking::Session::builder()
        .middleware(http_session::middleware::from_fn(
            move |req: http::Request<Body>, next: http_session::middleware::Next| {
                let me = inner_slot.lock().unwrap().clone();
                let url = url.clone();
                async move {
                    if req.uri().path() != "/nested" {
                        return next.run(req).await;
                    }
                    let err = me.unwrap().get(url).send().unwrap_err();
                    let refused = std::error::Error::source(&err)
                        .is_some_and(|source| source.is::<CalledFromRuntime>());
                    Ok(http::Response::new(Body::from(format!(
                        "refused={refused}"
                    ))))
                }
            },
        ))
        .build_blocking()
        .unwrap();
    *slot.lock().unwrap() = Some(session.clone());
    let text = session
        .get(srv.url("/nested"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(text, "refused=true");
    slot.lock().unwrap().take();
}

#[test]
fn close_runs_the_close_hooks() {
    let srv = server::http(|_req: Req| async {
        let mut res = response(200, "ok");
        res.headers_mut().insert(
            SET_COOKIE,
            HeaderValue::from_static("keep=1; Max-Age=3600; Path=/"),
        );
        res
    });
    let dir = std::env::temp_dir().join(format!("http-session-blocking-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jar.json");
    let _ = std::fs::remove_file(&path);

    let session = blocking::Session::builder()
        .cookie_file(&path, Format::Json, false)
        .build_blocking()
        .unwrap();
    session.get(srv.url("/set")).send().unwrap().close();
    assert!(!path.exists(), "saved at close, not before");
    session.close().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("keep"), "{saved}");

    // Loaded by the next session, which sends it.
    let (srv, log) = server::recording(|_req| response(200, "ok"));
    let again = blocking::Session::builder()
        .cookie_file(&path, Format::Json, false)
        .build_blocking()
        .unwrap();
    again.get(srv.url("/")).send().unwrap();
    assert_eq!(header(&log.lock().unwrap()[0], "cookie"), "keep=1");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_async_session_converted_shares_its_state() {
    let srv = cookie_server();
    let session = http_session::Session::builder()
        .header("x-app", "1")
        .build()
        .unwrap();
    let blocking = blocking::Session::from(session.clone());
    login_round_trip(&blocking, &srv);
    let jar = session.cookies().unwrap();
    assert!(jar
        .cookies()
        .iter()
        .any(|c| c.name() == "sid" && c.value() == "42"));

    let request = http::Request::get(srv.url("/x"))
        .header(COOKIE, "direct=1")
        .body(Body::empty())
        .unwrap();
    let text = blocking.execute(request).unwrap().text().unwrap();
    assert!(text.starts_with("cookie=direct=1"), "{text}");
}

#[test]
fn a_response_keeps_the_runtime_alive() {
    let srv = server::http_raw(|_req| async {
        let first = futures_util::stream::iter([Ok::<_, BoxError>(hyper::body::Frame::data(
            Bytes::from("before "),
        ))]);
        let later = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, BoxError>(hyper::body::Frame::data(Bytes::from("after")))
        });
        let body: ResBody = BodyExt::boxed(StreamBody::new(first.chain(later)));
        http::Response::new(body)
    });
    let session = blocking::Session::builder().build_blocking().unwrap();
    let res = session.get(srv.url("/")).send().unwrap();
    drop(session);
    assert_eq!(res.text().unwrap(), "before after");
}

/// A raw HTTP/1.1 server for one keep-alive exchange; it reports whether the
/// client then closed the connection (within 10 s).
fn one_exchange_server() -> (String, std::sync::mpsc::Receiver<bool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                return;
            }
            head.push(byte[0]);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let closed = matches!(stream.read(&mut byte), Ok(0));
        let _ = tx.send(closed);
    });
    (url, rx)
}

#[test]
fn the_last_clone_stops_the_runtime_and_its_connections() {
    let (url, closed) = one_exchange_server();
    let session = blocking::Session::builder().build_blocking().unwrap();
    let clone = session.clone();
    assert_eq!(session.get(&url).send().unwrap().text().unwrap(), "ok");
    drop(session);
    assert!(
        closed.recv_timeout(Duration::from_millis(300)).is_err(),
        "a clone is alive: the pooled connection stays open"
    );
    drop(clone);
    assert!(
        closed.recv().unwrap(),
        "the connection is closed at the last drop"
    );
}

#[test]
fn works_from_a_plain_thread() {
    let srv = cookie_server();
    let session = cookie_session();
    std::thread::spawn(move || {
        login_round_trip(&session, &srv);
        session.close().unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn one_clone_serves_a_pool_of_threads() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync_clone::<blocking::Session>();
    assert_send::<blocking::RequestBuilder>();
    assert_send::<blocking::Response>();

    let srv = Arc::new(cookie_server());
    let session = cookie_session();
    login_round_trip(&session, &srv);
    const THREADS: usize = 8;
    const EACH: usize = 20;
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let session = session.clone();
            let srv = srv.clone();
            std::thread::spawn(move || {
                for _ in 0..EACH {
                    let text = session.get(srv.url("/me")).send().unwrap().text().unwrap();
                    assert_eq!(text, "cookie=sid=42 x-app=1");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // The pool is shared: far fewer connections than requests.
    let opened = srv.connections();
    assert!(opened <= THREADS * 2, "{opened} connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let srv = cookie_server();
    // Built, used and dropped inside an async task: no panic.
    let session = cookie_session();
    login_round_trip(&session, &srv);
    // The async face of the same session, on this runtime: the same jar.
    let text = session
        .as_async()
        .get(srv.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "cookie=sid=42 x-app=1");
    drop(session);
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    let srv = cookie_server();
    let session = cookie_session();
    login_round_trip(&session, &srv);
    let mut res = session.get(srv.url("/me")).send().unwrap();
    let mut text = String::new();
    res.read_to_string(&mut text).unwrap();
    assert_eq!(text, "cookie=sid=42 x-app=1");
    session.close().unwrap();
    // The runtime stops with the last handle, here `res`, inside this task.
    drop(res);
}

#[tokio::test(flavor = "current_thread")]
async fn many_calls_in_one_task_do_not_starve() {
    // Tokio's cooperative budget is per task poll: 200 blocking calls in one
    // poll must not run out of it.
    let srv = server::http(|_req: Req| async { response(200, "x") });
    let session = blocking::Session::builder().build_blocking().unwrap();
    for _ in 0..200 {
        assert_eq!(
            session.get(srv.url("/")).send().unwrap().bytes().unwrap(),
            "x"
        );
    }
}
