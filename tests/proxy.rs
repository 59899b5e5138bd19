//! Proxies over loopback: a recording HTTP forward/`CONNECT` proxy and a
//! tiny SOCKS5 server, both written here. Checks where credentials go, the
//! per-scheme/host rules, `no_proxy`, the environment, per-request
//! overrides, and that a refused tunnel is a proxy error.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_session::hyper::RequestProxy;
use http_session::Session;
use support::chain;
use support::server::{self, response, Req};
use support::tls::Ca;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with a `CONNECT`.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Tunnel,
    Status(u16),
    Garbage,
    Close,
}

/// A proxy that records every request head it receives.
struct Proxy {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    /// Spoken to over TLS, as `https://localhost:port`.
    tls: bool,
}

impl Proxy {
    fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    String::from_utf8(buf).ok()
}

async fn start_proxy(answer: Answer) -> Proxy {
    start_proxy_with(answer, None).await
}

/// A proxy; with `tls`, clients speak TLS to it first.
async fn start_proxy_with(answer: Answer, tls: Option<Arc<rustls::ServerConfig>>) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let secure = tls.is_some();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    None => serve_proxy(client, answer, seen).await,
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(client).await {
                            if tls.get_ref().1.peer_certificates().is_some() {
                                seen.lock().unwrap().push("client certificate".to_owned());
                            }
                            serve_proxy(tls, answer, seen).await;
                        }
                    }
                }
            });
        }
    });
    Proxy {
        addr,
        heads,
        tls: secure,
    }
}

/// One client connection of the proxy: a `CONNECT` tunnel or a forwarded
/// request.
async fn serve_proxy<S>(mut client: S, answer: Answer, seen: Arc<Mutex<Vec<String>>>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(head) = read_head(&mut client).await else {
        return;
    };
    seen.lock().unwrap().push(head.clone());
    let first = head.lines().next().unwrap_or_default().to_owned();
    let target = first
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    if first.starts_with("CONNECT") {
        match answer {
            Answer::Tunnel => {
                let port = target.rsplit(':').next().unwrap();
                let mut origin = TcpStream::connect(format!("127.0.0.1:{port}"))
                    .await
                    .unwrap();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
            }
            Answer::Status(code) => {
                let msg = format!(
                    "HTTP/1.1 {code} No\r\nProxy-Authenticate: Basic realm=\"p\"\r\ncontent-length: 0\r\n\r\n"
                );
                let _ = client.write_all(msg.as_bytes()).await;
            }
            Answer::Garbage => {
                let _ = client.write_all(b"SSH-2.0-nonsense\r\n\r\n").await;
            }
            Answer::Close => {}
        }
        return;
    }
    // Forward proxy: absolute-form request; strip our own header as real
    // proxies do, then relay.
    let authority = target
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut origin = TcpStream::connect(authority).await.unwrap();
    let relayed: String = head
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("proxy-authorization"))
        .collect();
    origin.write_all(relayed.as_bytes()).await.unwrap();
    let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
}

async fn echo_headers(req: Req) -> http::Response<server::ResBody> {
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(k, v)| format!("{k}={}", v.to_str().unwrap_or("")))
        .collect();
    names.sort();
    response(
        200,
        format!("{} {}\n{}", req.method, req.uri, names.join("\n")),
    )
}

#[tokio::test]
async fn http_goes_through_the_forward_proxy_with_its_credentials() {
    let origin = server::http(echo_headers);
    let proxy = start_proxy(Answer::Tunnel).await;
    let session = Session::builder()
        .trust_env(false)
        .proxy("http", &proxy.url().replace("http://", "http://user:pw@"))
        .build()
        .unwrap();
    let res = session.get(origin.url("/x?q=1")).send().await.unwrap();
    let seen_by_origin = res.text().await.unwrap();
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1);
    let expected = format!("GET http://{}/x?q=1 HTTP/1.1", origin.addr());
    assert!(heads[0].starts_with(&expected), "{}", heads[0]);
    // base64("user:pw")
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic dxnlcjpwdw=="),
        "{}",
        heads[0]
    );
    assert!(seen_by_origin.starts_with("GET "), "{seen_by_origin}");
    assert!(seen_by_origin.contains("/x?q=1"), "{seen_by_origin}");
    // The origin's `Host`, written once, in the forwarded request as well.
    let host = format!("host: {}\r\n", origin.addr());
    assert_eq!(
        heads[0].to_ascii_lowercase().matches(&host).count(),
        1,
        "{}",
        heads[0]
    );
    assert!(
        seen_by_origin.contains(&format!("host={}", origin.addr())),
        "{seen_by_origin}"
    );
}

