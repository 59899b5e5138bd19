//! Cold bursts: how many connections a client opens when 64 requests to one
//! host start at once on an empty pool (HTTP/1.1 over loopback), for
//! http-session (default, and with a per-host cap of 8) and raw hyper-util.
//! Then the same burst over TLS, where ALPN turns the connections into
//! HTTP/2: http-session waits for the first handshake before opening more,
//! raw hyper-util (with hyper-rustls) opens one per request.

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

/// Sends the burst through any raw hyper-util client.
async fn client_burst<C>(client: Client<C, Empty<Bytes>>, url: String)
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
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

async fn raw_burst(url: String) {
    let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    client_burst(client, url).await;
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

/// The cold burst over TLS + ALPN h2.
pub fn run_tls() -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (config, ca_pem) = server::tls_pair();
        let mut out = format!(
            "cold burst: {BURST} concurrent GETs over TLS (ALPN h2) to one host, connections opened\n"
        );
        let srv = server::start_tls(None, config.clone());
        client_burst(crate::clients::raw_tls_client(ca_pem), srv.url("/small")).await;
        out.push_str(&format!("  raw hyper-util + hyper-rustls: {}\n", srv.connections()));

        let srv = server::start_tls(None, config.clone());
        let url = srv.url("/small");
        let session = http_session::Session::builder()
            .trust_env(false)
            .add_root_certificate_pem(ca_pem.as_bytes())
            .build()
            .expect("session");
        session_burst(session, url).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        out.push_str(&format!("  http-session:                  {}\n", srv.connections()));
        out
    })
}
