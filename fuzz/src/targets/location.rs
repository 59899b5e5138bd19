//! `location`: `Location` resolution, through a `Session` over a
//! `MockTransport` that answers each hop with the next redirect of the
//! script.
//!
//! ```text
//! start http://a.test/dir/page?q=1#top   the first URL (this one by default)
//! method POST                            the first method (GET by default)
//! status 307                             the status of the next redirects (302 by default)
//! /next                                  a Location value (raw bytes; one per hop)
//! https://u:p@b.test/other
//! ```
//!
//! Values that are not valid header bytes are skipped. The session has
//! Basic auth, a sensitive `x-api-key` header and at most 8 redirects. The
//! request is sent once following redirects, once not (`no_redirects`).
//!
//! Checks: the final URL and every URL the transport saw are http(s), with
//! a host and without userinfo; once a hop changes origin, `Authorization`
//! (but for requests' http→https upgrade) and `x-api-key` never come back;
//! the history has one entry per followed redirect (requests sent − 1); a `next_request` is
//! http(s) without userinfo.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::header::{HeaderValue, AUTHORIZATION, LOCATION};
use http::{Method, StatusCode};
use session_core::mock::MockTransport;
use session_core::{Body, Session, Url};

use super::{command, lines, runtime, script, status_label, text, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "location",
    about: "Location resolution over redirect chains in a Session (mock transport), credential stripping",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 24 * 1024,
};

const DICTIONARY: &[&str] = &[
    "\nstatus 301",
    "\nstatus 303",
    "\nstatus 307",
    "\nstatus 308",
    "\nmethod POST",
    "\nhttp://",
    "\nhttps://",
    "\n//",
    "\n/",
    "\n?",
    "\n#",
    "\n\\\\",
    "http:",
    "https:",
    "file:",
    "javascript:",
    "//b.test",
    "user:pass@",
    "@",
    "[::1]",
    "%2e%2e",
    "../",
    "./",
    ":8080",
    ":443",
    ":80",
    "a.test",
    "b.test",
    "xn--",
];

const DEFAULT_START: &str = "http://a.test/dir/page?q=1#top";

struct Script {
    start: String,
    method: Method,
    hops: Vec<(StatusCode, HeaderValue)>,
}

fn parse(input: &[u8]) -> Script {
    let mut s = Script {
        start: DEFAULT_START.to_owned(),
        method: Method::GET,
        hops: Vec::new(),
    };
    let mut status = StatusCode::FOUND;
    for line in lines(input) {
        match command(line, &["start", "method", "status"]) {
            Some(("start", rest)) => s.start = text(rest),
            Some(("method", rest)) => {
                if let Ok(m) = Method::from_bytes(rest) {
                    s.method = m;
                }
            }
            Some((_, rest)) => {
                if let Some(code) = text(rest)
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                {
                    status = code;
                }
            }
            None => {
                if let Ok(v) = HeaderValue::from_bytes(line) {
                    s.hops.push((status, v));
                }
            }
        }
    }
    s
}