#[tokio::test]
async fn https_tunnels_with_connect_and_keeps_each_secret_on_its_side() {
    let ca = Ca::new("test ca");
    let origin = server::https(ca.leaf(&["localhost"]).server_config(), echo_headers);
    let proxy = start_proxy(Answer::Tunnel).await;
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .proxy(
            "https",
            &proxy.url().replace("http://", "http://puser:ppass@"),
        )
        .bearer_auth("origin-secret")
        .header("cookie", "session=origin-cookie")
        .build()
        .unwrap();
    for _ in 0..2 {
        let res = session.get(origin.https_url("/in")).send().await.unwrap();
        let seen_by_origin = res.text().await.unwrap();
        assert!(seen_by_origin.contains("authorization=Bearer origin-secret"));
        assert!(seen_by_origin.contains("cookie=session=origin-cookie"));
        assert!(
            !seen_by_origin.contains("proxy-authorization"),
            "{seen_by_origin}"
        );
    }
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "one tunnel, reused: {heads:?}");
    let connect = &heads[0];
    let target = format!("CONNECT localhost:{} HTTP/1.1", origin.port());
    assert!(connect.starts_with(&target), "{connect}");
    assert!(connect.contains("Proxy-Authorization: Basic cHVzZXI6cHBhc3M="));
    assert!(!connect.contains("origin-secret") && !connect.contains("origin-cookie"));
}

/// An `https://` proxy: TLS to the proxy (its certificate checked), then a
/// `CONNECT` tunnel with the origin's TLS inside it, or a plain-HTTP request
/// forwarded over the proxy's TLS; the proxy's credentials ride inside the
/// proxy's TLS and never reach the origin.
#[tokio::test]
async fn an_https_proxy_is_reached_over_tls() {
    let ca = Ca::new("test ca");
    let origin_tls = server::https(ca.leaf(&["localhost"]).server_config(), echo_headers);
    let origin_plain = server::http(echo_headers);
    let proxy = start_proxy_with(
        Answer::Tunnel,
        Some(ca.leaf(&["localhost"]).server_config_h1()),
    )
    .await;
    assert!(proxy.url().starts_with("https://"));
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .proxy(
            "all",
            &proxy.url().replace("https://", "https://puser:ppass@"),
        )
        .bearer_auth("origin-secret")
        .build()
        .unwrap();

    for _ in 0..2 {
        let res = session
            .get(origin_tls.https_url("/in"))
            .send()
            .await
            .unwrap();
        let seen = res.text().await.unwrap();
        // h2 inside the tunnel: the origin sees the full URI.
        assert!(seen.starts_with("GET ") && seen.contains("/in"), "{seen}");
        assert!(
            seen.contains("authorization=Bearer origin-secret"),
            "{seen}"
        );
        assert!(!seen.contains("proxy-authorization"), "{seen}");
    }
    let res = session
        .get(origin_plain.url("/plain"))
        .send()
        .await
        .unwrap();
    let seen = res.text().await.unwrap();
    assert!(seen.contains("/plain"), "{seen}");
    assert!(!seen.contains("proxy-authorization"), "{seen}");

    let heads = proxy.heads();
    assert_eq!(
        heads.len(),
        2,
        "one tunnel, reused, and one forward: {heads:?}"
    );
    let connect = format!("CONNECT localhost:{} HTTP/1.1", origin_tls.port());
    assert!(heads[0].starts_with(&connect), "{}", heads[0]);
    assert!(heads[0].contains("Proxy-Authorization: Basic cHVzZXI6cHBhc3M="));
    assert!(!heads[0].contains("origin-secret"), "{}", heads[0]);
    let forward = format!("GET http://{}/plain HTTP/1.1", origin_plain.addr());
    assert!(heads[1].starts_with(&forward), "{}", heads[1]);
    assert!(
        heads[1]
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic chvzzxi6chbhc3m="),
        "{}",
        heads[1]
    );

    // A proxy whose certificate the session does not trust is refused
    // before anything is sent to it.
    let untrusted = start_proxy_with(
        Answer::Tunnel,
        Some(Ca::new("other ca").leaf(&["localhost"]).server_config_h1()),
    )
    .await;
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .proxy("all", &untrusted.url())
        .build()
        .unwrap();
    let err = session
        .get(origin_tls.https_url("/"))
        .send()
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(err.is_connect(), "{text}");
    assert!(
        text.contains("TLS handshake with the proxy failed"),
        "{text}"
    );
    assert!(untrusted.heads().is_empty());
}

