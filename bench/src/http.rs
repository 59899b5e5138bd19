//! Throughput, latency and client CPU of the three clients against one
//! loopback server, in short rotated rounds so drift hits all alike.
//! Throughput is the median of the rounds' rates. Its ratio is paired: the
//! median, over the rounds, of a client's rate divided by the baseline's
//! rate in the same round, so a slow stretch of the machine cancels out
//! instead of deciding the ratio. CPU and latencies cover all rounds.

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;

use crate::clients::Bench;
use crate::report::{Row, Table};
use crate::server;

/// How one scenario is run.
pub struct Scenario {
    pub title: String,
    pub path: &'static str,
    pub requests: usize,
    pub rounds: usize,
    pub concurrency: usize,
    /// Pin client and server to this CPU (both on the same one).
    pub pin: Option<usize>,
    /// Serve over TLS (`https://localhost`, the CA of `server::tls_pair`).
    pub tls: bool,
    /// The clients to compare; the first is the baseline of the ratios.
    pub clients: fn() -> Vec<Bench>,
}

impl Scenario {
    /// Sequential requests, client and server pinned to CPU 0, 9 rounds:
    /// the scenario every pairwise comparison uses.
    pub fn pinned(
        title: &str,
        path: &'static str,
        requests: usize,
        tls: bool,
        clients: fn() -> Vec<Bench>,
    ) -> Scenario {
        Scenario {
            title: title.to_owned(),
            path,
            requests,
            rounds: 9,
            concurrency: 1,
            pin: Some(0),
            tls,
            clients,
        }
    }
}

#[derive(Default, Clone)]
struct Totals {
    requests: u64,
    wall: Duration,
    cpu: Duration,
    latencies: Vec<Duration>,
    /// Requests per second of each round.
    rates: Vec<f64>,
}

/// Runs the scenario on a fresh server, on a client thread of its own.
pub fn run(s: &Scenario) -> Table {
    let srv = serve(s.pin, s.tls);
    let url = srv.url(s.path);
    let (requests, rounds, concurrency, pin, make) =
        (s.requests, s.rounds, s.concurrency, s.pin, s.clients);
    let totals = std::thread::spawn(move || {
        if let Some(cpu) = pin {
            core_affinity::set_for_current(core_affinity::CoreId { id: cpu });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        rt.block_on(async move {
            let clients = make();
            for c in &clients {
                for _ in 0..200 {
                    c.get(&url).await;
                }
            }
            let mut totals = vec![Totals::default(); clients.len()];
            for round in 0..rounds {
                for k in 0..clients.len() {
                    let i = (round + k) % clients.len();
                    let batch = if concurrency <= 1 {
                        sequential(&clients[i], &url, requests).await
                    } else {
                        concurrent(&clients[i], &url, requests, concurrency).await
                    };
                    let t = &mut totals[i];
                    t.rates
                        .push(batch.requests as f64 / batch.wall.as_secs_f64());
                    t.requests += batch.requests;
                    t.wall += batch.wall;
                    t.cpu += batch.cpu;
                    t.latencies.extend(batch.latencies);
                }
            }
            clients
                .iter()
                .map(|c| c.name())
                .zip(totals)
                .collect::<Vec<_>>()
        })
    })
    .join()
    .expect("client thread");
    // Each round's rate of the baseline (the first client), in round order.
    let baseline: Vec<f64> = totals
        .first()
        .map(|(_, t)| t.rates.clone())
        .unwrap_or_default();
    let rows = totals
        .into_iter()
        .map(|(name, mut t)| {
            t.latencies.sort_unstable();
            let pct = |p: f64| {
                t.latencies
                    .get(
                        ((t.latencies.len() as f64 * p) as usize)
                            .min(t.latencies.len().saturating_sub(1)),
                    )
                    .copied()
                    .unwrap_or_default()
            };
            // Paired: each round's rate over the baseline's in that round,
            // so drift between rounds cancels out of the ratio.
            let ratios: Vec<f64> = t
                .rates
                .iter()
                .zip(&baseline)
                .map(|(rate, base)| rate / base)
                .collect();
            Row {
                name,
                rps: median(t.rates),
                p50: pct(0.50),
                p99: pct(0.99),
                cpu_per_req: t.cpu / t.requests.max(1) as u32,
                ratio: Some(median(ratios)),
            }
        })
        .collect();
    Table {
        title: format!("{} ({} connections accepted)", s.title, srv.connections()),
        rows,
    }
}

/// The median of `values` (0 for none).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

async fn sequential(client: &Bench, url: &str, n: usize) -> Totals {
    let mut latencies = Vec::with_capacity(n);
    let cpu = ThreadTime::now();
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        client.get(url).await;
        latencies.push(t.elapsed());
    }
    Totals {
        requests: n as u64,
        wall: start.elapsed(),
        cpu: cpu.elapsed(),
        latencies,
        rates: Vec::new(),
    }
}

