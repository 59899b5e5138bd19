//! Instructions per request, counted by valgrind's callgrind: the same
//! sequential loopback GET as `--profile`, for each client, run under
//! callgrind with one output file per thread. Unlike wall-clock ratios these
//! counts repeat exactly from run to run, whatever else the machine does, so
//! small differences (the retry layer's success path) can be compared.
//!
//! The server runs on its own thread (the second one started) and is counted
//! apart; every other thread is the client's. Each client runs twice, with
//! `n` and `5n` requests, and the difference is divided by `4n`, so what
//! happens once (building the client, the first connection) drops out.
//! Raw hyper-util and the session are also counted with 64 concurrent
//! tasks on the client's one thread (`BENCH_TASKS=64`), the case whose
//! throughput follows the client's instructions. Then pairs, baseline
//! first: the session's stack sending the request raw hyper-util sends (no
//! default headers, no `Accept-Encoding`), the cookie round trip
//! (`/cookies` sets 3 cookies, each request sends them back; raw hyper-util
//! with a minimal jar), the same sending raw's request, the cache layer on
//! a miss and on a hit, and HTTPS (raw hyper-util + hyper-rustls). Needs
//! `valgrind` on the PATH.

use std::path::Path;
use std::process::Command;

/// The clients measured, with the name `--profile` knows them by.
const CLIENTS: [(&str, &str); 4] = [
    ("raw", "hyper-util (raw)"),
    ("session", "http-session"),
    ("session-retry", "session + retry"),
    ("reqwest", "reqwest"),
];

/// The pairs counted after the main table: a title, then the raw baseline
/// and the session, with the names `--profile` knows them by.
const PAIRS: [(&str, [(&str, &str); 2]); 6] = [
    (
        "the same stack sending raw's request (no default User-Agent, Accept or Accept-Encoding)",
        [
            ("raw", "hyper-util (raw)"),
            ("session-bare", "http-session"),
        ],
    ),
    (
        "cookie round trip (3 Set-Cookie in, 3 cookies sent back)",
        [
            ("raw-cookies", "hyper-util + jar"),
            ("session-cookies", "http-session"),
        ],
    ),
    (
        "the cookie round trip, the session sending raw's request",
        [
            ("raw-cookies", "hyper-util + jar"),
            ("session-bare-cookies", "http-session"),
        ],
    ),
    (
        "the cache layer on a miss (a memory cache; `/small` has no freshness, so every GET goes to the server)",
        [
            ("session", "http-session"),
            ("session-cache-miss", "session + cache"),
        ],
    ),
    (
        "a memory-cache hit against the same GET sent (`/cacheable`)",
        [
            ("session", "http-session"),
            ("session-cache-hit", "session, cache hit"),
        ],
    ),
    (
        "HTTPS (TLS, ALPN h2 or http/1.1)",
        [
            ("raw-https", "hyper-rustls (raw)"),
            ("session-https", "http-session"),
        ],
    ),
];

/// Client and server instructions: of one run, or per request.
struct Count {
    client: u64,
    server: u64,
}

pub fn run(requests: u64) -> String {
    if Command::new("valgrind").arg("--version").output().is_err() {
        return "== instructions per request: skipped (valgrind is not installed)\n".into();
    }
    let dir = std::env::temp_dir().join(format!("session-bench-cg-{}", std::process::id()));
    if let Err(err) = std::fs::create_dir_all(&dir) {
        return format!("== instructions per request: cannot create {dir:?}: {err}\n");
    }
    let mut out = String::from(
        "== instructions per request (callgrind; sequential keep-alive GETs of 13 B; client and server threads apart)\n\
         client                 client instr   ratio   server instr\n",
    );
    let mut baseline = None;
    let mut session = None;
    for (profile, name) in CLIENTS {
        match per_request(&dir, profile, requests, 1) {
            Ok(c) => {
                let base = *baseline.get_or_insert(c.client);
                out += &format!(
                    "{name:<20} {:>14} {:>6.2}x {:>14}\n",
                    c.client,
                    c.client as f64 / base as f64,
                    c.server
                );
                match profile {
                    "session" => session = Some(c.client),
                    "session-retry" => {
                        if let Some(s) = session {
                            out += &format!(
                                "  retry layer on the success path: +{} instructions ({:.1}% of the session's client)\n",
                                c.client.saturating_sub(s),
                                (c.client as f64 / s as f64 - 1.0) * 100.0
                            );
                        }
                    }
                    _ => {}
                }
            }
            Err(err) => out += &format!("{name:<20} failed: {err}\n"),
        }
    }
    // The same difference with 64 tasks, in whole rounds of 64.
    let n = (requests / 64).max(1) * 64;
    out += "  with 64 concurrent tasks:\n";
    let mut baseline = None;
    for (profile, name) in &CLIENTS[..2] {
        match per_request(&dir, profile, n, 64) {
            Ok(Count { client, .. }) => {
                let base = *baseline.get_or_insert(client);
                out += &format!(
                    "  {name:<18} {client:>14} {:>6.2}x\n",
                    client as f64 / base as f64
                );
            }
            Err(err) => out += &format!("  {name:<18} failed: {err}\n"),
        }
    }
    for (title, pair) in PAIRS {
        out += &format!("  {title}:\n");
        let mut baseline = None;
        for (profile, name) in pair {
            match per_request(&dir, profile, requests, 1) {
                Ok(c) => {
                    let base = *baseline.get_or_insert(c.client);
                    out += &format!(
                        "  {name:<18} {:>14} {:>6.2}x {:>14}\n",
                        c.client,
                        c.client as f64 / base as f64,
                        c.server
                    );
                }
                Err(err) => out += &format!("  {name:<18} failed: {err}\n"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Instructions per request of `profile`: runs of `requests` and
/// `5 * requests` GETs over `tasks` tasks, their difference over
/// `4 * requests`, so what happens once drops out.
fn per_request(dir: &Path, profile: &str, requests: u64, tasks: u64) -> Result<Count, String> {
    let small = count(dir, profile, requests, tasks)?;
    let large = count(dir, profile, 5 * requests, tasks)?;
    let per = |a: u64, b: u64| b.saturating_sub(a) / (4 * requests);
    Ok(Count {
        client: per(small.client, large.client),
        server: per(small.server, large.server),
    })
}

/// One run of `profile` under callgrind: `requests` GETs over `tasks`
/// concurrent tasks (1: one after another).
fn count(dir: &Path, profile: &str, requests: u64, tasks: u64) -> Result<Count, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let prefix = dir.join(format!("{profile}-{requests}-{tasks}"));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--separate-threads=yes")
        .arg(format!("--callgrind-out-file={}", prefix.display()))
        .arg(&exe)
        .args(["--profile", profile])
        .env("BENCH_N", requests.to_string())
        .env("BENCH_TASKS", tasks.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("valgrind exited with {status}"));
    }
    // callgrind writes `<prefix>-01`, `-02`, ... one file per thread; thread
    // 1 is the client's runtime, thread 2 the server.
    let (mut client, mut server) = (0u64, 0u64);
    for thread in 1..=64 {
        let file = format!("{}-{thread:02}", prefix.display());
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let total = text
            .lines()
            .find_map(|l| l.strip_prefix("totals: "))
            .and_then(|t| t.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no totals in {file}"))?;
        if thread == 2 {
            server += total;
        } else {
            client += total;
        }
    }
    if client == 0 {
        return Err("callgrind wrote no thread files".into());
    }
    Ok(Count { client, server })
}
