//! `RedisJar` against a real `redis-server` (session-testkit): the
//! conformance suite, workers writing concurrently, the per-site cap,
//! expiry, key TTLs, Redis stopped and restarted, and `CookieLayer` over a
//! loopback hyper server with two workers sharing one login.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use session_cookies::{CookieLayer, CookieStore, ManualClock, RedisJar, Url};
use session_testkit::RedisServer;
use support::suite::{self, UnderTest, SUITE_TIME};
use tower::{Layer, ServiceExt};

fn jar(redis: &RedisServer, prefix: &str) -> RedisJar {
    RedisJar::builder(&redis.url())
        .unwrap()
        .prefix(prefix)
        .build()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

async fn header(jar: &RedisJar, u: &str) -> String {
    jar.cookie_header(&url(u))
        .await
        .unwrap()
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The integer of a RESP reply (`:42\r\n`).
fn int(reply: &str) -> i64 {
    reply
        .trim()
        .trim_start_matches(':')
        .parse()
        .unwrap_or_else(|_| panic!("not an integer reply: {reply:?}"))
}

impl UnderTest for RedisJar {
    async fn set(&self, url: &Url, line: &str) {
        match HeaderValue::from_str(line) {
            Ok(value) => {
                self.store_response_cookies(url, [&value]).await.unwrap();
            }
            Err(_) => {
                let err = self.store_set_cookie(url, line).await.unwrap_err();
                assert!(err.is_rejected(), "{err}");
            }
        }
    }

    async fn header(&self, url: &Url) -> String {
        self.cookie_header(url)
            .await
            .unwrap()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_conformance_suite_passes_on_redis() {
    let redis = RedisServer::start();
    let (passed, failures) = suite::run(|name| {
        RedisJar::builder(&redis.url())
            .unwrap()
            .prefix(format!("conformance:{name}"))
            .clock(|| UNIX_EPOCH + Duration::from_secs(SUITE_TIME))
            .build()
    })
    .await;
    println!("http-state conformance on Redis: {passed} of 222 cases passed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_writing_at_once_lose_nothing() {
    let redis = RedisServer::start();
    // Two jars, two connections: two processes as far as Redis can tell.
    // (200 cookies for example.com: above the default cap of 180.)
    let worker = || {
        RedisJar::builder(&redis.url())
            .unwrap()
            .prefix("fleet")
            .max_cookies_per_domain(1000)
            .build()
    };
    let workers = [worker(), worker()];
    let mut tasks = Vec::new();
    for i in 0..300 {
        let jar = workers[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            // Two sites; one cookie in three for the whole of example.com.
            let (host, line) = match i % 3 {
                0 => ("a.example.com", format!("k{i}=v{i}; Path=/")),
                1 => (
                    "b.example.com",
                    format!("k{i}=v{i}; Path=/; Domain=example.com"),
                ),
                _ => ("example.org", format!("k{i}=v{i}; Path=/")),
            };
            jar.store_set_cookie(&url(&format!("https://{host}/p")), &line)
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let reader = worker();
    for (host, sent) in [
        ("a.example.com", [0, 1].as_slice()),
        ("b.example.com", [1].as_slice()),
        ("example.org", [2].as_slice()),
    ] {
        let h = header(&reader, &format!("https://{host}/")).await;
        let mut got: Vec<&str> = h.split("; ").collect();
        got.sort_unstable();
        let mut want: Vec<String> = (0..300)
            .filter(|i| sent.contains(&(i % 3)))
            .map(|i| format!("k{i}=v{i}"))
            .collect();
        want.sort_unstable();
        let lost: Vec<&String> = want.iter().filter(|w| !got.contains(&w.as_str())).collect();
        let extra: Vec<&&str> = got
            .iter()
            .filter(|g| !want.iter().any(|w| w == *g))
            .collect();
        assert!(
            lost.is_empty() && extra.is_empty(),
            "{host}: lost {lost:?}, extra {extra:?}"
        );
    }
    // Two sites in Redis, each a hash with its version field.
    assert_eq!(int(&redis.command("HLEN fleet:example.com")), 200 + 1);
    assert_eq!(int(&redis.command("HLEN fleet:example.org")), 100 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_cookie_from_two_workers_the_last_write_wins() {
    let redis = RedisServer::start();
    let (a, b) = (jar(&redis, "lww"), jar(&redis, "lww"));
    let u = url("https://example.com/");
    a.store_set_cookie(&u, "sid=from-a; Path=/").await.unwrap();
    b.store_set_cookie(&u, "sid=from-b; Path=/").await.unwrap();
    assert_eq!(header(&a, "https://example.com/").await, "sid=from-b");

    // Racing writes of one cookie: one value wins whole, never two copies.
    let mut tasks = Vec::new();
    for i in 0..100 {
        let jar = if i % 2 == 0 { a.clone() } else { b.clone() };
        let u = u.clone();
        tasks.push(tokio::spawn(async move {
            jar.store_set_cookie(&u, &format!("sid=w{i}; Path=/"))
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let h = header(&b, "https://example.com/").await;
    assert!(h.starts_with("sid=w") && !h.contains(';'), "{h}");
    assert_eq!(int(&redis.command("HLEN lww:example.com")), 2);
    a.store_set_cookie(&u, "sid=last; Path=/").await.unwrap();
    assert_eq!(header(&b, "https://example.com/").await, "sid=last");
}

#[tokio::test(flavor = "current_thread")]
async fn the_per_site_cap_evicts_as_the_local_jar_does() {
    let redis = RedisServer::start();
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let jar = RedisJar::builder(&redis.url())
        .unwrap()
        .prefix("cap")
        .max_cookies_per_domain(3)
        .clock(clock.clone())
        .build();
    let u = url("https://example.com/");
    jar.store_set_cookie(&u, "s=1; Secure").await.unwrap();
    for name in ["a", "b", "c", "d"] {
        clock.advance(Duration::from_secs(1));
        jar.store_set_cookie(&u, &format!("{name}=1"))
            .await
            .unwrap();
    }
    // Cookies that are not Secure go first, the least recently stored first.
    assert_eq!(header(&jar, "https://example.com/").await, "s=1; c=1; d=1");
    assert_eq!(int(&redis.command("HLEN cap:example.com")), 3 + 1);
}

#[tokio::test(flavor = "current_thread")]
async fn expired_cookies_are_deleted_and_keys_expire_with_them() {
    let redis = RedisServer::start();
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let jar = RedisJar::builder(&redis.url())
        .unwrap()
        .prefix("exp")
        .session_ttl(Duration::from_secs(3600))
        .clock(clock.clone())
        .build();
    let u = url("https://example.com/");
    jar.store_set_cookie(&u, "short=1; Max-Age=60")
        .await
        .unwrap();
    jar.store_set_cookie(&u, "long=1; Max-Age=86400")
        .await
        .unwrap();
    let ttl = int(&redis.command("TTL exp:example.com"));
    assert!((86_000..=86_400).contains(&ttl), "TTL {ttl}");

    clock.advance(Duration::from_secs(120));
    assert_eq!(header(&jar, "https://example.com/").await, "long=1");
    jar.store_set_cookie(&u, "session=1").await.unwrap();
    // `short` expired: the write deleted it.
    assert_eq!(int(&redis.command("HLEN exp:example.com")), 2 + 1);
    let ttl = int(&redis.command("TTL exp:example.com"));
    assert!((86_000..=86_400).contains(&ttl), "TTL {ttl}");

    // Max-Age=0 deletes; the last cookie gone, the key is gone.
    jar.store_set_cookie(&u, "long=; Max-Age=0").await.unwrap();
    let ttl = int(&redis.command("TTL exp:example.com"));
    assert!(
        (3_500..=3_600).contains(&ttl),
        "a session cookie's TTL: {ttl}"
    );
    jar.store_set_cookie(&u, "session=; Max-Age=0")
        .await
        .unwrap();
    assert_eq!(int(&redis.command("EXISTS exp:example.com")), 0);
    assert_eq!(header(&jar, "https://example.com/").await, "");
}

#[tokio::test(flavor = "current_thread")]
async fn every_key_has_a_ttl() {
    let redis = RedisServer::start();
    let jar = jar(&redis, "ttl");
    for site in [
        "a.example.com",
        "example.org",
        "127.0.0.1:8080",
        "localhost",
    ] {
        let u = url(&format!("http://{site}/"));
        jar.store_set_cookie(&u, "a=1").await.unwrap();
        jar.store_set_cookie(&u, "b=1; Max-Age=600").await.unwrap();
    }
    let keys = redis.command("KEYS ttl:*");
    for key in [
        "ttl:example.com",
        "ttl:example.org",
        "ttl:127.0.0.1",
        "ttl:localhost",
    ] {
        assert!(keys.contains(key), "{key} in {keys}");
        let ttl = int(&redis.command(&format!("TTL {key}")));
        assert!(ttl > 0, "{key}: TTL {ttl}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn redis_stopped_is_a_clear_error_and_restarted_works_again() {
    let redis = RedisServer::start();
    let jar = jar(&redis, "fault");
    let u = url("https://example.com/");
    jar.store_set_cookie(&u, "sid=1").await.unwrap();

    redis.stop();
    let err = jar.cookie_header(&u).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = jar.store_set_cookie(&u, "sid=2").await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the Redis error is kept"
    );
    // A jar built while Redis is down fails the same way.
    let late = jar_at(&redis, "fault");
    assert!(late.cookie_header(&u).await.unwrap_err().is_unavailable());

    redis.restart(); // empty: persistence is off
    jar.store_set_cookie(&u, "sid=3").await.unwrap();
    assert_eq!(header(&late, "https://example.com/").await, "sid=3");
}

fn jar_at(redis: &RedisServer, prefix: &str) -> RedisJar {
    jar(redis, prefix)
}

#[tokio::test(flavor = "current_thread")]
async fn slow_redis_times_out_with_a_clear_error() {
    let redis = RedisServer::start();
    let jar = RedisJar::builder(&redis.url())
        .unwrap()
        .prefix("slow")
        .response_timeout(Duration::from_millis(200))
        .build();
    let u = url("https://example.com/");
    jar.store_set_cookie(&u, "sid=1").await.unwrap();
    // Every client waits 1.5 s: slower than the jar's timeout.
    assert!(redis.command("CLIENT PAUSE 1500 ALL").starts_with("+OK"));
    let err = jar.cookie_header(&u).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(header(&jar, "https://example.com/").await, "sid=1");
}

#[tokio::test(flavor = "current_thread")]
async fn insecure_origins_do_not_shadow_secure_cookies_across_sites() {
    // With the public suffix list off, `Domain=test` is allowed: the rule
    // "leave secure cookies alone" then looks at every site under `test`.
    let redis = RedisServer::start();
    let jar = RedisJar::builder(&redis.url())
        .unwrap()
        .prefix("shadow")
        .public_suffix_list(false)
        .build();
    jar.store_set_cookie(&url("https://a.site.test/"), "sid=1; Secure")
        .await
        .unwrap();
    let err = jar
        .store_set_cookie(&url("http://b.site.test/"), "sid=2; Domain=test")
        .await
        .unwrap_err();
    assert!(err.is_rejected(), "{err}");
    assert_eq!(header(&jar, "https://a.site.test/").await, "sid=1");
}

fn site() -> support::Server {
    support::http(|parts| match parts.uri.path() {
        "/login" => support::response(200, &["sid=abc; Path=/; HttpOnly", "theme=light"], "ok"),
        "/logout" => support::response(200, &["sid=; Max-Age=0; Path=/"], "bye"),
        _ => support::response(200, &[], "page"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_workers_one_login_through_the_layer() {
    let redis = RedisServer::start();
    let server = site();
    let worker = |prefix: &str| {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        CookieLayer::with_store(jar(&redis, prefix)).layer(client)
    };
    let (a, b) = (worker("fleet"), worker("fleet"));
    let get = |path: &str| {
        Request::get(server.url(path))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };

    let res = a.clone().oneshot(get("/login")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    b.clone().oneshot(get("/private")).await.unwrap();
    assert_eq!(
        server.last_cookie("/private").as_deref(),
        Some("sid=abc; theme=light")
    );

    // An explicit Cookie header wins for the names it carries.
    let mut req = get("/private");
    req.headers_mut()
        .insert(http::header::COOKIE, "theme=dark".parse().unwrap());
    b.clone().oneshot(req).await.unwrap();
    assert_eq!(
        server.last_cookie("/private").as_deref(),
        Some("theme=dark; sid=abc")
    );

    b.clone().oneshot(get("/logout")).await.unwrap();
    a.clone().oneshot(get("/private")).await.unwrap();
    assert_eq!(
        server.last_cookie("/private").as_deref(),
        Some("theme=light")
    );

    // Redis down: the request fails, with the jar's error in the chain.
    redis.stop();
    let err = a.clone().oneshot(get("/login")).await.unwrap_err();
    let cause = err
        .downcast_ref::<session_cookies::Error>()
        .expect("the jar's error");
    assert!(cause.is_unavailable(), "{cause}");
    redis.restart();
    a.clone().oneshot(get("/login")).await.unwrap();
    let uri: http::Uri = server.url("/").parse().unwrap();
    let shared = jar(&redis, "fleet").cookies_for(&uri).await.unwrap();
    assert_eq!(shared.len(), 2);
}
