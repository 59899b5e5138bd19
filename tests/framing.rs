//! Response framing over a scripted raw TCP server that writes exact bytes:
//! a head with both `Transfer-Encoding` and `Content-Length` (RFC 9112,
//! 6.3), `chunked` applied twice or followed by another transfer coding
//! (RFC 9112, 7), and a `Content-Length` over the transport's body limit.
//! The server logs which connection each request arrived on, so a test can
//! tell a retired connection from a reused one.

mod support;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_session::hyper::{FramingError, LimitExceeded};
use http_session::Session;
use support::chain;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long a whole test may take before it is a hang.
const DEADLINE: Duration = Duration::from_secs(10);

/// What the raw server writes for one request: pieces of bytes, each after
/// its delay, then it keeps the connection open for the next request or,
/// with `close`, closes it.
#[derive(Clone, Default)]
struct Answer {
    pieces: Vec<(Duration, Vec<u8>)>,
    close: bool,
}

impl Answer {
    fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Answer {
            pieces: vec![(Duration::ZERO, bytes.into())],
            close: false,
        }
    }

    /// Then `bytes`, after `delay`.
    fn then(mut self, delay: Duration, bytes: impl Into<Vec<u8>>) -> Self {
        self.pieces.push((delay, bytes.into()));
        self
    }

    fn and_close(mut self) -> Self {
        self.close = true;
        self
    }
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// A raw HTTP/1.1 server on loopback, a task of the test's runtime: it reads
/// each request head (the tests send no bodies) and writes what `script`
/// answers for its path.
struct Raw {
    addr: SocketAddr,
    /// (connection number from 1, path), in order of arrival.
    log: Arc<Mutex<Vec<(usize, String)>>>,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Raw {
    fn start(script: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Raw {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let (l, a) = (log.clone(), accepted.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let n = a.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::spawn(serve(stream, n, l.clone(), script.clone()));
            }
        });
        Raw {
            addr,
            log,
            accepted,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn log(&self) -> Vec<(usize, String)> {
        self.log.lock().unwrap().clone()
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    conn: usize,
    log: Arc<Mutex<Vec<(usize, String)>>>,
    script: Arc<dyn Fn(&str) -> Answer + Send + Sync>,
) {
    let mut buf = Vec::new();
    loop {
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
        log.lock().unwrap().push((conn, path.clone()));
        let answer = script(&path);
        for (delay, bytes) in answer.pieces {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if stream.write_all(&bytes).await.is_err() {
                return;
            }
        }
        if answer.close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

fn session() -> Session {
    Session::builder()
        .trust_env(false)
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `/bad` answers with `bad`, anything else with [`OK`]; the session asks
/// for `/bad`, then for `/next`. Returns the outcome of `/bad` (the body
/// read in full) and the server's log.
async fn bad_then_next(bad: Answer) -> (Result<String, String>, Vec<(usize, String)>) {
    let srv = Raw::start(move |path| {
        if path == "/bad" {
            bad.clone()
        } else {
            Answer::bytes(OK)
        }
    });
    let session = session();
    let run = async {
        let first = match session.get(srv.url("/bad")).send().await {
            Ok(res) => res.text().await.map_err(|e| chain(&e)),
            Err(err) => Err(chain(&err)),
        };
        let next = session.get(srv.url("/next")).send().await.unwrap();
        assert_eq!(next.text().await.unwrap(), "ok");
        first
    };
    let first = tokio::time::timeout(DEADLINE, run).await.expect("no hang");
    (first, srv.log())
}

/// The log of a connection retired after `/bad`: `/next` on another one.
/// (Which number it has depends on hyper-util, which may open a connection
/// while it waits for a pooled one.)
fn on_a_new_connection(log: &[(usize, String)]) {
    let paths: Vec<_> = log.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(paths, ["/bad", "/next"], "{log:?}");
    assert_eq!(log[0].0, 1, "{log:?}");
    assert_ne!(
        log[1].0, 1,
        "the second request must not reuse the connection of the first: {log:?}"
    );
}

const BOTH: &str =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

#[tokio::test]
async fn a_sound_response_leaves_its_connection_to_be_reused() {
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (first, log) = bad_then_next(Answer::bytes(chunked)).await;
    assert_eq!(first.unwrap(), "hello");
    assert_eq!(log, [(1, "/bad".to_owned()), (1, "/next".to_owned())]);
}

#[tokio::test]
async fn both_content_length_and_transfer_encoding_retire_the_connection() {
    let (first, log) = bad_then_next(Answer::bytes(BOTH)).await;
    on_a_new_connection(&log);
    let err = first.unwrap_err();
    assert!(
        err.contains("both Transfer-Encoding and Content-Length"),
        "{err}"
    );
}

#[tokio::test]
async fn ambiguous_framing_is_refused_whatever_the_order_and_timing() {
    let cases = [
        // Transfer-Encoding first.
        Answer::bytes(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
        // An empty chunked body: hyper has read all of it, and may have
        // put the connection back in the pool, before the head is looked at.
        Answer::bytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        // The body comes later, while the response is being finished.
        Answer::bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
            .then(Duration::from_millis(50), "5\r\nhello\r\n0\r\n\r\n"),
        // Bytes past the chunked body, as a Content-Length reader would
        // frame it: what response splitting leaves on the connection.
        Answer::bytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
        ),
    ];
    for (i, bad) in cases.into_iter().enumerate() {
        let (first, log) = bad_then_next(bad).await;
        on_a_new_connection(&log);
        let err = first.expect_err(&format!("case {i}"));
        assert!(
            err.contains("ambiguous response framing"),
            "case {i}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_framing_retires_the_connection_on_a_multi_thread_runtime() {
    for _ in 0..5 {
        let (first, log) = bad_then_next(Answer::bytes(BOTH)).await;
        on_a_new_connection(&log);
        assert!(first.is_err());
    }
}

#[tokio::test]
async fn the_framing_error_is_typed() {
    let srv = Raw::start(|_| Answer::bytes(BOTH));
    let err = session().get(srv.url("/bad")).send().await.unwrap_err();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    let mut found = None;
    while let Some(e) = source {
        if let Some(f) = e.downcast_ref::<FramingError>() {
            found = Some(*f);
        }
        source = e.source();
    }
    assert_eq!(found, Some(FramingError::Ambiguous), "{}", chain(&err));
}

#[tokio::test]
async fn chunked_twice_is_refused_and_retires_the_connection() {
    let cases = [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ];
    for bad in cases {
        let (first, log) = bad_then_next(Answer::bytes(bad)).await;
        on_a_new_connection(&log);
        let err = first.unwrap_err();
        assert!(err.contains("chunked more than once"), "{err}");
    }
}

#[tokio::test]
async fn a_coding_after_chunked_is_refused() {
    // hyper reads such a body until the connection closes (chunked is not
    // the final coding), so the server closes it.
    let bad = Answer::bytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .and_close();
    let (first, log) = bad_then_next(bad).await;
    on_a_new_connection(&log);
    let err = first.unwrap_err();
    assert!(err.contains("a transfer coding after chunked"), "{err}");
}

fn limited_session(limit: u64) -> Session {
    Session::builder()
        .trust_env(false)
        .read_timeout(Duration::from_secs(5))
        .max_response_body_size(limit)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_content_length_over_the_body_limit_is_refused_with_the_head() {
    // A few bytes of the announced terabyte, then nothing: reading the body
    // would wait for the read timeout.
    let srv = Raw::start(|_| {
        Answer::bytes("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\nsome bytes")
    });
    let session = limited_session(1024);
    let started = tokio::time::Instant::now();
    let sent = tokio::time::timeout(DEADLINE, session.get(srv.url("/huge")).send())
        .await
        .expect("no hang");
    let err = match sent {
        Ok(res) => panic!(
            "the head was accepted (content_length {:?}); reading the body: {:?}",
            res.content_length(),
            tokio::time::timeout(Duration::from_secs(1), res.bytes())
                .await
                .map(|r| r.map(|b| b.len()).map_err(|e| chain(&e)))
        ),
        Err(err) => err,
    };
    assert!(started.elapsed() < Duration::from_secs(2), "refused late");
    let text = chain(&err);
    assert!(
        text.contains("response body is over the limit of 1024 bytes"),
        "{text}"
    );
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    let mut limit = None;
    while let Some(e) = source {
        limit = limit.or_else(|| e.downcast_ref::<LimitExceeded>().copied());
        source = e.source();
    }
    let limit = limit.expect("a LimitExceeded in the chain");
    assert_eq!((limit.what(), limit.limit()), ("response body", 1024));
}

#[tokio::test]
async fn a_content_length_within_the_limit_is_reported_and_read() {
    let srv =
        Raw::start(|_| Answer::bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"));
    for limit in [10, 11, 1 << 20] {
        let res = limited_session(limit)
            .get(srv.url("/ten"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.content_length(), Some(10), "limit {limit}");
        assert_eq!(res.text().await.unwrap(), "0123456789");
    }
}

/// Bytes that do not compress: their gzip is longer than they are.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn an_encoded_body_over_the_limit_still_fails_while_read() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&noise(4096)).unwrap();
    let gz = enc.finish().unwrap();
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&gz);
    let srv = Raw::start(move |_| Answer::bytes(bytes.clone()));
    let res = limited_session(1024)
        .get(srv.url("/gz"))
        .send()
        .await
        .expect("an encoded body is not refused with its head");
    assert_eq!(res.content_length(), None, "the decoded length is unknown");
    let err = res.bytes().await.unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("response body is over the limit of 1024 bytes"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unknown_coding_is_delivered_as_is_and_so_refused_with_its_head() {
    let srv = Raw::start(|_| {
        Answer::bytes(
            "HTTP/1.1 200 OK\r\nContent-Encoding: compress\r\nContent-Length: 1000000000000\r\n\r\nxx",
        )
    });
    let err = tokio::time::timeout(DEADLINE, limited_session(1024).get(srv.url("/z")).send())
        .await
        .expect("no hang")
        .map(|res| res.content_length())
        .unwrap_err();
    let text = chain(&err);
    assert!(
        text.contains("response body is over the limit of 1024 bytes"),
        "{text}"
    );
}

#[tokio::test]
async fn a_head_response_may_announce_any_length_and_framing() {
    let srv = Raw::start(|_| {
        Answer::bytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
    });
    let session = limited_session(1024);
    for _ in 0..2 {
        let res = session.head(srv.url("/h")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(srv.accepted(), 1, "a HEAD response frames no body");
}
