//! A loopback hyper server and a hyper-util client under the cache layer.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use session_cache::{Cache, CacheBody, CacheLayer, CacheService, CacheStatus};
use tokio::net::TcpListener;
use tower::{Layer, Service, ServiceExt};

pub type Body = BoxBody<Bytes, std::io::Error>;

pub fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).map_err(|e| match e {}).boxed()
}

/// A server on 127.0.0.1:0 answering with `handler`; counts requests.
pub struct Server {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops accepting (connections refused from now on).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn server<F, Fut>(handler: F) -> Server
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let counter = counter.clone();
            conns.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let fut = handler(req);
                    async move { Ok::<_, Infallible>(fut.await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { addr, hits, task }
}

pub type Origin = Client<HttpConnector, String>;
pub type Cached = CacheService<Origin>;

pub fn client(cache: Cache) -> Cached {
    let origin: Origin = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http();
    CacheLayer::new(cache).layer(origin)
}

pub fn get(url: &str) -> Request<String> {
    Request::get(url).body(String::new()).unwrap()
}

/// Sends, reads the whole body; returns status, cache status, headers, body.
pub async fn send(service: &mut Cached, req: Request<String>) -> Answer {
    let res = service.ready().await.unwrap().call(req).await.unwrap();
    answer(res).await
}

pub struct Answer {
    pub status: http::StatusCode,
    pub cache: CacheStatus,
    pub headers: http::HeaderMap,
    pub body: String,
}

pub async fn answer(res: Response<CacheBody<Incoming>>) -> Answer {
    let cache = *res
        .extensions()
        .get::<CacheStatus>()
        .expect("a CacheStatus");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    // Let the entry's writer task commit.
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    Answer {
        status: parts.status,
        cache,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Body> {
    let mut res = Response::builder().status(status);
    for (name, value) in headers {
        res = res.header(*name, *value);
    }
    res.body(full(body.to_owned())).unwrap()
}
