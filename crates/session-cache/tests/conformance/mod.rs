//! The contract of `session_cache::store` (see its module docs), checked
//! against any [`Store`]: every backend's tests run [`all`] (and
//! [`entry_cap`] with a store built with a small per-entry cap).

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode};
use session_cache::store::{
    BoxError, EntryId, Key, Meta, Store, Stored, TooLarge, VariantKey, MAX_VARIANTS,
};

/// A head for variant `variant`, of use for `ttl` seconds.
pub fn meta(variant: u8, ttl: u64) -> Meta {
    let now = SystemTime::now();
    Meta::new(
        "http://a.test/",
        VariantKey::from_bytes([variant; 32]),
        StatusCode::OK,
        HeaderMap::new(),
        now,
        now + Duration::from_secs(ttl),
    )
}

/// A key of the test `test` (one byte) and number `n`, distinct from every
/// other test's.
pub fn key(test: u8, n: u8) -> Key {
    let mut bytes = [0; 32];
    bytes[0] = test;
    bytes[1] = n;
    Key::from_bytes(bytes)
}

/// Writes and commits an entry.
pub async fn put<S: Store>(store: &S, key: &Key, variant: u8, body: &[&[u8]]) {
    let mut writer = store.begin(key, meta(variant, 60)).await.unwrap();
    for chunk in body {
        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    writer.commit().await.unwrap();
}

/// The body of `id`, or `None` when the store says it is gone; an error
/// mid-stream is returned as such.
pub async fn read<S: Store>(
    store: &S,
    key: &Key,
    id: EntryId,
) -> Result<Option<Vec<u8>>, BoxError> {
    let Some(mut stream) = store.body(key, id).await? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(Some(out))
}

/// The entry of `variant` among `found`.
pub fn variant(found: &[Stored], variant: u8) -> &Stored {
    found
        .iter()
        .find(|s| s.meta.variant() == VariantKey::from_bytes([variant; 32]))
        .expect("the variant is stored")
}

/// Every check below, on keys of their own.
pub async fn all<S: Store>(store: &S) {
    round_trip(store).await;
    empty_body(store).await;
    variants_coexist(store).await;
    commit_replaces(store).await;
    readers_see_old_or_new(store).await;
    abort_stores_nothing(store).await;
    expired_is_not_returned(store).await;
    update_keeps_body(store).await;
    remove_and_clear(store).await;
    at_most_max_variants(store).await;
}

/// A body of several chunks comes back whole, with its head.
pub async fn round_trip<S: Store>(store: &S) {
    let key = key(1, 0);
    let mut headers = HeaderMap::new();
    headers.insert("etag", HeaderValue::from_static("\"v1\""));
    let now = SystemTime::now();
    let head = Meta::new(
        "http://a.test/round-trip",
        VariantKey::NONE,
        StatusCode::OK,
        headers,
        now,
        now + Duration::from_secs(60),
    );
    let mut writer = store.begin(&key, head).await.unwrap();
    let mut expected = Vec::new();
    for i in 0..20u8 {
        let chunk = vec![i; 100 + usize::from(i)];
        expected.extend_from_slice(&chunk);
        writer.write(Bytes::from(chunk)).await.unwrap();
    }
    writer.commit().await.unwrap();
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].meta.url(), "http://a.test/round-trip");
    assert_eq!(found[0].meta.headers()["etag"], "\"v1\"");
    assert_eq!(found[0].meta.variant(), VariantKey::NONE);
    let body = read(store, &key, found[0].id).await.unwrap().unwrap();
    assert_eq!(body, expected);
    // Unknown keys and ids.
    assert!(store.lookup(&self::key(1, 1)).await.unwrap().is_empty());
    assert_eq!(read(store, &key, EntryId(u64::MAX)).await.unwrap(), None);
}

/// An entry without a body (a `204`, a `HEAD`).
pub async fn empty_body<S: Store>(store: &S) {
    let key = key(2, 0);
    put(store, &key, 0, &[]).await;
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(read(store, &key, found[0].id).await.unwrap().unwrap(), b"");
}

/// Two variants of one key are both kept.
pub async fn variants_coexist<S: Store>(store: &S) {
    let key = key(3, 0);
    put(store, &key, 1, &[b"english"]).await;
    put(store, &key, 2, &[b"deutsch"]).await;
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 2);
    let en = read(store, &key, variant(&found, 1).id).await.unwrap();
    let de = read(store, &key, variant(&found, 2).id).await.unwrap();
    assert_eq!(en.unwrap(), b"english");
    assert_eq!(de.unwrap(), b"deutsch");
    // Another key is another entry.
    assert!(store.lookup(&self::key(3, 1)).await.unwrap().is_empty());
}

/// Committing replaces the same variant only; the replaced id reads
/// nothing.
pub async fn commit_replaces<S: Store>(store: &S) {
    let key = key(4, 0);
    put(store, &key, 1, &[b"en", b"1"]).await;
    put(store, &key, 2, &[b"de"]).await;
    let old = variant(&store.lookup(&key).await.unwrap(), 1).id;
    put(store, &key, 1, &[b"en", b"2"]).await;
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 2);
    let new = variant(&found, 1).id;
    assert_ne!(new, old);
    assert_eq!(read(store, &key, new).await.unwrap().unwrap(), b"en2");
    assert_eq!(read(store, &key, old).await.unwrap(), None);
    let de = read(store, &key, variant(&found, 2).id).await.unwrap();
    assert_eq!(de.unwrap(), b"de");
}

