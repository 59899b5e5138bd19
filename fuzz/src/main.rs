//! `session-fuzz`: runs one fuzz target, or all, for a bounded time each.
//!
//! ```text
//! session-fuzz [--target NAME]... [--seconds N] [--cases N] [--seed N]
//!              [--corpus DIR] [--save-new] [--no-write] [--case-timeout N]
//!              [--verbose] [--list] [--replay FILE]...
//! ```
//!
//! `--replay FILE` runs one input (a corpus file) through its target, named
//! by `--target` or by the file's folder, and prints the outcome or the
//! panic with its backtrace.
//!
//! Exits with 1 when a target panicked (a new crash, or a `crash-*` file of
//! the corpus that still crashes), 3 when a case hung, 2 on a usage error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use session_fuzz::engine::{self, Options};
use session_fuzz::targets::{self, Target};

const USAGE: &str = "usage: session-fuzz [--target NAME]... [--seconds N] [--cases N] [--seed N] \
[--corpus DIR] [--save-new] [--no-write] [--case-timeout SECONDS] [--verbose] [--list] \
[--replay FILE]...";

struct Args {
    targets: Vec<&'static Target>,
    opts: Options,
    /// Files to run once each instead of fuzzing.
    replay: Vec<PathBuf>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut opts = Options::new(Duration::from_secs(60));
    let mut chosen: Vec<&'static Target> = Vec::new();
    let mut replay = Vec::new();
    let value = |args: &mut dyn Iterator<Item = String>, flag: &str| {
        args.next().ok_or_else(|| format!("{flag} needs a value"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => {}
            "--target" | "-t" => {
                let names = value(&mut args, &arg)?;
                for name in names.split(',').filter(|n| !n.is_empty()) {
                    if name == "all" {
                        chosen.extend(targets::ALL.iter());
                        continue;
                    }
                    let t = targets::find(name).ok_or_else(|| {
                        let known: Vec<&str> = targets::ALL.iter().map(|t| t.name).collect();
                        format!("unknown target {name:?} (known: {})", known.join(", "))
                    })?;
                    chosen.push(t);
                }
            }
            "--seconds" | "-s" => {
                let v = value(&mut args, &arg)?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--seconds {v:?}: not a number"))?;
                if !(secs.is_finite() && secs >= 0.0) {
                    return Err(format!("--seconds {v:?}: not a duration"));
                }
                opts.time = Duration::from_secs_f64(secs);
            }
            "--cases" => {
                let v = value(&mut args, &arg)?;
                opts.max_cases = Some(
                    v.parse()
                        .map_err(|_| format!("--cases {v:?}: not a count"))?,
                );
            }
            "--seed" => {
                let v = value(&mut args, &arg)?;
                opts.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v:?}: not a number"))?;
            }
            "--corpus" => opts.corpus = PathBuf::from(value(&mut args, &arg)?),
            "--replay" => replay.push(PathBuf::from(value(&mut args, &arg)?)),
            "--save-new" => opts.save_new = true,
            "--verbose" | "-v" => opts.verbose = true,
            "--no-write" => opts.write_crashes = false,
            "--case-timeout" => {
                let v = value(&mut args, &arg)?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--case-timeout {v:?}: not seconds"))?;
                opts.case_timeout = Duration::from_secs(secs.max(1));
            }
            "--list" => {
                for t in targets::ALL {
                    println!("{:<12} {}", t.name, t.about);
                }
                return Ok(None);
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(None);
            }
            // More files after `--replay` (a shell glob).
            file if !replay.is_empty() && !file.starts_with('-') => {
                replay.push(PathBuf::from(file));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if chosen.is_empty() && replay.is_empty() {
        chosen.extend(targets::ALL.iter());
    }
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|t| seen.insert(t.name));
    Ok(Some(Args {
        targets: chosen,
        opts,
        replay,
    }))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("session-fuzz: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !args.replay.is_empty() {
        return replay(&args);
    }
    let opts = &args.opts;
    eprintln!(
        "session-fuzz: {} target(s), {:?} each, seed {}, corpus {}",
        args.targets.len(),
        opts.time,
        opts.seed,
        opts.corpus.display()
    );
    let mut reports = Vec::new();
    for target in &args.targets {
        eprintln!("\n== {}: {}", target.name, target.about);
        let report = engine::fuzz(target, opts);
        for crash in &report.crashes {
            eprintln!("{}", engine::describe(target.name, crash));
        }
        eprintln!(
            "   {} corpus files replayed, {} cases in {:.1} s ({:.0}/s), {} outcomes, {} crash(es){}",
            report.replayed,
            report.cases,
            report.elapsed.as_secs_f64(),
            report.cases as f64 / report.elapsed.as_secs_f64().max(1e-9),
            report.outcomes,
            report.crashes.len(),
            if report.saved > 0 {
                format!(", {} new inputs saved", report.saved)
            } else {
                String::new()
            }
        );
        reports.push(report);
    }
    println!(
        "\n{:<12} {:>8} {:>12} {:>9} {:>8}",
        "target", "corpus", "cases", "outcomes", "crashes"
    );
    for r in &reports {
        println!(
            "{:<12} {:>8} {:>12} {:>9} {:>8}",
            r.target,
            r.replayed,
            r.cases,
            r.outcomes,
            r.crashes.len()
        );
    }
    let crashes: usize = reports.iter().map(|r| r.crashes.len()).sum();
    if crashes > 0 {
        println!(
            "\n{crashes} crash(es); inputs are in {}",
            opts.corpus.display()
        );
        ExitCode::FAILURE
    } else {
        println!("\nno crash");
        ExitCode::SUCCESS
    }
}

/// Runs each `--replay` file once through its target (`--target`, else the
/// name of the folder it is in) and prints the outcome or the panic.
fn replay(args: &Args) -> ExitCode {
    let mut failed = false;
    for path in &args.replay {
        let target = match args.targets.as_slice() {
            [t] => Some(*t),
            _ => path
                .parent()
                .and_then(|d| d.file_name())
                .and_then(|n| targets::find(&n.to_string_lossy())),
        };
        let Some(target) = target else {
            eprintln!(
                "{}: give --target NAME (the folder is not a target)",
                path.display()
            );
            return ExitCode::from(2);
        };
        let input = match std::fs::read(path) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        match engine::run_case(target, &input) {
            Ok(label) => println!("{} ({}): ok: {label}", path.display(), target.name),
            Err(panic) => {
                failed = true;
                let crash = engine::Crash {
                    panic,
                    original_len: input.len(),
                    input,
                    file: Some(path.clone()),
                    from_corpus: true,
                };
                println!("{}", engine::describe(target.name, &crash));
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
