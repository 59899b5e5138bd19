//! `CookieLayer` over a plain `hyper_util` legacy client and a real hyper
//! server on 127.0.0.1: no session-core involved.

mod support;

use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use session_cookies::{CookieLayer, Jar, Url};
use tower::{Layer, ServiceExt};

fn site() -> support::Server {
    support::http(|parts| match parts.uri.path() {
        "/login" => support::response(200, &["sid=abc; Path=/; HttpOnly", "theme=light"], "ok"),
        "/moved" => support::response(302, &["hop=1; Path=/"], ""),
        "/logout" => support::response(200, &["sid=; Max-Age=0; Path=/"], "bye"),
        _ => support::response(200, &[], "page"),
    })
}

#[tokio::test]
async fn layer_over_hyper_util_client() {
    let server = site();
    let jar = Jar::new();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let svc = CookieLayer::new(jar.clone()).layer(client);
    let get = |path: &str| {
        Request::get(server.url(path))
            .body(Full::new(Bytes::new()))
            .unwrap()
    };

    let res = svc.clone().oneshot(get("/login")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(server.last_cookie("/login"), None);

    // A 3xx response's cookies are stored too (no redirect is followed).
    let res = svc.clone().oneshot(get("/moved")).await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);

    svc.clone().oneshot(get("/private")).await.unwrap();
    let sent = server.last_cookie("/private").expect("cookies sent");
    assert_eq!(sent, "sid=abc; theme=light; hop=1");

    // An explicit Cookie header wins for the names it carries.
    let mut req = get("/private");
    req.headers_mut()
        .insert(header::COOKIE, "theme=dark; extra=1".parse().unwrap());
    svc.clone().oneshot(req).await.unwrap();
    assert_eq!(
        server.last_cookie("/private").unwrap(),
        "theme=dark; extra=1; sid=abc; hop=1"
    );
    // ... and is not stored.
    let url = Url::parse(&server.url("/private")).unwrap();
    assert_eq!(jar.get(&url, "theme").unwrap().value(), "light");
    assert!(jar.get(&url, "extra").is_none());

    // Deletion through Max-Age=0.
    svc.clone().oneshot(get("/logout")).await.unwrap();
    svc.clone().oneshot(get("/private")).await.unwrap();
    assert_eq!(
        server.last_cookie("/private").unwrap(),
        "theme=light; hop=1"
    );
}

#[tokio::test]
async fn relative_uri_passes_through() {
    let jar = Jar::new();
    let url = Url::parse("http://example.com/").unwrap();
    jar.store_set_cookie(&url, "a=1").unwrap();
    let svc =
        CookieLayer::new(jar.clone()).layer(tower::service_fn(|req: Request<()>| async move {
            assert!(req.headers().get(header::COOKIE).is_none());
            Ok::<_, std::convert::Infallible>(
                http::Response::builder()
                    .header(header::SET_COOKIE, "b=2")
                    .body(())
                    .unwrap(),
            )
        }));
    let req = Request::get("/only-a-path").body(()).unwrap();
    svc.oneshot(req).await.unwrap();
    assert_eq!(jar.len(), 1, "no URL, nothing stored");
}