/// The session's client certificate is the origin's to see: through an
/// `https://` proxy that asks for one, the proxy gets none and the origin
/// (which requires it) gets it inside the tunnel.
#[tokio::test]
async fn the_client_certificate_goes_to_the_origin_not_the_proxy() {
    let ca = Ca::new("mtls ca");
    let origin = server::https(
        ca.client_auth_server_config(&["localhost"], true),
        echo_headers,
    );
    let proxy = start_proxy_with(
        Answer::Tunnel,
        Some(ca.client_auth_server_config(&["localhost"], false)),
    )
    .await;
    let client = ca.leaf(&["client.test"]);
    let session = Session::builder()
        .trust_env(false)
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .identity_pem(client.cert_pem.as_bytes(), client.key_pem.as_bytes())
        .proxy("all", &proxy.url())
        .build()
        .unwrap();
    let res = session.get(origin.https_url("/mtls")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("/mtls"));
    let heads = proxy.heads();
    assert!(heads[0].starts_with("CONNECT "), "{heads:?}");
    assert!(
        !heads.contains(&"client certificate".to_owned()),
        "{heads:?}"
    );
}

#[tokio::test]
async fn a_refused_or_broken_connect_is_a_proxy_error() {
    let ca = Ca::new("test ca");
    let origin = server::https(ca.leaf(&["localhost"]).server_config(), echo_headers);
    for (answer, expect) in [
        (Answer::Status(407), "407"),
        (Answer::Status(403), "403"),
        (Answer::Status(502), "502"),
        (Answer::Garbage, "not HTTP"),
        (Answer::Close, "closed the connection"),
    ] {
        let proxy = start_proxy(answer).await;
        let session = Session::builder()
            .trust_env(false)
            .add_root_certificate_pem(ca.cert_pem.as_bytes())
            .proxy("all", &proxy.url())
            .build()
            .unwrap();
        let err = session.get(origin.https_url("/")).send().await.unwrap_err();
        let text = chain(&err);
        assert!(err.is_connect(), "{text}");
        assert!(text.contains(&format!("proxy {}", proxy.url())), "{text}");
        assert!(text.contains(expect), "{answer:?}: {text}");
        assert!(!text.contains("TLS"), "{text}");
    }
}

