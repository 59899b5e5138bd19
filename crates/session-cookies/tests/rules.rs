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
fn non_ascii_domain_ignores_the_cookie() {
    // RFC 6265bis §5.7 step 8: a Domain attribute with a character outside
    // US-ASCII makes the jar ignore the cookie; it is not converted to its
    // A-label.
    let jar = Jar::new();
    let url = u("http://www.bücher.example/");
    assert_eq!(url.host_str(), Some("www.xn--bcher-kva.example"));
    for line in [
        "a=1; Domain=BÜCHER.example",
        "a=1; Domain=bücher.example",
        "a=1; Domain=www.bücher.example",
    ] {
        let err = jar.store_set_cookie(&url, line).unwrap_err();
        assert!(err.is_rejected(), "{line}");
    }
    let headers = [http::HeaderValue::from_bytes("a=1; Domain=bücher.example".as_bytes()).unwrap()];
    assert_eq!(jar.store_response_cookies(&url, &headers), 0);
    let by_hand = cookie::Cookie::build(("a", "1"))
        .domain("bücher.example")
        .build();
    assert!(jar.insert(&url, &by_hand).unwrap_err().is_rejected());
    assert!(jar.is_empty());

    // The A-label itself is ASCII: lower-cased and stored.
    jar.store_set_cookie(&url, "a=1; Domain=XN--BCHER-KVA.example")
        .unwrap();
    let c = jar.get(&url, "a").unwrap();
    assert_eq!(c.domain(), "xn--bcher-kva.example");
    assert!(!c.host_only());
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
fn public_suffix_with_a_trailing_dot() {
    // `co.uk.` is the public suffix `co.uk` written as a fully qualified
    // name: rejected like `Domain=co.uk`.
    let jar = Jar::new();
    for (url, line) in [
        ("http://x.test./", "a=1; Domain=test."),
        ("http://a.co.uk./", "a=1; Domain=co.uk."),
        ("http://a.co.uk./", "a=1; Domain=.CO.UK."),
        ("http://www.example.com./", "a=1; Domain=com."),
        ("http://user.github.io./", "a=1; Domain=github.io."),
    ] {
        let err = jar.store_set_cookie(&u(url), line).unwrap_err();
        assert!(err.is_rejected(), "{line} from {url}");
    }
    let by_hand = cookie::Cookie::build(("h", "1")).domain("co.uk.").build();
    assert!(jar.insert(&u("http://a.co.uk./"), &by_hand).is_err());
    assert!(jar.is_empty());
    assert_eq!(header(&jar, "http://b.co.uk./"), "");

    // A registrable domain with a trailing dot is kept as written, and
    // matches the hosts written with one.
    let url = u("http://www.example.co.uk./");
    jar.store_set_cookie(&url, "r=1; Domain=example.co.uk.")
        .unwrap();
    let c = jar.get(&url, "r").unwrap();
    assert_eq!((c.domain(), c.host_only()), ("example.co.uk.", false));
    assert_eq!(header(&jar, "http://other.example.co.uk./"), "r=1");
    assert_eq!(header(&jar, "http://other.example.co.uk/"), "");

    // A suffix that is the host itself becomes host-only, as without the
    // dot; the host and the Domain must be written the same way.
    for (url, line) in [
        ("http://co.uk./", "s=1; Domain=co.uk."),
        ("http://github.io./", "s=1; Domain=github.io."),
        ("http://test./", "s=1; Domain=test."),
    ] {
        let jar = Jar::new();
        jar.store_set_cookie(&u(url), line).unwrap();
        let c = jar.get(&u(url), "s").unwrap();
        assert!(c.host_only(), "{line} from {url}");
        assert_eq!(c.domain(), u(url).host_str().unwrap());
    }
    assert!(jar
        .store_set_cookie(&u("http://co.uk/"), "s=1; Domain=co.uk.")
        .is_err());
    assert!(jar
        .store_set_cookie(&u("http://co.uk./"), "s=1; Domain=co.uk")
        .is_err());

    // With the list off, the suffix is a domain like any other.
    let open = Jar::builder().public_suffix_list(false).build();
    open.store_set_cookie(&u("http://a.co.uk./"), "a=1; Domain=co.uk.")
        .unwrap();
    assert_eq!(header(&open, "http://other.co.uk./"), "a=1");
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
fn host_prefix_needs_a_path_attribute() {
    // RFC 6265bis §5.7: the cookie-attribute-list must hold a Path
    // attribute, and the path be `/`; a default path of `/` (a request to
    // a one-segment path) is not enough.
    let jar = Jar::new();
    for url in ["https://www.example.com/", "https://www.example.com/login"] {
        let err = jar
            .store_set_cookie(&u(url), "__Host-a=1; Secure")
            .unwrap_err();
        assert!(err.is_rejected(), "{url}");
        let err = jar
            .store_set_cookie(&u(url), "__host-b=1; Secure; HttpOnly")
            .unwrap_err();
        assert!(err.is_rejected(), "{url}");
        let by_hand = cookie::Cookie::build(("__Host-c", "1"))
            .secure(true)
            .build();
        assert!(jar.insert(&u(url), &by_hand).unwrap_err().is_rejected());
    }
    assert!(jar.is_empty());

    // With the attribute it is stored, from any path.
    jar.store_set_cookie(&u("https://www.example.com/"), "__Host-a=1; Secure; Path=/")
        .unwrap();
    jar.store_set_cookie(
        &u("https://www.example.com/a/b"),
        "__Host-b=1; Path=/; Secure",
    )
    .unwrap();
    let by_hand = cookie::Cookie::build(("__Host-c", "1"))
        .secure(true)
        .path("/")
        .build();
    jar.insert(&u("https://www.example.com/"), &by_hand)
        .unwrap();
    // A Path attribute that does not start with `/` is in the list with
    // the default path as its value (§5.6.4): `/` here.
    jar.store_set_cookie(&u("https://www.example.com/"), "__Host-d=1; Secure; Path=x")
        .unwrap();
    assert_eq!(
        header(&jar, "https://www.example.com/z"),
        "__Host-a=1; __Host-b=1; __Host-c=1; __Host-d=1"
    );
    // ... but not from a deeper one, and not a Path other than `/`.
    assert!(jar
        .store_set_cookie(
            &u("https://www.example.com/a/b"),
            "__Host-e=1; Secure; Path=x"
        )
        .is_err());
    assert!(jar
        .store_set_cookie(
            &u("https://www.example.com/"),
            "__Host-e=1; Secure; Path=/a"
        )
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
