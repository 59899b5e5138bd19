//! The SQLite store: persistence, writers in two processes, and a writer
//! killed with SIGKILL mid-write.
#![cfg(feature = "sqlite")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode};
use session_cache::store::{Key, Meta, SqliteStore, Store, VariantKey};
use session_cache::{Cache, CacheStatus};
use support::*;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("session-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("cache.sqlite")
}

fn key(n: u64) -> Key {
    let mut bytes = [0; 32];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    Key::from_bytes(bytes)
}

/// Entry `n`: `len` bytes of `n % 251`, its length in the head.
fn meta(n: u64, len: usize) -> Meta {
    let now = SystemTime::now();
    let mut headers = HeaderMap::new();
    headers.insert("x-len", HeaderValue::from(len));
    headers.insert("x-n", HeaderValue::from(n));
    Meta::new(
        &format!("http://a.test/{n}"),
        VariantKey::NONE,
        StatusCode::OK,
        headers,
        now,
        now + Duration::from_secs(3600),
    )
}

async fn write(store: &SqliteStore, n: u64, len: usize) {
    let mut w = store.begin(&key(n), meta(n, len)).await.unwrap();
    let byte = (n % 251) as u8;
    let mut left = len;
    while left > 0 {
        let take = left.min(100_000);
        w.write(Bytes::from(vec![byte; take])).await.unwrap();
        left -= take;
    }
    w.commit().await.unwrap();
}

/// Every stored entry reads whole and as written.
async fn check_all(store: &SqliteStore, upto: u64) -> usize {
    let mut found = 0;
    for n in 0..upto {
        for stored in store.lookup(&key(n)).await.unwrap() {
            let len: usize = stored.meta.headers()["x-len"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let mut body = store.body(&key(n), stored.id).await.unwrap().unwrap();
            let mut got = Vec::new();
            while let Some(chunk) = body.next().await {
                got.extend_from_slice(&chunk.unwrap());
            }
            assert_eq!(got.len(), len, "entry {n} is whole");
            assert!(
                got.iter().all(|b| *b == (n % 251) as u8),
                "entry {n} is its own"
            );
            found += 1;
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_survive_reopening_and_variants_coexist() {
    let path = temp("reopen");
    {
        let store = SqliteStore::open(&path).unwrap();
        write(&store, 1, 10).await;
        write(&store, 2, 700_000).await;
        // A second variant of key 1, and a replacement of the first.
        let mut other = meta(1, 3);
        other = Meta::decode(&other.encode().unwrap()).unwrap();
        let mut w = store
            .begin(&key(1), {
                let m = other;
                let now = SystemTime::now();
                Meta::new(
                    m.url(),
                    VariantKey::from_bytes([9; 32]),
                    m.status(),
                    m.headers().clone(),
                    now,
                    now + Duration::from_secs(60),
                )
            })
            .await
            .unwrap();
        w.write(Bytes::from_static(&[1, 1, 1])).await.unwrap();
        w.commit().await.unwrap();
        write(&store, 1, 12).await;
        // An aborted write leaves nothing.
        let mut w = store.begin(&key(3), meta(3, 5)).await.unwrap();
        w.write(Bytes::from_static(b"xx")).await.unwrap();
        drop(w);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.lookup(&key(1)).await.unwrap().len(), 2);
    assert!(store.lookup(&key(3)).await.unwrap().is_empty());
    assert_eq!(check_all(&store, 4).await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn capacity_and_entry_cap() {
    let path = temp("capacity");
    let store = SqliteStore::open_with(&path, 2_000_000, Duration::from_secs(5))
        .unwrap()
        .max_entry_size(600_000);
    let mut w = store.begin(&key(1), meta(1, 700_000)).await.unwrap();
    let mut refused = false;
    for _ in 0..7 {
        if w.write(Bytes::from(vec![1; 100_000])).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "past the entry cap");
    drop(w);
    for n in 0..10 {
        write(&store, n, 500_000).await;
    }
    assert!(store.size().unwrap() <= 2_000_000);
    assert!(check_all(&store, 10).await <= 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_layer_over_sqlite_hits_after_a_restart() {
    let srv = server(|_| async { response(200, &[("cache-control", "max-age=60")], "disk") }).await;
    let path = temp("layer");
    {
        let mut c = client(Cache::private().store(SqliteStore::open(&path).unwrap()));
        assert_eq!(
            send(&mut c, get(&srv.url("/d"))).await.cache,
            CacheStatus::Miss
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut c = client(Cache::private().store(SqliteStore::open(&path).unwrap()));
    let hit = send(&mut c, get(&srv.url("/d"))).await;
    assert_eq!((hit.cache, hit.body.as_str()), (CacheStatus::Hit, "disk"));
    assert_eq!(srv.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_on_threads_share_the_file() {
    let path = temp("threads");
    let mut tasks = Vec::new();
    for t in 0..4u64 {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            // Each its own connection, as separate processes would have.
            let store = SqliteStore::open(&path).unwrap();
            for i in 0..25 {
                write(&store, t * 100 + i, 20_000).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(check_all(&store, 400).await, 100);
}

/// The child of the process tests: writes entries to `SESSION_CACHE_CHILD`
/// (`path;first;count`, count 0 = for ever). Does nothing in a normal run.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var("SESSION_CACHE_CHILD") else {
        return;
    };
    let mut parts = spec.split(';');
    let path = PathBuf::from(parts.next().unwrap());
    let first: u64 = parts.next().unwrap().parse().unwrap();
    let count: u64 = parts.next().unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = SqliteStore::open(&path).unwrap();
        let mut n = first;
        loop {
            write(&store, n, 300_000 + (n as usize % 7) * 100_000).await;
            n += 1;
            if count != 0 && n >= first + count {
                break;
            }
        }
    });
}

fn spawn_child(path: &Path, first: u64, count: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(
            "SESSION_CACHE_CHILD",
            format!("{};{first};{count}", path.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_write_without_database_is_locked() {
    let path = temp("processes");
    SqliteStore::open(&path).unwrap();
    let a = spawn_child(&path, 0, 30);
    let b = spawn_child(&path, 1000, 30);
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a writer failed: {stderr}");
        assert!(!stderr.contains("locked"), "{stderr}");
    }
    let store = SqliteStore::open(&path).unwrap();
    let mut found = check_all(&store, 30).await;
    for n in 1000..1030 {
        found += store.lookup(&key(n)).await.unwrap().len();
    }
    assert_eq!(found, 60);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writer_killed_mid_write_leaves_no_torn_entry() {
    let path = temp("kill");
    SqliteStore::open(&path).unwrap();
    let mut child = spawn_child(&path, 0, 0);
    // Let it commit some entries, then SIGKILL it (mid-write: it never
    // stops writing).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let store = SqliteStore::open(&path).unwrap();
        if check_all(&store, 200).await >= 5 || std::time::Instant::now() > deadline {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(37)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let found = check_all(&store, 1000).await;
    assert!(found >= 5, "committed entries survive: {found}");
}