async fn concurrent(client: &Bench, url: &str, n: usize, tasks: usize) -> Totals {
    let per_task = n / tasks;
    let cpu = ThreadTime::now();
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let t = Instant::now();
                    client.get(&url).await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for h in handles {
        latencies.extend(h.await.expect("task"));
    }
    Totals {
        requests: (per_task * tasks) as u64,
        wall: start.elapsed(),
        cpu: cpu.elapsed(),
        latencies,
        rates: Vec::new(),
    }
}

/// A fresh server, over TLS or not, pinned to `cpu` if given.
fn serve(cpu: Option<usize>, tls: bool) -> server::Server {
    if tls {
        server::start_tls(cpu, server::tls_pair().0.clone())
    } else {
        server::start(cpu)
    }
}

/// What building a client costs: the mean of many builds after a first one.
pub fn build_cost() -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let _guard = rt.enter();
    let mean = |n: u32, f: &dyn Fn()| {
        f();
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed() / n
    };
    let session = mean(2000, &|| drop(http_session::Session::new()));
    let ca = &crate::server::tls_pair().1;
    let with_root = mean(2000, &|| {
        let built = http_session::Session::builder()
            .add_root_certificate_pem(ca.as_bytes())
            .build();
        drop(built.expect("session with a root"));
    });
    // A machine with `SSL_CERT_FILE` set: the system bundle as extra roots.
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    let with_env = std::path::Path::new(bundle).exists().then(|| {
        std::env::set_var("SSL_CERT_FILE", bundle);
        let t = mean(2000, &|| {
            let built = http_session::Session::builder()
                .add_root_certificate_pem(ca.as_bytes())
                .build();
            drop(built.expect("session with SSL_CERT_FILE"));
        });
        std::env::remove_var("SSL_CERT_FILE");
        t
    });
    let raw = mean(2000, &|| drop(crate::clients::Bench::raw()));
    let reqwest = mean(20, &|| drop(reqwest::Client::new()));
    let env_line = with_env.map_or_else(
        || format!("  (no {bundle}: the SSL_CERT_FILE row is skipped)\n"),
        |t| format!("  the same, SSL_CERT_FILE set      {t:>10.2?}   ({bundle})\n"),
    );
    format!(
        "== building a client (mean, after a first build)\n\
         http-session Session::new()   {session:>10.2?}\n\
         http-session, an extra root   {with_root:>10.2?}\n\
         {env_line}\
         hyper-util Client (raw)       {raw:>10.2?}\n\
         reqwest Client::new()         {reqwest:>10.2?}   ({:.0}x ours)\n",
        reqwest.as_secs_f64() / session.as_secs_f64()
    )
}

/// Runs one client alone for `n` requests (for `perf record`), sequential
/// or over `BENCH_TASKS` concurrent tasks. `raw-cookies`, `session-cookies`
/// and `session-bare-cookies` GET `/cookies` (the cookie round trip;
/// `session-bare*` is the session sending raw's request), `raw-https` and
/// `session-https` GET `/small` over TLS; the others GET `/small`.
pub fn profile(name: &str, n: usize) {
    let (path, tls) = match name {
        "raw-cookies" | "session-cookies" | "session-bare-cookies" => ("/cookies", false),
        "raw-https" | "session-https" => ("/small", true),
        "session-cache-hit" => ("/cacheable", false),
        _ => ("/small", false),
    };
    let srv = serve(None, tls);
    let url = srv.url(path);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async move {
        let client = match name {
            "raw" => Bench::raw(),
            "reqwest" => Bench::reqwest(),
            "session-retry" => Bench::retry_pair().pop().expect("two sessions"),
            "raw-cookies" => Bench::raw_jar(),
            "raw-https" => Bench::raw_tls(),
            "session-https" => Bench::session_tls(),
            "session-bare" | "session-bare-cookies" => Bench::session_bare(),
            "session-cache-miss" | "session-cache-hit" => Bench::cached(
                "session + cache",
                http_session::cache::store::MemoryStore::new(64 << 20),
            ),
            _ => Bench::session(),
        };
        let tasks: usize = std::env::var("BENCH_TASKS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let t = if tasks > 1 {
            concurrent(&client, &url, n, tasks).await
        } else {
            sequential(&client, &url, n).await
        };
        println!(
            "{}: {:.0} req/s, cpu/req {:?}",
            client.name(),
            n as f64 / t.wall.as_secs_f64(),
            t.cpu / n as u32
        );
    });
}
