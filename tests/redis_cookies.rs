//! Many workers, one login: sessions sharing a `RedisJar` (a real
//! redis-server from session-testkit) over a loopback server, and what a
//! request does when Redis is down.

mod support;

use std::error::Error as _;

use http::header::{COOKIE, SET_COOKIE};
use http::HeaderValue;
use http_session::cookies::RedisJar;
use http_session::Session;
use session_testkit::RedisServer;
use support::server::{self, response, Req};

fn worker(redis: &RedisServer) -> Session {
    let jar = RedisJar::builder(&redis.url())
        .unwrap()
        .prefix("workers")
        .build();
    Session::builder().redis_cookie_jar(jar).build().unwrap()
}

/// `/login` sets a session cookie; `/protected` needs it.
fn login_server() -> server::Server {
    server::http(|req: Req| async move {
        let cookie = req
            .headers
            .get(COOKIE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        match req.uri.path() {
            "/login" => {
                let mut res = response(200, "welcome");
                res.headers_mut().append(
                    SET_COOKIE,
                    HeaderValue::from_static("session=abc123; Path=/; HttpOnly"),
                );
                res
            }
            "/protected" if cookie.contains("session=abc123") => response(200, "the secret page"),
            "/protected" => response(403, "log in first"),
            _ => response(404, ""),
        }
    })
}

#[tokio::test]
async fn one_worker_logs_in_every_worker_is_logged_in() {
    let redis = RedisServer::start();
    let srv = login_server();
    let (a, b) = (worker(&redis), worker(&redis));
    assert!(a.cookies().is_none(), "no local jar");

    assert_eq!(
        b.get(srv.url("/protected")).send().await.unwrap().status(),
        403
    );
    assert_eq!(a.get(srv.url("/login")).send().await.unwrap().status(), 200);
    let res = b.get(srv.url("/protected")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "the secret page");

    // Redis down: the request fails, and says why.
    redis.stop();
    let err = b.get(srv.url("/protected")).send().await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    let cause = err
        .source()
        .and_then(|e| e.downcast_ref::<http_session::cookies::Error>())
        .expect("the jar's error in the chain");
    assert!(cause.is_unavailable(), "{cause}");

    // Back (empty: no persistence): log in again, and it works.
    redis.restart();
    a.get(srv.url("/login")).send().await.unwrap();
    assert_eq!(
        b.get(srv.url("/protected")).send().await.unwrap().status(),
        200
    );
}

#[test]
fn a_cookie_file_does_not_go_with_a_redis_jar() {
    let jar = RedisJar::builder("redis://127.0.0.1:1/").unwrap().build();
    let err = Session::builder()
        .redis_cookie_jar(jar)
        .cookie_file(
            "cookies.json",
            http_session::cookies::persist::Format::Json,
            false,
        )
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
}
