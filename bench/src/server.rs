//! The loopback server every client is measured against: hyper, HTTP/1.1
//! keep-alive (and h2c), or TLS with ALPN, on its own thread with a
//! current-thread runtime, optionally pinned to one CPU. Also the test PKI
//! of the TLS runs ([`tls_pair`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// A running server; it lives until the process ends.
pub struct Server {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    tls: bool,
}

impl Server {
    /// `http://127.0.0.1:PORT/path`, or over TLS `https://localhost:PORT/path`
    /// (the name the certificate carries).
    pub fn url(&self, path: &str) -> String {
        if self.tls {
            format!("https://localhost:{}{}", self.addr.port(), path)
        } else {
            format!("http://{}{}", self.addr, path)
        }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Serves `/small` (13 bytes), `/large` (1 MiB), `/cookies` (the 13
/// bytes with `Set-Cookie: a=1`, `b=2`, `c=3`, each `Path=/`) and
/// `/cacheable` (the 13 bytes, fresh for an hour), pinned to `cpu` if given.
pub fn start(cpu: Option<usize>) -> Server {
    start_with(cpu, None)
}

/// The same over TLS (ALPN h2 and http/1.1) with `config`.
pub fn start_tls(cpu: Option<usize>, config: Arc<rustls::ServerConfig>) -> Server {
    start_with(cpu, Some(tokio_rustls::TlsAcceptor::from(config)))
}

/// A CA and a `localhost` certificate it signed: the server's configuration
/// (ALPN h2, http/1.1) and the CA in PEM for the clients. Made once per
/// process, so servers and clients set up apart agree.
pub(crate) fn tls_pair() -> &'static (Arc<rustls::ServerConfig>, String) {
    static PAIR: OnceLock<(Arc<rustls::ServerConfig>, String)> = OnceLock::new();
    PAIR.get_or_init(|| {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().expect("ca key");
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("leaf params")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
            .expect("server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        (Arc::new(config), ca.pem())
    })
}

/// The answer to `path`: `large` for `/large`, else `small`, with three
/// cookies set for `/cookies`.
fn respond(path: &str, small: &Bytes, large: &Bytes) -> http::Response<Full<Bytes>> {
    let body = if path == "/large" { large } else { small };
    let mut res = http::Response::new(Full::new(body.clone()));
    if path == "/cacheable" {
        res.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("public, max-age=3600"),
        );
    }
    if path == "/cookies" {
        for c in ["a=1; Path=/", "b=2; Path=/", "c=3; Path=/"] {
            res.headers_mut()
                .append(http::header::SET_COOKIE, http::HeaderValue::from_static(c));
        }
    }
    res
}

fn start_with(cpu: Option<usize>, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let small = Bytes::from_static(b"hello, world!");
    let large = Bytes::from(vec![b'x'; 1 << 20]);
    let tls_on = tls.is_some();
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
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    counter.fetch_add(1, Ordering::SeqCst);
                    let (small, large) = (small.clone(), large.clone());
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(
                            move |req: http::Request<hyper::body::Incoming>| {
                                let res = respond(req.uri().path(), &small, &large);
                                async move { Ok::<_, Infallible>(res) }
                            },
                        );
                        let builder = auto::Builder::new(TokioExecutor::new());
                        match tls {
                            None => {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                            Some(acceptor) => {
                                if let Ok(tls) = acceptor.accept(stream).await {
                                    let _ =
                                        builder.serve_connection(TokioIo::new(tls), service).await;
                                }
                            }
                        }
                    });
                }
            });
        })
        .expect("server thread");
    Server {
        addr,
        connections,
        tls: tls_on,
    }
}
