//! `digest`: `WWW-Authenticate` challenges answered by
//! `session_core::auth::Digest`.
//!
//! ```text
//! user Mufasa                     the credentials (these by default)
//! pass Circle of Life
//! uri http://a.test/dir/index.html?x=1   the request (this one by default)
//! method POST
//! answered                        the request already carried a Digest answer
//! Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256
//! Basic realm="x"                 every other line: one WWW-Authenticate value
//! ```
//!
//! `Auth::on_unauthorized` reads the 401; when it asks for another try,
//! `Auth::sign` answers twice (the nonce count goes up). Then the same
//! exchange runs through an `AuthLayer` over a `MockTransport` that answers
//! the first request with that 401: at most two requests are sent, and a
//! second one carries a Digest `Authorization`.

use http::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Method, Request, StatusCode};
use session_core::auth::{Auth, AuthLayer, Digest};
use session_core::mock::MockTransport;
use session_core::Body;
use tower::{Layer, ServiceExt};

use super::{command, lines, reason, runtime, script, text, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "digest",
    about: "WWW-Authenticate challenges answered by auth::Digest (direct and through AuthLayer)",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 16 * 1024,
};

const DICTIONARY: &[&str] = &[
    "Digest ",
    "digest ",
    "Basic ",
    "Bearer ",
    "realm=",
    "nonce=",
    "qop=",
    "algorithm=",
    "opaque=",
    "stale=true",
    "stale=TRUE",
    "domain=",
    "charset=UTF-8",
    "userhash=true",
    "\"auth\"",
    "\"auth-int\"",
    "\"auth,auth-int\"",
    "MD5",
    "MD5-sess",
    "SHA-256",
    "SHA-256-sess",
    "SHA-512-256",
    "SHA-512-256-sess",
    ", ",
    "=\"",
    "\\\"",
    "\nanswered",
    "\nuser ",
    "\npass ",
    "\nuri ",
];

struct Script {
    user: String,
    pass: String,
    uri: http::Uri,
    method: Method,
    answered: bool,
    challenges: Vec<HeaderValue>,
}

fn parse(input: &[u8]) -> Script {
    let mut s = Script {
        user: "Mufasa".into(),
        pass: "Circle of Life".into(),
        uri: http::Uri::from_static("http://a.test/dir/index.html"),
        method: Method::GET,
        answered: false,
        challenges: Vec::new(),
    };
    for line in lines(input) {
        match command(line, &["user", "pass", "uri", "method", "answered"]) {
            Some(("user", rest)) => s.user = text(rest),
            Some(("pass", rest)) => s.pass = text(rest),
            Some(("uri", rest)) => {
                if let Ok(uri) = http::Uri::try_from(rest) {
                    if uri.scheme().is_some() && uri.host().is_some() {
                        s.uri = uri;
                    }
                }
            }
            Some(("method", rest)) => {
                if let Ok(m) = Method::from_bytes(rest) {
                    s.method = m;
                }
            }
            Some(_) => s.answered = true,
            None => {
                if let Ok(v) = HeaderValue::from_bytes(line) {
                    s.challenges.push(v);
                }
            }
        }
    }
    s
}

fn unauthorized(challenges: &[HeaderValue]) -> http::Response<Body> {
    let mut res = http::Response::new(Body::empty());
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    for c in challenges {
        res.headers_mut().append(WWW_AUTHENTICATE, c.clone());
    }
    res
}

fn request(s: &Script) -> Request<Body> {
    let mut req = Request::new(Body::from("payload"));
    *req.method_mut() = s.method.clone();
    *req.uri_mut() = s.uri.clone();
    req
}

