//! The cache layer over a real loopback server and hyper-util's client.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use session_cache::store::{
    BoxFuture, ChunkStream, EntryId, EntryWriter, Key, MemoryStore, Meta, Store, Stored,
};
use session_cache::{BoxError, Cache, CacheControl, CachePartition, CacheStatus, Expiry};
use support::*;
use tower::{Service, ServiceExt};

#[tokio::test(flavor = "multi_thread")]
async fn hit_then_revalidated_with_a_304_merged() {
    let srv = server(|req| async move {
        if req
            .headers()
            .get(header::IF_NONE_MATCH)
            .map(|v| v.as_bytes())
            == Some(b"\"v1\"")
        {
            return response(
                304,
                &[
                    ("etag", "\"v1\""),
                    ("x-fresh", "yes"),
                    ("x-added", "by the 304"),
                    ("content-length", "0"),
                    ("cache-control", "max-age=0"),
                ],
                "",
            );
        }
        if req.uri().path() == "/fresh" {
            return response(200, &[("cache-control", "max-age=60")], "fresh body");
        }
        response(
            200,
            &[
                ("etag", "\"v1\""),
                ("x-fresh", "no"),
                ("cache-control", "max-age=0"),
            ],
            "stored body",
        )
    })
    .await;
    let mut c = client(Cache::private());

    let a = send(&mut c, get(&srv.url("/fresh"))).await;
    assert_eq!(
        (a.cache, a.body.as_str()),
        (CacheStatus::Miss, "fresh body")
    );
    let b = send(&mut c, get(&srv.url("/fresh"))).await;
    assert_eq!((b.cache, b.body.as_str()), (CacheStatus::Hit, "fresh body"));
    assert!(b.headers.contains_key(header::AGE));
    assert_eq!(srv.hits(), 1);

    let a = send(&mut c, get(&srv.url("/etag"))).await;
    assert_eq!(a.cache, CacheStatus::Miss);
    let b = send(&mut c, get(&srv.url("/etag"))).await;
    assert_eq!(b.cache, CacheStatus::Revalidated);
    assert_eq!(b.status, StatusCode::OK);
    assert_eq!(b.body, "stored body");
    assert_eq!(b.headers["x-fresh"], "yes", "the 304's headers are merged");
    assert_eq!(
        b.headers["x-added"], "by the 304",
        "a field the stored response lacked is added (RFC 9111 §3.2)"
    );
    assert_eq!(
        b.headers[header::CONTENT_LENGTH],
        "11",
        "Content-Length is never taken from the 304"
    );
    assert_eq!(srv.hits(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn vary_variants_coexist() {
    let srv = server(|req| async move {
        let lang = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        response(
            200,
            &[("cache-control", "max-age=60"), ("vary", "Accept-Language")],
            &lang,
        )
    })
    .await;
    let mut c = client(Cache::private());
    let req = |lang: &str| {
        Request::get(srv.url("/"))
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(String::new())
            .unwrap()
    };
    assert_eq!(send(&mut c, req("de")).await.cache, CacheStatus::Miss);
    assert_eq!(send(&mut c, req("en")).await.cache, CacheStatus::Miss);
    let de = send(&mut c, req("de")).await;
    let en = send(&mut c, req("en")).await;
    assert_eq!((de.cache, de.body.as_str()), (CacheStatus::Hit, "de"));
    assert_eq!((en.cache, en.body.as_str()), (CacheStatus::Hit, "en"));
    assert_eq!(srv.hits(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn private_and_shared_rules() {
    let srv = server(|req| async move {
        match req.uri().path() {
            "/private" => response(200, &[("cache-control", "private, max-age=60")], "mine"),
            "/auth" => response(200, &[("cache-control", "max-age=60")], "authed"),
            "/auth-public" => response(200, &[("cache-control", "public, max-age=60")], "public"),
            _ => response(
                200,
                &[
                    ("cache-control", "public, max-age=60"),
                    ("set-cookie", "sid=1"),
                ],
                "cookie",
            ),
        }
    })
    .await;
    let with_auth = |url: String| {
        Request::get(url)
            .header(header::AUTHORIZATION, "Bearer secret-token")
            .body(String::new())
            .unwrap()
    };

    let store = MemoryStore::default();
    let mut private = client(Cache::private().store(store.clone()));
    send(&mut private, get(&srv.url("/private"))).await;
    assert_eq!(
        send(&mut private, get(&srv.url("/private"))).await.cache,
        CacheStatus::Hit
    );
    send(&mut private, with_auth(srv.url("/auth"))).await;
    assert_eq!(
        send(&mut private, with_auth(srv.url("/auth"))).await.cache,
        CacheStatus::Hit
    );

    let shared_store = MemoryStore::default();
    let mut shared = client(Cache::shared().store(shared_store.clone()));
    send(&mut shared, get(&srv.url("/private"))).await;
    assert_eq!(
        send(&mut shared, get(&srv.url("/private"))).await.cache,
        CacheStatus::Miss
    );
    send(&mut shared, with_auth(srv.url("/auth"))).await;
    assert_eq!(
        send(&mut shared, with_auth(srv.url("/auth"))).await.cache,
        CacheStatus::Miss
    );
    send(&mut shared, with_auth(srv.url("/auth-public"))).await;
    assert_eq!(
        send(&mut shared, with_auth(srv.url("/auth-public")))
            .await
            .cache,
        CacheStatus::Hit
    );
    // A public response with Set-Cookie is stored without it: another
    // identity never gets the cookie.
    let first = send(&mut shared, get(&srv.url("/cookie"))).await;
    assert_eq!(first.headers["set-cookie"], "sid=1");
    let second = send(&mut shared, get(&srv.url("/cookie"))).await;
    assert_eq!(second.cache, CacheStatus::Hit);
    assert!(!second.headers.contains_key("set-cookie"));

    // No credential inside any entry, in either mode.
    for store in [&store, &shared_store] {
        for path in ["/auth", "/auth-public"] {
            let view_key = entries_for(store, &srv.url(path)).await;
            for meta in view_key {
                let bytes = meta.encode().unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains("secret-token"), "{text}");
            }
        }
    }
}

/// Every stored head whose URL is `url` (the test reads the store through
/// the layer's key by asking a fresh lookup of each of its keys).
async fn entries_for(store: &MemoryStore, url: &str) -> Vec<Meta> {
    store
        .heads()
        .into_iter()
        .filter(|m| m.url() == url)
        .map(|m| (*m).clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ignored_parameters_share_an_entry() {
    let srv = server(|_| async { response(200, &[("cache-control", "max-age=60")], "x") }).await;
    let mut c = client(Cache::private().ignored_parameters(["api_key", "ts"]));
    send(&mut c, get(&srv.url("/a?q=1&api_key=one&ts=5"))).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/a?q=1&api_key=two")))
            .await
            .cache,
        CacheStatus::Hit
    );
    assert_eq!(
        send(&mut c, get(&srv.url("/a?q=2&api_key=two")))
            .await
            .cache,
        CacheStatus::Miss
    );
    assert_eq!(srv.hits(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn expiry_overrides_by_url_pattern_never_override_must_revalidate() {
    let srv = server(|req| async move {
        match req.uri().path() {
            "/must" => response(
                200,
                &[
                    ("cache-control", "max-age=0, must-revalidate"),
                    ("etag", "\"m\""),
                ],
                "must",
            ),
            _ => response(200, &[], "no headers"),
        }
    })
    .await;
    let mut c = client(
        Cache::private()
            .expire_urls("*/static/", Expiry::After(Duration::from_secs(60)))
            .expire_urls("*/must", Expiry::After(Duration::from_secs(60)))
            .expire_urls("*/live/", Expiry::DoNotCache)
            .expire_after(Expiry::After(Duration::from_secs(60))),
    );
    send(&mut c, get(&srv.url("/static/a.js"))).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/static/a.js"))).await.cache,
        CacheStatus::Hit
    );
    send(&mut c, get(&srv.url("/live/feed"))).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/live/feed"))).await.cache,
        CacheStatus::Miss
    );
    send(&mut c, get(&srv.url("/other"))).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/other"))).await.cache,
        CacheStatus::Hit
    );
    // must-revalidate keeps its own freshness (none): asked again each time.
    send(&mut c, get(&srv.url("/must"))).await;
    let again = send(&mut c, get(&srv.url("/must"))).await;
    assert_eq!(
        again.cache,
        CacheStatus::Miss,
        "the origin answered 200 to the revalidation"
    );
    assert_eq!(srv.hits(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn post_is_opt_in_and_keyed_by_body() {
    let srv = server(|req| async move {
        let body = req.into_body().collect().await.unwrap().to_bytes();
        response(
            200,
            &[("cache-control", "max-age=60")],
            &String::from_utf8_lossy(&body),
        )
    })
    .await;
    let post = |body: &str| Request::post(srv.url("/q")).body(body.to_owned()).unwrap();
    let mut plain = client(Cache::private());
    send(&mut plain, post("a")).await;
    assert_eq!(send(&mut plain, post("a")).await.cache, CacheStatus::Miss);

    let mut c = client(Cache::private().methods([Method::GET, Method::HEAD, Method::POST]));
    send(&mut c, post("a")).await;
    let hit = send(&mut c, post("a")).await;
    assert_eq!((hit.cache, hit.body.as_str()), (CacheStatus::Hit, "a"));
    let other = send(&mut c, post("b")).await;
    assert_eq!((other.cache, other.body.as_str()), (CacheStatus::Miss, "b"));
    assert_eq!(srv.hits(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_if_cached_refresh_and_reload() {
    let srv = server(|req| async move {
        if req.headers().contains_key(header::IF_NONE_MATCH) {
            return response(304, &[("etag", "\"e\"")], "");
        }
        response(
            200,
            &[("cache-control", "max-age=60"), ("etag", "\"e\"")],
            "body",
        )
    })
    .await;
    let mut c = client(Cache::private());
    let with = |control: CacheControl| {
        let mut req = get(&srv.url("/x"));
        req.extensions_mut().insert(control);
        req
    };
    let miss = send(&mut c, with(CacheControl::OnlyIfCached)).await;
    assert_eq!(miss.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(srv.hits(), 0);
    send(&mut c, get(&srv.url("/x"))).await;
    let hit = send(&mut c, with(CacheControl::OnlyIfCached)).await;
    assert_eq!((hit.status, hit.cache), (StatusCode::OK, CacheStatus::Hit));
    let refreshed = send(&mut c, with(CacheControl::Refresh)).await;
    assert_eq!(refreshed.cache, CacheStatus::Revalidated);
    let reloaded = send(&mut c, with(CacheControl::Reload)).await;
    assert_eq!(reloaded.cache, CacheStatus::Miss);
    assert_eq!(srv.hits(), 3);
    // The request's own Cache-Control: only-if-cached.
    let req = Request::get(srv.url("/nothing"))
        .header(header::CACHE_CONTROL, "only-if-cached")
        .body(String::new())
        .unwrap();
    assert_eq!(send(&mut c, req).await.status, StatusCode::GATEWAY_TIMEOUT);
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_if_error_on_5xx_and_connection_errors_not_on_404_or_403() {
    let status = Arc::new(AtomicUsize::new(200));
    let s = status.clone();
    let srv = server(move |req| {
        let code = s.load(Ordering::SeqCst) as u16;
        async move {
            let cc = if req.uri().path() == "/must" {
                "max-age=0, must-revalidate, stale-if-error=60"
            } else {
                "max-age=0, stale-if-error=60"
            };
            response(code, &[("cache-control", cc)], &format!("{code}"))
        }
    })
    .await;
    let mut c = client(Cache::private());
    send(&mut c, get(&srv.url("/a"))).await;
    send(&mut c, get(&srv.url("/must"))).await;
    for code in [500, 502, 503, 504] {
        status.store(code, Ordering::SeqCst);
        let stale = send(&mut c, get(&srv.url("/a"))).await;
        assert_eq!(
            (stale.status, stale.cache),
            (StatusCode::OK, CacheStatus::Stale),
            "{code}"
        );
        assert_eq!(stale.body, "200");
        let must = send(&mut c, get(&srv.url("/must"))).await;
        assert_eq!(
            must.status.as_u16(),
            code as u16,
            "must-revalidate is never served stale"
        );
    }
    for code in [404, 403] {
        status.store(code, Ordering::SeqCst);
        let answer = send(&mut c, get(&srv.url("/a"))).await;
        assert_eq!(
            (answer.status.as_u16(), answer.cache),
            (code as u16, CacheStatus::Miss)
        );
    }
    // The 404 replaced nothing storable... store a fresh 200 again, then
    // stop the server: a connection error is answered stale.
    status.store(200, Ordering::SeqCst);
    send(&mut c, get(&srv.url("/b"))).await;
    srv.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stale = send(&mut c, get(&srv.url("/b"))).await;
    assert_eq!(stale.cache, CacheStatus::Stale);
    // Without stale-if-error anywhere, the error is returned.
    let mut strict = client(Cache::private());
    let err = strict
        .ready()
        .await
        .unwrap()
        .call(get(&srv.url("/b")))
        .await;
    assert!(err.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_if_error_setting() {
    let status = Arc::new(AtomicUsize::new(200));
    let s = status.clone();
    let srv = server(move |_| {
        let code = s.load(Ordering::SeqCst) as u16;
        async move {
            response(
                code,
                &[("cache-control", "max-age=0"), ("etag", "\"1\"")],
                "v",
            )
        }
    })
    .await;
    let mut c = client(Cache::private().stale_if_error(Duration::from_secs(60)));
    send(&mut c, get(&srv.url("/"))).await;
    status.store(503, Ordering::SeqCst);
    assert_eq!(
        send(&mut c, get(&srv.url("/"))).await.cache,
        CacheStatus::Stale
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_while_revalidate_answers_at_once() {
    let srv = server(|_| async {
        response(
            200,
            &[("cache-control", "max-age=0, stale-while-revalidate=60")],
            "v",
        )
    })
    .await;
    let mut c = client(Cache::private());
    send(&mut c, get(&srv.url("/"))).await;
    let stale = send(&mut c, get(&srv.url("/"))).await;
    assert_eq!(stale.cache, CacheStatus::Stale);
    // The background revalidation reached the origin.
    for _ in 0..100 {
        if srv.hits() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(srv.hits(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_misses_make_one_origin_request() {
    let srv = server(|_| async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        response(200, &[("cache-control", "max-age=60")], "once")
    })
    .await;
    let c = client(Cache::private());
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let mut c = c.clone();
        let url = srv.url("/slow");
        tasks.push(tokio::spawn(async move { send(&mut c, get(&url)).await }));
    }
    for task in tasks {
        let a = task.await.unwrap();
        assert_eq!(a.body, "once");
    }
    assert_eq!(srv.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_caller_reads_the_first_chunk_before_the_origin_sends_the_last() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let srv = server(move |_| {
        let gate = g.clone();
        async move {
            let stream = futures_util::stream::unfold(0, move |n| {
                let gate = gate.clone();
                async move {
                    match n {
                        0 => Some((Ok(http_body::Frame::data(Bytes::from("first "))), 1)),
                        1 => {
                            gate.notified().await;
                            Some((Ok(http_body::Frame::data(Bytes::from("last"))), 2))
                        }
                        _ => None,
                    }
                }
            });
            let body = http_body_util::StreamBody::new(stream).boxed();
            let mut res = http::Response::new(body);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, "max-age=60".parse().unwrap());
            res
        }
    })
    .await;
    let mut c = client(Cache::private());
    let res = c
        .ready()
        .await
        .unwrap()
        .call(get(&srv.url("/s")))
        .await
        .unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "first ");
    gate.notify_one();
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, "last");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let hit = send(&mut c, get(&srv.url("/s"))).await;
    assert_eq!(
        (hit.cache, hit.body.as_str()),
        (CacheStatus::Hit, "first last")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_entry_cap_streams_through_unstored() {
    let srv =
        server(|_| async { response(200, &[("cache-control", "max-age=60")], &"x".repeat(100)) })
            .await;
    let mut c = client(Cache::private().max_entry_size(10));
    let a = send(&mut c, get(&srv.url("/big"))).await;
    assert_eq!(a.body.len(), 100);
    let b = send(&mut c, get(&srv.url("/big"))).await;
    assert_eq!((b.cache, b.body.len()), (CacheStatus::Miss, 100));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_dropped_early_is_not_stored() {
    let srv =
        server(|_| async { response(200, &[("cache-control", "max-age=60")], "whole") }).await;
    let mut c = client(Cache::private());
    let res = c
        .ready()
        .await
        .unwrap()
        .call(get(&srv.url("/d")))
        .await
        .unwrap();
    drop(res);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/d"))).await.cache,
        CacheStatus::Miss
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn head_is_cached_and_unsafe_methods_invalidate() {
    let srv = server(|_| async { response(200, &[("cache-control", "max-age=60")], "doc") }).await;
    let mut c = client(Cache::private());
    let head = || Request::head(srv.url("/doc")).body(String::new()).unwrap();
    send(&mut c, head()).await;
    assert_eq!(send(&mut c, head()).await.cache, CacheStatus::Hit);
    send(&mut c, get(&srv.url("/doc"))).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/doc"))).await.cache,
        CacheStatus::Hit
    );
    let put = Request::put(srv.url("/doc"))
        .body("new".to_owned())
        .unwrap();
    send(&mut c, put).await;
    assert_eq!(
        send(&mut c, get(&srv.url("/doc"))).await.cache,
        CacheStatus::Miss
    );
    assert_eq!(send(&mut c, head()).await.cache, CacheStatus::Miss);
}

#[tokio::test(flavor = "multi_thread")]
async fn partitions_never_share() {
    let srv =
        server(|_| async { response(200, &[("cache-control", "public, max-age=60")], "p") }).await;
    let mut c = client(Cache::shared());
    let req = |tenant: &str| {
        let mut req = get(&srv.url("/p"));
        req.extensions_mut().insert(CachePartition::new(tenant));
        req
    };
    send(&mut c, req("a")).await;
    assert_eq!(send(&mut c, req("a")).await.cache, CacheStatus::Hit);
    assert_eq!(send(&mut c, req("b")).await.cache, CacheStatus::Miss);
}

/// A store whose every call fails.
#[derive(Debug)]
struct Broken;

impl Store for Broken {
    fn lookup<'a>(&'a self, _: &'a Key) -> BoxFuture<'a, Result<Vec<Stored>, BoxError>> {
        Box::pin(async { Err("down".into()) })
    }
    fn body<'a>(
        &'a self,
        _: &'a Key,
        _: EntryId,
    ) -> BoxFuture<'a, Result<Option<ChunkStream>, BoxError>> {
        Box::pin(async { Err("down".into()) })
    }
    fn begin<'a>(
        &'a self,
        _: &'a Key,
        _: Meta,
    ) -> BoxFuture<'a, Result<Box<dyn EntryWriter>, BoxError>> {
        Box::pin(async { Err("down".into()) })
    }
    fn update<'a>(
        &'a self,
        _: &'a Key,
        _: EntryId,
        _: Meta,
    ) -> BoxFuture<'a, Result<bool, BoxError>> {
        Box::pin(async { Err("down".into()) })
    }
    fn remove<'a>(&'a self, _: &'a Key) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(async { Err("down".into()) })
    }
    fn clear(&self) -> BoxFuture<'_, Result<(), BoxError>> {
        Box::pin(async { Err("down".into()) })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_store_fails_open() {
    let srv = server(|_| async { response(200, &[("cache-control", "max-age=60")], "ok") }).await;
    let mut c = client(Cache::private().store(Broken));
    for _ in 0..2 {
        let a = send(&mut c, get(&srv.url("/"))).await;
        assert_eq!(
            (a.status, a.cache, a.body.as_str()),
            (StatusCode::OK, CacheStatus::Miss, "ok")
        );
    }
    assert_eq!(srv.hits(), 2);
}