/// A SOCKS5 server (RFC 1928/1929) that records the credentials and the
/// address form it was asked for, then relays.
async fn start_socks() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut hdr = [0u8; 2];
                c.read_exact(&mut hdr).await.unwrap();
                let mut methods = vec![0u8; hdr[1] as usize];
                c.read_exact(&mut methods).await.unwrap();
                if methods.contains(&2) {
                    c.write_all(&[5, 2]).await.unwrap();
                    let ver = c.read_u8().await.unwrap();
                    assert_eq!(ver, 1);
                    let mut user = vec![0u8; c.read_u8().await.unwrap() as usize];
                    c.read_exact(&mut user).await.unwrap();
                    let mut pass = vec![0u8; c.read_u8().await.unwrap() as usize];
                    c.read_exact(&mut pass).await.unwrap();
                    seen.lock().unwrap().push(format!(
                        "auth {}:{}",
                        String::from_utf8_lossy(&user),
                        String::from_utf8_lossy(&pass)
                    ));
                    c.write_all(&[1, 0]).await.unwrap();
                } else {
                    c.write_all(&[5, 0]).await.unwrap();
                }
                let mut req = [0u8; 4];
                c.read_exact(&mut req).await.unwrap();
                let host = match req[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        c.read_exact(&mut ip).await.unwrap();
                        format!("ip {}", std::net::Ipv4Addr::from(ip))
                    }
                    3 => {
                        let mut name = vec![0u8; c.read_u8().await.unwrap() as usize];
                        c.read_exact(&mut name).await.unwrap();
                        format!("name {}", String::from_utf8_lossy(&name))
                    }
                    other => panic!("address type {other}"),
                };
                let port = c.read_u16().await.unwrap();
                seen.lock().unwrap().push(host);
                let mut origin = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut c, &mut origin).await;
            });
        }
    });
    (addr, log)
}

#[tokio::test]
async fn socks5_resolves_here_and_socks5h_lets_the_proxy_resolve() {
    let origin = server::http(echo_headers);
    let (socks, log) = start_socks().await;
    let url = format!("http://localhost:{}/s", origin.port());

    let local = Session::builder()
        .trust_env(false)
        .proxy("all", &format!("socks5://{socks}"))
        .build()
        .unwrap();
    let res = local.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("ip 127.0.0.1")));

    let remote = Session::builder()
        .trust_env(false)
        .proxy("http", &format!("socks5h://sam:pa%20ss@{socks}"))
        .build()
        .unwrap();
    let res = remote.get(&url).send().await.unwrap();
    assert!(res.text().await.unwrap().starts_with("GET /s"));
    let log = log.lock().unwrap().clone();
    assert!(log.contains(&"name localhost".to_owned()), "{log:?}");
    assert!(log.contains(&"auth sam:pa ss".to_owned()), "{log:?}");
}

/// `socks5://` resolves the name with the session's resolver, so a
/// `resolve` override holds behind a SOCKS5 proxy too (the proxy is handed
/// the overridden address; system DNS knows nothing of `.test` names).
#[tokio::test]
async fn socks5_local_resolution_honours_resolve_overrides() {
    let origin = server::http(echo_headers);
    let (socks, log) = start_socks().await;
    let session = Session::builder()
        .trust_env(false)
        .resolve("behind-socks.test", "127.0.0.3:0".parse().unwrap())
        .proxy("all", &format!("socks5://{socks}"))
        .build()
        .unwrap();
    let url = format!("http://behind-socks.test:{}/named", origin.port());
    let res = session.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().starts_with("GET /named"));
    let log = log.lock().unwrap().clone();
    assert!(log.contains(&"ip 127.0.0.3".to_owned()), "{log:?}");
}

#[tokio::test]
async fn request_override_beats_the_session_and_no_proxy_skips_it() {
    let origin = server::http(echo_headers);
    let proxy = start_proxy(Answer::Tunnel).await;

    // A session without proxies; one request asks for the proxy.
    let plain = Session::builder().trust_env(false).build().unwrap();
    plain.get(origin.url("/direct")).send().await.unwrap();
    assert!(proxy.heads().is_empty());
    plain
        .get(origin.url("/via"))
        .extension(RequestProxy::new(&proxy.url()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.heads().len(), 1);

    // A session with a proxy; one request goes direct.
    let proxied = Session::builder()
        .trust_env(false)
        .proxy("all", &proxy.url())
        .build()
        .unwrap();
    proxied
        .get(origin.url("/skip"))
        .extension(RequestProxy::direct())
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.heads().len(), 1);

    // no_proxy matches the host: direct.
    let listed = Session::builder()
        .trust_env(false)
        .proxy("all", &proxy.url())
        .no_proxy("localhost, 127.0.0.0/8")
        .build()
        .unwrap();
    listed.get(origin.url("/np")).send().await.unwrap();
    assert_eq!(proxy.heads().len(), 1);
    // A host-specific rule beats the scheme rule.
    let specific = Session::builder()
        .trust_env(false)
        .proxy("http", "http://127.0.0.1:9") // nothing listens there
        .proxy(&format!("http://{}", origin.addr().ip()), &proxy.url())
        .build()
        .unwrap();
    specific.get(origin.url("/host")).send().await.unwrap();
    assert_eq!(proxy.heads().len(), 2);
}