fn run(input: &[u8]) -> String {
    let s = parse(input);
    let mut label = String::new();

    // Directly.
    let digest = Digest::new(s.user.clone(), s.pass.clone());
    let mut head = Request::new(());
    *head.method_mut() = s.method.clone();
    *head.uri_mut() = s.uri.clone();
    if s.answered {
        head.headers_mut().insert(
            AUTHORIZATION,
            HeaderValue::from_static("Digest username=\"u\""),
        );
    }
    match digest.on_unauthorized(&head, &unauthorized(&s.challenges)) {
        Ok(true) => {
            label.push_str("retry");
            for _ in 0..2 {
                let mut req = request(&s);
                match digest.sign(&mut req) {
                    Ok(()) => {
                        let v = req
                            .headers()
                            .get(AUTHORIZATION)
                            .expect("a challenge was stored: sign answers it");
                        assert!(
                            v.as_bytes().starts_with(b"Digest "),
                            "a Digest answer that does not start with `Digest `: {v:?}"
                        );
                        assert!(v.is_sensitive(), "a Digest answer not marked sensitive");
                    }
                    Err(e) => {
                        label.push_str(" sign-error: ");
                        label.push_str(&reason(&e));
                        break;
                    }
                }
            }
        }
        Ok(false) => label.push_str("no-retry"),
        Err(e) => {
            label.push_str("error: ");
            label.push_str(&reason(&e));
        }
    }

    // Through the auth layer: a 401 with the challenges, then 200.
    let challenges = s.challenges.clone();
    let mock = MockTransport::new().fallback(move |req| {
        if req.headers.contains_key(AUTHORIZATION) {
            http::Response::new(Body::from("ok"))
        } else {
            unauthorized(&challenges)
        }
    });
    let service = AuthLayer::new()
        .auth(Digest::new(s.user.clone(), s.pass.clone()))
        .layer(mock.clone());
    let rt = runtime(false);
    let result = rt.block_on(service.oneshot(request(&s)));
    let seen = mock.requests();
    assert!(
        seen.len() <= 2,
        "{} requests for one 401 challenge",
        seen.len()
    );
    if seen.len() == 2 {
        let v = seen[1]
            .headers
            .get(AUTHORIZATION)
            .expect("the second request answers the challenge");
        assert!(
            v.as_bytes().starts_with(b"Digest "),
            "not a Digest answer: {v:?}"
        );
        assert_eq!(seen[1].body, "payload", "the body was not sent again");
    }
    label.push_str(match result {
        Ok(res) if res.status() == StatusCode::OK => " / ok",
        Ok(_) => " / 401",
        Err(_) => " / error",
    });
    label
}

fn quoted(g: &mut Gen, v: &str) -> String {
    match g.below(10) {
        0 => v.to_owned(),
        1 => format!("\"{v}"),
        2 => format!("\"{}\"", v.replace('"', "\\\"")),
        _ => format!("\"{v}\""),
    }
}

fn challenge(g: &mut Gen) -> String {
    let scheme = if g.one_in(5) {
        g.choose(&[
            "Basic",
            "Bearer",
            "Negotiate",
            "digest",
            "DIGEST",
            "Digest,",
            "",
            "Digestx",
        ])
    } else {
        "Digest"
    };
    let mut params: Vec<String> = Vec::new();
    let n = g.size(8);
    for _ in 0..n {
        let (k, v) = match g.below(12) {
            0 | 1 => (
                "realm",
                g.pick(&["http-auth@example.org", "r", "", "ü"]).to_string(),
            ),
            2 | 3 => (
                "nonce",
                if g.one_in(4) {
                    g.long("n", 3000)
                } else {
                    g.token()
                },
            ),
            4 | 5 => (
                "qop",
                g.pick(&[
                    "auth",
                    "auth-int",
                    "auth, auth-int",
                    "auth,auth-int",
                    "",
                    "junk",
                    "auth,",
                ])
                .to_string(),
            ),
            6 | 7 => (
                "algorithm",
                g.pick(&[
                    "MD5",
                    "MD5-sess",
                    "SHA-256",
                    "SHA-256-sess",
                    "SHA-512-256",
                    "SHA-512-256-sess",
                    "md5",
                    "sha-256",
                    "SHA-1",
                    "",
                ])
                .to_string(),
            ),
            8 => ("opaque", g.token()),
            9 => (
                "stale",
                g.pick(&["true", "TRUE", "false", "1", ""]).to_string(),
            ),
            10 => (
                g.choose(&["domain", "charset", "userhash", "x", ""]),
                g.pick(&["UTF-8", "true", "/a /b", "ü"]).to_string(),
            ),
            _ => ("junk", g.junk_str(10)),
        };
        let v = if matches!(k, "algorithm" | "stale") && g.one_in(2) {
            v
        } else {
            quoted(g, &v)
        };
        params.push(format!("{k}={v}"));
    }
    let sep = g.choose(&[", ", ",", " ,", ",, ", "\t,"]);
    let mut c = format!("{scheme} {}", params.join(sep));
    if g.one_in(6) {
        c.push_str(", Basic realm=\"x\"");
    }
    if g.one_in(10) {
        c.push_str(&g.junk_str(8));
    }
    c
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if g.one_in(4) {
        out.push(format!("user {}", g.junk_str(12)).into_bytes());
    }
    if g.one_in(4) {
        out.push(format!("pass {}", g.junk_str(12)).into_bytes());
    }
    if g.one_in(4) {
        out.push(format!("uri {}", g.url()).into_bytes());
    }
    if g.one_in(6) {
        out.push(b"method POST".to_vec());
    }
    if g.one_in(6) {
        out.push(b"answered".to_vec());
    }
    let n = 1 + g.below(3);
    for _ in 0..n {
        out.push(challenge(g).into_bytes());
    }
    script(out)
}
