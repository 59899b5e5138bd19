//! The corpus as regression tests (run by `cargo test`, so by `cargo xtask
//! ci`): every input of `fuzz/corpus/<target>/` goes through its target
//! without a panic, except the known failures (`crash-*`, `hang-*`), which
//! only `cargo xtask fuzz` replays until they are fixed. A fixed crash
//! becomes a regression test by renaming its file (`regress-<hash>`).
//!
//! Also a short fixed-seed run of each target, to show that its generator
//! and the mutator produce inputs it reads (its crashes are not checked
//! here: that is `cargo xtask fuzz`'s job).

use std::time::Duration;

use session_fuzz::engine::{self, default_corpus, load_corpus, run_case, Options};
use session_fuzz::targets::ALL;

fn is_known_failure(name: &str) -> bool {
    name.starts_with("crash-") || name.starts_with("hang-")
}

#[test]
fn corpus_replays_without_panics() {
    let mut failures = Vec::new();
    for target in ALL {
        let files = load_corpus(&default_corpus().join(target.name));
        assert!(
            files.iter().any(|(name, _)| !is_known_failure(name)),
            "no seed corpus for {}",
            target.name
        );
        for (name, input) in files {
            if is_known_failure(&name) {
                continue;
            }
            if let Err(p) = run_case(target, &input) {
                failures.push(format!(
                    "{}/{name}: panicked at {}: {}",
                    target.name, p.location, p.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_target_runs_generated_cases() {
    let empty = std::env::temp_dir().join(format!("session-fuzz-empty-{}", std::process::id()));
    for target in ALL {
        let mut opts = Options::new(Duration::from_secs(30));
        opts.max_cases = Some(150);
        opts.seed = 7;
        opts.corpus = empty.clone();
        opts.write_crashes = false;
        let report = engine::fuzz(target, &opts);
        assert_eq!(report.cases, 150, "{}", target.name);
        assert!(
            report.outcomes + report.crashes.len() >= 2,
            "{}: generated inputs all end the same way",
            target.name
        );
    }
}

#[test]
fn mutation_keeps_inputs_bounded() {
    let mut g = session_fuzz::gen::Gen::new(1);
    let pool = vec![b"a=b; Path=/".to_vec(), b"url http://x/\nset a".to_vec()];
    for _ in 0..2000 {
        let mut input = g.pick(&pool).clone();
        engine::mutate(&mut g, &mut input, &pool, &["; Domain=", "\n"], 256);
        assert!(input.len() <= 256);
    }
}
