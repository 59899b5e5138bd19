//! The store contract (`tests/conformance`) against `MemoryStore`.

mod conformance;

use session_cache::store::MemoryStore;

#[tokio::test]
async fn conformance() {
    conformance::all(&MemoryStore::default()).await;
}

#[tokio::test]
async fn entry_cap() {
    let store = MemoryStore::new(1024 * 1024).max_entry_size(10_000);
    conformance::entry_cap(&store, 10_000).await;
}
