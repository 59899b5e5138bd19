//! TLS settings with rcgen certificates: which check failed (expired,
//! unknown issuer, wrong host name), a CA bundle from a file, mTLS, the
//! minimum version, and per-request overrides that never share a
//! connection made under other settings.

mod support;

use std::sync::Arc;

use http_session::hyper::{Identity, RequestTls, TlsVersion};
use http_session::Session;
use support::chain;
use support::server::{self, response, Req};
use support::tls::{Ca, Leaf};

async fn hello(_req: Req) -> http::Response<server::ResBody> {
    response(200, "hello")
}

/// A server configuration for `leaf` that speaks TLS 1.2 only.
fn tls12_only(leaf: &Leaf) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key.clone_key())
        .unwrap();
    Arc::new(config)
}

async fn failure(session: &Session, url: String) -> String {
    let err = session.get(url).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    chain(&err).to_ascii_lowercase()
}

#[tokio::test]
async fn errors_say_which_check_failed() {
    let ca = Ca::new("test ca");
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();

    let expired = ca.leaf_with(&["localhost"], |p| {
        p.not_before = rcgen::date_time_ymd(2000, 1, 1);
        p.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    let srv = server::https(expired.server_config(), hello);
    let text = failure(&session, srv.https_url("/")).await;
    assert!(
        text.contains("tls handshake with localhost failed"),
        "{text}"
    );
    assert!(text.contains("expired"), "{text}");

    let other = server::https(ca.leaf(&["other.test"]).server_config(), hello);
    let text = failure(&session, other.https_url("/")).await;
    assert!(text.contains("name"), "{text}");

    let stranger = server::https(Leaf::self_signed(&["localhost"]).server_config(), hello);
    let text = failure(&session, stranger.https_url("/")).await;
    assert!(text.contains("issuer"), "{text}");
}

#[tokio::test]
async fn ca_bundle_from_a_file() {
    let ca = Ca::new("file ca");
    let srv = server::https(ca.leaf(&["localhost"]).server_config(), hello);
    let path = std::env::temp_dir().join(format!("http-session-ca-{}.pem", srv.port()));
    std::fs::write(&path, &ca.cert_pem).unwrap();
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_file(&path)
        .build()
        .unwrap();
    let res = session.get(srv.https_url("/")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "hello");
    std::fs::remove_file(&path).unwrap();
    let missing = Session::builder()
        .add_root_certificate_file(&path)
        .build()
        .unwrap_err();
    assert!(missing.is_builder());
}

#[tokio::test]
async fn mutual_tls_from_the_session_or_one_request() {
    let ca = Ca::new("mtls ca");
    let srv = server::https(ca.client_auth_server_config(&["localhost"], true), hello);
    let client = ca.leaf(&["client.test"]);

    let anonymous = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();
    let err = anonymous.get(srv.https_url("/")).send().await;
    let refused = match err {
        Err(_) => true,
        Ok(res) => res.bytes().await.is_err(), // TLS 1.3 reports it on first read
    };
    assert!(refused);

    let identity =
        Identity::from_pem(client.cert_pem.as_bytes(), client.key_pem.as_bytes()).unwrap();
    let res = anonymous
        .get(srv.https_url("/"))
        .extension(RequestTls::new().identity(identity))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "hello");

    let with_cert = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .identity_pem(client.cert_pem.as_bytes(), client.key_pem.as_bytes())
        .build()
        .unwrap();
    let res = with_cert.get(srv.https_url("/")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn verify_off_then_on_opens_a_new_connection_and_fails() {
    let srv = server::https(Leaf::self_signed(&["localhost"]).server_config(), hello);
    let session = Session::builder().trust_env(false).build().unwrap();
    let lax = RequestTls::new().danger_accept_invalid_certs(true);
    for _ in 0..2 {
        let res = session
            .get(srv.https_url("/"))
            .extension(lax.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.text().await.unwrap(), "hello");
    }
    assert_eq!(
        srv.connections(),
        1,
        "the lax profile reuses its connection"
    );
    let text = failure(&session, srv.https_url("/")).await;
    assert!(text.contains("issuer"), "{text}");
    assert_eq!(
        srv.connections(),
        2,
        "verification on means a new connection"
    );

    // And the other way round: a lax session, one strict request.
    let lax_session = Session::builder()
        .trust_env(false)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    lax_session.get(srv.https_url("/")).send().await.unwrap();
    let strict = lax_session
        .get(srv.https_url("/"))
        .extension(RequestTls::new().danger_accept_invalid_certs(false))
        .send()
        .await
        .unwrap_err();
    assert!(strict.is_connect());
}

#[tokio::test]
async fn minimum_version_refuses_an_older_server() {
    let ca = Ca::new("v ca");
    let srv = server::https(tls12_only(&ca.leaf(&["localhost"])), hello);
    let base = || {
        Session::builder()
            .trust_env(false)
            .add_root_certificate_pem(ca.cert_pem.as_bytes())
    };
    let ok = base().build().unwrap();
    assert_eq!(
        ok.get(srv.https_url("/")).send().await.unwrap().status(),
        200
    );
    let strict = base().tls_min_version(TlsVersion::Tls13).build().unwrap();
    let text = failure(&strict, srv.https_url("/")).await;
    assert!(
        text.contains("version") || text.contains("protocol"),
        "{text}"
    );
}

#[tokio::test]
async fn a_request_brings_its_own_roots_minimum_version_and_server_name() {
    use http_session::RequestBuilderExt as _;
    let ca = Ca::new("per-request ca");
    // A TLS 1.2 server whose certificate names only `api.internal.test`.
    let srv = server::https(tls12_only(&ca.leaf(&["api.internal.test"])), hello);
    let url = format!("https://127.0.0.1:{}/", srv.port());
    let session = Session::builder().trust_env(false).build().unwrap();
    let roots = || {
        RequestTls::new()
            .root_certificates_pem(ca.cert_pem.as_bytes())
            .unwrap()
    };

    // requests: verify='ca.pem', plus the name the certificate has.
    let ok = session
        .get(&url)
        .tls(roots().server_name("api.internal.test"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.text().await.unwrap(), "hello");

    // The same roots without the name: the certificate is not for 127.0.0.1.
    let err = session.get(&url).tls(roots()).send().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let text = chain(&err).to_ascii_lowercase();
    assert!(
        text.contains("not valid for") || text.contains("name"),
        "{text}"
    );

    // A request asking for TLS 1.3 refuses this server.
    let err = session
        .get(&url)
        .tls(
            roots()
                .server_name("api.internal.test")
                .min_version(TlsVersion::Tls13),
        )
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    // Without the request's roots the session's (bundled) roots refuse it:
    // the connection verified with the request's roots is not reused.
    let text = failure(&session, url.clone()).await;
    assert!(
        text.contains("unknown") || text.contains("issuer"),
        "{text}"
    );

    // The session-wide name override, with the CA as an extra root.
    let renamed = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .tls_server_name("api.internal.test")
        .build()
        .unwrap();
    let res = renamed.get(&url).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "hello");
}
