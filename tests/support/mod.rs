//! Test support: loopback servers (HTTP/1.1, h2c, TLS with rcgen
//! certificates) that run on their own thread and stop on drop.
#![allow(dead_code, unreachable_pub)]

pub mod server;
pub mod tls;

/// Installs a tracing subscriber once, for debugging a failing test with
/// `RUST_LOG`.
pub fn trace_init() {}

/// An error and its `source()` chain, as one line.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
