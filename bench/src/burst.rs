//! Cold bursts: how many connections a client opens when 64 requests to one
//! host start at once on an empty pool (HTTP/1.1 over loopback), for
//! http-session (default, and with a per-host cap of 8) and raw hyper-util.
//! The HTTP/2-over-TLS burst is covered by `tests/pool.rs`
//! (`a_cold_h2_burst_opens_one_connection`: 1 connection for 64 requests);
//! this bench has no TLS server.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

use crate::server;

const BURST: usize = 64;

async fn session_burst(session: http_session::Session, url: String) {
    let tasks: Vec<_> = (0..BURST)
        .map(|_| {
            let (s, url) = (session.clone(), url.clone());
            tokio::spawn(async move {
                let res = s.get(url).send().await.expect("request");
                res.bytes().await.expect("body");
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
}

async fn raw_burst(url: String) {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let uri: http::Uri = url.parse().expect("uri");
    let tasks: Vec<_> = (0..BURST)
        .map(|_| {
            let (c, uri) = (client.clone(), uri.clone());
            tokio::spawn(async move {
                let res = c.get(uri).await.expect("request");
                res.into_body().collect().await.expect("body");
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    // Let background connects that lost the race finish.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
}

/// Runs the bursts and returns the report lines.
pub fn run() -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut out = format!(
            "cold burst: {BURST} concurrent HTTP/1.1 GETs to one host, connections opened\n"
        );
        let srv = server::start(None);
        raw_burst(srv.url("/small")).await;
        out.push_str(&format!(
            "  raw hyper-util:              {}\n",
            srv.connections()
        ));

        let srv = server::start(None);
        let session = http_session::Session::builder()
            .trust_env(false)
            .build()
            .expect("session");
        session_burst(session, srv.url("/small")).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        out.push_str(&format!(
            "  http-session (no cap):       {}\n",
            srv.connections()
        ));

        let srv = server::start(None);
        let session = http_session::Session::builder()
            .trust_env(false)
            .pool_max_connections_per_host(8)
            .build()
            .expect("session");
        session_burst(session, srv.url("/small")).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        out.push_str(&format!(
            "  http-session (cap 8/host):   {}\n",
            srv.connections()
        ));
        out
    })
}
