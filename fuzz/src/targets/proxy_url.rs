//! `proxy-url`: proxy URLs and rule keys, through `session_hyper::Proxy::new`,
//! `RequestProxy::new` and `HyperTransport::builder().proxy(key, url)`.
//!
//! ```text
//! key https://api.test        the key of the next URLs (`all` by default)
//! http://user:hunter2@proxy.test:3128
//! socks5h://127.0.0.1:1080    every other line: a proxy URL
//! ```
//!
//! The transport is built with `trust_env(false)`; when it builds, a few
//! requests are handed to it and dropped unpolled (choosing the proxy of an
//! `http://` URL, and the per-request proxy's pool, happen before the first
//! poll). Nothing connects anywhere.
//!
//! Checks: `Proxy::new` and `RequestProxy::new` agree; a proxy's `Display`
//! has no credentials and parses back to the same proxy; a password never
//! shows in `Display`/`Debug` of a proxy or in the error of a refused URL.

use std::cell::RefCell;

use session_core::Body;
use session_hyper::{HyperTransport, Proxy, RequestProxy};

use super::{command, lines, reason, runtime, script, text, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "proxy-url",
    about: "proxy URLs and keys: Proxy::new, RequestProxy::new, the transport builder's proxy()",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 8 * 1024,
};

const DICTIONARY: &[&str] = &[
    "http://",
    "https://",
    "socks5://",
    "socks5h://",
    "socks4://",
    "user:hunter2@",
    "%40",
    "%3A",
    "%ff",
    ":3128",
    ":0",
    ":65536",
    "[::1]",
    "127.0.0.1",
    "/",
    "?x",
    "#frag",
    "\nkey http",
    "\nkey https",
    "\nkey all",
    "\nkey all://",
    "\nkey https://api.test",
];

/// The password generated URLs carry, to look for in messages.
const SECRET: &str = "hunter2";

