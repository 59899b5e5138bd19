//! Redirects over loopback with named hosts (the resolve override): every
//! status with every method, history, the hop limit, loops, bodies that
//! cannot be replayed, bad `Location` values, and the credential rules, each
//! with a unique secret that is searched for in everything other origins
//! received.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, LOCATION};
use http::{Method, StatusCode};
use http_session::core::redirect::policy::{redirect_fn, Action, Policy};
use http_session::core::redirect::{
    BodyNotReplayable, HistoryTooLarge, HttpsOnly, InvalidLocation, TooManyRedirects,
    UnsupportedScheme,
};
use http_session::{Body, Session};
use support::server::{self, recording, response, Log, Req, ResBody};

fn redirect(status: u16, location: &str) -> http::Response<ResBody> {
    let mut res = response(status, "");
    res.headers_mut()
        .insert(LOCATION, location.parse().unwrap());
    res
}

fn host_of(req: &Req) -> String {
    req.headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Everything a request carried, as text, to search for secrets.
fn dump(req: &Req) -> String {
    let mut out = format!("{} {}\n", req.method, req.uri);
    for (name, value) in &req.headers {
        out.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    out.push_str(&String::from_utf8_lossy(&req.body));
    out
}

fn session() -> Session {
    Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .resolve("b.test", "127.0.0.1:0".parse().unwrap())
        .resolve("xa.test", "127.0.0.1:0".parse().unwrap())
        .resolve("sub.a.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap()
}

fn source<T: std::error::Error + 'static>(err: &http_session::Error) -> Option<&T> {
    let mut next = std::error::Error::source(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

#[tokio::test]
async fn every_status_with_every_method() {
    let (srv, log) = recording(|req| {
        if let Some(code) = req.uri.path().strip_prefix("/r/") {
            redirect(code.parse().unwrap(), "/target")
        } else {
            response(200, "done")
        }
    });
    let session = session();
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::HEAD,
    ];
    for status in [301u16, 302, 303, 307, 308] {
        for method in &methods {
            log.lock().unwrap().clear();
            let url = format!("http://a.test:{}/r/{status}", srv.port());
            let mut rb = session
                .request(method.clone(), &url)
                .header("x-keep", "kept");
            let with_body = *method != Method::GET && *method != Method::HEAD;
            if with_body {
                rb = rb.header(CONTENT_TYPE, "text/plain").body("payload-bytes");
            }
            let res = rb.send().await.unwrap();
            assert_eq!(res.status(), 200, "{status} {method}");
            assert_eq!(res.history().len(), 1);
            assert_eq!(res.history()[0].status.as_u16(), status);
            let seen = log.lock().unwrap().clone();
            assert_eq!(seen.len(), 2, "{status} {method}");
            let target = &seen[1];
            assert_eq!(target.uri.path(), "/target");
            let expected = match status {
                302 | 303 if *method != Method::HEAD => Method::GET,
                301 if *method == Method::POST => Method::GET,
                _ => method.clone(),
            };
            assert_eq!(target.method, expected, "{status} {method}");
            assert_eq!(target.headers["x-keep"], "kept");
            if with_body && (status == 307 || status == 308) {
                assert_eq!(
                    target.body,
                    Bytes::from("payload-bytes"),
                    "{status} {method}"
                );
                assert_eq!(target.headers[CONTENT_TYPE], "text/plain");
                assert_eq!(target.headers[CONTENT_LENGTH], "13");
            } else {
                assert!(target.body.is_empty(), "{status} {method}");
                assert!(
                    target.headers.get(CONTENT_TYPE).is_none(),
                    "{status} {method}"
                );
                if *method != Method::GET && *method != Method::HEAD {
                    let len = target.headers.get(CONTENT_LENGTH);
                    assert!(len.is_none() || len.unwrap() == "0", "{status} {method}");
                }
            }
        }
    }
}

/// A redirected request is made again from what it was made of the first
/// time: the defaults snapshot it took (not defaults changed meanwhile), its
/// own headers, and the defaults it removed.
#[tokio::test]
async fn the_next_hop_keeps_the_first_hops_snapshot_and_removals() {
    let session = Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .header("x-default", "old")
        .header("x-dropped", "default")
        .build()
        .unwrap();
    let changer = session.clone();
    let (srv, log) = recording(move |req| {
        if req.uri.path() == "/start" {
            changer
                .update(|d| {
                    d.headers_mut()
                        .insert("x-default", http::HeaderValue::from_static("new"));
                    Ok(())
                })
                .unwrap();
            redirect(302, "/end")
        } else {
            response(200, "done")
        }
    });
    let url = format!("http://a.test:{}/start", srv.port());
    let res = session
        .get(&url)
        .header("x-own", "mine")
        .without_header("x-dropped")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for hop in &seen {
        assert_eq!(hop.headers["x-default"], "old", "{}", hop.uri);
        assert_eq!(hop.headers["x-own"], "mine", "{}", hop.uri);
        assert!(hop.headers.get("x-dropped").is_none(), "{}", hop.uri);
    }
    let later = session.get(&url).send().await.unwrap();
    assert_eq!(later.status(), 200);
    assert_eq!(log.lock().unwrap()[2].headers["x-default"], "new");
}

#[tokio::test]
async fn history_final_url_and_fragment() {
    let (srv, _log) = recording(|req| match req.uri.path() {
        "/a" => redirect(301, "/b"),
        "/b" => redirect(302, "c?x=1"),
        _ => response(200, "end"),
    });
    let port = srv.port();
    let res = session()
        .get(format!("http://a.test:{port}/a#frag"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.url().as_str(),
        format!("http://a.test:{port}/c?x=1#frag")
    );
    let history = res.history();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].status, 301);
    assert_eq!(
        history[0].url.as_str(),
        format!("http://a.test:{port}/a#frag")
    );
    assert_eq!(history[0].headers[LOCATION], "/b");
    assert_eq!(history[1].status, 302);
    assert_eq!(history[1].url.path(), "/b");
    assert_eq!(res.text().await.unwrap(), "end");
}

#[tokio::test]
async fn thirty_hops_are_followed_and_the_thirty_first_is_an_error() {
    let (srv, log) = recording(|req| {
        let n: u32 = req.uri.path().trim_start_matches("/hop/").parse().unwrap();
        let last: u32 = req
            .uri
            .query()
            .unwrap()
            .trim_start_matches("last=")
            .parse()
            .unwrap();
        if n < last {
            redirect(302, &format!("/hop/{}?last={last}", n + 1))
        } else {
            response(200, "arrived")
        }
    });
    let session = session();
    let url = |last| format!("http://a.test:{}/hop/0?last={last}", srv.port());
    let res = session.get(url(30)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.history().len(), 30);

    let err = session.get(url(31)).send().await.unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    let too_many = source::<TooManyRedirects>(&err).expect("TooManyRedirects");
    assert_eq!(too_many.max(), 30);
    assert_eq!(too_many.history().len(), 31);
    assert_eq!(too_many.history()[0].url.path(), "/hop/0");

    // Per session and per request.
    let strict = Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .max_redirects(3)
        .build()
        .unwrap();
    assert!(strict.get(url(3)).send().await.is_ok());
    assert!(strict.get(url(4)).send().await.unwrap_err().is_redirect());
    let res = strict.get(url(5)).max_redirects(5).send().await.unwrap();
    assert_eq!(res.history().len(), 5);
    log.lock().unwrap().clear();
    let err = session
        .get(url(5))
        .max_redirects(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(source::<TooManyRedirects>(&err).unwrap().history().len(), 1);
    assert_eq!(log.lock().unwrap().len(), 1);
}

/// Each hop brings a bounded head, and the heads a chain keeps add up to a
/// bounded total: a chain of hops with 16 KiB heads stops at the budget
/// with a typed error, and one under it is followed.
#[tokio::test]
async fn the_heads_a_chain_keeps_are_bounded() {
    let padding = "p".repeat(16 * 1024);
    let (srv, log) = recording(move |req| {
        let n: usize = req
            .uri
            .path()
            .trim_start_matches("/hop")
            .parse()
            .unwrap_or(0);
        if n >= 10 {
            return response(200, "end");
        }
        let mut res = redirect(302, &format!("/hop{}", n + 1));
        res.headers_mut()
            .insert("x-padding", padding.parse().unwrap());
        res
    });
    let session = Session::builder()
        .max_history_bytes(64 * 1024)
        .build()
        .unwrap();
    let err = session.get(srv.url("/hop0")).send().await.unwrap_err();
    assert!(err.is_redirect(), "{err}");
    let too_large = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<HistoryTooLarge>())
        .expect("a HistoryTooLarge");
    assert_eq!(too_large.limit(), 64 * 1024);
    // Four hops of about 16 KiB fit, the fifth does not.
    assert_eq!(log.lock().unwrap().len(), 4);

    let res = Session::new().get(srv.url("/hop0")).send().await.unwrap();
    assert_eq!(res.history().len(), 10);
}

#[tokio::test]
async fn a_redirect_loop_stops_with_the_history() {
    let (srv, log) = recording(|req| match req.uri.path() {
        "/ping" => redirect(302, "/pong"),
        _ => redirect(307, "/ping"),
    });
    let err = session()
        .post(format!("http://a.test:{}/ping", srv.port()))
        .body("x")
        .send()
        .await
        .unwrap_err();
    let too_many = source::<TooManyRedirects>(&err).expect("TooManyRedirects");
    assert_eq!(too_many.history().len(), 31);
    assert_eq!(log.lock().unwrap().len(), 31);
    assert!(
        err.to_string().contains("error following redirect"),
        "{err}"
    );
}

fn stream_body() -> Body {
    let chunks = vec![Ok::<_, std::io::Error>(Bytes::from("stream"))];
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn a_stream_body_cannot_follow_307_but_can_follow_303() {
    let (srv, log) = recording(|req| match req.uri.path() {
        "/307" => redirect(307, "/target"),
        "/303" => redirect(303, "/target"),
        _ => response(200, "ok"),
    });
    let session = session();
    let err = session
        .put(format!("http://a.test:{}/307", srv.port()))
        .body(stream_body())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_redirect());
    assert_eq!(source::<BodyNotReplayable>(&err).unwrap().status(), 307);
    assert_eq!(log.lock().unwrap().len(), 1);

    let res = session
        .put(format!("http://a.test:{}/303", srv.port()))
        .body(stream_body())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[1].body, Bytes::from("stream"));
    assert_eq!(seen[2].method, Method::GET);
    assert!(seen[2].body.is_empty());
}

#[tokio::test]
async fn not_following_returns_the_redirect_and_the_next_request() {
    let (srv, log) = recording(|_| redirect(303, "/next#part"));
    let port = srv.port();
    let res = session()
        .post(format!("http://a.test:{port}/form"))
        .body("data")
        .follow_redirects(false)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let next = res.next_request().unwrap();
    assert_eq!(next.method(), Method::GET);
    assert_eq!(
        next.url().as_str(),
        format!("http://a.test:{port}/next#part")
    );
    assert!(res.history().is_empty());
    assert_eq!(log.lock().unwrap().len(), 1);

    let quiet = Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .no_redirects()
        .build()
        .unwrap();
    let res = quiet
        .get(format!("http://a.test:{port}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = quiet
        .get(format!("http://a.test:{port}/x"))
        .follow_redirects(true)
        .max_redirects(2)
        .send()
        .await
        .unwrap_err();
    assert!(res.is_redirect());
}

#[tokio::test]
async fn bad_locations_are_clear_errors_and_nothing_else_is_contacted() {
    let (srv, log) = recording(|req| {
        let mut res = response(302, "");
        let headers = res.headers_mut();
        match req.uri.path() {
            "/empty" => {
                headers.insert(LOCATION, "".parse().unwrap());
            }
            "/file" => {
                headers.insert(LOCATION, "file:///etc/passwd".parse().unwrap());
            }
            "/ftp" => {
                headers.insert(LOCATION, "ftp://a.test/x".parse().unwrap());
            }
            "/nohost" => {
                headers.insert(LOCATION, "http:///x".parse().unwrap());
            }
            "/two" => {
                headers.append(LOCATION, "/one".parse().unwrap());
                headers.append(LOCATION, "/other".parse().unwrap());
            }
            "/long" => {
                let long = format!("/{}", "a".repeat(10 * 1024));
                headers.insert(LOCATION, long.parse().unwrap());
            }
            "/binary" => {
                headers.insert(
                    LOCATION,
                    http::HeaderValue::from_bytes(b"/caf\xe9").unwrap(),
                );
            }
            _ => return response(200, req.uri.path().to_owned()),
        }
        res
    });
    let session = session();
    let port = srv.port();
    let cases: [(&str, &str); 6] = [
        ("/empty", "empty"),
        ("/file", "\"file\""),
        ("/ftp", "\"ftp\""),
        ("/nohost", "without a host"),
        ("/two", "two different"),
        ("/long", "longer than"),
    ];
    for (path, expected) in cases {
        log.lock().unwrap().clear();
        let err = session
            .get(format!("http://a.test:{port}{path}"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_redirect(), "{path}: {err:?}");
        let leaf = source::<InvalidLocation>(&err)
            .map(|e| e.to_string())
            .or_else(|| source::<UnsupportedScheme>(&err).map(|e| e.to_string()))
            .unwrap_or_else(|| panic!("{path}: {err:?}"));
        assert!(leaf.contains(expected), "{path}: {leaf}");
        assert_eq!(log.lock().unwrap().len(), 1, "{path}");
    }
    let res = session
        .get(format!("http://a.test:{port}/binary"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "/caf%E9");
}

#[tokio::test]
async fn per_hop_and_per_request_middleware() {
    use http_session::middleware::from_fn;
    let (srv, _log) = recording(|req| match req.uri.path() {
        "/1" => redirect(302, "/2"),
        "/2" => redirect(302, "/3"),
        _ => response(200, ""),
    });
    let outer = Arc::new(AtomicUsize::new(0));
    let hops = Arc::new(AtomicUsize::new(0));
    let (o, h) = (outer.clone(), hops.clone());
    let session = Session::builder()
        .middleware(from_fn(move |req, next| {
            o.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        }))
        .hop_middleware(from_fn(move |req, next| {
            h.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        }))
        .build()
        .unwrap();
    session.get(srv.url("/1")).send().await.unwrap();
    assert_eq!(outer.load(Ordering::SeqCst), 1);
    assert_eq!(hops.load(Ordering::SeqCst), 3);
}

/// Asserts that no request to a host other than `origin_host` carried `secret`.
async fn scan_for(secret: &str, origin_host: &str, log: &Log, other: &[&Log]) {
    for req in log.lock().unwrap().iter() {
        if !host_of(req).starts_with(origin_host) {
            assert!(
                !dump(req).contains(secret),
                "{secret} leaked to {}",
                dump(req)
            );
        }
    }
    for other in other {
        for req in other.lock().unwrap().iter() {
            assert!(
                !dump(req).contains(secret),
                "{secret} leaked to {}",
                dump(req)
            );
        }
    }
}

#[tokio::test]
async fn credentials_never_reach_another_origin() {
    // One server answers a.test, b.test, xa.test and sub.a.test on one port;
    // a second server is a.test on another port.
    let (other_port, other_log) = recording(|_| response(200, "other port"));
    let other = other_port.port();
    let (srv, log) = recording(move |req| {
        let target = req.uri.query().unwrap_or("").to_owned();
        match req.uri.path() {
            "/start" => redirect(302, &target.replace("PORT2", &other.to_string())),
            _ => response(200, "landed"),
        }
    });
    let port = srv.port();
    let targets = [
        format!("http://b.test:{port}/land"),
        format!("http://xa.test:{port}/land"),
        format!("http://sub.a.test:{port}/land"),
        "http://a.test:PORT2/land".to_owned(),
        format!("//b.test:{port}/land"),
    ];
    for (i, target) in targets.iter().enumerate() {
        log.lock().unwrap().clear();
        let secrets = [
            format!("basic-secret-{i}"),
            format!("proxy-secret-{i}"),
            format!("cookie-secret-{i}"),
            format!("apikey-secret-{i}"),
            format!("marked-secret-{i}"),
        ];
        let session = Session::builder()
            .resolve("a.test", "127.0.0.1:0".parse().unwrap())
            .resolve("b.test", "127.0.0.1:0".parse().unwrap())
            .resolve("xa.test", "127.0.0.1:0".parse().unwrap())
            .resolve("sub.a.test", "127.0.0.1:0".parse().unwrap())
            .basic_auth("user", Some(&secrets[0]))
            .sensitive_header("x-api-key")
            .build()
            .unwrap();
        other_log.lock().unwrap().clear();
        let url = format!("http://a.test:{port}/start?{target}");
        let mut marked = http::HeaderValue::from_str(&secrets[4]).unwrap();
        marked.set_sensitive(true);
        let res = session
            .get(url)
            .header("proxy-authorization", secrets[1].as_str())
            .header("cookie", format!("sid={}", secrets[2]))
            .header("x-api-key", secrets[3].as_str())
            .header("x-marked", marked)
            .header("x-public", "fine")
            .send()
            .await
            .unwrap();
        assert_eq!(res.history().len(), 1, "{target}");
        let first = log.lock().unwrap()[0].clone();
        // The first origin got every credential...
        for secret in &secrets {
            assert!(
                dump(&first).contains(secret.as_str()) || secret.starts_with("basic"),
                "{secret}"
            );
        }
        assert!(first.headers[AUTHORIZATION]
            .to_str()
            .unwrap()
            .starts_with("Basic "));
        // ...and nothing else got any, while the public header went on.
        let landed: Vec<Req> = log.lock().unwrap()[1..]
            .iter()
            .chain(other_log.lock().unwrap().iter())
            .cloned()
            .collect();
        assert_eq!(landed.len(), 1, "{target}");
        assert_eq!(landed[0].headers["x-public"], "fine");
        let encoded_basic = first.headers[AUTHORIZATION].to_str().unwrap().to_owned();
        for secret in secrets
            .iter()
            .map(String::as_str)
            .chain([encoded_basic.as_str()])
        {
            scan_for(secret, "a.test", &log, &[&other_log]).await;
            assert!(!dump(&landed[0]).contains(secret), "{target}: {secret}");
        }
    }
}

/// A request's own `WWW-Authenticate` (a challenge answer some APIs take)
/// is a credential too: it stays with its origin, as in reqwest.
#[tokio::test]
async fn a_requests_www_authenticate_stays_with_its_origin() {
    let (srv, log) = recording(|req| match req.uri.path() {
        "/same" => redirect(302, "/land"),
        "/other" => {
            let port = req.headers[HOST]
                .to_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_owned();
            redirect(302, &format!("http://b.test:{port}/land"))
        }
        _ => response(200, "landed"),
    });
    let session = Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .resolve("b.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    for (path, kept) in [("/same", true), ("/other", false)] {
        log.lock().unwrap().clear();
        let url = format!("http://a.test:{}{path}", srv.port());
        let res = session
            .get(url)
            .header("www-authenticate", "answer-secret")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].headers["www-authenticate"], "answer-secret");
        assert_eq!(
            log[1].headers.contains_key("www-authenticate"),
            kept,
            "{path}"
        );
    }
}

#[tokio::test]
async fn once_stripped_credentials_stay_stripped_when_the_chain_returns() {
    let (srv, log) =
        recording(
            |req| match (host_of(req).split(':').next().unwrap(), req.uri.path()) {
                ("a.test", "/start") => {
                    let port = host_of(req).split(':').nth(1).unwrap().to_owned();
                    redirect(307, &format!("http://b.test:{port}/bounce"))
                }
                ("b.test", "/bounce") => {
                    let port = host_of(req).split(':').nth(1).unwrap().to_owned();
                    redirect(307, &format!("http://a.test:{port}/final"))
                }
                _ => response(200, "home again"),
            },
        );
    let session = Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .resolve("b.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let res = session
        .post(format!("http://a.test:{}/start", srv.port()))
        .bearer_auth("returning-secret")
        .body("body-goes-on")
        .send()
        .await
        .unwrap();
    assert_eq!(res.history().len(), 2);
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].headers[AUTHORIZATION], "Bearer returning-secret");
    for req in &seen[1..] {
        assert!(!dump(req).contains("returning-secret"), "{}", dump(req));
        assert_eq!(req.body, Bytes::from("body-goes-on"));
    }
    assert!(host_of(&seen[2]).starts_with("a.test"));
}

#[tokio::test]
async fn https_to_http_on_the_same_port_is_another_origin() {
    use support::tls::Ca;
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["a.test"]);
    // One port serves both: https answers with a redirect to plain http on
    // the same host and port, which records what it receives.
    let log: Log = Arc::default();
    let seen_log = log.clone();
    let own_port = Arc::new(std::sync::atomic::AtomicU16::new(0));
    let port_cell = own_port.clone();
    let both = server::https(leaf.server_config(), move |req: Req| {
        let res = if req.uri.path() == "/secure" {
            // Only the TLS side is asked for /secure (the test sends it there).
            let port = port_cell.load(std::sync::atomic::Ordering::SeqCst);
            redirect(302, &format!("http://a.test:{port}/down"))
        } else {
            response(200, "plain")
        };
        seen_log.lock().unwrap().push(req);
        async move { res }
    });
    own_port.store(both.port(), std::sync::atomic::Ordering::SeqCst);
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let res = session
        .get(format!("https://a.test:{}/secure", both.port()))
        .basic_auth("u", Some("tls-only-secret"))
        .header("cookie", "k=tls-cookie-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.url().as_str(),
        format!("http://a.test:{}/down", both.port())
    );
    assert_eq!(res.text().await.unwrap(), "plain");
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(
        dump(&seen[0]).contains("Basic"),
        "the https hop had the credentials"
    );
    assert!(seen[1].headers.get(AUTHORIZATION).is_none());
    assert!(!dump(&seen[1]).contains("tls-cookie-secret"));
    let plain_log = log;
    let tls = both;

    // https_only refuses the downgrade outright.
    let strict = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .https_only(true)
        .build()
        .unwrap();
    let err = strict
        .get(format!("https://a.test:{}/secure", tls.port()))
        .send()
        .await
        .unwrap_err();
    assert!(source::<HttpsOnly>(&err).is_some(), "{err:?}");
    // The refused downgrade was never sent: only the https hop arrived.
    assert_eq!(plain_log.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn http_to_https_on_default_ports_keeps_authorization_only() {
    use http_session::mock::MockTransport;
    let mock = MockTransport::new()
        .route(Method::GET, "/up", |_| {
            http::Response::builder()
                .status(301)
                .header(LOCATION, "https://a.test/up2")
                .body(Body::empty())
                .unwrap()
        })
        .route(Method::GET, "/up2", |_| (StatusCode::OK, "secure"))
        .route(Method::GET, "/side", |_| {
            http::Response::builder()
                .status(301)
                .header(LOCATION, "https://a.test:8443/up2")
                .body(Body::empty())
                .unwrap()
        });
    let session = Session::builder().transport(mock.clone()).build().unwrap();
    session
        .get("http://a.test/up")
        .basic_auth("u", Some("upgrade-secret"))
        .header("cookie", "c=cookie-upgrade")
        .send()
        .await
        .unwrap();
    let seen = mock.requests();
    assert_eq!(seen[1].uri.to_string(), "https://a.test/up2");
    assert!(seen[1].headers[AUTHORIZATION]
        .to_str()
        .unwrap()
        .starts_with("Basic "));
    assert!(seen[1].headers.get("cookie").is_none());

    session
        .get("http://a.test/side")
        .basic_auth("u", Some("upgrade-secret"))
        .send()
        .await
        .unwrap();
    let seen = mock.requests();
    assert_eq!(seen[3].uri.to_string(), "https://a.test:8443/up2");
    assert!(seen[3].headers.get(AUTHORIZATION).is_none());
}

#[tokio::test]
async fn policies_stop_veto_and_edit_but_cannot_leak() {
    #[derive(Clone)]
    struct AddsAuth;
    impl Policy for AddsAuth {
        fn on_request(&mut self, request: &mut http::Request<Body>) {
            request
                .headers_mut()
                .insert(AUTHORIZATION, "Bearer policy-secret".parse().unwrap());
            request
                .headers_mut()
                .insert("x-policy", "edited".parse().unwrap());
        }
    }
    let (srv, log) = recording(|req| match req.uri.path() {
        "/go" => {
            let port = host_of(req).split(':').nth(1).unwrap().to_owned();
            redirect(302, &format!("http://b.test:{port}/there"))
        }
        _ => response(200, "there"),
    });
    let port = srv.port();
    let build = |policy| {
        Session::builder()
            .resolve("a.test", "127.0.0.1:0".parse().unwrap())
            .resolve("b.test", "127.0.0.1:0".parse().unwrap())
            .redirect_policy(policy)
            .build()
            .unwrap()
    };
    let session = build(http_session::core::redirect::BoxPolicy::new(AddsAuth));
    session
        .get(format!("http://a.test:{port}/go"))
        .send()
        .await
        .unwrap();
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[1].headers["x-policy"], "edited");
    assert!(seen[1].headers.get(AUTHORIZATION).is_none());

    let stop = build(http_session::core::redirect::BoxPolicy::new(redirect_fn(
        |a| {
            Ok(if a.location().host_str() == Some("b.test") {
                Action::Stop
            } else {
                Action::Follow
            })
        },
    )));
    log.lock().unwrap().clear();
    let res = stop
        .get(format!("http://a.test:{port}/go"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.next_request().unwrap().url().host_str(), Some("b.test"));
    assert_eq!(log.lock().unwrap().len(), 1);

    let veto = build(http_session::core::redirect::BoxPolicy::new(redirect_fn(
        |a| {
            assert!(a.headers()[LOCATION]
                .to_str()
                .unwrap()
                .starts_with("http://b.test"));
            Err("vetoed by policy".into())
        },
    )));
    let err = veto
        .get(format!("http://a.test:{port}/go"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_redirect());
    assert!(format!("{err:?}").contains("vetoed by policy"));
}