/// While an entry is written, readers see the previous one (or none), and
/// the new one only once it is committed.
pub async fn readers_see_old_or_new<S: Store>(store: &S) {
    let key = key(5, 0);
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    writer.write(Bytes::from_static(b"first ")).await.unwrap();
    assert!(store.lookup(&key).await.unwrap().is_empty());
    writer.write(Bytes::from_static(b"body")).await.unwrap();
    writer.commit().await.unwrap();
    let first = store.lookup(&key).await.unwrap()[0].id;

    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    writer.write(Bytes::from_static(b"second ")).await.unwrap();
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, first);
    assert_eq!(
        read(store, &key, first).await.unwrap().unwrap(),
        b"first body"
    );
    writer.write(Bytes::from_static(b"body")).await.unwrap();
    writer.commit().await.unwrap();
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        read(store, &key, found[0].id).await.unwrap().unwrap(),
        b"second body"
    );
    assert_eq!(read(store, &key, first).await.unwrap(), None);
}

/// A writer dropped without commit leaves nothing readable, and the entry
/// it would have replaced stays.
pub async fn abort_stores_nothing<S: Store>(store: &S) {
    let key = key(6, 0);
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    writer.write(Bytes::from_static(b"half")).await.unwrap();
    drop(writer);
    assert!(store.lookup(&key).await.unwrap().is_empty());

    put(store, &key, 0, &[b"kept"]).await;
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    writer.write(Bytes::from_static(b"other")).await.unwrap();
    drop(writer);
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        read(store, &key, found[0].id).await.unwrap().unwrap(),
        b"kept"
    );
}

/// An entry past its `expires_at` is never returned.
pub async fn expired_is_not_returned<S: Store>(store: &S) {
    let key = key(7, 0);
    let mut writer = store.begin(&key, meta(0, 0)).await.unwrap();
    writer.write(Bytes::from_static(b"x")).await.unwrap();
    writer.commit().await.unwrap();
    assert!(store.lookup(&key).await.unwrap().is_empty());
}

/// `update` replaces the head and keeps the body and id; a gone id is
/// `false`.
pub async fn update_keeps_body<S: Store>(store: &S) {
    let key = key(8, 0);
    put(store, &key, 0, &[b"body"]).await;
    let id = store.lookup(&key).await.unwrap()[0].id;
    let mut headers = HeaderMap::new();
    headers.insert("etag", HeaderValue::from_static("\"new\""));
    let now = SystemTime::now();
    let head = Meta::new(
        "http://a.test/",
        VariantKey::from_bytes([0; 32]),
        StatusCode::OK,
        headers,
        now,
        now + Duration::from_secs(120),
    );
    assert!(store.update(&key, id, head.clone()).await.unwrap());
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, id);
    assert_eq!(found[0].meta.headers()["etag"], "\"new\"");
    assert_eq!(read(store, &key, id).await.unwrap().unwrap(), b"body");
    assert!(!store
        .update(&key, EntryId(u64::MAX), head.clone())
        .await
        .unwrap());
    assert!(!store.update(&self::key(8, 1), id, head).await.unwrap());
}

/// `remove` drops every variant of a key; `clear` drops everything.
pub async fn remove_and_clear<S: Store>(store: &S) {
    let (a, b) = (key(9, 0), key(9, 1));
    put(store, &a, 1, &[b"a1"]).await;
    put(store, &a, 2, &[b"a2"]).await;
    put(store, &b, 1, &[b"b1"]).await;
    let ids: Vec<EntryId> = store
        .lookup(&a)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    store.remove(&a).await.unwrap();
    assert!(store.lookup(&a).await.unwrap().is_empty());
    for id in ids {
        assert_eq!(read(store, &a, id).await.unwrap(), None);
    }
    assert_eq!(store.lookup(&b).await.unwrap().len(), 1);
    store.clear().await.unwrap();
    assert!(store.lookup(&b).await.unwrap().is_empty());
    // Still usable, and ids are not reused.
    put(store, &b, 1, &[b"again"]).await;
    let found = store.lookup(&b).await.unwrap();
    assert_eq!(
        read(store, &b, found[0].id).await.unwrap().unwrap(),
        b"again"
    );
}

/// At most [`MAX_VARIANTS`] per key, the oldest dropped.
pub async fn at_most_max_variants<S: Store>(store: &S) {
    let key = key(10, 0);
    let extra = 4u8;
    for v in 0..(MAX_VARIANTS as u8 + extra) {
        put(store, &key, v, &[&[v]]).await;
    }
    let found = store.lookup(&key).await.unwrap();
    assert_eq!(found.len(), MAX_VARIANTS);
    let newest = MAX_VARIANTS as u8 + extra - 1;
    let body = read(store, &key, variant(&found, newest).id).await.unwrap();
    assert_eq!(body.unwrap(), [newest]);
}

/// With a store whose per-entry cap is `cap` bytes: a bigger body fails
/// with [`TooLarge`] and, the writer dropped, nothing is stored; a smaller
/// one is.
pub async fn entry_cap<S: Store>(store: &S, cap: usize) {
    let key = key(11, 0);
    let mut writer = store.begin(&key, meta(0, 60)).await.unwrap();
    let half = Bytes::from(vec![1; cap / 2]);
    writer.write(half.clone()).await.unwrap();
    let err = writer.write(half.clone()).await.unwrap_err();
    assert!(err.is::<TooLarge>(), "{err}");
    drop(writer);
    assert!(store.lookup(&key).await.unwrap().is_empty());

    put(store, &key, 0, &[b"small"]).await;
    assert_eq!(store.lookup(&key).await.unwrap().len(), 1);
}
