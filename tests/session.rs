//! The session end to end over real sockets: defaults, bodies, charsets,
//! errors, connection reuse, h2c, sharing between tasks.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use http::{Method, StatusCode};
use http_session::{mock::MockTransport, Session};
use support::server::{self, response, Req};

/// Answers with a JSON echo of what it received.
fn echo_server() -> server::Server {
    server::http(|req: Req| async move {
        let headers: serde_json::Map<String, serde_json::Value> = req
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("<bin>").into()))
            .collect();
        let echo = serde_json::json!({
            "method": req.method.as_str(),
            "path": req.uri.path(),
            "query": req.uri.query(),
            "version": format!("{:?}", req.version),
            "headers": headers,
            "body": String::from_utf8_lossy(&req.body),
        });
        let mut res = response(200, serde_json::to_vec(&echo).unwrap());
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res
    })
}

async fn echo(session: &Session, rb: http_session::RequestBuilder) -> serde_json::Value {
    let _ = session;
    rb.send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn defaults_are_merged_and_removable() {
    let srv = echo_server();
    let session = Session::builder()
        .user_agent("MyApp/1.0")
        .header("accept", "application/json")
        .header("x-team", "core")
        .query(&[("api_key", "k1"), ("lang", "en")])
        .bearer_auth("session-token")
        .build()
        .unwrap();

    let seen = echo(&session, session.get(srv.url("/data?x=1"))).await;
    assert_eq!(seen["headers"]["user-agent"], "MyApp/1.0");
    assert_eq!(seen["headers"]["accept"], "application/json");
    assert_eq!(seen["headers"]["authorization"], "Bearer session-token");
    assert_eq!(seen["query"], "x=1&api_key=k1&lang=en");

    // Request beats session; a default can be removed for one request.
    let rb = session
        .get(srv.url("/data"))
        .header("X-Team", "edge")
        .without_header("accept")
        .query(&[("lang", "fr")])
        .basic_auth("alice", Some("pw"));
    let seen = echo(&session, rb).await;
    assert_eq!(seen["headers"]["x-team"], "edge");
    assert!(seen["headers"].get("accept").is_none());
    assert_eq!(seen["query"], "api_key=k1&lang=fr");
    assert_eq!(seen["headers"]["authorization"], "Basic YWxpY2U6cHc=");

    // Changing defaults later is seen by every clone.
    let clone = session.clone();
    session
        .update(|d| {
            d.headers_mut()
                .insert("x-late", HeaderValue::from_static("yes"));
            d.set_bearer_auth("after-login")
        })
        .unwrap();
    let seen = echo(&clone, clone.get(srv.url("/"))).await;
    assert_eq!(seen["headers"]["x-late"], "yes");
    assert_eq!(seen["headers"]["authorization"], "Bearer after-login");
}

#[tokio::test]
async fn default_user_agent_and_build_inspection() {
    let session = Session::new();
    let req = session
        .post("http://example.test/x")
        .json(&serde_json::json!({"a": 1}))
        .build()
        .unwrap();
    assert_eq!(
        req.headers()[USER_AGENT],
        http_session::defaults::DEFAULT_USER_AGENT
    );
    assert!(http_session::defaults::DEFAULT_USER_AGENT.starts_with("http-session/"));
    assert_eq!(req.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(req.body().as_bytes(), Some(&b"{\"a\":1}"[..]));
    assert_eq!(req.uri(), "http://example.test/x");
}

/// The `Host` header names the URL's host, with its port unless it is 80,
/// on each origin in turn (the transport keeps the last one's value per
/// thread); a request's own `Host` is sent as given.
#[tokio::test]
async fn host_header_follows_each_origin() {
    let (srv, log) = server::recording(|_| response(200, "ok"));
    let port = srv.port();
    let session = Session::builder()
        .resolve("a.test", "127.0.0.1:0".parse().unwrap())
        .resolve("b.test", "127.0.0.1:0".parse().unwrap())
        .resolve("default.test", srv.addr())
        .build()
        .unwrap();
    for url in [
        format!("http://a.test:{port}/1"),
        format!("http://b.test:{port}/2"),
        format!("http://a.test:{port}/3"),
        "http://default.test/4".to_owned(),
        "http://default.test:80/5".to_owned(),
        format!("http://127.0.0.1:{port}/6"),
    ] {
        session.get(url).send().await.unwrap();
    }
    session
        .get(format!("http://a.test:{port}/7"))
        .header(HOST, "own.test")
        .send()
        .await
        .unwrap();
    let hosts: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|req| req.headers[HOST].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        hosts,
        [
            format!("a.test:{port}"),
            format!("b.test:{port}"),
            format!("a.test:{port}"),
            "default.test".to_owned(),
            "default.test".to_owned(),
            format!("127.0.0.1:{port}"),
            "own.test".to_owned(),
        ]
    );
}

#[tokio::test]
async fn bodies_json_form_bytes_and_stream() {
    let srv = echo_server();
    let session = Session::new();

    let seen = echo(
        &session,
        session
            .post(srv.url("/j"))
            .json(&serde_json::json!({"k": [1, 2]})),
    )
    .await;
    assert_eq!(seen["body"], r#"{"k":[1,2]}"#);
    assert_eq!(seen["headers"]["content-type"], "application/json");

    let seen = echo(
        &session,
        session
            .post(srv.url("/f"))
            .form(&[("key", "value"), ("a b", "c&d")]),
    )
    .await;
    assert_eq!(seen["body"], "key=value&a+b=c%26d");
    assert_eq!(
        seen["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );

    let seen = echo(&session, session.put(srv.url("/b")).body(vec![b'x'; 1000])).await;
    assert_eq!(seen["body"].as_str().unwrap().len(), 1000);
    assert_eq!(seen["headers"]["content-length"], "1000");

    let chunks = (0..5).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("part{i};"))));
    let stream = http_session::Body::from_stream(futures_util::stream::iter(chunks));
    let seen = echo(&session, session.post(srv.url("/s")).body(stream)).await;
    assert_eq!(seen["body"], "part0;part1;part2;part3;part4;");
    assert_eq!(seen["headers"]["transfer-encoding"], "chunked");
}

#[tokio::test]
async fn text_uses_the_charset_with_requests_fallbacks() {
    let srv = server::http(|req: Req| async move {
        let (ct, body): (&str, &[u8]) = match req.uri.path() {
            "/latin1" => ("text/plain; charset=ISO-8859-1", b"caf\xe9"),
            "/nocharset" => ("text/html", b"caf\xe9"),
            "/json" => ("application/json", "{\"v\":\"caf\u{e9}\"}".as_bytes()),
            "/sjis" => ("text/plain; charset=Shift_JIS", b"\x83\x65\x83\x58\x83\x67"),
            _ => ("application/octet-stream", b"caf\xc3\xa9"),
        };
        let mut res = response(200, Bytes::from_static(body));
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        res
    });
    let s = Session::new();
    let cases = [
        ("/latin1", "café"),
        ("/nocharset", "café"),
        ("/json", "{\"v\":\"café\"}"),
        ("/sjis", "テスト"),
        ("/other", "café"),
    ];
    for (path, expected) in cases {
        let text = s
            .get(srv.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, expected, "{path}");
    }
}

#[tokio::test]
async fn error_for_status_names_status_and_url() {
    let srv = server::http(|req: Req| async move {
        match req.uri.path() {
            "/missing" => response(404, "nope"),
            "/broken" => response(503, "down"),
            _ => response(200, "ok"),
        }
    });
    let s = Session::new();
    let ok = s
        .get(srv.url("/fine"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let err = s
        .get(srv.url("/missing"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert!(err.is_status());
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.url().unwrap().as_str(), srv.url("/missing"));
    assert!(err.to_string().contains("404"), "{err}");
    let err = s
        .get(srv.url("/broken"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let srv = server::http(|_req: Req| async { response(200, "hello") });
    let session = Session::new();
    let mut reused = Vec::new();
    for _ in 0..10 {
        let res = session.get(srv.url("/")).send().await.unwrap();
        reused.push(res.connection().unwrap().reused);
        assert_eq!(res.bytes().await.unwrap(), "hello");
    }
    assert_eq!(srv.connections(), 1);
    assert_eq!(session.hyper_transport().unwrap().connections_opened(), 1);
    assert!(!reused[0]);
    assert!(reused[1..].iter().all(|r| *r), "{reused:?}");
}

#[tokio::test]
async fn a_fresh_session_per_request_opens_a_connection_each_time() {
    let srv = server::http(|_req: Req| async { response(200, "hello") });
    for _ in 0..3 {
        let session = Session::new();
        let res = session.get(srv.url("/")).send().await.unwrap();
        assert!(!res.connection().unwrap().reused);
        res.bytes().await.unwrap();
    }
    assert_eq!(srv.connections(), 3);
}

#[tokio::test]
async fn h2c_with_prior_knowledge() {
    let srv = echo_server();
    let session = Session::builder().http2_prior_knowledge().build().unwrap();
    let mut handles = Vec::new();
    for i in 0..20 {
        let (s, url) = (session.clone(), srv.url(&format!("/{i}")));
        handles.push(tokio::spawn(async move {
            let res = s.get(url).send().await.unwrap();
            assert_eq!(res.version(), http::Version::HTTP_2);
            res.json::<serde_json::Value>().await.unwrap()
        }));
    }
    for h in handles {
        let echo = h.await.unwrap();
        assert_eq!(echo["version"], "HTTP/2.0");
        // The authority travels as `:authority`; no `Host` header is added.
        assert!(echo["headers"].get("host").is_none(), "{echo}");
    }
    // One multiplexed connection (a cold burst may race a little; far fewer than 20).
    assert!(srv.connections() < 20, "{} connections", srv.connections());
}

#[tokio::test]
async fn one_session_shared_by_100_tasks() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |req: Req| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { response(200, req.uri.path().to_owned()) }
    });
    let session = Session::new();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (s, url) = (session.clone(), srv.url(&format!("/task/{i}")));
            tokio::spawn(async move { s.get(url).send().await.unwrap().text().await.unwrap() })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), format!("/task/{i}"));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 100);
    assert!(srv.connections() <= 100);
}

