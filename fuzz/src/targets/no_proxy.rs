//! `no-proxy`: `NO_PROXY` lists, through
//! `HyperTransport::builder().no_proxy(list)`, and the choice of a proxy
//! for request URLs against them.
//!
//! ```text
//! localhost, .corp.test, 10.0.0.0/8, [::1]:8080, *   the list (first line)
//! more .internal.test                                a second no_proxy() call
//! proxy socks5h://127.0.0.1:1080                      the proxy (http://127.0.0.1:3128 by default)
//! http://a.corp.test/x                                every other line: a request URL
//! ```
//!
//! The transport is built with `trust_env(false)` and the proxy for `all`;
//! the requests are handed to it and dropped unpolled (an `http://` URL's
//! proxy, or none, is chosen before the first poll). Nothing connects
//! anywhere. Builder errors are fine; panics are not.

use session_hyper::HyperTransport;

use super::proxy_url::{hand_over, in_runtime, proxy_url};
use super::{command, lines, reason, script, text, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "no-proxy",
    about: "NO_PROXY lists (hosts, dots, wildcards, CIDR, ports, IPv6) and proxy choice per URL",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 8 * 1024,
};

const DICTIONARY: &[&str] = &[
    ",",
    ", ",
    "*",
    "*.",
    ".",
    "/",
    "/8",
    "/0",
    "/33",
    "/129",
    ":8080",
    ":",
    "[",
    "]",
    "[::1]",
    "::1",
    "::/0",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "localhost",
    ".corp.test",
    "\nhttp://",
    "\nhttps://",
    "\nproxy ",
    "\nmore ",
];

fn run(input: &[u8]) -> String {
    let mut it = lines(input);
    let list = text(it.next().unwrap_or_default());
    let mut more: Vec<String> = Vec::new();
    let mut proxy = "http://127.0.0.1:3128".to_owned();
    let mut uris: Vec<&[u8]> = Vec::new();
    for line in it {
        match command(line, &["more", "proxy"]) {
            Some(("more", rest)) => more.push(text(rest)),
            Some((_, rest)) => proxy = text(rest),
            None => uris.push(line),
        }
    }
    in_runtime(|| {
        let mut builder = HyperTransport::builder()
            .trust_env(false)
            .proxy("all", &proxy)
            .no_proxy(&list);
        for m in &more {
            builder = builder.no_proxy(m);
        }
        match builder.build() {
            Ok(mut t) => {
                hand_over(&mut t, &uris, None);
                format!("built uris={}", uris.len().min(3))
            }
            Err(e) => format!("error: {}", reason(&*e)),
        }
    })
}

fn entry(g: &mut Gen) -> String {
    match g.below(14) {
        0 => "*".into(),
        1 => format!(".{}", g.host()),
        2 => format!("*.{}", g.host()),
        3 => format!("{}:{}", g.host(), g.pick(&["8080", "0", "65536", "", "x"])),
        4 => format!(
            "{}/{}",
            g.pick(&["10.0.0.0", "::1", "[::1]", "fe80::", "0.0.0.0", "1.2.3", ""]),
            g.pick(&["8", "0", "32", "33", "128", "129", "", "x", "-1"])
        ),
        5 => format!(
            "[{}]:{}",
            g.pick(&["::1", "2001:db8::1", "x", ""]),
            g.below(70000)
        ),
        6 => g.junk_str(10),
        7 => format!("{}.", g.host()),
        _ => g.host(),
    }
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut entries: Vec<String> = Vec::new();
    let n = g.below(6);
    for _ in 0..n {
        entries.push(entry(g));
    }
    let sep = g.choose(&[",", ", ", " , ", ",,", ";"]);
    let mut out: Vec<Vec<u8>> = vec![entries.join(sep).into_bytes()];
    if g.one_in(4) {
        out.push(format!("more {}", entry(g)).into_bytes());
    }
    if g.one_in(5) {
        out.push(format!("proxy {}", proxy_url(g)).into_bytes());
    }
    let reqs = 1 + g.below(4);
    for _ in 0..reqs {
        // Hosts of the list, and others.
        let host = match entries.get(g.below(entries.len() + 2)) {
            Some(e) => e
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .split('/')
                .next()
                .unwrap_or("")
                .to_owned(),
            None => g.host(),
        };
        let scheme = g.choose(&["http", "http", "https", "ws"]);
        out.push(format!("{scheme}://{host}{}", g.path()).into_bytes());
    }
    script(out)
}
