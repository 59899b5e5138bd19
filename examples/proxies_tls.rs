//! Proxies and TLS verification (the requests guide's advanced notes):
//! `s.proxies = {'http': ..., 'https': ...}` and `s.verify = False`.
//!
//! Starts a loopback origin, a loopback forward proxy that prints what it
//! receives, and a loopback HTTPS server with a self-signed certificate.
//! Then: a session with a proxy per scheme, one request that bypasses it,
//! verification failing on the self-signed server, and the loudly named
//! switch that turns it off (for servers you control, never in production).
//!
//! Unlike requests, the session's own proxies beat the environment's
//! (`HTTP_PROXY`, ...); see `session_hyper::proxy` for the precedence table.
//!
//! Run it with `cargo run --example proxies_tls`.

mod support;

use std::sync::Arc;

use http_session::hyper::RequestProxy;
use http_session::Session;
use support::{reply, Req};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A forward proxy: reads one request head, prints its first line and
/// whether it carried proxy credentials, relays it to the origin.
async fn start_proxy() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let first = head.lines().next().unwrap_or_default().to_owned();
                let creds = head.to_ascii_lowercase().contains("proxy-authorization");
                println!("  proxy saw: {first} (proxy credentials: {creds})");
                let target = first.split_whitespace().nth(1).unwrap_or_default();
                let authority = target.trim_start_matches("http://").split('/').next();
                let Ok(mut origin) = TcpStream::connect(authority.unwrap_or_default()).await else {
                    return;
                };
                let _ = origin.write_all(head.as_bytes()).await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
            });
        }
    });
    addr
}

/// An HTTPS server with a self-signed certificate for `localhost`.
async fn start_self_signed() -> std::net::SocketAddr {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(reply(200, "hello over TLS"))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    });
    addr
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin =
        support::serve(|req: Req| async move { reply(200, format!("origin got {}", req.path)) })
            .await;
    let proxy = start_proxy().await;

    println!("proxies per scheme (requests: s.proxies = {{'http': ..., 'https': ...}}):");
    let session = Session::builder()
        .trust_env(false) // only what this program says
        .proxy("http", &format!("http://user:secret@{proxy}"))
        .proxy("https", &format!("http://user:secret@{proxy}"))
        .build()?;
    let res = session.get(origin.url("/via-proxy")).send().await?;
    println!("  {}", res.text().await?);
    let res = session
        .get(origin.url("/direct"))
        .extension(RequestProxy::direct())
        .send()
        .await?;
    println!("  {} (this request bypassed the proxy)", res.text().await?);

    println!("TLS verification (requests: s.verify = False):");
    let tls = start_self_signed().await;
    let url = format!("https://localhost:{}/", tls.port());
    let strict = Session::builder().trust_env(false).build()?;
    match strict.get(&url).send().await {
        Ok(_) => println!("  unexpected: the self-signed certificate was accepted"),
        // requests: except requests.exceptions.SSLError
        Err(err) if err.is_tls() => match err.certificate_problem() {
            Some(problem) => println!("  verified session refuses it: {problem}"),
            None => println!("  verified session refuses it: {err}"),
        },
        Err(err) => return Err(err.into()),
    }
    let lax = Session::builder()
        .trust_env(false)
        .danger_accept_invalid_certs(true) // tests against your own servers only
        .build()?;
    let res = lax.get(&url).send().await?;
    println!("  with verification off: {}", res.text().await?);
    Ok(())
}