thread_local! {
    static RT: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs `f` inside a runtime context (built once per thread).
pub(crate) fn in_runtime<T>(f: impl FnOnce() -> T) -> T {
    RT.with(|rt| {
        let mut rt = rt.borrow_mut();
        let rt = rt.get_or_insert_with(|| runtime(false));
        let _guard = rt.enter();
        f()
    })
}

/// Hands `uris` to `transport` (with a per-request proxy, when given) and
/// drops the futures unpolled.
pub(crate) fn hand_over(
    transport: &mut HyperTransport,
    uris: &[&[u8]],
    proxy: Option<&RequestProxy>,
) {
    for uri in uris {
        let Ok(uri) = http::Uri::try_from(*uri) else {
            continue;
        };
        let mut req = http::Request::new(Body::empty());
        *req.uri_mut() = uri;
        if let Some(p) = proxy {
            req.extensions_mut().insert(p.clone());
        }
        drop(tower::Service::call(transport, req));
    }
}

/// Whether every occurrence of [`SECRET`] in `input` lies between its
/// first `://` and its last `@`: then it is userinfo for `redact`, and must
/// not show in any message.
fn secret_in_userinfo(input: &str) -> bool {
    let (Some(s), Some(at)) = (input.find("://"), input.rfind('@')) else {
        return false;
    };
    input.contains(SECRET)
        && input
            .match_indices(SECRET)
            .all(|(i, _)| i >= s + 3 && i + SECRET.len() <= at)
}

/// The host the `url` crate reads in a proxy URL (as `Proxy::new` reads it).
fn url_host(input: &str) -> Option<String> {
    let t = input.trim();
    let full = if t.contains("://") {
        t.to_owned()
    } else {
        format!("http://{t}")
    };
    url::Url::parse(&full)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

fn check_proxy(url: &str) -> String {
    let parsed = Proxy::new(url);
    assert_eq!(
        parsed.is_ok(),
        RequestProxy::new(url).is_ok(),
        "Proxy::new and RequestProxy::new disagree on {url:?}"
    );
    let guarded = secret_in_userinfo(url);
    match parsed {
        Ok(p) => {
            let shown = p.to_string();
            let debug = format!("{p:?}");
            assert!(!shown.contains('@'), "a proxy shown with userinfo: {shown}");
            let host_has_secret = url_host(url).is_some_and(|h| h.contains(SECRET));
            if guarded && !host_has_secret {
                assert!(
                    !shown.contains(SECRET) && !debug.contains(SECRET),
                    "a proxy's password shows: {debug}"
                );
            }
            match Proxy::new(&shown) {
                Ok(again) => assert_eq!(
                    again.to_string(),
                    shown,
                    "a proxy's Display does not parse back to the same proxy"
                ),
                Err(e) => panic!("a proxy's Display does not parse back: {shown:?}: {e}"),
            }
            let scheme = shown.split("://").next().unwrap_or("").to_owned();
            format!("ok {scheme}")
        }
        Err(e) => {
            let msg = e.to_string();
            if guarded {
                assert!(
                    !msg.contains(SECRET),
                    "a refused proxy URL's password shows: {msg}"
                );
            }
            format!("refused: {}", reason(&e))
        }
    }
}

fn run(input: &[u8]) -> String {
    let mut key = "all".to_owned();
    let mut rules: Vec<(String, String)> = Vec::new();
    let mut label = Vec::new();
    for line in lines(input) {
        if let Some((_, rest)) = command(line, &["key"]) {
            key = text(rest);
            continue;
        }
        let url = text(line);
        label.push(check_proxy(&url));
        rules.push((key.clone(), url));
    }
    in_runtime(|| {
        let mut builder = HyperTransport::builder().trust_env(false);
        for (key, url) in &rules {
            builder = builder.proxy(key, url);
        }
        match builder.build() {
            Ok(mut t) => {
                label.push("built".into());
                let uris: &[&[u8]] = &[
                    b"http://example.test/",
                    b"https://example.test/",
                    b"http://api.test:8080/x?y",
                    b"http://[::1]/",
                    b"http://u:p@10.1.2.3/",
                ];
                hand_over(&mut t, uris, None);
                if let Some(rp) = rules.iter().find_map(|(_, u)| RequestProxy::new(u).ok()) {
                    hand_over(&mut t, uris, Some(&rp));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                let guarded = rules.iter().all(|(k, u)| {
                    !k.contains(SECRET) && (secret_in_userinfo(u) || !u.contains(SECRET))
                });
                if guarded {
                    assert!(
                        !msg.contains(SECRET),
                        "a builder error shows a password: {msg}"
                    );
                }
                label.push(format!("build error: {}", reason(&*e)));
            }
        }
    });
    label.sort();
    label.dedup();
    label.join(",")
}

/// A proxy URL: schemes we speak and do not, credentials (with the
/// password [`SECRET`]), hosts, ports, paths that are not allowed.
pub(crate) fn proxy_url(g: &mut Gen) -> String {
    let mut u = String::new();
    if !g.one_in(6) {
        u.push_str(g.choose(&[
            "http", "https", "socks5", "socks5h", "http", "socks4", "ftp", "HTTP", "",
        ]));
        u.push_str(if g.one_in(10) { ":/" } else { "://" });
    }
    if g.one_in(3) {
        let user = g.choose(&["user", "u%40x", "", "%ff", "ü", "a:b"]);
        let pass = *g.pick(&[SECRET, "hunter2%3A", "%E2%82%AChunter2", "hunter2@", ""]);
        u.push_str(&format!("{user}:{pass}@"));
    }
    u.push_str(&g.host());
    if g.one_in(2) {
        u.push(':');
        u.push_str(g.choose(&["3128", "1080", "0", "65535", "65536", "", "x"]));
    }
    match g.below(8) {
        0 => u.push('/'),
        1 => u.push_str(&g.path()),
        2 => u.push_str("?x=1"),
        3 => u.push_str("#f"),
        _ => {}
    }
    if g.one_in(8) {
        u = format!(" {u} ");
    }
    u
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let n = 1 + g.below(3);
    for _ in 0..n {
        if g.one_in(2) {
            let key = if g.one_in(3) {
                format!(
                    "{}://{}",
                    g.pick(&["http", "https", "all", "ftp", ""]),
                    g.host()
                )
            } else {
                (g.choose(&["http", "https", "all", "ALL", " all ", "ftp", "", "all://"]))
                    .to_owned()
            };
            out.push(format!("key {key}").into_bytes());
        }
        out.push(proxy_url(g).into_bytes());
    }
    script(out)
}