#[tokio::test]
async fn mounts_route_by_longest_prefix() {
    let srv = server::http(|_req: Req| async { response(200, "real") });
    let api = MockTransport::new().route_any("/v1/users", |_| (StatusCode::OK, "mock-api"));
    let admin = MockTransport::new().route_any("/v1/admin", |_| (StatusCode::OK, "mock-admin"));
    let session = Session::builder()
        .mount("HTTPS://API.test/", api.clone())
        .mount("https://api.test/v1/admin", admin.clone())
        .build()
        .unwrap();
    let get = |url: String| {
        let s = session.clone();
        async move { s.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(get("https://api.test/v1/users".into()).await, "mock-api");
    assert_eq!(get("https://api.test/v1/admin".into()).await, "mock-admin");
    assert_eq!(get(srv.url("/")).await, "real");
    assert_eq!(api.requests().len(), 1);
    assert_eq!(admin.requests().len(), 1);

    let no_transport = Session::builder()
        .transport(MockTransport::new())
        .build()
        .unwrap();
    let err = no_transport
        .get("ftp://files.test/x")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    assert!(std::error::Error::source(&err)
        .unwrap()
        .to_string()
        .contains("no transport"));
}

#[tokio::test]
async fn timeouts_fire_and_say_so() {
    let srv = server::http(|req: Req| async move {
        if req.uri.path() == "/slow" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        response(200, "ok")
    });
    let session = Session::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = session.get(srv.url("/slow")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.url().unwrap().path(), "/slow");
    // A per-request timeout replaces the session's.
    let ok = session
        .get(srv.url("/fast"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(session
        .get(srv.url("/x"))
        .timeout(Duration::ZERO)
        .send()
        .await
        .unwrap_err()
        .is_builder());
}

#[tokio::test]
async fn base_url_joins_relative_paths() {
    let srv = echo_server();
    let session = Session::builder()
        .base_url(&srv.url("/api/v1"))
        .build()
        .unwrap();
    let seen = echo(&session, session.get("users/7")).await;
    assert_eq!(seen["path"], "/api/v1/users/7");
    let seen = echo(&session, session.get("/users/8")).await;
    assert_eq!(seen["path"], "/api/v1/users/8");
    let without_base = Session::new();
    assert!(without_base
        .get("users/7")
        .send()
        .await
        .unwrap_err()
        .is_builder());
}

#[tokio::test]
async fn bad_input_is_a_typed_error_never_a_panic() {
    let session = Session::new();
    let e = session
        .get("http://exa mple.test/")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e:?}");
    let e = session.get("http://").send().await.unwrap_err();
    assert!(e.is_builder(), "{e:?}");
    let e = session
        .get("gopher://example.test/")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_builder(), "{e:?}");
    assert!(e.url().unwrap().as_str().starts_with("gopher://"));
    let e = session
        .get("http://x.test/")
        .header("bad name", "v")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_builder());
    let e = session
        .get("http://x.test/")
        .header("x", "a\nb")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_builder());
    assert!(Session::builder()
        .header("x", "a\r\nb")
        .build()
        .unwrap_err()
        .is_builder());
    assert!(Session::builder()
        .base_url("not a url")
        .build()
        .unwrap_err()
        .is_builder());

    // Unreachable: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/gone");
    let e = session.get(&url).send().await.unwrap_err();
    assert!(e.is_connect(), "{e:?}");
    assert_eq!(e.url().unwrap().as_str(), url);

    // Invalid JSON is a decode error naming the URL.
    let srv = server::http(|_req: Req| async { response(200, "{not json") });
    let e = session
        .get(srv.url("/j"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(e.is_decode(), "{e:?}");
    assert_eq!(e.url().unwrap().path(), "/j");
}

#[tokio::test]
async fn body_limit_and_streaming_chunks() {
    let srv = server::http(|_req: Req| async { response(200, vec![b'z'; 100_000]) });
    let session = Session::builder().max_body_size(1000).build().unwrap();
    let err = session
        .get(srv.url("/"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(err.is_body(), "{err:?}");
    let mut res = session.get(srv.url("/")).send().await.unwrap();
    let mut total = 0;
    while let Some(chunk) = res.chunk().await.unwrap() {
        total += chunk.len();
    }
    assert_eq!(total, 100_000);
}

#[tokio::test]
async fn custom_method_head_and_elapsed() {
    let srv = echo_server();
    let session = Session::new();
    let seen = echo(
        &session,
        session.request(Method::from_bytes(b"PROPFIND").unwrap(), srv.url("/dav")),
    )
    .await;
    assert_eq!(seen["method"], "PROPFIND");
    let res = session.head(srv.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.elapsed() > Duration::ZERO);
    assert_eq!(res.url().as_str(), srv.url("/"));
    assert!(res.bytes().await.unwrap().is_empty());
    let _ = AUTHORIZATION;
}

/// requests' defaults on the wire: `Accept: */*` on every request (removable
/// like any default), and `Content-Length: 0` on a POST, PUT or PATCH sent
/// without a body (RFC 9110 §8.6), none on a GET.
#[tokio::test]
async fn accept_and_an_empty_bodys_content_length_as_requests_sends_them() {
    let (srv, log) = server::recording(|_| server::response(200, "ok"));
    let session = Session::new();
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ] {
        session.request(method, srv.url("/")).send().await.unwrap();
    }
    session
        .get(srv.url("/none"))
        .without_header(http::header::ACCEPT)
        .send()
        .await
        .unwrap();
    let log = log.lock().unwrap();
    let length = |i: usize| {
        log[i]
            .headers
            .get(CONTENT_LENGTH)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for req in &log[..5] {
        assert_eq!(req.headers[http::header::ACCEPT], "*/*", "{}", req.method);
    }
    assert!(!log[5].headers.contains_key(http::header::ACCEPT));
    assert_eq!(length(0), None, "GET");
    for i in 1..=3 {
        assert_eq!(length(i).as_deref(), Some("0"), "{}", log[i].method);
    }
}
