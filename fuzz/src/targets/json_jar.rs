//! `json-jar`: the jar's JSON file (the whole input) loaded with
//! `Jar::load_from(_, Format::Json)`; the checks of `cookies-txt`.

use std::fmt::Write as _;

use session_cookies::persist::Format;

use super::cookie_common as common;
use super::cookies_txt::load_and_check;
use super::Target;
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "json-jar",
    about: "the jar's JSON file loaded into a jar (types, edge numbers, escapes, nesting)",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 32 * 1024,
};

const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "false",
    "\"version\":1",
    "\"cookies\":[]",
    "\"name\":\"a\"",
    "\"value\":\"\"",
    "\"domain\":\"example.com\"",
    "\"path\":\"/\"",
    "\"host_only\":true",
    "\"expires\":null",
    "\"creation_us\":",
    "\"last_access_us\":",
    "\"same_site\":\"Lax\"",
    "\\u0000",
    "\\ud800",
    "\\\"",
    "1e400",
    "-0",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
];

fn run(input: &[u8]) -> String {
    load_and_check(input, Format::Json)
}

fn json_string(g: &mut Gen, s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if g.one_in(30) {
        out.push_str(g.choose(&["\\ud800", "\\u0000", "\\x", "\\"]));
    }
    out.push('"');
    out
}

fn int(g: &mut Gen) -> String {
    match g.below(6) {
        0 => "null".into(),
        1 => g.number(),
        2 => (g.choose(&["1.5", "1e400", "-0", "\"1\"", "true", "[]"])).into(),
        _ => (common::NOW_SECS as i64 + g.below(1_000_000) as i64 - 500_000).to_string(),
    }
}

fn micros(g: &mut Gen) -> String {
    match g.below(5) {
        0 => g.number(),
        1 => i64::MIN.to_string(),
        _ => (common::NOW_SECS as i64 * 1_000_000 - g.below(1_000_000_000) as i64).to_string(),
    }
}

fn boolean(g: &mut Gen) -> &'static str {
    g.choose(&["true", "false", "true", "false", "null", "1", "\"true\""])
}

fn record(g: &mut Gen) -> String {
    let (host, name, value, path) = (g.host(), common::name(g), common::value(g), g.path());
    let mut fields: Vec<String> = vec![
        format!("\"name\":{}", json_string(g, &name)),
        format!("\"value\":{}", json_string(g, &value)),
        format!("\"domain\":{}", json_string(g, &host)),
        format!("\"path\":{}", json_string(g, &path)),
        format!("\"host_only\":{}", boolean(g)),
        format!("\"secure\":{}", boolean(g)),
        format!("\"http_only\":{}", boolean(g)),
        format!(
            "\"same_site\":{}",
            match g.below(6) {
                0 => "null".to_owned(),
                1 => json_string(g, "junk"),
                _ => {
                    let v = g.choose(&["Lax", "Strict", "None", "lax"]);
                    json_string(g, v)
                }
            }
        ),
        format!("\"expires\":{}", int(g)),
        format!("\"creation_us\":{}", micros(g)),
        format!("\"last_access_us\":{}", micros(g)),
    ];
    match g.below(12) {
        0 => {
            let i = g.below(fields.len());
            fields.remove(i);
        }
        1 => fields.push("\"extra\":[1,{\"a\":null}]".into()),
        2 => {
            let i = g.below(fields.len());
            let dup = fields[i].clone();
            fields.push(dup);
        }
        _ => {}
    }
    if g.one_in(8) {
        let len = fields.len();
        g_shuffle(g, &mut fields, len);
    }
    format!("{{{}}}", fields.join(","))
}

fn g_shuffle(g: &mut Gen, v: &mut [String], len: usize) {
    for i in (1..len).rev() {
        let j = g.below(i + 1);
        v.swap(i, j);
    }
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let n = g.below(8);
    let records: Vec<String> = (0..n).map(|_| record(g)).collect();
    let version = if g.one_in(10) { g.number() } else { "1".into() };
    let mut s = format!(
        "{{\n  \"version\": {version},\n  \"cookies\": [\n    {}\n  ]\n}}\n",
        records.join(",\n    ")
    );
    match g.below(20) {
        0 => {
            let cut = g.below(s.len() + 1);
            s = String::from_utf8_lossy(&s.as_bytes()[..cut]).into_owned();
        }
        1 => s = format!("{}{}", "[".repeat(g.below(300)), s),
        2 => s.push_str(",]"),
        _ => {}
    }
    s.into_bytes()
}
