//! What the cookie targets share: the fixed clock, a `Set-Cookie`
//! generator, the jar's invariants, and the save/load round trip.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use session_cookies::persist::{Format, SaveOptions};
use session_cookies::{Jar, ManualClock, StoredCookie, Url};

use crate::gen::Gen;

/// 2024-01-01T00:00:00Z: every cookie target runs at this time.
pub(crate) const NOW_SECS: u64 = 1_704_067_200;

/// The longest a cookie may live (RFC 6265bis §5.5).
const MAX_AGE: Duration = Duration::from_secs(400 * 86_400);

/// The jar's settings, as the invariants need them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) public_suffix_list: bool,
    pub(crate) per_domain: usize,
    pub(crate) total: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_suffix_list: true,
            per_domain: 180,
            total: 3300,
        }
    }
}

/// The time every cookie target starts at.
pub(crate) fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// A clock standing at [`start`].
pub(crate) fn clock() -> ManualClock {
    ManualClock::new(start())
}

pub(crate) fn jar(config: Config, clock: &ManualClock) -> Jar {
    Jar::builder()
        .public_suffix_list(config.public_suffix_list)
        .max_cookies_per_domain(config.per_domain)
        .max_cookies(config.total)
        .clock(clock.clone())
        .build()
}

/// Attribute names, as servers spell them (and misspell them).
pub(crate) const ATTRIBUTES: &[&str] = &[
    "Domain",
    "Path",
    "Expires",
    "Max-Age",
    "Secure",
    "HttpOnly",
    "SameSite",
    "domain",
    "PATH",
    "expires",
    "max-age",
    "secure",
    "httponly",
    "samesite",
    "Partitioned",
    "Priority",
    "Version",
    "Comment",
    "Max-age ",
    " Domain",
    "Domain ",
];

/// The tokens of `Set-Cookie`, for the mutator.
pub(crate) const DICTIONARY: &[&str] = &[
    "; ",
    ";",
    "=",
    "; Domain=",
    "; Domain=.",
    "; Path=/",
    "; Path=",
    "; Expires=",
    "; Max-Age=",
    "; Max-Age=-1",
    "; Max-Age=0",
    "; Max-Age=18446744073709551616",
    "; Secure",
    "; HttpOnly",
    "; SameSite=None",
    "; SameSite=Lax",
    "; SameSite=Strict",
    "__Secure-",
    "__Host-",
    "__host-",
    "Wed, 09 Jun 2021 10:18:14 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Mon, 01 Jan 1601 00:00:00 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "example.com",
    "co.uk",
    "com",
    "localhost",
    "127.0.0.1",
    "[::1]",
    "\"",
    "%",
];

/// A cookie name: tokens, prefixes, empty, with `=`/`;`/controls, long.
pub(crate) fn name(g: &mut Gen) -> String {
    match g.below(14) {
        0 => String::new(),
        1 => format!("__Secure-{}", g.token()),
        2 => format!("__Host-{}", g.token()),
        3 => format!("__hOsT-{}", g.token()),
        4 => g.junk_str(12),
        5 => g.long("n", 4200),
        6 => format!("a\tb{}", g.token()),
        7 => g.unicode().to_owned(),
        _ => (g.choose(&[
            "sid", "lang", "id", "a", "b", "token", "SID", "theme", "_ga",
        ]))
        .into(),
    }
}

/// A cookie value: tokens, quoted, empty, unicode, controls, long.
pub(crate) fn value(g: &mut Gen) -> String {
    match g.below(12) {
        0 => String::new(),
        1 => format!("\"{}\"", g.token()),
        2 => g.junk_str(16),
        3 => g.long("v", 4200),
        4 => g.long("%", 2000),
        5 => g.unicode().to_owned(),
        6 => "a=b=c".into(),
        7 => format!("x\ty{}", g.token()),
        _ => g.token(),
    }
}

/// One `Set-Cookie` value, aimed at a request to `host` (its `Domain`
/// attributes are mostly suffixes of it).
pub(crate) fn set_cookie(g: &mut Gen, host: &str) -> String {
    let mut s = String::new();
    let n = name(g);
    let v = value(g);
    match g.below(10) {
        0 => s.push_str(&v), // nameless
        1 => {
            let _ = write!(s, " {n} = {v} ");
        }
        _ => {
            let _ = write!(s, "{n}={v}");
        }
    }
    let attrs = g.size(10);
    for _ in 0..attrs {
        s.push_str(g.choose(&["; ", ";", " ; ", ";\t", ";;"]));
        let key = *g.pick(ATTRIBUTES);
        let val = match key.trim().to_ascii_lowercase().as_str() {
            "domain" => g.domain_for(host),
            "path" => g.path(),
            "expires" => g.date(),
            "max-age" => g.number(),
            "samesite" => (g.choose(&["Lax", "Strict", "None", "lax", "", "junk"])).into(),
            _ => {
                if g.one_in(2) {
                    s.push_str(key);
                    continue;
                }
                g.token()
            }
        };
        let val = match g.below(20) {
            0 => g.long("a", 1100),
            1 => format!("{val}{}", g.junk_str(6)),
            2 => format!("\"{val}\""),
            _ => val,
        };
        let eq = g.choose(&["=", "=", "=", " = ", "=="]);
        let _ = write!(s, "{key}{eq}{val}");
    }
    if g.one_in(12) {
        s.push_str(&g.junk_str(12));
    }
    s
}

