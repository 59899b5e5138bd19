//! `RedisStore` against a real `redis-server` (`session_testkit`): the store
//! contract (`tests/conformance`), chunked bodies, a TTL on every key,
//! commits under concurrent reads, and faults (Redis stopped, restarted,
//! paused).

mod conformance;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use session_cache::store::{RedisStore, Store};
use session_testkit::RedisServer;

use conformance::{key, meta, put, read};

/// A store with a timeout that a busy test machine meets.
fn store(redis: &RedisServer) -> RedisStore {
    RedisStore::open(&redis.url())
        .unwrap()
        .timeout(Duration::from_secs(2))
}

/// Every key on the server (checked against `DBSIZE`, so that a reply cut
/// short fails the test rather than hiding keys).
fn keys(redis: &RedisServer) -> Vec<String> {
    let reply = redis.command("KEYS *");
    let keys: Vec<String> = reply
        .split("\r\n")
        .filter(|line| !line.is_empty() && !line.starts_with('*') && !line.starts_with('$'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        integer(&redis.command("DBSIZE")),
        keys.len() as i64,
        "{reply}"
    );
    keys
}

fn integer(reply: &str) -> i64 {
    reply
        .trim()
        .strip_prefix(':')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {reply:?}"))
}

fn ttl(redis: &RedisServer, key: &str) -> i64 {
    integer(&redis.command(&format!("TTL {key}")))
}

fn chunk_keys(redis: &RedisServer) -> Vec<String> {
    keys(redis)
        .into_iter()
        .filter(|k| k.contains(":chunk:"))
        .collect()
}

#[tokio::test]
async fn conformance() {
    let redis = RedisServer::start();
    // Small chunks, so that bodies span several keys.
    conformance::all(&store(&redis).chunk_size(64)).await;
}

#[tokio::test]
async fn entry_cap() {
    let redis = RedisServer::start();
    let store = store(&redis).max_entry_size(10_000).chunk_size(1_000);
    conformance::entry_cap(&store, 10_000).await;
    // The aborted entry's chunks are deleted (by a task), the small entry's
    // one chunk stays.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(chunk_keys(&redis).len(), 1);

    // A writer whose write failed never commits, even if asked to.
    let key = key(11, 1);
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    writer.write(Bytes::from(vec![1; 6_000])).await.unwrap();
    assert!(writer.write(Bytes::from(vec![1; 6_000])).await.is_err());
    assert!(writer.write(Bytes::from_static(b"x")).await.is_err());
    assert!(writer.commit().await.is_err());
    assert!(store.lookup(&key).await.unwrap().is_empty());
}

#[tokio::test]
async fn bodies_are_stored_and_read_in_chunks() {
    let redis = RedisServer::start();
    let store = store(&redis).chunk_size(1_000);
    let key = key(1, 0);
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    for i in 0..10u8 {
        writer.write(Bytes::from(vec![i; 1_000])).await.unwrap();
        // Stored as it comes, before the commit.
        assert_eq!(chunk_keys(&redis).len(), usize::from(i) + 1);
    }
    writer.commit().await.unwrap();
    let found = store.lookup(&key).await.unwrap();
    let mut stream = store.body(&key, found[0].id).await.unwrap().unwrap();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk, vec![chunks; 1_000]);
        chunks += 1;
    }
    assert_eq!(chunks, 10);

    // Small chunks are gathered up to the chunk size.
    let key = conformance::key(1, 1);
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    for _ in 0..100 {
        writer.write(Bytes::from_static(&[7; 25])).await.unwrap();
    }
    writer.commit().await.unwrap();
    assert_eq!(chunk_keys(&redis).len(), 10 + 3);
    let found = store.lookup(&key).await.unwrap();
    let body = read(&store, &key, found[0].id).await.unwrap().unwrap();
    assert_eq!(body, vec![7; 2_500]);
}

