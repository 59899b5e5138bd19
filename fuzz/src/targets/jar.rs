//! `jar`: the jar's Domain and Path rules, limits and eviction, over a
//! script of requests and responses.
//!
//! ```text
//! config per=3 total=5 nopsl     settings (anywhere; the last one wins)
//! url https://a.example.com/x/y  the URL the next responses come from
//! set sid=1; Domain=example.com  a Set-Cookie value from that URL
//! insert id=2; Path=/; Secure    a cookie::Cookie given to Jar::insert
//! get http://b.example.com/x     a request: Cookie header, matching, add_request_cookies
//! advance 3600                   the clock moves on (seconds)
//! remove sid                     Jar::remove_for_url on the current URL
//! clear-domain example.com       also clear-expired, clear-session, clear
//! save                           the JSON and cookies.txt round trips
//! ```
//!
//! After each line the invariants of every stored cookie and the limits
//! hold; at the end, the retrieval rules hold for every URL of the script
//! and the round trips give the same cookies back.

use std::time::Duration;

use session_cookies::{Clock as _, Url};

use super::cookie_common::{self as common, Config};
use super::{command, lines, reason, script, text, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "jar",
    about: "scripts of Set-Cookie/insert/requests: Domain and Path rules, limits, eviction, expiry",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 32 * 1024,
};

const DICTIONARY: &[&str] = &[
    "\nurl https://www.example.com/a/b",
    "\nurl http://example.com/",
    "\nurl http://127.0.0.1/",
    "\nurl http://localhost/",
    "\nurl https://a.b.example.co.uk/",
    "\nset ",
    "\nget https://example.com/",
    "\nget http://www.example.com/a",
    "\ninsert ",
    "\nadvance 3600",
    "\nadvance 34560000",
    "\nremove ",
    "\nclear-domain ",
    "\nclear-expired",
    "\nclear-session",
    "\nsave",
    "\nconfig per=2 total=3",
    "\nconfig nopsl",
    "; Domain=",
    "; Path=/",
    "; Secure",
    "; Max-Age=",
    "; Expires=",
    "__Host-",
    "__Secure-",
    "example.com",
    "co.uk",
];

const KEYWORDS: &[&str] = &[
    "config",
    "url",
    "set",
    "insert",
    "get",
    "advance",
    "remove",
    "clear-domain",
    "clear-expired",
    "clear-session",
    "clear",
    "save",
];

fn config_of(input: &[u8]) -> Config {
    let mut config = Config::default();
    for line in lines(input) {
        let Some(("config", rest)) = command(line, &["config"]) else {
            continue;
        };
        config = Config::default();
        for word in text(rest).split_whitespace() {
            let num = |v: &str| v.parse::<usize>().ok();
            if word == "nopsl" {
                config.public_suffix_list = false;
            } else if let Some(n) = word.strip_prefix("per=").and_then(num) {
                config.per_domain = n.clamp(1, 400);
            } else if let Some(n) = word.strip_prefix("total=").and_then(num) {
                config.total = n.clamp(1, 5000);
            }
        }
    }
    config
}

