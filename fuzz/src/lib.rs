//! Bounded fuzzing of every parser of http-session that reads network or
//! file input, on stable Rust: no `cargo fuzz`, no sanitizers, no nightly.
//!
//! Each [`targets::Target`] calls a crate's public API with generated input
//! (`Set-Cookie` values, jar scripts, `cookies.txt` and JSON jar files,
//! `Location` chains, `Retry-After` values, Digest challenges, `.netrc`
//! files, proxy URLs and `NO_PROXY` lists) and checks that nothing panics
//! and that cheap invariants hold. The [`engine`] replays the target's
//! corpus (`fuzz/corpus/<target>/`), then generates and mutates inputs for
//! a bounded time, with a seeded PRNG ([`gen::Gen`], over `fastrand`).
//!
//! Run it with `cargo xtask fuzz` (every target, 60 s each) or
//! `cargo xtask fuzz -- --target set-cookie --seconds 10`; see
//! `fuzz/README.md`.

pub mod engine;
pub mod gen;
pub mod targets;
