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

#[test]
fn insecure_cookies_are_evicted_first_from_a_site() {
    // RFC 6265bis §5.7: past the per-domain cap, expired cookies go first,
    // then those whose secure-only-flag is false, then the rest; least
    // recently used first within each.
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(NOW));
    let jar = Jar::builder()
        .clock(clock.clone())
        .max_cookies_per_domain(3)
        .build();
    let u = Url::parse("https://example.com/").unwrap();
    let names = |jar: &Jar| {
        let mut v: Vec<_> = jar.cookies().iter().map(|c| c.name().to_owned()).collect();
        v.sort();
        v
    };
    for line in ["s1=1; Secure", "s2=1; Secure", "n1=1"] {
        jar.store_set_cookie(&u, line).unwrap();
        clock.advance(Duration::from_secs(1));
    }
    // s1 is the least recently used, but n1 is not Secure.
    jar.store_set_cookie(&u, "n2=1").unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(names(&jar), ["n2", "s1", "s2"]);
    // Among the insecure ones, the least recently used: n2, not the new n3.
    jar.store_set_cookie(&u, "n3=1").unwrap();
    clock.advance(Duration::from_secs(1));
    assert_eq!(names(&jar), ["n3", "s1", "s2"]);
    // With only Secure cookies left to choose from, the least recently used.
    jar.store_set_cookie(&u, "n3=1; Max-Age=1").unwrap();
    clock.advance(Duration::from_secs(5));
    jar.store_set_cookie(&u, "s3=1; Secure").unwrap();
    assert_eq!(names(&jar), ["s1", "s2", "s3"], "expired n3 went first");
    clock.advance(Duration::from_secs(1));
    jar.store_set_cookie(&u, "s4=1; Secure").unwrap();
    assert_eq!(names(&jar), ["s2", "s3", "s4"]);
    // An insecure newcomer to a site full of Secure cookies is the one to go.
    jar.store_set_cookie(&u, "n4=1").unwrap();
    assert_eq!(names(&jar), ["s2", "s3", "s4"]);
    assert_eq!(jar.len(), 3);
}

#[test]
fn insecure_cookies_are_evicted_first_from_the_jar() {
    // The total cap follows the same order (as Chromium's global purge).
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(NOW));
    let jar = Jar::builder().clock(clock.clone()).max_cookies(10).build();
    let site = |i: usize| Url::parse(&format!("https://site{i}.example/")).unwrap();
    for i in 0..5 {
        jar.store_set_cookie(&site(i), "s=1; Secure").unwrap();
        clock.advance(Duration::from_secs(1));
    }
    for i in 5..11 {
        jar.store_set_cookie(&site(i), "n=1").unwrap();
        clock.advance(Duration::from_secs(1));
    }
    // 11 > 10: down to 9, the two least recently used insecure cookies.
    assert_eq!(jar.len(), 9);
    for i in 0..5 {
        assert!(jar.get(&site(i), "s").is_some(), "site{i}");
    }
    assert!(jar.get(&site(5), "n").is_none());
    assert!(jar.get(&site(6), "n").is_none());
    for i in 7..11 {
        assert!(jar.get(&site(i), "n").is_some(), "site{i}");
    }
    // Once no insecure cookie is left, Secure ones go by last access.
    for i in 11..13 {
        jar.store_set_cookie(&site(i), "s=1; Secure").unwrap();
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(jar.len(), 9, "11 again, down to 9");
    assert!(jar.get(&site(7), "n").is_none() && jar.get(&site(8), "n").is_none());
    let all = jar.cookies();
    assert!(all.iter().filter(|c| !c.secure()).count() == 2);
}
