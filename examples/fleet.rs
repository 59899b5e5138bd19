//! A fleet: N workers (threads, each with its own runtime and its own
//! `Session`) crawl one site through one Redis. They share one login (the
//! cookie jar in Redis), one HTTP cache (a shared cache in Redis) and one
//! politeness budget (a per-host rate and concurrency in Redis). The
//! embedded server counts what reaches it.
//!
//! Run it with `cargo run --example fleet --features fleet`. It starts its
//! own `redis-server` (Debian's package) on a free loopback port; without
//! one installed it says how to install it. No network is needed.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use http_session::budget::{Budget, Limits, RedisBudget};
use http_session::cache::store::RedisStore;
use http_session::cache::{Cache, CacheStatus};
use http_session::cookies::RedisJar;
use http_session::Session;
use support::{reply, Req};

const WORKERS: usize = 4;
const PAGES: usize = 12;
/// The rate the site allows, for the whole fleet.
const RATE_PER_SECOND: u32 = 20;

/// What the site saw.
#[derive(Default)]
struct Seen {
    logins: AtomicUsize,
    pages: AtomicUsize,
    arrivals: Mutex<Vec<Instant>>,
}

async fn site(seen: Arc<Seen>, req: Req) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    seen.arrivals.lock().expect("arrivals").push(Instant::now());
    let cookie = req
        .headers
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match req.path.as_str() {
        "/login" => {
            let n = seen.logins.fetch_add(1, Ordering::SeqCst) + 1;
            let mut res = reply(200, "welcome");
            let set = format!("sid=s{n}; Path=/; Max-Age=3600");
            res.headers_mut()
                .insert(SET_COOKIE, set.parse().expect("cookie"));
            res
        }
        path if path.starts_with("/page/") => {
            if !cookie.contains("sid=") {
                return reply(401, "log in first");
            }
            seen.pages.fetch_add(1, Ordering::SeqCst);
            let mut res = reply(200, format!("content of {path}"));
            // Cacheable by a shared cache: every worker may reuse it.
            res.headers_mut()
                .insert(CACHE_CONTROL, "public, max-age=60".parse().expect("value"));
            res
        }
        _ => reply(404, ""),
    }
}

/// What one worker did.
#[derive(Default, Debug)]
struct Tally {
    sent: usize,
    hits: usize,
    revalidated: usize,
    logins: usize,
}

/// One worker: its own runtime and session, every shared part in Redis.
fn worker(
    id: usize,
    redis: String,
    base: String,
    lock: Arc<session_testkit::RedisServer>,
) -> Tally {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("worker runtime");
    rt.block_on(async move {
        let jar = RedisJar::builder(&redis)
            .expect("redis url")
            .prefix("fleet:cookies")
            .build();
        let budget = Budget::new().default_limits(
            Limits::new()
                .rate(RATE_PER_SECOND, Duration::from_secs(1), 1)
                .max_concurrent(2),
        );
        let backend = RedisBudget::builder(redis.clone())
            .key_prefix("fleet:budget")
            .fallback_share(WORKERS as u32)
            .build()
            .expect("budget backend");
        let store = RedisStore::open(&redis).expect("cache store");
        let session = Session::builder()
            .redis_cookie_jar(jar)
            .budget(budget, backend)
            .cache(Cache::shared().store(store))
            .build()
            .expect("session");
        let mut tally = Tally::default();
        // Each worker walks the pages from its own starting point.
        for step in 0..PAGES {
            let page = (id * 3 + step) % PAGES;
            loop {
                let res = session
                    .get(format!("{base}/page/{page}"))
                    .send()
                    .await
                    .expect("page");
                let status = res.status();
                match res.extensions().get::<CacheStatus>() {
                    Some(CacheStatus::Hit | CacheStatus::Stale) => tally.hits += 1,
                    Some(CacheStatus::Revalidated) => {
                        tally.sent += 1;
                        tally.revalidated += 1;
                    }
                    _ => tally.sent += 1,
                }
                res.bytes().await.expect("body");
                if status != 401 {
                    break;
                }
                // Not logged in: one worker logs in for the fleet (a lock in
                // the same Redis); the others wait for the shared cookie.
                if lock
                    .command("SET fleet:login-lock 1 NX PX 5000")
                    .starts_with("+OK")
                {
                    session
                        .post(format!("{base}/login"))
                        .send()
                        .await
                        .expect("login");
                    tally.logins += 1;
                    tally.sent += 1;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        tally
    })
}

/// The most requests the site saw in any one-second window.
fn max_rate(arrivals: &[Instant]) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end].duration_since(sorted[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let installed = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("This example needs redis-server: apt-get install redis-server");
        return Ok(());
    }
    let redis = Arc::new(session_testkit::RedisServer::start());
    let seen = Arc::new(Seen::default());
    let counted = seen.clone();
    let server = support::serve(move |req| site(counted.clone(), req)).await;
    println!(
        "== {WORKERS} workers, one Redis ({}), one site ({}) allowing {RATE_PER_SECOND} requests/s",
        redis.url(),
        server.url("")
    );

    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let (url, base, lock) = (redis.url(), server.url(""), redis.clone());
            std::thread::spawn(move || worker(id, url, base, lock))
        })
        .collect();
    let mut tallies = Vec::new();
    for w in workers {
        tallies.push(w.join().map_err(|_| "a worker panicked")?);
    }

    println!("\nworker  sent  cache hits  revalidated  logins");
    for (id, t) in tallies.iter().enumerate() {
        println!(
            "{id:>6}  {:>4}  {:>10}  {:>11}  {:>6}",
            t.sent, t.hits, t.revalidated, t.logins
        );
    }
    let sum = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum::<usize>();
    println!(
        "{:>6}  {:>4}  {:>10}  {:>11}  {:>6}",
        "all",
        sum(|t| t.sent),
        sum(|t| t.hits),
        sum(|t| t.revalidated),
        sum(|t| t.logins)
    );
    let arrivals = seen.arrivals.lock().map_err(|_| "poisoned")?.clone();
    println!(
        "\nthe site saw: {} requests, {} logins, {} pages served, at most {} requests in one second \
         (allowed: {RATE_PER_SECOND}), in {:.1?}",
        arrivals.len(),
        seen.logins.load(Ordering::SeqCst),
        seen.pages.load(Ordering::SeqCst),
        max_rate(&arrivals),
        started.elapsed()
    );
    Ok(())
}
