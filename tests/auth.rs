//! Authentication over loopback: Basic (session, request, URL userinfo),
//! Bearer, Digest against a server that checks the digest itself, `.netrc`
//! across a redirect, custom schemes, and the precedence table.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, LOCATION, WWW_AUTHENTICATE};
use http_session::core::auth::Auth;
use http_session::{Body, BoxError, Session};
use md5::Md5;
use sha2::{Digest as _, Sha256, Sha512_256};
use support::server::{self, recording, response, Log, Req, ResBody};

fn auth_of(req: &Req) -> Option<String> {
    req.headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn host_of(req: &Req) -> String {
    req.headers[HOST].to_str().unwrap().to_owned()
}

fn named() -> http_session::SessionBuilder {
    Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .resolve("b.test", "127.0.0.1:0".parse().unwrap())
}

#[tokio::test]
async fn basic_from_session_request_and_url_userinfo() {
    let (srv, log) = recording(|_| response(200, "ok"));
    let session = Session::builder()
        .basic_auth("user", Some("pass"))
        .build()
        .unwrap();
    session.get(srv.url("/1")).send().await.unwrap();
    session
        .get(srv.url("/2"))
        .basic_auth("other", Some("pw"))
        .send()
        .await
        .unwrap();
    let plain = Session::new();
    let url = format!("http://al%40ice:s%3Acret@127.0.0.1:{}/3", srv.port());
    plain.get(&url).send().await.unwrap();
    plain
        .get(srv.url("/4"))
        .bearer_auth("tok-123")
        .send()
        .await
        .unwrap();
    let seen = log.lock().unwrap().clone();
    assert_eq!(auth_of(&seen[0]).unwrap(), "Basic dXNlcjpwYXNz");
    assert_eq!(auth_of(&seen[1]).unwrap(), "Basic b3RoZXI6cHc=");
    // "al@ice:s:cret", decoded from the URL; the URL sent has no userinfo.
    assert_eq!(auth_of(&seen[2]).unwrap(), "Basic YWxAaWNlOnM6Y3JldA==");
    assert_eq!(seen[2].uri.path(), "/3");
    assert!(!host_of(&seen[2]).contains('@'));
    assert!(!format!("{:?}", seen[2]).contains("cret"));
    assert_eq!(auth_of(&seen[3]).unwrap(), "Bearer tok-123");
}

fn write_netrc(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "http-session-{name}-{}-{:?}.netrc",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn precedence_request_session_netrc_userinfo() {
    let (srv, log) = recording(|_| response(200, "ok"));
    let port = srv.port();
    let netrc = write_netrc("precedence", "machine a.test login n password netrc-pw\n");
    let with_netrc = named().netrc_path(&netrc).build().unwrap();
    let url = |path: &str| format!("http://a.test:{port}{path}");
    let userinfo = |path: &str| format!("http://u:userinfo-pw@a.test:{port}{path}");

    // netrc beats URL userinfo.
    with_netrc
        .get(userinfo("/netrc-over-url"))
        .send()
        .await
        .unwrap();
    // An explicit header is never replaced by netrc.
    with_netrc
        .get(url("/explicit"))
        .header(AUTHORIZATION, "Token explicit")
        .send()
        .await
        .unwrap();
    // Session beats netrc; request beats session.
    let both = named()
        .netrc_path(&netrc)
        .bearer_auth("session-tok")
        .build()
        .unwrap();
    both.get(url("/session")).send().await.unwrap();
    both.get(url("/request"))
        .bearer_auth("request-tok")
        .send()
        .await
        .unwrap();
    // Userinfo when nothing else applies.
    named()
        .build()
        .unwrap()
        .get(userinfo("/url"))
        .send()
        .await
        .unwrap();
    let seen = log.lock().unwrap().clone();
    let by_path: HashMap<String, Option<String>> = seen
        .iter()
        .map(|r| (r.uri.path().to_owned(), auth_of(r)))
        .collect();
    let basic = |u: &str, p: &str| {
        use base64_free::encode;
        format!("Basic {}", encode(&format!("{u}:{p}")))
    };
    assert_eq!(
        by_path["/netrc-over-url"].as_deref(),
        Some(basic("n", "netrc-pw").as_str())
    );
    assert_eq!(by_path["/explicit"].as_deref(), Some("Token explicit"));
    assert_eq!(by_path["/session"].as_deref(), Some("Bearer session-tok"));
    assert_eq!(by_path["/request"].as_deref(), Some("Bearer request-tok"));
    assert_eq!(
        by_path["/url"].as_deref(),
        Some(basic("u", "userinfo-pw").as_str())
    );
    std::fs::remove_file(netrc).unwrap();
}

/// A tiny base64 encoder, so the test checks the header independently.
mod base64_free {
    pub(super) fn encode(s: &str) -> String {
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &c)| acc | (u32::from(c) << (16 - 8 * i)));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[tokio::test]
async fn netrc_is_looked_up_per_hop_and_never_crosses_hosts() {
    let (srv, log) = recording(|req| {
        let host = host_of(req);
        if host.starts_with("a.test") && req.uri.path() == "/start" {
            let port = host.split(':').nth(1).unwrap().to_owned();
            let mut res = response(302, "");
            res.headers_mut().insert(
                LOCATION,
                format!("http://b.test:{port}/land").parse().unwrap(),
            );
            res
        } else {
            response(200, "ok")
        }
    });
    let netrc = write_netrc(
        "hops",
        "machine a.test login alice password alice-netrc-secret\n\
         machine b.test login bob password bob-netrc-secret\n\
         default login any password default-secret\n",
    );
    let session = named().netrc_path(&netrc).build().unwrap();
    session
        .get(format!("http://a.test:{}/start", srv.port()))
        .send()
        .await
        .unwrap();
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let decode = |r: &Req| auth_of(r).unwrap();
    assert_eq!(
        decode(&seen[0]),
        format!("Basic {}", base64_free::encode("alice:alice-netrc-secret"))
    );
    assert_eq!(
        decode(&seen[1]),
        format!("Basic {}", base64_free::encode("bob:bob-netrc-secret"))
    );
    std::fs::remove_file(&netrc).unwrap();

    // `default` is never used, and a host without an entry gets nothing.
    let only_default = write_netrc("default", "default login any password default-secret\n");
    let session = named().netrc_path(&only_default).build().unwrap();
    log.lock().unwrap().clear();
    session
        .get(format!("http://b.test:{}/x", srv.port()))
        .send()
        .await
        .unwrap();
    assert!(auth_of(&log.lock().unwrap()[0]).is_none());
    std::fs::remove_file(only_default).unwrap();
}

#[tokio::test]
async fn netrc_env_lookup_and_malformed_files() {
    let (srv, log) = recording(|_| response(200, "ok"));
    let path = write_netrc("env", "machine a.test login env password env-secret\n");
    // The only test that touches $NETRC.
    std::env::set_var("NETRC", &path);
    let session = named().netrc().build();
    std::env::remove_var("NETRC");
    session
        .unwrap()
        .get(format!("http://a.test:{}/", srv.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        auth_of(&log.lock().unwrap()[0]).unwrap(),
        format!("Basic {}", base64_free::encode("env:env-secret"))
    );
    std::fs::write(&path, "machine a.test login u password \"unterminated\n").unwrap();
    let err = named().netrc_path(&path).build().unwrap_err();
    assert!(err.is_builder());
    let chain = format!("{err:?}");
    assert!(chain.contains("unterminated"), "{chain}");
    std::fs::remove_file(path).unwrap();
}

// ---- Digest, checked by the server on its own ----

#[derive(Clone, Copy)]
enum Alg {
    Md5,
    Md5Sess,
    Sha256,
    Sha512_256,
}

impl Alg {
    fn name(self) -> &'static str {
        match self {
            Alg::Md5 => "MD5",
            Alg::Md5Sess => "MD5-sess",
            Alg::Sha256 => "SHA-256",
            Alg::Sha512_256 => "SHA-512-256",
        }
    }

    fn h(self, data: &str) -> String {
        let bytes: Vec<u8> = match self {
            Alg::Md5 | Alg::Md5Sess => Md5::digest(data.as_bytes()).to_vec(),
            Alg::Sha256 => Sha256::digest(data.as_bytes()).to_vec(),
            Alg::Sha512_256 => Sha512_256::digest(data.as_bytes()).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn params(header: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = header.strip_prefix("Digest ").unwrap_or("").trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').unwrap();
        let key = key.trim().to_owned();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap();
            (quoted[..end].to_owned(), &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.insert(key, value);
        rest = next.trim_start_matches([',', ' ']);
    }
    out
}

struct DigestServer {
    alg: Alg,
    nonce: Mutex<String>,
    last_nc: Mutex<u32>,
    challenges: AtomicUsize,
    stale_once: bool,
}

impl DigestServer {
    fn challenge(&self, stale: bool) -> http::Response<ResBody> {
        self.challenges.fetch_add(1, Ordering::SeqCst);
        let mut res = response(401, "");
        let value = format!(
            r#"Digest realm="tests@a.test", qop="auth", algorithm={}, nonce="{}", opaque="op"{}"#,
            self.alg.name(),
            self.nonce.lock().unwrap(),
            if stale { ", stale=true" } else { "" }
        );
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, value.parse().unwrap());
        res
    }

    fn handle(&self, req: &Req) -> http::Response<ResBody> {
        let Some(header) = auth_of(req) else {
            return self.challenge(false);
        };
        let p = params(&header);
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        let nonce = self.nonce.lock().unwrap().clone();
        assert_eq!(get("username"), "Mufasa");
        assert_eq!(get("uri"), req.uri.path_and_query().unwrap().as_str());
        assert_eq!(get("opaque"), "op");
        if get("nonce") != nonce {
            return self.challenge(true);
        }
        let mut ha1 = self.alg.h("Mufasa:tests@a.test:Circle of Life");
        if matches!(self.alg, Alg::Md5Sess) {
            ha1 = self.alg.h(&format!("{ha1}:{nonce}:{}", get("cnonce")));
        }
        let ha2 = self.alg.h(&format!("{}:{}", req.method, get("uri")));
        let expected = self.alg.h(&format!(
            "{ha1}:{nonce}:{}:{}:{}:{ha2}",
            get("nc"),
            get("cnonce"),
            get("qop")
        ));
        if get("response") != expected {
            return response(403, "bad digest");
        }
        let nc = u32::from_str_radix(&get("nc"), 16).unwrap();
        let mut last = self.last_nc.lock().unwrap();
        assert!(nc > *last, "nc must count up: {nc} after {last}");
        *last = nc;
        if self.stale_once && nc == 2 {
            *self.nonce.lock().unwrap() = "fresh-nonce".to_owned();
            *last = 0;
            return self.challenge(true);
        }
        response(200, format!("hello {}", String::from_utf8_lossy(&req.body)))
    }
}

fn digest_server(alg: Alg, stale_once: bool) -> (server::Server, Arc<DigestServer>, Log) {
    let state = Arc::new(DigestServer {
        alg,
        nonce: Mutex::new("dcd98b7102dd2f0e8b11d0f600bfb0c093".to_owned()),
        last_nc: Mutex::new(0),
        challenges: AtomicUsize::new(0),
        stale_once,
    });
    let s = state.clone();
    let (srv, log) = recording(move |req| s.handle(req));
    (srv, state, log)
}

#[tokio::test]
async fn digest_algorithms_retry_once_then_answer_up_front() {
    for alg in [Alg::Md5, Alg::Md5Sess, Alg::Sha256, Alg::Sha512_256] {
        let (srv, state, log) = digest_server(alg, false);
        let session = named()
            .digest_auth("Mufasa", "Circle of Life")
            .build()
            .unwrap();
        let url = format!("http://a.test:{}/dir/index.html?x=1", srv.port());
        for i in 0..3 {
            let res = session
                .post(&url)
                .body(format!("body{i}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{}", alg.name());
            assert_eq!(res.text().await.unwrap(), format!("hello body{i}"));
        }
        // One challenge, then every request answered up front.
        assert_eq!(state.challenges.load(Ordering::SeqCst), 1, "{}", alg.name());
        let seen = log.lock().unwrap().clone();
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[0].body, Bytes::from("body0"));
        assert_eq!(seen[1].body, Bytes::from("body0"), "the body is replayed");
        assert!(auth_of(&seen[3]).unwrap().contains("nc=00000003"));
    }
}

/// The challenge a Digest scheme answered is in the answer's history, as
/// in requests (`r.history == [<401>]`); a request answered up front has
/// none.
#[tokio::test]
async fn a_digest_challenge_is_in_the_history() {
    let (srv, _state, _log) = digest_server(Alg::Sha256, false);
    let session = named()
        .digest_auth("Mufasa", "Circle of Life")
        .build()
        .unwrap();
    let url = format!("http://a.test:{}/dir/index.html", srv.port());
    let first = session.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let history = first.history();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, 401);
    assert_eq!(history[0].url.as_str(), url);
    assert!(history[0].headers.contains_key("www-authenticate"));
    let second = session.get(&url).send().await.unwrap();
    assert_eq!(second.status(), 200);
    assert!(second.history().is_empty());
}

#[tokio::test]
async fn digest_stale_nonce_is_answered_once_and_wrong_password_is_not_retried() {
    let (srv, state, _log) = digest_server(Alg::Sha256, true);
    let session = named()
        .digest_auth("Mufasa", "Circle of Life")
        .build()
        .unwrap();
    let url = format!("http://a.test:{}/s", srv.port());
    assert_eq!(session.get(&url).send().await.unwrap().status(), 200);
    // nc=2 is refused as stale with a new nonce; the retry answers it.
    assert_eq!(session.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(state.challenges.load(Ordering::SeqCst), 2);

    let (srv, state, log) = digest_server(Alg::Md5, false);
    let wrong = named().digest_auth("Mufasa", "wrong").build().unwrap();
    let res = wrong
        .get(format!("http://a.test:{}/s", srv.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(state.challenges.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_digest_challenges_are_clear_errors() {
    let (srv, _log) = recording(|req| {
        let mut res = response(401, "");
        let value = match req.uri.path() {
            "/alg" => r#"Digest realm="r", nonce="n", qop="auth", algorithm=ROT13"#,
            _ => r#"Digest realm="r", qop="auth""#,
        };
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, value.parse().unwrap());
        res
    });
    let session = Session::builder().digest_auth("u", "p").build().unwrap();
    for (path, expected) in [("/alg", "unknown algorithm"), ("/nonce", "nonce")] {
        let err = session.get(srv.url(path)).send().await.unwrap_err();
        let mut chain = err.to_string();
        let mut next = std::error::Error::source(&err);
        while let Some(e) = next {
            chain.push_str(&format!(": {e}"));
            next = e.source();
        }
        assert!(chain.contains(expected), "{chain}");
        assert!(chain.contains("Digest"), "{chain}");
    }
}

#[tokio::test]
async fn digest_is_not_used_after_the_chain_leaves_the_origin() {
    let (other, other_log) = recording(|_| {
        let mut res = response(401, "");
        res.headers_mut().insert(
            WWW_AUTHENTICATE,
            r#"Digest realm="evil", nonce="n", qop="auth""#.parse().unwrap(),
        );
        res
    });
    let other_port = other.port();
    let (srv, _state, _log) = digest_server(Alg::Md5, false);
    let _ = srv;
    let (redirector, _rlog) = recording(move |_| {
        let mut res = response(302, "");
        res.headers_mut().insert(
            LOCATION,
            format!("http://b.test:{other_port}/grab").parse().unwrap(),
        );
        res
    });
    let session = named()
        .digest_auth("Mufasa", "Circle of Life")
        .build()
        .unwrap();
    let res = session
        .get(format!("http://a.test:{}/go", redirector.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let seen = other_log.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "no retry with credentials on b.test");
    assert!(auth_of(&seen[0]).is_none());
}

/// A custom scheme: signs each request and refreshes its token on a 401.
struct Refreshing {
    token: Mutex<String>,
    refreshes: AtomicUsize,
}

impl Auth for Refreshing {
    fn sign(&self, request: &mut http::Request<Body>) -> Result<(), BoxError> {
        let value = format!("Token {}", self.token.lock().unwrap());
        request.headers_mut().insert(AUTHORIZATION, value.parse()?);
        Ok(())
    }

    fn on_unauthorized(
        &self,
        _request: &http::Request<()>,
        response: &http::Response<Body>,
    ) -> Result<bool, BoxError> {
        assert_eq!(response.status(), 401);
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        *self.token.lock().unwrap() = "fresh".to_owned();
        Ok(true)
    }
}

#[tokio::test]
async fn custom_scheme_signs_and_reacts_to_401() {
    let (srv, log) = recording(|req| match auth_of(req).as_deref() {
        Some("Token fresh") => response(200, "in"),
        _ => response(401, "expired"),
    });
    let scheme = Arc::new(Refreshing {
        token: Mutex::new("stale".to_owned()),
        refreshes: AtomicUsize::new(0),
    });
    let session = Session::builder().auth(scheme.clone()).build().unwrap();
    let res = session
        .put(srv.url("/x"))
        .body("replay me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(scheme.refreshes.load(Ordering::SeqCst), 1);
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].body, Bytes::from("replay me"));

    // A stream body cannot be replayed: the 401 comes back as it is.
    *scheme.token.lock().unwrap() = "stale".to_owned();
    let chunks = vec![Ok::<_, std::io::Error>(Bytes::from("once"))];
    let res = session
        .put(srv.url("/y"))
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // A request scheme replaces the session's.
    let res = session
        .get(srv.url("/z"))
        .auth(Refreshing {
            token: Mutex::new("fresh".to_owned()),
            refreshes: AtomicUsize::new(0),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// requests' `auth=None` for one call: `without_auth()` sends none of the
/// session's credentials (Basic default, Digest, `.netrc`, URL userinfo),
/// but a header the request sets itself; and `without_default_header`
/// removes a default at build time.
#[tokio::test]
async fn without_auth_sends_none_of_the_sessions_credentials() {
    let (srv, log) = recording(|_| response(200, "ok"));
    let url = |path: &str| format!("http://a.test:{}{path}", srv.port());
    let basic = named().basic_auth("u", Some("session-pw")).build().unwrap();
    basic.get(url("/default")).send().await.unwrap();
    basic.get(url("/none")).without_auth().send().await.unwrap();
    basic
        .get(url("/own"))
        .without_auth()
        .header(AUTHORIZATION, "Bearer own")
        .send()
        .await
        .unwrap();
    let netrc = write_netrc("without-auth", "machine a.test login n password netrc-pw\n");
    let with_netrc = named().netrc_path(&netrc).build().unwrap();
    with_netrc
        .get(url("/netrc"))
        .without_auth()
        .send()
        .await
        .unwrap();
    let userinfo = format!("http://u:userinfo-pw@a.test:{}/userinfo", srv.port());
    with_netrc
        .get(userinfo)
        .without_auth()
        .send()
        .await
        .unwrap();
    {
        let log = log.lock().unwrap();
        let seen: Vec<Option<String>> = log.iter().map(auth_of).collect();
        assert!(seen[0].as_deref().is_some_and(|a| a.starts_with("Basic ")));
        assert_eq!(seen[1], None);
        assert_eq!(seen[2].as_deref(), Some("Bearer own"));
        assert_eq!(seen[3], None, "no .netrc");
        assert_eq!(seen[4], None, "no URL credentials");
    }

    // A Digest session's challenge comes back unanswered.
    let (digest_srv, state, _) = digest_server(Alg::Sha256, false);
    let digest = named()
        .digest_auth("Mufasa", "Circle of Life")
        .build()
        .unwrap();
    let url = format!("http://a.test:{}/dir/index.html", digest_srv.port());
    let res = digest.get(&url).without_auth().send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(state.challenges.load(Ordering::SeqCst), 1);

    // Defaults removed at build time.
    log.lock().unwrap().clear();
    let bare = named()
        .without_default_header(http::header::ACCEPT)
        .without_default_header(http::header::USER_AGENT)
        .build()
        .unwrap();
    bare.get(format!("http://a.test:{}/bare", srv.port()))
        .send()
        .await
        .unwrap();
    let log = log.lock().unwrap();
    assert!(!log[0].headers.contains_key(http::header::ACCEPT));
    assert!(!log[0].headers.contains_key(http::header::USER_AGENT));
}
