//! The fuzz targets: one per parser that reads network or file input, each
//! calling the owning crate's public API.
//!
//! Most inputs are small line scripts, so that a corpus file reads like the
//! input it stands for: a line starting with a keyword (`url`, `set`,
//! `status`, …) sets something up, other lines are the raw header values
//! or file lines under test. Every byte sequence is a valid script: unknown
//! lines are data or are ignored.

use crate::gen::Gen;

mod cookie_common;
pub mod cookies_txt;
pub mod digest;
pub mod jar;
pub mod json_jar;
pub mod location;
pub mod netrc;
pub mod no_proxy;
pub mod proxy_url;
pub mod retry_after;
pub mod set_cookie;

/// A fuzz target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The name on the command line and of the corpus folder.
    pub name: &'static str,
    /// What it covers, in one line.
    pub about: &'static str,
    /// Runs one input; panics on a bug (a panic of the crate under test or
    /// a broken invariant). Returns a label of the outcome: a new label
    /// makes the input worth mutating further.
    pub run: fn(&[u8]) -> String,
    /// A new input from scratch.
    pub generate: fn(&mut Gen) -> Vec<u8>,
    /// Tokens of the input's grammar, spliced in by the mutator.
    pub dictionary: &'static [&'static str],
    /// The longest input tried.
    pub max_len: usize,
}

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const ALL: &[Target] = &[
    set_cookie::TARGET,
    jar::TARGET,
    cookies_txt::TARGET,
    json_jar::TARGET,
    location::TARGET,
    retry_after::TARGET,
    digest::TARGET,
    netrc::TARGET,
    proxy_url::TARGET,
    no_proxy::TARGET,
];

/// The target named `name`.
pub fn find(name: &str) -> Option<&'static Target> {
    ALL.iter().find(|t| t.name == name)
}

/// The lines of a script (split on `\n` only: `\r` is data).
pub(crate) fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    input.split(|b| *b == b'\n')
}

/// `(keyword, rest)` when `line` starts with `keyword` and a space.
pub(crate) fn command<'a>(
    line: &'a [u8],
    keywords: &[&'static str],
) -> Option<(&'static str, &'a [u8])> {
    keywords.iter().find_map(|k| {
        line.strip_prefix(k.as_bytes())
            .and_then(|rest| {
                rest.strip_prefix(b" ")
                    .or((rest.is_empty()).then_some(rest))
            })
            .map(|rest| (*k, rest))
    })
}

/// Lossy UTF-8.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A current-thread runtime with the timer (and I/O) drivers.
pub(crate) fn runtime(paused: bool) -> tokio::runtime::Runtime {
    let mut b = tokio::runtime::Builder::new_current_thread();
    b.enable_all();
    if paused {
        b.start_paused(true);
    }
    b.build().expect("a current-thread runtime")
}

/// A label for an error: its message without the quoted parts (the input
/// it quotes), after the last `": "` (for this workspace's errors, the
/// reason). A parser's syntax error that points into the input is just
/// "syntax".
pub(crate) fn reason(err: &dyn std::fmt::Display) -> String {
    let s = err.to_string();
    if s.contains("HERE-->") {
        return "syntax".to_owned();
    }
    let mut plain = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            plain.push(c);
            continue;
        }
        while let Some(q) = chars.next() {
            match q {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
    }
    let tail = plain.rsplit(": ").next().unwrap_or(&plain);
    tail.trim().chars().take(60).collect()
}

/// A status for a label: the codes the targets treat apart, else its class.
pub(crate) fn status_label(status: http::StatusCode) -> String {
    match status.as_u16() {
        c @ (200 | 301 | 302 | 303 | 307 | 308 | 401 | 413 | 429 | 500 | 503) => c.to_string(),
        c => format!("{}xx", c / 100),
    }
}

/// A script of `lines`, joined with `\n`.
pub(crate) fn script(lines: Vec<Vec<u8>>) -> Vec<u8> {
    lines.join(&b'\n')
}
