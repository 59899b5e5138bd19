//! Interop with the real curl (`/usr/bin/curl`, installed by CI): curl's
//! `cookies.txt` loads into our jar, and our `cookies.txt` feeds `curl -b`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use session_cookies::persist::{Format, SaveOptions};
use session_cookies::{CookieLayer, Jar, Url};
use tower::{Layer, ServiceExt};

const SET: &[&str] = &[
    "a=1; Path=/",
    "b=2; Max-Age=3600; Path=/",
    "h=3; HttpOnly; Max-Age=3600; Path=/",
    "p=5; Path=/app",
];

fn site() -> support::Server {
    support::http(|parts| match parts.uri.path() {
        "/login" => support::response(200, SET, "ok"),
        _ => support::response(200, &[], "page"),
    })
}

fn curl(args: &[&str]) {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--output",
            "/dev/null",
        ])
        .args(args)
        .output()
        .expect("curl is installed (CI installs the Debian package)");
    assert!(out.status.success(), "curl failed: {out:?}");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("session-cookies-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn fetch_with_jar(jar: &Jar, url: String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = Request::get(url).body(Full::new(Bytes::new())).unwrap();
    CookieLayer::new(jar.clone())
        .layer(client)
        .oneshot(req)
        .await
        .unwrap();
}

fn expected() -> Vec<String> {
    support::pairs("p=5; a=1; b=2; h=3")
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_writes_we_read() {
    let server = site();
    let dir = temp_dir("curl-writes");
    let file = dir.join("curl.txt");
    let f = file.to_str().unwrap().to_owned();
    let login = server.url("/login");
    tokio::task::spawn_blocking(move || curl(&["-c", &f, &login]))
        .await
        .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("#HttpOnly_127.0.0.1"), "curl wrote:\n{text}");

    let jar = Jar::new();
    let report = jar.load(&file, Format::Netscape).unwrap();
    assert_eq!((report.loaded, report.rejected), (4, 0), "{text}");
    let url = Url::parse(&server.url("/app/page")).unwrap();
    assert!(jar.get(&url, "h").unwrap().http_only());
    assert!(!jar.get(&url, "a").unwrap().is_persistent());

    fetch_with_jar(&jar, server.url("/app/page")).await;
    let ours = server.last_cookie("/app/page").unwrap();
    assert_eq!(support::pairs(&ours), expected());
    assert!(ours.starts_with("p=5; "), "longest path first: {ours}");

    // curl itself sends the same cookies from its file.
    let f = file.to_str().unwrap().to_owned();
    let page = server.url("/app/curl");
    tokio::task::spawn_blocking(move || curl(&["-b", &f, &page]))
        .await
        .unwrap();
    let theirs = server.last_cookie("/app/curl").unwrap();
    assert_eq!(support::pairs(&theirs), expected());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn we_write_curl_reads() {
    let server = site();
    let dir = temp_dir("we-write");
    let file = dir.join("ours.txt");
    let jar = Jar::new();
    fetch_with_jar(&jar, server.url("/login")).await;
    assert_eq!(jar.len(), 4);

    let options = SaveOptions::new(Format::Netscape).include_session(true);
    assert_eq!(jar.save(&file, &options).unwrap(), 4);
    assert_mode_0600(&file);

    let f = file.to_str().unwrap().to_owned();
    let page = server.url("/app/curl");
    tokio::task::spawn_blocking(move || curl(&["-b", &f, &page]))
        .await
        .unwrap();
    let theirs = server.last_cookie("/app/curl").unwrap();
    assert_eq!(support::pairs(&theirs), expected());

    // Without include_session, the session cookies `a` and `p` stay behind.
    jar.save(&file, &SaveOptions::new(Format::Netscape))
        .unwrap();
    let f = file.to_str().unwrap().to_owned();
    let page = server.url("/app/curl2");
    tokio::task::spawn_blocking(move || curl(&["-b", &f, &page]))
        .await
        .unwrap();
    let theirs = server.last_cookie("/app/curl2").unwrap();
    assert_eq!(support::pairs(&theirs), support::pairs("b=2; h=3"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
fn assert_mode_0600(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[cfg(not(unix))]
fn assert_mode_0600(_: &Path) {}
