//! `cookies-txt`: a Netscape `cookies.txt` file (the whole input) loaded
//! with `Jar::load_from(_, Format::Netscape)`.
//!
//! A file that does not parse is an error that names a line of the file,
//! and leaves the jar empty; a file that parses gives cookies that keep
//! every invariant and survive the save/load round trips.

use session_cookies::persist::Format;

use super::cookie_common::{self as common, Config};
use super::{script, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "cookies-txt",
    about: "curl's cookies.txt loaded into a jar (fields, flags, expiry, #HttpOnly_)",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 32 * 1024,
};

const DICTIONARY: &[&str] = &[
    "\t",
    "\n",
    "\r\n",
    "#HttpOnly_",
    "# Netscape HTTP Cookie File\n",
    "TRUE",
    "FALSE",
    "true",
    "\tTRUE\t/\tFALSE\t0\t",
    "\tFALSE\t/\tTRUE\t2147483647\t",
    ".example.com",
    "example.com",
    "localhost",
    "127.0.0.1",
    "[::1]",
    "co.uk",
    "9223372036854775807",
    "-9223372036854775808",
    "__Host-",
    "__Secure-",
];

/// Checks what loading `file` in `format` did; shared with `json-jar`.
pub(crate) fn load_and_check(file: &[u8], format: Format) -> String {
    let config = Config::default();
    let clock = common::clock();
    let jar = common::jar(config, &clock);
    match jar.load_from(file, format) {
        Ok(report) => {
            common::check_jar(&jar, config, common::start());
            assert!(
                jar.len() <= report.loaded,
                "{} cookies in the jar after loading {} records",
                jar.len(),
                report.loaded
            );
            common::round_trip(&jar, config, &clock);
            format!(
                "ok loaded={} rejected={} expired={}",
                report.loaded.min(3),
                report.rejected.min(3),
                report.expired.min(3)
            )
        }
        Err(e) => {
            assert!(
                e.is_parse() || e.is_io(),
                "a load error of an unexpected kind: {e:?}"
            );
            assert_eq!(jar.len(), 0, "a file that failed to load added cookies");
            if e.is_parse() {
                let lines = file.iter().filter(|b| **b == b'\n').count() + 1;
                let line = e.line().expect("a parse error has a line");
                assert!(
                    (1..=lines).contains(&line),
                    "parse error at line {line} of a {lines}-line file: {e}"
                );
            }
            format!("error: {}", super::reason(&e))
        }
    }
}

fn run(input: &[u8]) -> String {
    load_and_check(input, Format::Netscape)
}

fn flag(g: &mut Gen) -> String {
    (g.choose(&[
        "TRUE", "FALSE", "TRUE", "FALSE", "true", "False", "1", "", "yes",
    ]))
    .to_owned()
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if g.one_in(2) {
        out.push(b"# Netscape HTTP Cookie File".to_vec());
    }
    let n = g.below(12);
    for _ in 0..n {
        let mut fields: Vec<String> = Vec::new();
        let host = g.host();
        let sub = g.one_in(2);
        fields.push(if sub { format!(".{host}") } else { host });
        fields.push(flag(g));
        fields.push(if g.one_in(4) { g.path() } else { "/".into() });
        fields.push(flag(g));
        fields.push(if g.one_in(3) {
            g.number()
        } else {
            (g.choose(&["0", "2147483647", "1893456000", "1000000000", "1704067200"])).to_owned()
        });
        fields.push(common::name(g));
        fields.push(common::value(g));
        match g.below(10) {
            0 => {
                fields.pop();
            }
            1 => fields.push(g.token()),
            2 => {
                let i = g.below(fields.len());
                fields.remove(i);
            }
            _ => {}
        }
        let mut line = fields.join("\t");
        if g.one_in(5) {
            line.insert_str(0, "#HttpOnly_");
        }
        if g.one_in(6) {
            line.push('\r');
        }
        let mut bytes = line.into_bytes();
        if g.one_in(20) {
            bytes.push(0xff);
        }
        out.push(bytes);
        if g.one_in(5) {
            out.push(if g.one_in(2) {
                b"# a comment".to_vec()
            } else {
                Vec::new()
            });
        }
    }
    let mut file = script(out);
    if g.one_in(3) {
        file.push(b'\n');
    }
    file
}
