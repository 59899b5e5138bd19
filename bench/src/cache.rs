//! The HTTP cache: a hit from each store against a loopback request (the
//! session without a cache, and raw hyper-util), all GETting `/cacheable`
//! (fresh for an hour), client and server pinned to one CPU. The Redis
//! store needs `redis-server`; without one its row is left out.

use crate::clients::Bench;
use crate::http;

/// The clients: raw hyper-util (the baseline), the session without a cache,
/// and the session with a memory, SQLite and Redis store.
fn clients() -> Vec<Bench> {
    use http_session::cache::store::{MemoryStore, SqliteStore};
    let dir = std::env::temp_dir().join(format!("session-bench-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cache folder");
    let sqlite = SqliteStore::open(dir.join("cache.db")).expect("sqlite store");
    let mut all = vec![
        Bench::raw(),
        Bench::session(),
        Bench::cached("session, memory hit", MemoryStore::new(64 << 20)),
        Bench::cached("session, SQLite hit", sqlite),
    ];
    if let Some(url) = redis_url() {
        let store = http_session::cache::store::RedisStore::open(&url).expect("redis store");
        all.push(Bench::cached("session, Redis hit", store));
    }
    all
}

/// The `redis-server` this run started, if one is installed (kept for the
/// whole run).
fn redis_url() -> Option<String> {
    static REDIS: std::sync::OnceLock<Option<session_testkit::RedisServer>> =
        std::sync::OnceLock::new();
    REDIS
        .get_or_init(|| {
            let installed = std::process::Command::new("redis-server")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            installed.then(session_testkit::RedisServer::start)
        })
        .as_ref()
        .map(session_testkit::RedisServer::url)
}

/// The throughput table.
pub fn run(scale: usize) -> String {
    let s = http::Scenario::pinned(
        "HTTP cache: GET of a response fresh for an hour, pinned to CPU 0, 9 rounds (a hit never reaches the server)",
        "/cacheable",
        1500 * scale,
        false,
        clients,
    );
    http::run(&s).to_string()
}