#[tokio::test]
async fn the_environment_is_read_only_when_trusted() {
    let origin = server::http(echo_headers);
    let proxy = start_proxy(Answer::Tunnel).await;
    // The only test of this binary that sets the environment; every other
    // one builds with trust_env(false).
    std::env::set_var("http_proxy", proxy.url());
    std::env::set_var("NO_PROXY", "skip.test");
    let trusting = Session::builder().build().unwrap();
    let distrusting = Session::builder().trust_env(false).build().unwrap();
    std::env::remove_var("http_proxy");
    std::env::remove_var("NO_PROXY");

    trusting.get(origin.url("/env")).send().await.unwrap();
    assert_eq!(proxy.heads().len(), 1);
    distrusting.get(origin.url("/env")).send().await.unwrap();
    assert_eq!(proxy.heads().len(), 1);
}

#[test]
fn bad_proxy_settings_are_builder_errors() {
    for builder in [
        Session::builder().proxy("http", "http://"),
        Session::builder().proxy("http", "gopher://proxy.test"),
        Session::builder().proxy("ftp", "http://proxy.test"),
        Session::builder().no_proxy("good.test, not a host"),
        Session::builder().no_proxy("10.0.0.0/64"),
    ] {
        let err = builder.trust_env(false).build().unwrap_err();
        assert!(err.is_builder(), "{err:?}");
    }
    assert!(RequestProxy::new("socks4://x").is_err());
}

#[tokio::test]
async fn a_request_proxy_map_is_chosen_again_on_every_hop() {
    use http_session::hyper::RequestProxies;
    use http_session::RequestBuilderExt as _;
    let (target, seen) = server::recording(|req| response(200, format!("final {}", req.uri)));
    let location = format!("http://localhost:{}/final", target.port());
    let start = server::http(move |_req: Req| {
        let location = location.clone();
        async move {
            let mut res = response(302, "");
            res.headers_mut()
                .insert(http::header::LOCATION, location.parse().unwrap());
            res
        }
    });
    let proxy = start_proxy(Answer::Tunnel).await;
    let session = Session::builder().trust_env(false).build().unwrap();
    // requests: proxies={'http://127.0.0.1': P, 'http://localhost': None}
    let map = RequestProxies::new()
        .proxy("http://127.0.0.1", &proxy.url())
        .unwrap()
        .direct("http://localhost")
        .unwrap();
    let res = session
        .get(start.url("/start"))
        .proxies(map)
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "final /final");
    // The first hop went through the proxy, the redirected one directly.
    let heads = proxy.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with(&format!("GET http://{}/start ", start.addr())),
        "{heads:?}"
    );
    let at_target = seen.lock().unwrap();
    assert_eq!(at_target.len(), 1);
    assert_eq!(
        at_target[0].uri, "/final",
        "origin-form: not through a proxy"
    );
}

#[tokio::test]
async fn a_direct_key_in_the_session_map_beats_a_wider_proxy() {
    let origin = server::http(echo_headers);
    let proxy = start_proxy(Answer::Tunnel).await;
    // requests: s.proxies = {'all': P, 'http://localhost': None}
    let session = Session::builder()
        .trust_env(false)
        .proxy("all", &proxy.url())
        .direct("http://localhost")
        .build()
        .unwrap();
    let direct = format!("http://localhost:{}/direct", origin.port());
    let seen = session
        .get(direct)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(seen.starts_with("GET /direct"), "{seen}");
    assert!(proxy.heads().is_empty());
    session.get(origin.url("/via")).send().await.unwrap();
    assert_eq!(proxy.heads().len(), 1, "127.0.0.1 is not the direct key");
    // A bad key is a builder error.
    let err = Session::builder().direct("ftp://x").build().unwrap_err();
    assert!(err.is_builder());
}