#[tokio::test]
async fn every_key_has_a_ttl() {
    let redis = RedisServer::start();
    let store = store(&redis)
        .chunk_size(8)
        .max_ttl(Duration::from_secs(120))
        .write_ttl(Duration::from_secs(30));
    // Committed: variants of two keys, one entry short-lived; TTLs capped.
    for (k, v, ttl) in [(0, 1, 3_600), (0, 2, 3_600), (1, 1, 3_600), (2, 0, 20)] {
        let mut writer = store.begin(&key(2, k), meta(v, ttl)).await.unwrap();
        for _ in 0..3 {
            writer.write(Bytes::from_static(b"8 bytes.")).await.unwrap();
        }
        writer.commit().await.unwrap();
    }
    // Revalidated: a new head (and TTL) for an entry.
    let found = store.lookup(&key(2, 1)).await.unwrap();
    assert!(store
        .update(&key(2, 1), found[0].id, meta(1, 90))
        .await
        .unwrap());
    // Being written: chunks with the short TTL.
    let mut open = store.begin(&key(2, 3), meta(0, 3_600)).await.unwrap();
    open.write(Bytes::from_static(b"half of a body"))
        .await
        .unwrap();
    // Aborted with no runtime task to clean up: left to expire.
    let mut aborted = store.begin(&key(2, 4), meta(0, 3_600)).await.unwrap();
    aborted
        .write(Bytes::from_static(b"never committed"))
        .await
        .unwrap();
    std::mem::forget(aborted);
    assert!(store.lookup(&key(2, 3)).await.unwrap().is_empty());
    assert!(store.lookup(&key(2, 4)).await.unwrap().is_empty());

    let keys = keys(&redis);
    // 3 indexes, 4 entries of 3 chunks, 2 chunks being written, the counter.
    assert_eq!(keys.len(), 3 + 4 * 3 + 2 + 1, "{keys:?}");
    for k in &keys {
        let ttl = ttl(&redis, k);
        assert!(ttl > 0, "{k} has no TTL ({ttl})");
        let limit = if k.ends_with("ids") {
            240
        } else if k.contains(&key(2, 3).to_hex()) || k.contains(&key(2, 4).to_hex()) {
            30
        } else if k.contains(&key(2, 2).to_hex()) {
            20
        } else if k.contains(&key(2, 1).to_hex()) {
            90
        } else {
            120
        };
        assert!(ttl <= limit, "{k}: TTL {ttl} > {limit}");
        assert!(ttl >= limit - 5, "{k}: TTL {ttl} < {limit} - 5");
    }
    drop(open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_readers_never_see_a_partial_entry() {
    let redis = RedisServer::start();
    let store = store(&redis).chunk_size(16);
    let key = key(3, 0);
    let done = Arc::new(AtomicBool::new(false));
    let whole = Arc::new(AtomicUsize::new(0));
    let gone = Arc::new(AtomicUsize::new(0));

    let reader = {
        let (store, done, key) = (store.clone(), done.clone(), key.clone());
        let (whole, gone) = (whole.clone(), gone.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                for stored in store.lookup(&key).await.unwrap() {
                    // Gone (replaced) before or while it is read: fine.
                    let Ok(Some(body)) = read(&store, &key, stored.id).await else {
                        gone.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    assert_eq!(body.len(), 8 * 16, "a partial body");
                    assert!(body.iter().all(|b| *b == body[0]), "a mixed body");
                    whole.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    for generation in 1..=40u8 {
        let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
        for _ in 0..8 {
            writer
                .write(Bytes::from(vec![generation; 16]))
                .await
                .unwrap();
            tokio::task::yield_now().await;
        }
        if generation % 5 == 0 {
            // Aborted: never seen.
            drop(writer);
        } else {
            writer.commit().await.unwrap();
        }
    }
    done.store(true, Ordering::Relaxed);
    reader.await.unwrap();
    let (whole, gone) = (whole.load(Ordering::Relaxed), gone.load(Ordering::Relaxed));
    eprintln!("{whole} whole reads, {gone} of replaced entries");
    assert!(whole > 0);
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(
        read(&store, &key, found[0].id).await.unwrap().unwrap(),
        vec![39; 128]
    );
}

/// Each operation fails within the timeout, plus slack for a busy machine.
async fn fails_fast<
    T,
    F: std::future::Future<Output = Result<T, session_cache::store::BoxError>>,
>(
    what: &str,
    op: F,
) {
    let start = Instant::now();
    let result = op.await;
    let took = start.elapsed();
    assert!(result.is_err(), "{what} succeeded with Redis down");
    assert!(took < Duration::from_secs(2), "{what} took {took:?}");
}

#[tokio::test]
async fn redis_down_fails_fast_then_recovers() {
    let redis = RedisServer::start();
    let store = RedisStore::open(&redis.url())
        .unwrap()
        .timeout(Duration::from_millis(300));
    let key = key(4, 0);
    put(&store, &key, 0, &[b"before"]).await;
    let id = store.lookup(&key).await.unwrap()[0].id;
    let mut writer = store
        .begin(&conformance::key(4, 1), meta(0, 60))
        .await
        .unwrap();

    redis.stop();
    fails_fast("lookup", store.lookup(&key)).await;
    fails_fast("body", async { store.body(&key, id).await.map(|_| ()) }).await;
    fails_fast("begin", async {
        store.begin(&key, meta(0, 60)).await.map(|_| ())
    })
    .await;
    // A chunk that fills the buffer (64 KiB by default) goes to Redis.
    fails_fast("write", writer.write(Bytes::from(vec![0; 70_000]))).await;
    fails_fast("update", store.update(&key, id, meta(0, 60))).await;
    fails_fast("remove", store.remove(&key)).await;
    fails_fast("clear", store.clear()).await;
    drop(writer);

    // Back (empty): the same store works again, from the first operation.
    redis.restart();
    assert!(store.lookup(&key).await.unwrap().is_empty());
    put(&store, &key, 0, &[b"after"]).await;
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(
        read(&store, &key, found[0].id).await.unwrap().unwrap(),
        b"after"
    );
}

#[tokio::test]
async fn opened_while_redis_is_down() {
    let redis = RedisServer::start();
    redis.stop();
    let store = RedisStore::open(&redis.url())
        .unwrap()
        .timeout(Duration::from_millis(300));
    fails_fast("lookup", store.lookup(&key(5, 0))).await;
    redis.restart();
    put(&store, &key(5, 0), 0, &[b"up"]).await;
    assert_eq!(store.lookup(&key(5, 0)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn slow_redis_times_out() {
    let redis = RedisServer::start();
    let store = RedisStore::open(&redis.url())
        .unwrap()
        .timeout(Duration::from_millis(300));
    let key = key(6, 0);
    put(&store, &key, 0, &[b"body"]).await;
    // Redis holds every client's commands for 1.5 s.
    assert!(redis.command("CLIENT PAUSE 1500 ALL").starts_with("+OK"));
    let start = Instant::now();
    assert!(store.lookup(&key).await.is_err());
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(
        read(&store, &key, found[0].id).await.unwrap().unwrap(),
        b"body"
    );
}
