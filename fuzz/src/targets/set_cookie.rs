//! `set-cookie`: one `Set-Cookie` value (the whole input, raw bytes)
//! received from a handful of fixed URLs.
//!
//! Calls `Jar::store_set_cookie` (UTF-8 input) or
//! `Jar::store_response_cookies` (any valid header bytes), the `http::Uri`
//! path `Jar::store_response_headers`, and `Jar::insert` with what the
//! `cookie` crate parses of the same text; then reads the jar back with
//! `cookie_header`, `matching` and `add_cookie_header` (the input also as an
//! explicit `Cookie` header). Checks every stored cookie's invariants, the
//! retrieval rules, and the JSON and `cookies.txt` round trips.

use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use session_cookies::Url;

use super::cookie_common::{self as common, Config};
use super::{reason, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "set-cookie",
    about: "one Set-Cookie value stored from fixed URLs (parser, dates, Max-Age, attributes)",
    run,
    generate,
    dictionary: common::DICTIONARY,
    max_len: 16 * 1024,
};

const FROM: &[&str] = &[
    "https://www.example.com/a/b/c",
    "http://example.com/",
    "http://127.0.0.1:8080/x/",
    "https://sub.shop.example.co.uk/p/q",
    "http://localhost/",
];

const ALSO_READ: &[&str] = &[
    "https://example.com/",
    "http://www.example.com/a/b/c/d",
    "https://shop.example.co.uk/p",
    "https://127.0.0.1:8080/x/y",
    "http://sub.localhost/",
];

fn run(input: &[u8]) -> String {
    let clock = common::clock();
    let config = Config::default();
    let jar = common::jar(config, &clock);
    let header = HeaderValue::from_bytes(input).ok();
    let text = std::str::from_utf8(input).ok();
    let mut label = String::new();
    for from in FROM {
        let url = Url::parse(from).expect("a fixed URL");
        match text {
            Some(t) => match jar.store_set_cookie(&url, t) {
                Ok(()) => label.push_str("ok,"),
                Err(e) => {
                    label.push_str(&reason(&e));
                    label.push(',');
                }
            },
            None => {
                if let Some(h) = &header {
                    let n = jar.store_response_cookies(&url, [h]);
                    label.push_str(if n > 0 { "ok-bytes," } else { "no-bytes," });
                }
            }
        }
        if let Some(t) = text {
            if let Ok(c) = cookie::Cookie::parse(t) {
                let r = jar.insert(&url, &c);
                label.push_str(if r.is_ok() { "ins," } else { "noins," });
            }
        }
        common::check_jar(&jar, config, common::start());
    }
    for u in FROM.iter().chain(ALSO_READ) {
        let url = Url::parse(u).expect("a fixed URL");
        common::check_retrieval(&jar, &url);
        if let Some(h) = &header {
            let mut headers = HeaderMap::new();
            headers.insert(COOKIE, h.clone());
            jar.add_cookie_header(&url, &mut headers);
            assert!(
                headers.get_all(COOKIE).iter().count() == 1,
                "add_cookie_header left more than one Cookie header"
            );
        }
    }
    // The same header through the `http::Uri` entry points.
    if let Some(h) = &header {
        let other = common::jar(config, &clock);
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, h.clone());
        for from in FROM {
            let uri: http::Uri = from.parse().expect("a fixed URI");
            other.store_response_headers(&uri, &headers);
            let mut req = HeaderMap::new();
            other.add_request_cookies(&uri, &mut req);
        }
        common::check_jar(&other, config, common::start());
    }
    common::round_trip(&jar, config, &clock);
    label.push_str(&format!("n={}", jar.len().min(4)));
    label
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let host = g.choose(&[
        "www.example.com",
        "example.com",
        "127.0.0.1",
        "sub.shop.example.co.uk",
        "localhost",
    ]);
    common::set_cookie(g, host).into_bytes()
}