fn is_forbidden_ctl(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0A..=0x1F | 0x7F)
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The invariants every stored cookie keeps, whatever it came from; `now`
/// is the jar's clock.
pub(crate) fn check_jar(jar: &Jar, config: Config, now: SystemTime) {
    let all = jar.cookies();
    assert!(
        jar.len() <= config.total,
        "the jar holds {} cookies, more than its limit {}",
        jar.len(),
        config.total
    );
    let latest = now + MAX_AGE;
    let mut per_domain: std::collections::HashMap<&str, usize> = Default::default();
    for c in &all {
        check_cookie(c);
        if let Some(at) = c.expires() {
            assert!(
                at <= latest,
                "cookie {:?} expires {at:?}, later than 400 days from now",
                c.name()
            );
        }
        *per_domain.entry(c.domain()).or_default() += 1;
    }
    for (domain, n) in per_domain {
        assert!(
            n <= config.per_domain,
            "{n} cookies for {domain:?}, more than the per-site limit {}",
            config.per_domain
        );
    }
}

/// The invariants of one stored cookie.
pub(crate) fn check_cookie(c: &StoredCookie) {
    let (name, value) = (c.name(), c.value());
    assert!(
        !name.contains([';', '=']),
        "a stored cookie name holds ';' or '=': {name:?}"
    );
    assert!(
        !value.contains(';'),
        "a stored cookie value holds ';': {value:?}"
    );
    assert!(
        !name.bytes().chain(value.bytes()).any(is_forbidden_ctl),
        "a stored cookie holds a control character: {name:?}={value:?}"
    );
    assert!(
        !(name.is_empty() && value.is_empty()),
        "a stored cookie has neither name nor value"
    );
    assert!(
        name.len() + value.len() <= 4096,
        "a stored cookie's name and value are longer than 4096 bytes"
    );
    assert!(
        c.path().starts_with('/'),
        "a stored cookie's path does not start with '/': {:?}",
        c.path()
    );
    assert!(!c.domain().is_empty(), "a stored cookie has no domain");
    assert!(
        !c.path()
            .bytes()
            .chain(c.domain().bytes())
            .any(is_forbidden_ctl),
        "a stored cookie's path or domain holds a control character: {:?} {:?}",
        c.domain(),
        c.path()
    );
    assert!(
        !c.domain().bytes().any(|b| b.is_ascii_uppercase()),
        "a stored cookie's domain is not lower-case: {:?}",
        c.domain()
    );
    if starts_with_ignore_case(name, "__Secure-") {
        assert!(c.secure(), "a __Secure- cookie without Secure: {name:?}");
    }
    if starts_with_ignore_case(name, "__Host-") {
        assert!(
            c.secure() && c.host_only() && c.path() == "/",
            "a __Host- cookie that is not Secure, host-only with path /: {c:?}"
        );
    }
}

/// The host of `url` as the jar reads it, and whether it is an IP address.
fn jar_host(url: &Url) -> Option<(String, bool)> {
    Some(match url.host()? {
        url::Host::Domain(d) => (d.to_ascii_lowercase(), false),
        url::Host::Ipv4(ip) => (ip.to_string(), true),
        url::Host::Ipv6(ip) => (format!("[{ip}]"), true),
    })
}

