//! `cargo xtask bench`: http-session side by side with raw hyper-util and
//! reqwest on one loopback server, reported as ratios to raw hyper-util.
//!
//! Options: `--quick` (fewer requests), `--only NAME` (`http`, `build`).

mod clients;
mod http;
mod report;
mod server;

fn main() {
    // reqwest is built without a crypto provider of its own; give it ring,
    // the provider this workspace uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wants = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let scale = if quick { 1 } else { 4 };

    if wants("build") {
        println!("{}", http::build_cost());
    }
    if wants("http") {
        let rounds = 3;
        let scenarios = [
            http::Scenario {
                title: format!("sequential keep-alive GET, 13 B body, client and server on separate CPUs, {rounds} rounds"),
                path: "/small",
                requests: 2500 * scale,
                rounds,
                concurrency: 1,
                pin: None,
            },
            http::Scenario {
                title: format!("sequential keep-alive GET, 13 B body, client and server pinned to CPU 0, {rounds} rounds"),
                path: "/small",
                requests: 2500 * scale,
                rounds,
                concurrency: 1,
                pin: Some(0),
            },
            http::Scenario {
                title: format!("64 concurrent tasks, 13 B body, {rounds} rounds"),
                path: "/small",
                requests: 64 * 50 * scale,
                rounds,
                concurrency: 64,
                pin: None,
            },
            http::Scenario {
                title: format!("sequential keep-alive GET, 1 MiB body, {rounds} rounds"),
                path: "/large",
                requests: 50 * scale,
                rounds,
                concurrency: 1,
                pin: None,
            },
        ];
        for s in &scenarios {
            println!("{}", http::run(s));
        }
    }
}