fn run(input: &[u8]) -> String {
    let config = config_of(input);
    let clock = common::clock();
    let jar = common::jar(config, &clock);
    let mut current = Url::parse("http://example.com/").expect("a fixed URL");
    let mut seen: Vec<Url> = vec![current.clone()];
    // The label: what the last `set` or `insert` did, and how full the jar
    // is (a set of every result would make most scripts "new").
    let mut label = String::from("-");
    for line in lines(input) {
        let Some((cmd, rest)) = command(line, KEYWORDS) else {
            continue;
        };
        match cmd {
            "url" | "get" => {
                let Ok(url) = Url::parse(text(rest).trim()) else {
                    continue;
                };
                if seen.len() < 32 {
                    seen.push(url.clone());
                }
                if cmd == "url" {
                    current = url;
                } else {
                    common::check_retrieval(&jar, &url);
                    if let Ok(uri) = url.as_str().parse::<http::Uri>() {
                        let mut headers = http::HeaderMap::new();
                        jar.add_request_cookies(&uri, &mut headers);
                    }
                }
            }
            "set" => match std::str::from_utf8(rest) {
                Ok(t) => {
                    label = match jar.store_set_cookie(&current, t) {
                        Ok(()) => "stored".to_owned(),
                        Err(e) => reason(&e),
                    };
                }
                Err(_) => {
                    if let Ok(h) = http::HeaderValue::from_bytes(rest) {
                        jar.store_response_cookies(&current, [&h]);
                    }
                }
            },
            "insert" => {
                let t = text(rest);
                let c = cookie::Cookie::parse(t.clone()).unwrap_or_else(|_| {
                    let (n, v) = t.split_once('=').unwrap_or(("", &t));
                    cookie::Cookie::new(n.to_owned(), v.to_owned())
                });
                label = match jar.insert(&current, &c) {
                    Ok(()) => "inserted".to_owned(),
                    Err(e) => format!("insert: {}", reason(&e)),
                };
            }
            "advance" => {
                let secs = text(rest).trim().parse::<u64>().unwrap_or(u64::MAX);
                clock.advance(Duration::from_secs(secs.min(100 * 365 * 86_400)));
            }
            "remove" => {
                jar.remove_for_url(&current, &text(rest));
            }
            "clear-domain" => {
                jar.clear_domain(&text(rest));
            }
            "clear-expired" => {
                jar.clear_expired();
            }
            "clear-session" => {
                jar.clear_session();
            }
            "clear" => jar.clear(),
            "save" => common::round_trip(&jar, config, &clock),
            _ => {}
        }
        common::check_jar(&jar, config, clock.now());
    }
    for url in &seen {
        common::check_retrieval(&jar, url);
    }
    common::round_trip(&jar, config, &clock);
    format!("{label} n={}", jar.len().min(8))
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if g.one_in(3) {
        out.push(
            format!(
                "config per={} total={}{}",
                1 + g.below(5),
                1 + g.below(12),
                if g.one_in(3) { " nopsl" } else { "" }
            )
            .into_bytes(),
        );
    }
    let mut url = g.url();
    let mut host = host_of(&url);
    let n = 2 + g.below(30);
    for _ in 0..n {
        let line = match g.below(20) {
            0..=2 => {
                url = if g.one_in(3) {
                    g.url()
                } else {
                    // Another host of the same site, another path.
                    let sub = g.choose(&["", "www.", "a.", "a.b.", "x."]);
                    let scheme = g.choose(&["http", "https"]);
                    let base = host.split_once('.').map_or(host.as_str(), |(_, b)| b);
                    format!("{scheme}://{sub}{base}{}", g.path())
                };
                host = host_of(&url);
                format!("url {url}").into_bytes()
            }
            3..=11 => {
                let mut l = b"set ".to_vec();
                l.extend_from_slice(common::set_cookie(g, &host).as_bytes());
                l
            }
            12..=14 => {
                let target = if g.one_in(2) {
                    url.clone()
                } else {
                    let scheme = g.choose(&["http", "https"]);
                    format!(
                        "{scheme}://{}{}",
                        g.domain_for(&host).trim_start_matches('.'),
                        g.path()
                    )
                };
                format!("get {target}").into_bytes()
            }
            15 => format!(
                "insert {}={}; Path={}; Domain={}",
                common::name(g),
                common::value(g),
                g.path(),
                g.domain_for(&host)
            )
            .into_bytes(),
            16 => format!("advance {}", g.number()).into_bytes(),
            17 => format!("remove {}", common::name(g)).into_bytes(),
            18 => (g.choose(&[
                "clear-expired",
                "clear-session",
                "clear",
                "clear-domain example.com",
                "clear-domain .co.uk",
            ]))
            .as_bytes()
            .to_vec(),
            _ => b"save".to_vec(),
        };
        out.push(line);
    }
    script(out)
}

/// The host of a generated URL (best effort: the text between `://` and
/// the next `/`, `:`, `?` or `#`).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| h).to_owned() + "]";
    }
    host.split(':').next().unwrap_or("").to_ascii_lowercase()
}
