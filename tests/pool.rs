//! The pool: a per-host connection cap with 50 concurrent requests queued
//! behind it, the pool wait timeout, and a cold burst over TLS that ALPN
//! turns into HTTP/2 opening one connection.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_session::Session;
use support::server::{self, response};
use support::tls::Ca;

#[tokio::test]
async fn fifty_concurrent_requests_share_four_connections() {
    let inflight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (i, p) = (inflight.clone(), peak.clone());
    let srv = server::http(move |_req| {
        let (i, p) = (i.clone(), p.clone());
        async move {
            let now = i.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            i.fetch_sub(1, Ordering::SeqCst);
            response(200, "ok")
        }
    });
    let session = Session::builder()
        .trust_env(false)
        .pool_max_connections_per_host(4)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (s, url) = (session.clone(), srv.url("/"));
            tokio::spawn(async move { s.get(url).send().await.unwrap().text().await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "ok");
    }
    assert!(srv.connections() <= 4, "{} connections", srv.connections());
    assert!(peak.load(Ordering::SeqCst) <= 4);
}

#[tokio::test]
async fn waiting_too_long_for_a_connection_is_a_timeout() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let rx = Arc::new(tokio::sync::Mutex::new(Some(rx)));
    let srv = server::http(move |req| {
        let rx = rx.clone();
        async move {
            if req.uri.path() == "/hold" {
                if let Some(rx) = rx.lock().await.take() {
                    let _ = rx.await;
                }
            }
            response(200, "ok")
        }
    });
    let session = Session::builder()
        .trust_env(false)
        .pool_max_connections_per_host(1)
        .pool_wait_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let holder = tokio::spawn({
        let (s, url) = (session.clone(), srv.url("/hold"));
        async move { s.get(url).send().await.unwrap().text().await.unwrap() }
    });
    // Wait until the holder's request reached the server.
    while srv.connections() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = session.get(srv.url("/")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        err.timeout_kind(),
        Some(http_session::error::TimeoutKind::Pool),
        "{err:?}"
    );
    tx.send(()).unwrap();
    assert_eq!(holder.await.unwrap(), "ok");
    // The slot is free again.
    assert_eq!(
        session.get(srv.url("/")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_cold_h2_burst_opens_one_connection() {
    let ca = Ca::new("burst ca");
    let srv = server::https(ca.leaf(&["localhost"]).server_config(), |_req| async {
        response(200, "ok")
    });
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (s, url) = (session.clone(), srv.https_url("/"));
            tokio::spawn(async move {
                let res = s.get(url).send().await.unwrap();
                assert_eq!(res.version(), http::Version::HTTP_2);
                res.text().await.unwrap()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "ok");
    }
    assert_eq!(srv.connections(), 1);
    assert_eq!(session.hyper_transport().unwrap().connections_opened(), 1);
}
