//! A loopback HTTP/1 server that records when each request arrives and how
//! many were in flight at once, and a hyper-util client per worker.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What the server saw.
#[derive(Default)]
pub struct Log {
    arrivals: Mutex<Vec<(Instant, String)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Log {
    /// Arrival times, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        let mut times: Vec<Instant> = self
            .arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| *t)
            .collect();
        times.sort();
        times
    }

    /// When the request for `path` arrived (the first one).
    pub fn arrival_of(&self, path: &str) -> Instant {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .find(|(_, p)| p == path)
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("no request for {path}"))
    }

    /// The first to the last arrival.
    pub fn span(&self) -> Duration {
        let times = self.arrivals();
        times.last().unwrap().duration_since(times[0])
    }

    /// The most requests the server was handling at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// The server: its own thread and runtime; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    log: Arc<Log>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let result = thread.join();
            if !std::thread::panicking() {
                result.expect("the test server panicked");
            }
        }
    }
}

/// A server answering each request with `handler(path)` after `hold`.
pub fn http<F, Fut>(hold: Duration, handler: F) -> Server
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let log = Arc::new(Log::default());
    let handler = Arc::new(handler);
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (shutdown, mut shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let server_log = log.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap(),
                    _ = &mut shutdown_rx => return,
                };
                let log = server_log.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let log = log.clone();
                        let handler = handler.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            log.arrivals
                                .lock()
                                .unwrap()
                                .push((Instant::now(), path.clone()));
                            let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            log.max_in_flight.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(hold).await;
                            let response = handler(path).await;
                            log.in_flight.fetch_sub(1, Ordering::SeqCst);
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Server {
        addr: addr_rx.recv().unwrap(),
        log,
        shutdown: Some(shutdown),
        thread: Some(thread),
    }
}

/// A server that answers `200 OK` after `hold`.
pub fn ok(hold: Duration) -> Server {
    http(hold, |_| async {
        Response::new(Full::new(Bytes::from_static(b"ok")))
    })
}

/// One worker's client (its own connection pool).
pub type HttpClient = Client<HttpConnector, Empty<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

pub fn get(url: &str) -> Request<Empty<Bytes>> {
    Request::get(url).body(Empty::new()).unwrap()
}
