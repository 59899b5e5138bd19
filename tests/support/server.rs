//! A hyper server on `127.0.0.1:0`, on its own thread and runtime, like
//! reqwest's `support::server`. A panic in a handler fails the test when the
//! server is dropped.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The body type handlers answer with.
pub type ResBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// A request as a collected handler sees it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: http::Method,
    pub uri: http::Uri,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

pub fn full(body: impl Into<Bytes>) -> ResBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn response(status: u16, body: impl Into<Bytes>) -> http::Response<ResBody> {
    let mut res = http::Response::new(full(body));
    *res.status_mut() = http::StatusCode::from_u16(status).unwrap();
    res
}

type Handler = Arc<
    dyn Fn(http::Request<Incoming>) -> Pin<Box<dyn Future<Output = http::Response<ResBody>> + Send>>
        + Send
        + Sync,
>;

pub struct Server {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    resumed: Arc<AtomicUsize>,
    panic: Arc<Mutex<Option<String>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `https://localhost:PORT` + path.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.addr.port(), path)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes that resumed an earlier session.
    pub fn tls_resumptions(&self) -> usize {
        self.resumed.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let panic = self.panic.lock().unwrap().take();
        if let Some(msg) = panic {
            if !thread::panicking() {
                panic!("server handler panicked: {msg}");
            }
        }
    }
}

/// A server whose handler sees the collected request.
pub fn http<F, Fut>(f: F) -> Server
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = http::Response<ResBody>> + Send + 'static,
{
    start(collected(f), None)
}

/// What a [`recording`] server received, in order.
pub type Log = Arc<Mutex<Vec<Req>>>;

/// A server that records every request, answering with `f`.
pub fn recording<F>(f: F) -> (Server, Log)
where
    F: Fn(&Req) -> http::Response<ResBody> + Send + Sync + 'static,
{
    let log: Log = Arc::default();
    let seen = log.clone();
    let srv = http(move |req: Req| {
        let res = f(&req);
        seen.lock().unwrap().push(req);
        async move { res }
    });
    (srv, log)
}

/// A TLS server (ALPN h2 and http/1.1) whose handler sees the collected
/// request. It also answers plain HTTP on the same port (a client that does
/// not open with a TLS handshake), so tests can redirect https to http on
/// one port.
pub fn https<F, Fut>(tls: Arc<rustls::ServerConfig>, f: F) -> Server
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = http::Response<ResBody>> + Send + 'static,
{
    start(collected(f), Some(tls))
}

/// A server whose handler sees the raw request, body unread.
pub fn http_raw<F, Fut>(f: F) -> Server
where
    F: Fn(http::Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = http::Response<ResBody>> + Send + 'static,
{
    start(Arc::new(move |req| Box::pin(f(req))), None)
}

fn collected<F, Fut>(f: F) -> Handler
where
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = http::Response<ResBody>> + Send + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |req: http::Request<Incoming>| {
        let f = f.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            f(Req {
                method: parts.method,
                uri: parts.uri,
                version: parts.version,
                headers: parts.headers,
                body,
            })
            .await
        })
    })
}

fn start(handler: Handler, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let resumed = Arc::new(AtomicUsize::new(0));
    let panic = Arc::new(Mutex::new(None));
    let (tx, mut rx) = oneshot::channel::<()>();
    let (conns, panics) = (connections.clone(), panic.clone());
    let resumptions = resumed.clone();
    let thread = thread::Builder::new()
        .name(format!("test-server-{addr}"))
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
                loop {
                    let (stream, _) = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok(pair) => pair,
                            Err(_) => continue,
                        },
                        _ = &mut rx => break,
                    };
                    conns.fetch_add(1, Ordering::SeqCst);
                    let handler = handler.clone();
                    let panics = panics.clone();
                    let acceptor = acceptor.clone();
                    let resumed = resumptions.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let fut = handler(req);
                            let panics = panics.clone();
                            async move {
                                match tokio::spawn(fut).await {
                                    Ok(res) => Ok::<_, Infallible>(res),
                                    Err(err) => {
                                        let err = err.into_panic();
                                        let msg = err
                                            .downcast_ref::<&str>()
                                            .map(|s| s.to_string())
                                            .or_else(|| err.downcast_ref::<String>().cloned())
                                            .unwrap_or_default();
                                        *panics.lock().unwrap() = Some(msg);
                                        Ok(response(500, "handler panicked"))
                                    }
                                }
                            }
                        });
                        let builder = auto::Builder::new(TokioExecutor::new());
                        match acceptor {
                            None => {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                            Some(acceptor) => {
                                // Both protocols on one port: a TLS client
                                // opens with a handshake record (0x16).
                                let mut first = [0u8; 1];
                                let tls_hello = match stream.peek(&mut first).await {
                                    Ok(1) => first[0] == 0x16,
                                    _ => true,
                                };
                                if tls_hello {
                                    if let Ok(tls) = acceptor.accept(stream).await {
                                        if tls.get_ref().1.handshake_kind()
                                            == Some(rustls::HandshakeKind::Resumed)
                                        {
                                            resumed.fetch_add(1, Ordering::SeqCst);
                                        }
                                        let _ = builder
                                            .serve_connection(TokioIo::new(tls), service)
                                            .await;
                                    }
                                } else {
                                    let _ = builder
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                }
                            }
                        }
                    });
                }
            });
            rt.shutdown_background();
        })
        .unwrap();
    Server {
        addr,
        connections,
        resumed,
        panic,
        shutdown: Some(tx),
        thread: Some(thread),
    }
}
