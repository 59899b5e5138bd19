//! HTTPS over real TLS with certificates made by rcgen: verification on by
//! default, extra roots, h2 by ALPN, and the loudly named switch.

mod support;

use http_session::Session;
use support::server::{self, response, Req};
use support::tls::{Ca, Leaf};

/// Answers with the request's version and `Host` header (`-` for none).
async fn hello(req: Req) -> http::Response<server::ResBody> {
    let host = req.headers.get(http::header::HOST);
    let host = host.map_or("-", |h| h.to_str().unwrap_or("?"));
    response(200, format!("{:?} {host}", req.version))
}

#[tokio::test]
async fn https_with_a_custom_root_negotiates_h2() {
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["localhost"]);
    let srv = server::https(leaf.server_config(), hello);
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();
    for i in 0..3 {
        let res = session.get(srv.https_url("/")).send().await.unwrap();
        assert_eq!(res.version(), http::Version::HTTP_2);
        assert_eq!(res.connection().unwrap().reused, i > 0);
        // HTTP/2 names the host in `:authority`, not in a `Host` header.
        assert_eq!(res.text().await.unwrap(), "HTTP/2.0 -");
    }
    assert_eq!(srv.connections(), 1);
}

#[tokio::test]
async fn https_http1_when_the_server_only_speaks_it() {
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["localhost"]);
    let srv = server::https(leaf.server_config_h1(), hello);
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();
    let res = session.get(srv.https_url("/")).send().await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_11);
    let host = format!("localhost:{}", srv.port());
    assert_eq!(res.text().await.unwrap(), format!("HTTP/1.1 {host}"));
}

#[tokio::test]
async fn named_host_through_resolve_override() {
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["api.example.test"]);
    let srv = server::https(leaf.server_config(), hello);
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .resolve("api.example.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let url = format!("https://api.example.test:{}/", srv.port());
    let res = session.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.connection().unwrap().remote_addr, Some(srv.addr()));
}

#[tokio::test]
async fn untrusted_certificates_fail_unless_the_danger_switch_is_on() {
    let leaf = Leaf::self_signed(&["localhost"]);
    let srv = server::https(leaf.server_config(), hello);

    let strict = Session::new();
    let err = strict.get(srv.https_url("/")).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let chain = format!("{:?}", err);
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("certificate"),
        "{chain}"
    );

    let lax = Session::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let res = lax.get(srv.https_url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn wrong_host_name_is_rejected() {
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["other.test"]);
    let srv = server::https(leaf.server_config(), hello);
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();
    let err = session.get(srv.https_url("/")).send().await.unwrap_err();
    assert!(err.is_connect());
    assert!(format!("{err:?}").contains("NotValidForName"), "{err:?}");
}

#[test]
fn pem_that_is_not_a_certificate_is_a_builder_error() {
    let err = Session::builder()
        .add_root_certificate_pem(b"-----BEGIN NONSENSE-----\nabc\n-----END NONSENSE-----\n")
        .build()
        .unwrap_err();
    assert!(err.is_builder());
    assert!(Session::builder()
        .identity_pem(b"junk", b"junk")
        .build()
        .unwrap_err()
        .is_builder());
}

#[tokio::test]
async fn a_fresh_session_with_the_same_settings_resumes_the_tls_session() {
    let ca = Ca::new("resumption ca");
    let srv = server::https(ca.leaf(&["localhost"]).server_config(), hello);
    let build = |pem: &str| {
        Session::builder()
            .add_root_certificate_pem(pem.as_bytes())
            .build()
            .unwrap()
    };
    // Sessions built one after the other, each dropped before the next:
    // the TLS configuration (and its session cache) is shared by settings.
    for _ in 0..3 {
        let session = build(&ca.cert_pem);
        let res = session.get(srv.https_url("/")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap();
    }
    assert_eq!(srv.connections(), 3);
    assert_eq!(srv.tls_resumptions(), 2, "the 2nd and 3rd session resumed");

    // Other roots are other settings: a full handshake.
    let other = Ca::new("another ca");
    let both = format!("{}{}", ca.cert_pem, other.cert_pem);
    let session = build(&both);
    session.get(srv.https_url("/")).send().await.unwrap();
    assert_eq!(srv.connections(), 4);
    assert_eq!(srv.tls_resumptions(), 2, "no resumption across settings");
}
