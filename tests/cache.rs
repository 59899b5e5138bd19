//! The cache in a Session: below the redirects (each hop cached on its own),
//! above the retries and the cookie jar.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_session::cache::{Cache, CacheStatus};
use http_session::retry::{Retry, RetryHistory};
use http_session::Session;
use support::server::{self, response, Req};

fn status(res: &http_session::Response) -> CacheStatus {
    *res.extensions()
        .get::<CacheStatus>()
        .expect("a CacheStatus")
}

#[tokio::test]
async fn a_second_get_is_a_hit_and_makes_no_attempt() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |_req: Req| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            let mut res = response(200, "cached");
            res.headers_mut()
                .insert("cache-control", "max-age=60".parse().unwrap());
            res
        }
    });
    let session = Session::builder()
        .cache(Cache::private())
        .retry(Retry::new().total(2))
        .build()
        .unwrap();
    let first = session.get(srv.url("/a")).send().await.unwrap();
    assert_eq!(status(&first), CacheStatus::Miss);
    assert!(first.extensions().get::<RetryHistory>().is_some());
    assert_eq!(first.text().await.unwrap(), "cached");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = session.get(srv.url("/a")).send().await.unwrap();
    assert_eq!(status(&second), CacheStatus::Hit);
    // The retry layer below the cache was never reached.
    assert!(second.extensions().get::<RetryHistory>().is_none());
    assert_eq!(second.text().await.unwrap(), "cached");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn each_redirect_hop_is_cached_a_301_too() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |req: Req| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut res = if req.uri.path() == "/old" {
                let mut res = response(301, "");
                res.headers_mut()
                    .insert("location", "/new".parse().unwrap());
                res
            } else {
                response(200, "new")
            };
            res.headers_mut()
                .insert("cache-control", "max-age=60".parse().unwrap());
            res
        }
    });
    let session = Session::builder().cache(Cache::private()).build().unwrap();
    let first = session.get(srv.url("/old")).send().await.unwrap();
    assert_eq!(first.text().await.unwrap(), "new");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = session.get(srv.url("/old")).send().await.unwrap();
    assert_eq!(second.history().len(), 1);
    assert_eq!(status(&second), CacheStatus::Hit);
    assert_eq!(second.text().await.unwrap(), "new");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "both hops answered from the cache"
    );
}

#[tokio::test]
async fn a_cached_set_cookie_is_not_applied_again() {
    let srv = server::http(|_req: Req| async {
        let mut res = response(200, "hello");
        res.headers_mut()
            .insert("cache-control", "max-age=60".parse().unwrap());
        res.headers_mut()
            .insert("set-cookie", "seen=1; Path=/".parse().unwrap());
        res
    });
    let session = Session::builder().cache(Cache::private()).build().unwrap();
    session
        .get(srv.url("/c"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(session.cookies().unwrap().len(), 1);
    session.cookies().unwrap().clear();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let hit = session.get(srv.url("/c")).send().await.unwrap();
    assert_eq!(status(&hit), CacheStatus::Hit);
    assert!(session.cookies().unwrap().is_empty());
}
