//! The storage rules: domains, public suffixes, Secure, prefixes, order, and
//! the look-and-change API.

use std::time::{Duration, UNIX_EPOCH};

use session_cookies::{Jar, ManualClock, SameSite, Url};

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn header(jar: &Jar, url: &str) -> String {
    jar.cookie_header(&u(url))
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn domains_and_host_only() {
    let jar = Jar::new();
    let url = u("http://www.example.com/");
    jar.store_set_cookie(&url, "host=1").unwrap();
    jar.store_set_cookie(&url, "dom=1; Domain=.EXAMPLE.com")
        .unwrap();
    assert_eq!(header(&jar, "http://www.example.com/"), "host=1; dom=1");
    assert_eq!(header(&jar, "http://a.b.example.com/"), "dom=1");
    assert_eq!(header(&jar, "http://example.com/"), "dom=1");
    assert_eq!(header(&jar, "http://notexample.com/"), "");
    // A Domain the host does not match is rejected.
    assert!(jar.store_set_cookie(&url, "x=1; Domain=other.com").is_err());
    assert!(jar
        .store_set_cookie(&url, "x=1; Domain=ww.example.com")
        .is_err());
    // A trailing dot is not the same domain.
    assert!(jar
        .store_set_cookie(&url, "x=1; Domain=example.com.")
        .is_err());
    // Same name, host-only and domain cookies are different cookies.
    jar.store_set_cookie(&url, "dom=2").unwrap();
    assert_eq!(
        header(&jar, "http://www.example.com/"),
        "host=1; dom=1; dom=2"
    );
}

#[test]
fn idna_domains() {
    let jar = Jar::new();
    let url = u("http://www.bücher.example/");
    assert_eq!(url.host_str(), Some("www.xn--bcher-kva.example"));
    jar.store_set_cookie(&url, "a=1; Domain=BÜCHER.example")
        .unwrap();
    let c = jar.get(&url, "a").unwrap();
    assert_eq!(c.domain(), "xn--bcher-kva.example");
    assert_eq!(header(&jar, "http://shop.xn--bcher-kva.example/"), "a=1");
}

#[test]
fn ip_hosts_match_exactly() {
    let jar = Jar::new();
    let url = u("http://192.168.0.10/");
    jar.store_set_cookie(&url, "a=1").unwrap();
    jar.store_set_cookie(&url, "b=1; Domain=192.168.0.10")
        .unwrap();
    assert!(jar.store_set_cookie(&url, "c=1; Domain=168.0.10").is_err());
    assert_eq!(header(&jar, "http://192.168.0.10/"), "a=1; b=1");
    assert_eq!(header(&jar, "http://10.192.168.0.10.example/"), "");
    let v6 = u("http://[::1]:8080/");
    jar.store_set_cookie(&v6, "six=1").unwrap();
    assert_eq!(header(&jar, "http://[::1]/"), "six=1");
}

#[test]
fn public_suffix_list() {
    let jar = Jar::new();
    let url = u("http://www.example.co.uk/");
    assert!(jar.store_set_cookie(&url, "a=1; Domain=co.uk").is_err());
    assert!(jar
        .store_set_cookie(&u("http://example.com/"), "a=1; Domain=com")
        .is_err());
    jar.store_set_cookie(&url, "a=1; Domain=example.co.uk")
        .unwrap();
    // A suffix that is the host itself becomes host-only.
    let gh = u("http://github.io/");
    jar.store_set_cookie(&gh, "s=1; Domain=github.io").unwrap();
    assert!(jar.get(&gh, "s").unwrap().host_only());
    assert_eq!(header(&jar, "http://user.github.io/"), "");

    // The one switch that turns the list off.
    let open = Jar::builder().public_suffix_list(false).build();
    open.store_set_cookie(&url, "a=1; Domain=co.uk").unwrap();
    assert_eq!(header(&open, "http://other.co.uk/"), "a=1");
}

#[test]
fn secure_rules() {
    let jar = Jar::new();
    let https = u("https://example.com/");
    let http = u("http://example.com/");
    assert!(jar.store_set_cookie(&http, "s=1; Secure").is_err());
    jar.store_set_cookie(&https, "s=1; Secure").unwrap();
    assert_eq!(header(&jar, "https://example.com/"), "s=1");
    assert_eq!(header(&jar, "http://example.com/"), "");
    assert_eq!(header(&jar, "wss://example.com/"), "s=1");
    // Leave secure cookies alone: no overwrite, no shadowing from http.
    assert!(jar.store_set_cookie(&http, "s=2").is_err());
    assert!(jar
        .store_set_cookie(&u("http://example.com/deep"), "s=2; Path=/deep")
        .is_err());
    assert!(jar
        .store_set_cookie(&u("http://www.example.com/"), "s=2; Domain=example.com")
        .is_err());
    // ... but https may overwrite it, and other names are fine.
    jar.store_set_cookie(&http, "t=1").unwrap();
    jar.store_set_cookie(&https, "s=3").unwrap();
    // s keeps its creation time when replaced, so it still comes first.
    assert_eq!(header(&jar, "http://example.com/"), "s=3; t=1");

    // Loopback counts as a secure origin.
    for host in [
        "http://localhost:1/",
        "http://127.0.0.1:1/",
        "http://[::1]:1/",
    ] {
        let jar = Jar::new();
        jar.store_set_cookie(&u(host), "s=1; Secure").unwrap();
        assert_eq!(header(&jar, host), "s=1", "{host}");
    }
}

#[test]
fn prefixes() {
    let jar = Jar::new();
    let https = u("https://www.example.com/");
    assert!(jar.store_set_cookie(&https, "__Secure-a=1").is_err());
    jar.store_set_cookie(&https, "__Secure-a=1; Secure")
        .unwrap();
    assert!(
        jar.store_set_cookie(&https, "__secure-b=1").is_err(),
        "case-insensitive"
    );
    let sub = u("https://www.example.com/sub/page");
    assert!(
        jar.store_set_cookie(&sub, "__Host-a=1; Secure").is_err(),
        "default path is /sub"
    );
    assert!(jar
        .store_set_cookie(&https, "__Host-a=1; Secure; Path=/; Domain=example.com")
        .is_err());
    assert!(jar.store_set_cookie(&https, "__Host-a=1; Path=/").is_err());
    jar.store_set_cookie(&https, "__Host-a=1; Secure; Path=/")
        .unwrap();
    // A nameless cookie may not fake a prefix.
    assert!(jar
        .store_set_cookie(&https, "__Host-x; Secure; Path=/")
        .is_err());
}

#[test]
fn paths_and_order() {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let jar = Jar::builder().clock(clock.clone()).build();
    let url = u("http://example.com/a/b/c");
    jar.store_set_cookie(&url, "root=1; Path=/").unwrap();
    clock.advance(Duration::from_secs(1));
    jar.store_set_cookie(&url, "def=1").unwrap(); // default path /a/b
    jar.store_set_cookie(&url, "early=1; Path=/a").unwrap();
    clock.advance(Duration::from_secs(1));
    jar.store_set_cookie(&url, "late=1; Path=/a").unwrap();
    jar.store_set_cookie(&url, "rel=1; Path=relative").unwrap(); // default path
    assert_eq!(
        header(&jar, "http://example.com/a/b/x"),
        "def=1; rel=1; early=1; late=1; root=1"
    );
    assert_eq!(
        header(&jar, "http://example.com/a/bc"),
        "early=1; late=1; root=1"
    );
    assert_eq!(header(&jar, "http://example.com/"), "root=1");
    // Replacing keeps the creation time, so the order holds.
    let before = jar.get(&url, "early").unwrap().creation_time();
    clock.advance(Duration::from_secs(1));
    jar.store_set_cookie(&url, "early=2; Path=/a").unwrap();
    assert_eq!(jar.get(&url, "early").unwrap().creation_time(), before);
    assert_eq!(
        header(&jar, "http://example.com/a"),
        "early=2; late=1; root=1"
    );
    // Building the header updates last access.
    let c = jar.get(&url, "root").unwrap();
    assert_eq!(c.last_access_time(), clock_now(&clock));
}

fn clock_now(clock: &ManualClock) -> std::time::SystemTime {
    session_cookies::Clock::now(clock)
}

#[test]
fn nameless_cookies() {
    let jar = Jar::new();
    let url = u("http://example.com/");
    jar.store_set_cookie(&url, "foo").unwrap();
    jar.store_set_cookie(&url, "=bar").unwrap(); // same ("", _) cookie: replaces
    jar.store_set_cookie(&url, "a=b").unwrap();
    assert_eq!(header(&jar, "http://example.com/"), "bar; a=b");
    assert!(jar.store_set_cookie(&url, "=").is_err());
}

#[test]
fn attributes_and_cookie_crate() {
    let jar = Jar::new();
    let url = u("https://example.com/x/");
    jar.store_set_cookie(
        &url,
        "a=\"q\"; HttpOnly; SameSite=strict; Secure; Max-Age=10",
    )
    .unwrap();
    let c = jar.get(&url, "a").unwrap();
    assert_eq!(c.value(), "\"q\"");
    assert!(c.http_only() && c.secure() && c.is_persistent());
    assert_eq!(c.same_site(), SameSite::Strict);
    assert_eq!(c.path(), "/x");
    let as_cookie = c.to_cookie();
    assert_eq!(as_cookie.same_site(), Some(cookie::SameSite::Strict));
    assert_eq!(as_cookie.domain(), None, "host-only");

    // Insert by hand goes through the same rules.
    let by_hand = cookie::Cookie::build(("h", "1")).domain("com").build();
    assert!(jar.insert(&url, &by_hand).unwrap_err().is_rejected());
    let bad = cookie::Cookie::new("bad;name", "1");
    assert!(jar.insert(&url, &bad).is_err());
    let ok = cookie::Cookie::build(("h", "1"))
        .path("/")
        .max_age(cookie::time::Duration::hours(1))
        .build();
    jar.insert(&url, &ok).unwrap();
    assert!(jar
        .get(&u("https://example.com/"), "h")
        .unwrap()
        .is_persistent());
}

#[test]
fn look_and_change() {
    let jar = Jar::new();
    let a = u("http://a.example.com/");
    let b = u("http://b.example.org/");
    jar.store_set_cookie(&a, "s=1").unwrap();
    jar.store_set_cookie(&a, "p=1; Max-Age=100").unwrap();
    jar.store_set_cookie(&a, "d=1; Domain=example.com").unwrap();
    jar.store_set_cookie(&b, "s=1").unwrap();
    jar.store_set_cookie(&b, "p=1; Max-Age=100").unwrap();
    assert_eq!(jar.len(), 5);
    assert_eq!(jar.cookies().len(), 5);
    assert_eq!(jar.matching(&a).len(), 3);

    let p = jar.get(&a, "p").unwrap();
    assert!(jar.remove(&p));
    assert!(!jar.remove(&p));
    assert_eq!(jar.remove_for_url(&a, "d"), 1);
    assert_eq!(jar.clear_session(), 2);
    assert_eq!(jar.len(), 1);
    jar.store_set_cookie(&a, "x=1").unwrap();
    jar.store_set_cookie(&u("http://deep.a.example.com/"), "y=1")
        .unwrap();
    assert_eq!(jar.clear_domain("a.example.com"), 2);
    assert_eq!(jar.len(), 1);
    let clone = jar.clone();
    clone.clear();
    assert!(jar.is_empty(), "clones share state");
}
