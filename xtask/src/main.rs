//! The project's tasks, run as `cargo xtask <task>` (matklad's convention).
//!
//! - `ci`: format check, clippy with warnings denied, the feature checks,
//!   every test with all features, and docs with warnings denied.
//! - `bench`: the side-by-side benchmarks (release build of `session-bench`).
//! - `powerset` (optional, not part of `ci`): every combination of up to two
//!   features of every crate builds, with `cargo hack` (installed if missing).
//! - `tidy`: checks that every source file starts with a `//!` header.
//! - `fuzz` (optional, not part of `ci`): every fuzz target of `fuzz/` for a
//!   bounded time (60 s each by default); `cargo xtask fuzz -- --target NAME
//!   --seconds N` runs one. See `fuzz/README.md`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type DynError = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> Result<(), DynError> {
    let mut args = env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("ci") => ci(),
        Some("bench") => bench(&rest),
        Some("powerset") => powerset(),
        Some("tidy") => tidy(),
        Some("fuzz") => fuzz(&rest),
        _ => {
            eprintln!("usage: cargo xtask <ci|bench|powerset|tidy|fuzz>");
            Err("unknown task".into())
        }
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(1)
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

fn run(step: &str, mut cmd: Command) -> Result<(), DynError> {
    eprintln!("\n==> {step}: {cmd:?}");
    let status = cmd.status()?;
    if !status.success() {
        return Err(format!("{step} failed ({status})").into());
    }
    Ok(())
}

/// `cargo hack check --feature-powerset --depth 2 --no-dev-deps` over the
/// workspace (the benchmark package left out), installing `cargo-hack` from
/// the registry first when it is missing.
fn powerset() -> Result<(), DynError> {
    let installed = cargo()
        .args(["hack", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !installed {
        let mut install = cargo();
        install.args(["install", "cargo-hack", "--locked"]);
        run("install cargo-hack", install)?;
    }
    let mut check = cargo();
    check.args([
        "hack",
        "check",
        "--workspace",
        "--exclude",
        "session-bench",
        "--feature-powerset",
        "--depth",
        "2",
        "--no-dev-deps",
    ]);
    run("powerset", check)
}

/// Every CI check; the benchmark package (and its reqwest) is left out.
fn ci() -> Result<(), DynError> {
    tidy()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("fmt", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--exclude",
        "session-bench",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    run("clippy", clippy)?;

    // Each facade feature alone builds without warnings (clippy's `-D`
    // applies to the workspace crate only, so dependencies are not rebuilt).
    for feature in [
        "",
        "hyper",
        "cookies",
        "redis",
        "retry",
        "budget",
        "cache",
        "cache-redis",
        "multipart",
        "blocking",
    ] {
        let mut check = cargo();
        check.args(["clippy", "-p", "http-session", "--no-default-features"]);
        if !feature.is_empty() {
            check.args(["--features", feature]);
        }
        check.args(["--", "-D", "warnings"]);
        run("features", check)?;
    }

    let httpie = ensure_httpie()?;
    let mut test = cargo();
    test.args([
        "test",
        "--workspace",
        "--exclude",
        "session-bench",
        "--all-features",
    ]);
    test.env("HTTPIE", httpie);
    run("test", test)?;

    let mut doc = cargo();
    doc.args([
        "doc",
        "--workspace",
        "--exclude",
        "session-bench",
        "--exclude",
        "xtask",
        "--no-deps",
        "--all-features",
    ]);
    doc.env(
        "RUSTDOCFLAGS",
        "-D warnings -D rustdoc::broken_intra_doc_links",
    );
    run("doc", doc)?;
    eprintln!("\nxtask ci: all checks passed");
    Ok(())
}

/// The HTTPie release the session-file interop tests run against.
const HTTPIE_VERSION: &str = "3.2.4";

/// The real HTTPie for `tests/state.rs`, installed from PyPI into a virtual
/// environment under `target/` the first time.
fn ensure_httpie() -> Result<PathBuf, DynError> {
    let venv = project_root().join("target/httpie-venv");
    let http = venv.join("bin/http");
    if http.exists() {
        return Ok(http);
    }
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    run("httpie venv", create)?;
    let mut install = Command::new(venv.join("bin/pip"));
    install.args(["install", "--quiet", "--disable-pip-version-check"]);
    install.arg(format!("httpie=={HTTPIE_VERSION}"));
    run("install httpie", install)?;
    Ok(http)
}

/// Builds and runs the benchmark package in release mode.
fn bench(args: &[String]) -> Result<(), DynError> {
    let mut cmd = cargo();
    cmd.args(["run", "--release", "-p", "session-bench", "--"])
        .args(args);
    run("bench", cmd)
}

/// Builds and runs the fuzz targets (`fuzz/`, package `session-fuzz`): an
/// optimized build with overflow checks and debug assertions on and line
/// tables for backtraces, in its own target folder (`target/fuzz`) so that
/// the shared release build is left alone. Arguments (after an optional
/// `--`) go to the fuzzer: `--target NAME`, `--seconds N`, `--list`, ...
fn fuzz(args: &[String]) -> Result<(), DynError> {
    let args = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "--package",
        "session-fuzz",
        "--target-dir",
    ])
    .arg(project_root().join("target").join("fuzz"))
    .arg("--")
    .args(args)
    .env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "true")
    .env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "true")
    .env("CARGO_PROFILE_RELEASE_DEBUG", "line-tables-only");
    run("fuzz", cmd)
}

/// Every Rust file of the project starts with a `//!` header.
fn tidy() -> Result<(), DynError> {
    let mut missing = Vec::new();
    let root = project_root();
    for dir in [
        "src", "crates", "examples", "tests", "xtask", "bench", "fuzz",
    ] {
        visit(&root.join(dir), &mut |path| {
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                if !text.trim_start().starts_with("//!") {
                    missing.push(
                        path.strip_prefix(&root)
                            .unwrap_or(path)
                            .display()
                            .to_string(),
                    );
                }
            }
        })?;
    }
    if missing.is_empty() {
        eprintln!("tidy: every source file has a //! header");
        Ok(())
    } else {
        Err(format!("files without a //! header: {}", missing.join(", ")).into())
    }
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path)) -> Result<(), DynError> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            visit(&path, f)?;
        } else {
            f(&path);
        }
    }
    Ok(())
}
