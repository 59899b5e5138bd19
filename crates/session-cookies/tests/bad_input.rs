//! Hostile `Set-Cookie` input: control characters, huge names, absurd
//! `Max-Age`, dates in 1601/9999/garbage, and 10,000 headers in a response.

use std::time::{Duration, UNIX_EPOCH};

use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};
use session_cookies::{Jar, ManualClock, Url};

const NOW: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

fn jar() -> (Jar, ManualClock) {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(NOW));
    (Jar::builder().clock(clock.clone()).build(), clock)
}

fn url() -> Url {
    Url::parse("http://example.com/dir/page").unwrap()
}

#[test]
fn control_characters_reject_the_cookie() {
    let (jar, _) = jar();
    for bad in [
        "a=b\x01c",
        "a\x7f=b",
        "a=b\0",
        "a=b\r\nx=y",
        "a=b; Path=/\x0b",
    ] {
        let err = jar.store_set_cookie(&url(), bad).unwrap_err();
        assert!(err.is_rejected(), "{bad:?}");
    }
    // Horizontal tab is allowed.
    jar.store_set_cookie(&url(), "t=a\tb").unwrap();
    assert_eq!(jar.len(), 1);
}

#[test]
fn size_limits() {
    let (jar, _) = jar();
    let name_8k = format!("{}=1", "n".repeat(8192));
    assert!(jar
        .store_set_cookie(&url(), &name_8k)
        .unwrap_err()
        .is_rejected());
    let exactly = format!("{}={}", "n".repeat(4000), "v".repeat(96));
    jar.store_set_cookie(&url(), &exactly).unwrap();
    let over = format!("{}={}", "m".repeat(4000), "v".repeat(97));
    assert!(jar.store_set_cookie(&url(), &over).is_err());
    assert_eq!(jar.len(), 1);

    // An attribute over 1024 bytes is ignored, as if absent.
    let long_path = format!("p=1; Path=/{}", "x".repeat(1100));
    jar.store_set_cookie(&url(), &long_path).unwrap();
    assert_eq!(jar.get(&url(), "p").unwrap().path(), "/dir");
    let long_domain = format!("d=1; Domain={}.example.com", "x".repeat(1100));
    jar.store_set_cookie(&url(), &long_domain).unwrap();
    assert!(jar.get(&url(), "d").unwrap().host_only());
}

#[test]
fn absurd_max_age() {
    let (jar, _) = jar();
    jar.store_set_cookie(&url(), "big=1; Max-Age=18446744073709551616")
        .unwrap();
    let c = jar.get(&url(), "big").unwrap();
    assert_eq!(
        c.expires().unwrap(),
        UNIX_EPOCH + Duration::from_secs(NOW + 400 * DAY),
        "capped at 400 days"
    );
    // Max-Age=-1 deletes it.
    jar.store_set_cookie(&url(), "big=1; Max-Age=-1").unwrap();
    assert!(jar.get(&url(), "big").is_none());
    assert!(jar.is_empty());
    // Max-Age wins over Expires, whatever the order.
    jar.store_set_cookie(
        &url(),
        "m=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
    )
    .unwrap();
    assert_eq!(
        jar.get(&url(), "m").unwrap().expires().unwrap(),
        UNIX_EPOCH + Duration::from_secs(NOW + 60)
    );
    // A Max-Age that is not a number is ignored.
    jar.store_set_cookie(&url(), "s=1; Max-Age=1e3").unwrap();
    assert!(!jar.get(&url(), "s").unwrap().is_persistent());
}

#[test]
fn dates() {
    let (jar, clock) = jar();
    jar.store_set_cookie(&url(), "old=1").unwrap();
    jar.store_set_cookie(&url(), "old=1; Expires=Mon, 01 Jan 1601 00:00:00 GMT")
        .unwrap();
    assert!(jar.get(&url(), "old").is_none(), "1601 is past: deleted");

    jar.store_set_cookie(&url(), "far=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT")
        .unwrap();
    assert_eq!(
        jar.get(&url(), "far").unwrap().expires().unwrap(),
        UNIX_EPOCH + Duration::from_secs(NOW + 400 * DAY)
    );

    for garbage in ["garbage", "Fri, 99 Foo 20xx", "31 Dec 1600 00:00:00", ""] {
        let line = format!("g=1; Expires={garbage}");
        jar.store_set_cookie(&url(), &line).unwrap();
        assert!(!jar.get(&url(), "g").unwrap().is_persistent(), "{garbage}");
    }

    jar.store_set_cookie(&url(), "soon=1; Expires=Wed, 15 Nov 2023 00:00:00 GMT")
        .unwrap();
    assert!(jar.get(&url(), "soon").is_some());
    clock.advance(Duration::from_secs(DAY));
    assert!(jar.get(&url(), "soon").is_none(), "expired");
    assert_eq!(jar.clear_expired(), 1);
}

#[test]
fn ten_thousand_headers_in_one_response() {
    let (jar, _) = jar();
    let mut headers = HeaderMap::new();
    for i in 0..10_000 {
        let v = format!("c{i}={}", "v".repeat(100));
        headers.append(SET_COOKIE, HeaderValue::from_str(&v).unwrap());
    }
    let stored = jar.store_response_cookies(&url(), headers.get_all(SET_COOKIE));
    assert_eq!(stored, 10_000, "each was accepted, then evicted as needed");
    assert_eq!(jar.len(), 180, "bounded by the per-domain cap");
    // The most recent ones survive (least recently used go first).
    assert!(jar.get(&url(), "c9999").is_some());
    assert!(jar.get(&url(), "c0").is_none());
}

#[test]
fn total_cap_across_many_sites() {
    let (jar, _) = jar();
    for i in 0..5_000 {
        let u = Url::parse(&format!("http://site{i}.example/")).unwrap();
        jar.store_set_cookie(&u, "a=1").unwrap();
        assert!(jar.len() <= 3300);
    }
    assert!(
        jar.len() >= 2970,
        "evicts down to 90% of the cap: {}",
        jar.len()
    );
    let newest = Url::parse("http://site4999.example/").unwrap();
    assert!(jar.get(&newest, "a").is_some());
    let oldest = Url::parse("http://site0.example/").unwrap();
    assert!(jar.get(&oldest, "a").is_none());
}

#[test]
fn recently_used_cookies_survive_eviction() {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(NOW));
    let jar = Jar::builder()
        .clock(clock.clone())
        .max_cookies_per_domain(3)
        .build();
    let u = url();
    for name in ["a", "b", "c"] {
        jar.store_set_cookie(&u, &format!("{name}=1; Path=/{name}"))
            .unwrap();
        clock.advance(Duration::from_secs(1));
    }
    // Touch `a`, so `b` is now the least recently used.
    jar.cookie_header(&Url::parse("http://example.com/a").unwrap())
        .unwrap();
    clock.advance(Duration::from_secs(1));
    jar.store_set_cookie(&u, "d=1").unwrap();
    let names: Vec<_> = jar.cookies().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names.len(), 3);
    assert!(!names.contains(&"b".to_owned()), "{names:?}");

    // Expired cookies go before any live one.
    jar.store_set_cookie(&u, "a=1; Path=/a; Max-Age=1").unwrap();
    clock.advance(Duration::from_secs(5));
    jar.store_set_cookie(&u, "e=1").unwrap();
    let names: Vec<_> = jar.cookies().iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"c".to_owned()) && !names.contains(&"a".to_owned()));
}
