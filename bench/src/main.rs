//! `cargo xtask bench`: http-session side by side with raw hyper-util and
//! reqwest on one loopback server, reported as ratios to raw hyper-util.
//!
//! Options: `--quick` (fewer requests), `--only NAME` (`build`, `http`,
//! `retry`, `cookies`, `https`, `oneoff`, `cache`, `fleet`, `overhead`, `jar`,
//! `burst`, `instructions`),
//! `--profile CLIENT` (one client alone, for perf).

mod burst;
mod cache;
mod clients;
mod fleet;
mod http;
mod instructions;
mod jar;
mod overhead;
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
    if let Some(name) = args
        .iter()
        .position(|a| a == "--profile")
        .and_then(|i| args.get(i + 1))
    {
        if name == "jar-store" {
            jar::profile_store();
            return;
        }
        if let Some(which) = name.strip_prefix("overhead-") {
            overhead::profile(which, 2_000_000);
            return;
        }
        http::profile(
            name,
            std::env::var("BENCH_N")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(200_000),
        );
        return;
    }

    if wants("build") {
        println!("{}", http::build_cost());
    }
    if wants("burst") || wants("http") {
        println!("{}", burst::run());
        println!("{}", burst::run_tls());
    }
    if wants("http") {
        let rounds = 9;
        let scenarios = [
            http::Scenario {
                title: format!("sequential keep-alive GET, 13 B body, client and server on separate CPUs, {rounds} rounds"),
                path: "/small",
                requests: 1500 * scale,
                rounds,
                concurrency: 1,
                pin: None,
                tls: false,
                clients: clients::Bench::all,
            },
            http::Scenario {
                title: format!("sequential keep-alive GET, 13 B body, client and server pinned to CPU 0, {rounds} rounds"),
                path: "/small",
                requests: 1500 * scale,
                rounds,
                concurrency: 1,
                pin: Some(0),
                tls: false,
                clients: clients::Bench::all_and_bare,
            },
            http::Scenario {
                title: format!("64 concurrent tasks, 13 B body, {rounds} rounds"),
                path: "/small",
                requests: 64 * 60 * scale,
                rounds,
                concurrency: 64,
                pin: None,
                tls: false,
                clients: clients::Bench::all_and_bare,
            },
            http::Scenario {
                title: format!("sequential keep-alive GET, 1 MiB body, {rounds} rounds"),
                path: "/large",
                requests: 30 * scale,
                rounds,
                concurrency: 1,
                pin: None,
                tls: false,
                clients: clients::Bench::all,
            },
        ];
        for s in &scenarios {
            println!("{}", http::run(s));
        }
    }
    if wants("retry") {
        let s = http::Scenario::pinned(
            "retry layer on the success path: sequential GET, pinned to CPU 0, 9 rounds",
            "/small",
            1500 * scale,
            false,
            clients::Bench::retry_pair,
        );
        println!("{}", http::run(&s));
    }
    if wants("oneoff") {
        let s = http::Scenario::pinned(
            "one-off GETs: a fresh client (and connection) per request, 13 B body, client and server pinned to CPU 0, 9 rounds",
            "/small",
            100 * scale,
            false,
            clients::Bench::one_off_all,
        );
        println!("{}", http::run(&s));
    }
    if wants("cookies") {
        let s = http::Scenario::pinned(
            "cookie round trip: each response sets 3 cookies, each request sends them back, pinned to CPU 0, 9 rounds",
            "/cookies",
            1500 * scale,
            false,
            clients::Bench::cookie_pair,
        );
        println!("{}", http::run(&s));
    }
    if wants("https") {
        let s = http::Scenario::pinned(
            "HTTPS: sequential keep-alive GET over TLS (ALPN h2 or http/1.1), 13 B body, client and server pinned to CPU 0, 9 rounds",
            "/small",
            1500 * scale,
            true,
            clients::Bench::tls_all,
        );
        println!("{}", http::run(&s));
    }
    if wants("cache") {
        println!("{}", cache::run(scale));
    }
    if wants("fleet") {
        println!("{}", fleet::run(quick));
    }
    if wants("overhead") {
        println!("{}", overhead::run(quick));
    }
    if wants("jar") {
        println!("{}", jar::run(quick));
    }
    if wants("instructions") {
        println!("{}", instructions::run(if quick { 2_000 } else { 5_000 }));
    }
}
