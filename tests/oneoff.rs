//! One-off requests (`http_session::get(url)`, as `requests.get`): a fresh
//! session each call, over loopback; nothing carried from call to call; a
//! session that cannot be built fails the request, never the caller (nor
//! `Session::new()`).

mod support;

use http::header::{COOKIE, SET_COOKIE};
use http::HeaderValue;
use support::server::{self, response, Req};

#[tokio::test]
async fn one_off_calls_keep_nothing_and_fail_cleanly_on_a_bad_environment() {
    let srv = server::http(|req: Req| async move {
        let cookie = req
            .headers
            .get(COOKIE)
            .map(|v| v.to_str().unwrap().to_owned());
        let mut res = response(
            200,
            format!("{} {:?} {:?}", req.method, req.uri.query(), cookie),
        );
        res.headers_mut()
            .insert(SET_COOKIE, HeaderValue::from_static("seen=1"));
        res
    });

    // `.await` on the builder sends it.
    let first = http_session::get(srv.url("/")).await.unwrap();
    assert_eq!(first.text().await.unwrap(), "GET None None");
    // The cookie the first call got is not sent by the next: a fresh session.
    let second = http_session::get(srv.url("/"))
        .query(&[("page", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(second.text().await.unwrap(), "GET Some(\"page=2\") None");
    let posted = http_session::post(srv.url("/items"))
        .json(&serde_json::json!({"a": 1}))
        .await;
    assert_eq!(posted.unwrap().text().await.unwrap(), "POST None None");
    assert_eq!(
        srv.connections(),
        3,
        "one connection per call: nothing is pooled across calls"
    );

    // A proxy variable that is not a URL keeps the session from being
    // built: the request fails with that builder error, no panic.
    std::env::set_var("HTTP_PROXY", "::not a url::");
    let err = http_session::get(srv.url("/")).await.unwrap_err();
    // `Session::new()` does not panic either: its requests fail the same way.
    let unbuilt = http_session::Session::new();
    let from_new = unbuilt.get(srv.url("/")).await.unwrap_err();
    std::env::remove_var("HTTP_PROXY");
    assert!(from_new.is_builder(), "{from_new:?}");
    assert!(err.is_builder(), "{err:?}");
    let chain = support::chain(&err);
    assert!(chain.contains("the session could not be built"), "{chain}");
    assert!(chain.contains("::not a url::"), "{chain}");
    assert_eq!(srv.connections(), 3);
}