fn mock(hops: Vec<(StatusCode, HeaderValue)>) -> MockTransport {
    let next = Arc::new(AtomicUsize::new(0));
    MockTransport::new().fallback(move |_req| {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let mut res = http::Response::new(Body::from("done"));
        if let Some((status, location)) = hops.get(i) {
            *res.status_mut() = *status;
            res.headers_mut().insert(LOCATION, location.clone());
        }
        res
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn upgrade(a: &Url, b: &Url) -> bool {
    a.scheme() == "http"
        && b.scheme() == "https"
        && a.host() == b.host()
        && a.port().is_none()
        && b.port().is_none()
}

fn check_url(url: &Url, what: &str) {
    assert!(
        matches!(url.scheme(), "http" | "https"),
        "{what} is not http(s): {url}"
    );
    assert!(
        url.host_str().is_some_and(|h| !h.is_empty()),
        "{what} has no host: {url}"
    );
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{what} has userinfo: {url}"
    );
}

fn error_label(err: &session_core::Error) -> String {
    use session_core::redirect::error as e;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(s) = source {
        if let Some(x) = s.downcast_ref::<e::InvalidLocation>() {
            return format!("invalid: {}", x.reason());
        }
        if s.is::<e::UnsupportedScheme>() {
            return "unsupported scheme".into();
        }
        if s.is::<e::TooManyRedirects>() {
            return "too many".into();
        }
        if s.is::<e::BodyNotReplayable>() {
            return "not replayable".into();
        }
        if s.is::<e::HistoryTooLarge>() {
            return "history too large".into();
        }
        source = s.source();
    }
    format!(
        "error redirect={} builder={} request={}",
        err.is_redirect(),
        err.is_builder(),
        err.is_request()
    )
}

fn run(input: &[u8]) -> String {
    let s = parse(input);
    let rt = runtime(false);
    let mut label = String::new();

    // Following the redirects.
    let transport = mock(s.hops.clone());
    let session = Session::builder()
        .transport(transport.clone())
        .max_redirects(8)
        .basic_auth("user", Some("secret"))
        .sensitive_header("x-api-key")
        .build()
        .expect("a session over a mock transport");
    let result = rt.block_on(
        session
            .request(s.method.clone(), s.start.as_str())
            .header("x-api-key", "k")
            .body("payload")
            .send(),
    );
    let seen = transport.requests();
    match &result {
        Ok(res) => {
            check_url(res.url(), "the final URL");
            assert_eq!(
                res.history().len() + 1,
                seen.len(),
                "history entries + 1 != requests sent"
            );
            label.push_str(&format!(
                "ok {} hops={}",
                status_label(res.status()),
                seen.len().min(9)
            ));
        }
        Err(e) => label.push_str(&error_label(e)),
    }
    let mut prev: Option<Url> = None;
    let (mut auth_dropped, mut key_dropped) = (false, false);
    for req in &seen {
        let url = Url::parse(&req.uri.to_string()).expect("the transport got an absolute URI");
        check_url(&url, "a URL the transport saw");
        if let Some(p) = &prev {
            if !same_origin(p, &url) {
                key_dropped = true;
                if !upgrade(p, &url) {
                    auth_dropped = true;
                }
            }
        }
        if auth_dropped {
            assert!(
                !req.headers.contains_key(AUTHORIZATION),
                "Authorization sent to {url} after an origin change"
            );
        }
        if key_dropped {
            assert!(
                !req.headers.contains_key("x-api-key"),
                "x-api-key sent to {url} after an origin change"
            );
        }
        prev = Some(url);
    }

    // Not following them.
    let transport = mock(s.hops);
    let session = Session::builder()
        .transport(transport)
        .no_redirects()
        .build()
        .expect("a session over a mock transport");
    let result = rt.block_on(session.request(s.method, s.start.as_str()).send());
    match result {
        Ok(res) => {
            if let Some(next) = res.next_request() {
                check_url(next.url(), "next_request");
                label.push_str(" next");
            }
        }
        Err(e) => {
            label.push_str(" / ");
            label.push_str(&error_label(&e));
        }
    }
    label
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if g.one_in(4) {
        out.push(format!("start {}", g.url()).into_bytes());
    }
    if g.one_in(4) {
        out.push(
            format!(
                "method {}",
                g.pick(&["POST", "PUT", "HEAD", "DELETE", "GET"])
            )
            .into_bytes(),
        );
    }
    let hops = 1 + g.below(5);
    for _ in 0..hops {
        if g.one_in(3) {
            out.push(
                format!(
                    "status {}",
                    g.pick(&["301", "302", "303", "307", "308", "300", "304"])
                )
                .into_bytes(),
            );
        }
        let loc: Vec<u8> = match g.below(10) {
            0 => g.junk(40),
            1 => format!("//{}{}", g.host(), g.path()).into_bytes(),
            2 => g.path().into_bytes(),
            3 => format!("{}?{}#{}", g.path(), g.token(), g.token()).into_bytes(),
            4 => g.long("a", 9000).into_bytes(),
            5 => format!("  {}  ", g.url()).into_bytes(),
            6 => format!("https://user:pw@{}/", g.host()).into_bytes(),
            _ => g.url().into_bytes(),
        };
        out.push(loc);
    }
    script(out)
}