fn path_match(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// The retrieval invariants for a request to `url`: the `Cookie` header
/// lists exactly the matching cookies; each one domain- and path-matches;
/// no `Secure` cookie goes to a plain-http URL that is not loopback.
pub(crate) fn check_retrieval(jar: &Jar, url: &Url) {
    let matching = jar.matching(url);
    let expected: Vec<String> = matching
        .iter()
        .map(|c| {
            if c.name().is_empty() {
                c.value().to_owned()
            } else {
                format!("{}={}", c.name(), c.value())
            }
        })
        .collect();
    let expected = expected.join("; ");
    match jar.cookie_header(url) {
        None => assert!(
            matching.is_empty(),
            "no Cookie header for {url}, but {} cookies match",
            matching.len()
        ),
        Some(h) => assert_eq!(
            h.as_bytes(),
            expected.as_bytes(),
            "the Cookie header for {url} is not the matching cookies"
        ),
    }
    let Some((host, is_ip)) = jar_host(url) else {
        assert!(matching.is_empty(), "cookies for a URL without a host");
        return;
    };
    for c in &matching {
        let d = c.domain();
        let domain_ok = if c.host_only() {
            d == host
        } else {
            host == d
                || (!is_ip
                    && host.len() > d.len()
                    && host.ends_with(d)
                    && host.as_bytes()[host.len() - d.len() - 1] == b'.')
        };
        assert!(domain_ok, "cookie for {d:?} sent to host {host:?}: {c:?}");
        assert!(
            path_match(url.path(), c.path()),
            "cookie with path {:?} sent to path {:?}",
            c.path(),
            url.path()
        );
        let secure_url = matches!(url.scheme(), "https" | "wss");
        let maybe_loopback = host.contains("localhost") || host.starts_with("127.") || is_ip;
        if c.secure() && !secure_url && !maybe_loopback {
            panic!("Secure cookie {:?} sent to {url}", c.name());
        }
    }
}

/// What round trips must keep of a cookie.
fn key(c: &StoredCookie, with_same_site: bool) -> String {
    format!(
        "{:?} {:?} {:?} {:?} host_only={} secure={} http_only={} expires={:?} same_site={}",
        c.name(),
        c.value(),
        c.domain(),
        c.path(),
        c.host_only(),
        c.secure(),
        c.http_only(),
        c.expires(),
        if with_same_site {
            c.same_site().as_str()
        } else {
            "-"
        }
    )
}

/// Saves the jar in both formats (session cookies included) and loads each
/// file into a fresh jar with the same settings and time: the file loads
/// without error, nothing is rejected, and the same cookies come back
/// (`cookies.txt` has no `SameSite`, and skips values with a tab). Each
/// check has its own line, so that each kind of failure is its own crash.
pub(crate) fn round_trip(jar: &Jar, config: Config, clock: &ManualClock) {
    round_trip_json(jar, config, clock);
    round_trip_netscape(jar, config, clock);
}

fn save(jar: &Jar, format: Format) -> (Vec<u8>, usize) {
    let mut file = Vec::new();
    let written = jar
        .save_to(&mut file, &SaveOptions::new(format).include_session(true))
        .expect("saving to a Vec does not fail");
    (file, written)
}

fn sorted_keys(cookies: &[StoredCookie], json: bool) -> Vec<String> {
    let mut keys: Vec<String> = cookies
        .iter()
        .filter(|c| json || !c.value().contains('\t'))
        .map(|c| key(c, json))
        .collect();
    keys.sort();
    keys
}

fn round_trip_json(jar: &Jar, config: Config, clock: &ManualClock) {
    let (file, written) = save(jar, Format::Json);
    let fresh = self::jar(config, clock);
    let report = match fresh.load_from(&file[..], Format::Json) {
        Ok(r) => r,
        Err(e) => panic!(
            "a JSON file the jar wrote does not load back: {e}\n{}",
            String::from_utf8_lossy(&file)
        ),
    };
    assert_eq!(
        (report.loaded, report.rejected, report.expired),
        (written, 0, 0),
        "loading a JSON file the jar wrote (loaded, rejected, expired)\n{}",
        String::from_utf8_lossy(&file)
    );
    assert_eq!(
        sorted_keys(&jar.cookies(), true),
        sorted_keys(&fresh.cookies(), true),
        "a JSON round trip changed the cookies"
    );
}

fn round_trip_netscape(jar: &Jar, config: Config, clock: &ManualClock) {
    let (file, written) = save(jar, Format::Netscape);
    let fresh = self::jar(config, clock);
    let report = match fresh.load_from(&file[..], Format::Netscape) {
        Ok(r) => r,
        Err(e) => panic!(
            "a cookies.txt file the jar wrote does not load back: {e}\n{}",
            String::from_utf8_lossy(&file)
        ),
    };
    assert_eq!(
        (report.loaded, report.rejected, report.expired),
        (written, 0, 0),
        "loading a cookies.txt file the jar wrote (loaded, rejected, expired)\n{}",
        String::from_utf8_lossy(&file)
    );
    // A cookie with a tab or a line break in a field cannot be written in
    // cookies.txt; the writer leaves it out (and says how many it wrote).
    let writable: Vec<_> = jar
        .cookies()
        .into_iter()
        .filter(|c| {
            [c.name(), c.value(), c.path(), c.domain()]
                .iter()
                .all(|f| !f.contains(['\t', '\r', '\n']))
        })
        .collect();
    assert_eq!(
        sorted_keys(&writable, false),
        sorted_keys(&fresh.cookies(), false),
        "a cookies.txt round trip changed the cookies"
    );
}
