//! A loopback HTTP/1 server for the integration tests: binds `127.0.0.1:0`
//! on its own thread and runtime, records each request's path and `Cookie`
//! header, answers from a closure, and shuts down on `Drop`. A panic in the
//! closure fails the test.

#![allow(dead_code, unreachable_pub)]

pub mod suite;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub cookie: Option<String>,
}

type Handler = dyn Fn(&http::request::Parts) -> Response<Full<Bytes>> + Send + Sync;

pub struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    panicked: Arc<AtomicBool>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The `Cookie` header of the last request to `path`.
    pub fn last_cookie(&self, path: &str) -> Option<String> {
        self.seen()
            .into_iter()
            .rev()
            .find(|s| s.path == path)
            .and_then(|s| s.cookie)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if self.panicked.load(Ordering::SeqCst) && !thread::panicking() {
            panic!("the test server's handler panicked");
        }
    }
}

pub fn response(status: u16, set_cookie: &[&str], body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(status);
    for c in set_cookie {
        b = b.header(http::header::SET_COOKIE, *c);
    }
    b.body(Full::new(body.into())).unwrap()
}

/// Starts a server answering with `f`.
pub fn http<F>(f: F) -> Server
where
    F: Fn(&http::request::Parts) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let panicked = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = oneshot::channel::<()>();
    let handler: Arc<Handler> = Arc::new(f);
    let (seen2, panicked2) = (seen.clone(), panicked.clone());
    let thread = thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let stream = tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                let (handler, seen, panicked) = (handler.clone(), seen2.clone(), panicked2.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (parts, _body) = req.into_parts();
                        seen.lock().unwrap().push(Seen {
                            path: parts.uri.path().to_owned(),
                            cookie: parts
                                .headers
                                .get(http::header::COOKIE)
                                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
                        });
                        let res = catch_unwind(AssertUnwindSafe(|| handler(&parts)))
                            .unwrap_or_else(|_| {
                                panicked.store(true, Ordering::SeqCst);
                                response(500, &[], "handler panicked")
                            });
                        async move { Ok::<_, Infallible>(res) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    });
    Server {
        addr,
        seen,
        panicked,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}

/// Splits a `Cookie` header into sorted `name=value` pairs.
pub fn pairs(header: &str) -> Vec<String> {
    let mut v: Vec<String> = header.split("; ").map(str::to_owned).collect();
    v.sort();
    v
}
