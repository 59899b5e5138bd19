//! The loopback server every client is measured against: hyper, HTTP/1.1
//! keep-alive (and h2c), on its own thread with a current-thread runtime,
//! optionally pinned to one CPU.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// A running server; it lives until the process ends.
pub struct Server {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Serves `/small` (13 bytes) and `/large` (1 MiB), pinned to `cpu` if given.
pub fn start(cpu: Option<usize>) -> Server {
    start_with(cpu, None)
}

/// The same over TLS (ALPN h2 and http/1.1) with `config`.
pub fn start_tls(config: std::sync::Arc<rustls::ServerConfig>) -> Server {
    start_with(None, Some(tokio_rustls::TlsAcceptor::from(config)))
}

fn start_with(cpu: Option<usize>, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let small = Bytes::from_static(b"hello, world!");
    let large = Bytes::from(vec![b'x'; 1 << 20]);
    thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            if let Some(cpu) = cpu {
                core_affinity::set_for_current(core_affinity::CoreId { id: cpu });
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    let _ = stream.set_nodelay(true);
                    counter.fetch_add(1, Ordering::SeqCst);
                    let (small, large) = (small.clone(), large.clone());
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                            let body = if req.uri().path() == "/large" { large.clone() } else { small.clone() };
                            async move { Ok::<_, Infallible>(http::Response::new(Full::new(body))) }
                        });
                        let builder = auto::Builder::new(TokioExecutor::new());
                        match tls {
                            None => {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                            Some(acceptor) => {
                                if let Ok(tls) = acceptor.accept(stream).await {
                                    let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                                }
                            }
                        }
                    });
                }
            });
        })
        .expect("server thread");
    Server { addr, connections }
}
