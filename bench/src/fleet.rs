//! A fleet: N workers (threads, each with its own runtime and `Session`)
//! sharing one cookie jar in Redis, against one worker, against a loopback
//! server whose every response sets three cookies (so every request reads
//! the jar from Redis and every response writes it back). The baseline is
//! one worker with the local jar.

use std::time::{Duration, Instant};

use crate::server;

/// One worker's session: the local jar, or the fleet's jar in Redis.
fn session(redis: Option<&str>) -> http_session::Session {
    let builder = http_session::Session::builder();
    let builder = match redis {
        Some(url) => {
            let jar = http_session::cookies::RedisJar::builder(url)
                .expect("redis url")
                .prefix("bench:fleet")
                .build();
            builder.redis_cookie_jar(jar)
        }
        None => builder,
    };
    builder.build().expect("session")
}

/// `workers` threads sending `per_worker` sequential GETs each; the total
/// rate in requests per second.
fn rate(url: &str, redis: Option<&str>, workers: usize, per_worker: usize) -> f64 {
    let started = Instant::now();
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (url, redis) = (url.to_owned(), redis.map(str::to_owned));
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("worker runtime");
                rt.block_on(async move {
                    let session = session(redis.as_deref());
                    for _ in 0..per_worker {
                        let res = session.get(&url).send().await.expect("get");
                        res.bytes().await.expect("body");
                    }
                });
            })
        })
        .collect();
    for t in threads {
        t.join().expect("worker");
    }
    (workers * per_worker) as f64
        / started
            .elapsed()
            .max(Duration::from_micros(1))
            .as_secs_f64()
}

/// Runs the fleet scenarios; a note instead when `redis-server` is missing.
pub fn run(quick: bool) -> String {
    let installed = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return "== fleet: skipped, no redis-server (apt-get install redis-server)\n".into();
    }
    let redis = session_testkit::RedisServer::start();
    let srv = server::start(None);
    let url = srv.url("/cookies");
    let n = if quick { 300 } else { 1500 };
    let local = rate(&url, None, 1, n);
    let one = rate(&url, Some(&redis.url()), 1, n);
    let four = rate(&url, Some(&redis.url()), 4, n / 2);
    format!(
        "== fleet: workers sharing one cookie jar in Redis (each response sets 3 cookies, each request sends them)\n\
         1 worker, local jar           {local:>9.0} req/s\n\
         1 worker, jar in Redis        {one:>9.0} req/s   ({:.2}x the local jar)\n\
         4 workers, one jar in Redis   {four:>9.0} req/s   ({:.2}x one worker with Redis)\n",
        one / local,
        four / one
    )
}
