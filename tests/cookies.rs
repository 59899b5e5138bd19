//! Cookies through a Session over loopback: the login flow, Secure cookies
//! over https and http, per-request cookies, persistence at close, sharing a
//! jar, and 1000 tasks losing no cookie.

mod support;

use std::net::SocketAddr;

use http::header::{COOKIE, SET_COOKIE};
use http::HeaderValue;
use http_session::cookies::{persist::Format, Jar};
use http_session::Session;
use support::server::{self, response, Req};
use support::tls::Ca;

fn cookie_header(req: &Req) -> String {
    req.headers
        .get(COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// `res` with a `Set-Cookie` header for each of `cookies`.
fn with_cookies(
    mut res: http::Response<server::ResBody>,
    cookies: &[&'static str],
) -> http::Response<server::ResBody> {
    for cookie in cookies {
        res.headers_mut()
            .append(SET_COOKIE, HeaderValue::from_static(cookie));
    }
    res
}

/// A handler that answers with the request's `Cookie` header as the body,
/// and sets `cookies` on requests to `path`.
fn echo_cookies(
    path: &'static str,
    cookies: &'static [&'static str],
) -> impl Fn(Req) -> std::future::Ready<http::Response<server::ResBody>> + Send + Sync + 'static {
    move |req| {
        let res = response(200, cookie_header(&req));
        let set: &[&'static str] = if req.uri.path() == path { cookies } else { &[] };
        std::future::ready(with_cookies(res, set))
    }
}

/// `/login` sets a session cookie for a right password; `/protected` needs it.
fn login_server() -> server::Server {
    server::http(|req: Req| async move {
        match req.uri.path() {
            "/login" if req.body == "user=ada&password=secret" => with_cookies(
                response(200, "welcome"),
                &["session=abc123; Path=/; HttpOnly"],
            ),
            "/login" => response(401, "bad credentials"),
            "/protected" if cookie_header(&req).contains("session=abc123") => {
                response(200, "the secret page")
            }
            "/protected" => response(403, "log in first"),
            "/echo" => response(200, cookie_header(&req)),
            _ => response(404, ""),
        }
    })
}

#[tokio::test]
async fn login_then_the_protected_page_gets_the_cookie() {
    let srv = login_server();
    let session = Session::new();
    assert_eq!(
        session
            .get(srv.url("/protected"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let login = session
        .post(srv.url("/login"))
        .form(&[("user", "ada"), ("password", "secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let page = session.get(srv.url("/protected")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "the secret page");
    let jar = session.cookies().unwrap();
    assert_eq!(jar.len(), 1);
    let url = url::Url::parse(&srv.url("/")).unwrap();
    assert_eq!(jar.get(&url, "session").unwrap().value(), "abc123");
}

#[tokio::test]
async fn a_per_request_cookie_is_sent_but_not_stored() {
    let srv = login_server();
    let session = Session::new();
    let url = url::Url::parse(&srv.url("/")).unwrap();
    session
        .cookies()
        .unwrap()
        .store_set_cookie(&url, "theme=dark")
        .unwrap();
    let sent = session
        .get(srv.url("/echo"))
        .cookie("trace", "t-1")
        .cookie("theme", "light")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The explicit cookie wins over the jar's cookie of the same name.
    assert_eq!(sent, "trace=t-1; theme=light");
    assert!(session.cookies().unwrap().get(&url, "trace").is_none());
    let later = session
        .get(srv.url("/echo"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(later, "theme=dark");
    assert!(session
        .get(srv.url("/"))
        .cookie("bad name", "v")
        .send()
        .await
        .unwrap_err()
        .is_builder());
    assert!(session
        .get(srv.url("/"))
        .cookie("n", "a;b")
        .send()
        .await
        .unwrap_err()
        .is_builder());
}

#[tokio::test]
async fn secure_cookies_go_over_https_only() {
    let ca = Ca::new("cookie ca");
    let leaf = ca.leaf(&["shop.test"]);
    let tls_srv = server::https(
        leaf.server_config(),
        echo_cookies("/set", &["sid=s3cr3t; Secure; Path=/", "lang=en; Path=/"]),
    );
    // An insecure origin may not overwrite a Secure cookie.
    let plain_srv = server::http(echo_cookies("/overwrite", &["sid=evil; Path=/"]));
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .resolve("shop.test", loopback)
        .build()
        .unwrap();
    let https = |p: &str| format!("https://shop.test:{}{p}", tls_srv.port());
    let http = |p: &str| format!("http://shop.test:{}{p}", plain_srv.port());

    session.get(https("/set")).send().await.unwrap();
    let over_http = session
        .get(http("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(over_http, "lang=en");
    session.get(http("/overwrite")).send().await.unwrap();
    let over_https = session
        .get(https("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(over_https.contains("sid=s3cr3t"), "{over_https}");
    assert!(!over_https.contains("evil"), "{over_https}");
}

#[tokio::test]
async fn cookies_off_and_a_shared_jar() {
    let srv = login_server();
    let off = Session::builder().cookie_store(false).build().unwrap();
    assert!(off.cookies().is_none());
    off.post(srv.url("/login"))
        .body("user=ada&password=secret")
        .send()
        .await
        .unwrap();
    assert_eq!(
        off.get(srv.url("/protected"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let jar = Jar::new();
    let a = Session::builder().cookie_jar(jar.clone()).build().unwrap();
    let b = Session::builder().cookie_jar(jar.clone()).build().unwrap();
    a.post(srv.url("/login"))
        .body("user=ada&password=secret")
        .send()
        .await
        .unwrap();
    assert_eq!(
        b.get(srv.url("/protected")).send().await.unwrap().status(),
        200
    );
    assert_eq!(jar.len(), 1);
}

#[tokio::test]
async fn the_jar_is_loaded_at_start_and_saved_at_close() {
    let srv = server::http(echo_cookies(
        "/set",
        &["keep=1; Max-Age=3600; Path=/", "temp=1; Path=/"],
    ));
    let dir = std::env::temp_dir().join(format!("http-session-cookies-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jar.json");
    let _ = std::fs::remove_file(&path);

    let first = Session::builder()
        .cookie_file(&path, Format::Json, false)
        .build()
        .unwrap();
    first.get(srv.url("/set")).send().await.unwrap();
    first.close().await.unwrap();
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let second = Session::builder()
        .cookie_file(&path, Format::Json, false)
        .build()
        .unwrap();
    let sent = second
        .get(srv.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(sent, "keep=1", "session cookies are not saved unless asked");

    std::fs::write(&path, b"{ truncated").unwrap();
    let err = Session::builder()
        .cookie_file(&path, Format::Json, false)
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_thousand_tasks_sharing_one_session_lose_no_cookie() {
    let srv = server::http(|req: Req| async move {
        let name = req.uri.query().unwrap_or("none").to_owned();
        let mut res = response(200, "");
        res.headers_mut().insert(
            SET_COOKIE,
            HeaderValue::from_str(&format!("{name}=v; Path=/")).unwrap(),
        );
        res
    });
    let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut builder = Session::builder();
    for h in 0..10 {
        builder = builder.resolve(&format!("t{h}.test"), loopback);
    }
    let session = builder.build().unwrap();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let s = session.clone();
            let url = format!("http://t{}.test:{}/set?c{i}", i % 10, srv.port());
            tokio::spawn(async move { s.get(url).send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let jar = session.cookies().unwrap();
    assert_eq!(jar.len(), 1000);
    let url = url::Url::parse(&format!("http://t3.test:{}/", srv.port())).unwrap();
    assert_eq!(jar.matching(&url).len(), 100);
}

#[tokio::test]
async fn each_redirect_hop_gets_its_cookies_and_keeps_the_3xx_cookies() {
    let srv = server::http(|req: Req| async move {
        match req.uri.path() {
            "/start" => {
                let mut res = response(302, "");
                res.headers_mut()
                    .insert("location", HeaderValue::from_static("/middle"));
                with_cookies(res, &["step=one; Path=/"])
            }
            "/middle" => {
                let mut res = response(303, cookie_header(&req));
                res.headers_mut()
                    .insert("location", HeaderValue::from_static("/end"));
                with_cookies(res, &["step=two; Path=/", "seen_middle=yes; Path=/"])
            }
            _ => response(200, cookie_header(&req)),
        }
    });
    let session = Session::new();
    let res = session.get(srv.url("/start")).send().await.unwrap();
    assert_eq!(res.history().len(), 2);
    // The last hop was sent the cookies the two 3xx responses set.
    let sent = res.text().await.unwrap();
    assert!(sent.contains("step=two"), "{sent}");
    assert!(sent.contains("seen_middle=yes"), "{sent}");
    assert_eq!(session.cookies().unwrap().len(), 2);
}
