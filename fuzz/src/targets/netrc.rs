//! `netrc`: a `.netrc` file (the whole input, as lossy UTF-8) parsed by
//! `session_core::auth::Netrc::parse`.
//!
//! Checks: an error names a line of the file; every entry is found by its
//! own machine name; `Debug` never shows a password; and an `AuthLayer`
//! with the file sends, to a machine it lists, the Basic credentials of
//! the entry `lookup` returns.

use http::header::AUTHORIZATION;
use session_core::auth::{basic_header, AuthLayer, Netrc};
use session_core::mock::MockTransport;
use session_core::Body;
use tower::{Layer, ServiceExt};

use super::{reason, runtime, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "netrc",
    about: ".netrc files (tokens, quotes, escapes, macdef, comments), lookups, AuthLayer",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 16 * 1024,
};

const DICTIONARY: &[&str] = &[
    "machine ",
    "default ",
    "login ",
    "password ",
    "account ",
    "macdef ",
    "\n\n",
    "\n",
    "#",
    "\"",
    "\\",
    "\\\"",
    " ",
    "\t",
    "\r\n",
    "\u{0085}",
    "\u{2028}",
    "\u{3000}",
    "api.test",
    "[::1]",
    "127.0.0.1",
];

/// What `Debug` of a `Netrc` prints besides the machines and logins.
const WORDS: &str =
    "Netrc NetrcEntry entries has_default machine login password <redacted> Some None true false";

fn run(input: &[u8]) -> String {
    let file = String::from_utf8_lossy(input);
    let netrc = match Netrc::parse(&file) {
        Ok(n) => n,
        Err(e) => {
            let lines = file.matches('\n').count() + 1;
            assert!(
                (1..=lines).contains(&e.line()),
                "error at line {} of a {lines}-line file: {e}",
                e.line()
            );
            return format!("error: {}", reason(&e));
        }
    };
    for entry in netrc.entries() {
        assert!(
            netrc.lookup(entry.machine()).is_some(),
            "the entry for {:?} is not found by its own name",
            entry.machine()
        );
    }
    let debug = format!("{netrc:?}");
    for entry in netrc.entries() {
        if let Some(p) = entry.password() {
            let distinctive = p.len() >= 6
                && p.chars().all(|c| c.is_ascii_alphanumeric())
                && !WORDS.contains(p)
                && !netrc
                    .entries()
                    .iter()
                    .any(|e| e.machine().contains(p) || e.login().contains(p));
            assert!(
                !distinctive || !debug.contains(p),
                "Debug shows the password of {:?}",
                entry.machine()
            );
        }
    }
    // Through the auth layer, for the first machines that make a URI.
    let rt = runtime(false);
    let mut sent = 0;
    for entry in netrc.entries().iter().take(3) {
        // A machine with `@` would make a URI with userinfo, which the
        // layer uses when `.netrc` has no entry: not what is checked here.
        if entry.machine().contains('@') {
            continue;
        }
        let Ok(uri) = format!("http://{}/", entry.machine()).parse::<http::Uri>() else {
            continue;
        };
        let host = uri.host().unwrap_or("").to_owned();
        let mock = MockTransport::new().fallback(|_| http::Response::new(Body::from("ok")));
        let service = AuthLayer::new().netrc(netrc.clone()).layer(mock.clone());
        let mut req = http::Request::new(Body::empty());
        *req.uri_mut() = uri;
        let _ = rt.block_on(service.oneshot(req));
        let seen = mock.requests();
        assert_eq!(seen.len(), 1, "one request in, {} sent", seen.len());
        let expected = netrc
            .lookup(&host)
            .map(|e| basic_header(e.login(), e.password()));
        assert_eq!(
            seen[0].headers.get(AUTHORIZATION),
            expected.as_ref(),
            "the credentials sent to {host:?} are not those lookup gives"
        );
        sent += 1;
    }
    format!("ok entries={} sent={sent}", netrc.entries().len().min(4))
}

fn value(g: &mut Gen) -> String {
    match g.below(10) {
        0 => format!("\"{}\"", g.junk_str(10).replace('"', "\\\"")),
        1 => format!("\"{}", g.token()),
        2 => format!("\"a\\{}b\"", g.pick(&["\"", "\\", "n", "\n", ""])),
        3 => g.unicode().to_owned(),
        4 => g.long("p", 2000),
        5 => format!("a{}b", g.pick(&["\"", "#", "\u{0085}", "\u{3000}"])),
        _ => g.token(),
    }
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out = String::new();
    let n = g.below(6);
    for _ in 0..n {
        match g.below(10) {
            0 => out.push_str("default"),
            1 => {
                out.push_str("macdef init\ncd /\nls");
                out.push_str(if g.one_in(3) { "\n" } else { "\n\n" });
            }
            2 => {
                out.push_str("# ");
                out.push_str(&g.junk_str(12).replace('\n', " "));
                out.push('\n');
            }
            _ => {
                out.push_str("machine ");
                out.push_str(&if g.one_in(5) { value(g) } else { g.host() });
            }
        }
        let fields = g.below(4);
        for _ in 0..fields {
            let sep = g.choose(&[" ", "\n  ", "\t", "  ", "\r\n"]);
            out.push_str(sep);
            let key = g.choose(&["login", "password", "account", "login", "password", "port"]);
            out.push_str(key);
            if !g.one_in(15) {
                out.push(' ');
                out.push_str(&value(g));
            }
        }
        out.push_str(if g.one_in(2) { "\n" } else { " " });
    }
    if g.one_in(10) {
        out.push_str(&g.junk_str(20));
    }
    out.into_bytes()
}
