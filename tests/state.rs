//! Session files over loopback: a whole session saved and loaded back in
//! this crate's format and in HTTPie's, interop with the real HTTPie (run
//! as a process against the same server), and bad files.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http::HeaderValue;
use http_session::state::{Credentials, StateError, StateFile};
use http_session::Session;
use support::server::{self, response, Req};

/// A fresh folder for one test's files.
fn temp_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("http-session-state-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The body of a GET to `url`.
async fn text(session: &Session, url: impl http_session::IntoUrl) -> String {
    let res = session.get(url).send().await.unwrap();
    res.text().await.unwrap()
}

fn header(req: &Req, name: impl http::header::AsHeaderName) -> String {
    req.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// `Basic` for alice:wonder.
const ALICE: &str = "Basic YWxpY2U6d29uZGVy";

/// `/login` needs alice's Basic auth and sets a session cookie and a
/// persistent one; `/protected` needs the auth and the session cookie;
/// `/echo` answers with what it was sent.
fn login_server() -> server::Server {
    server::http(|req: Req| async move {
        let authed = header(&req, AUTHORIZATION) == ALICE;
        let cookie = header(&req, COOKIE);
        match req.uri.path() {
            "/login" if authed => {
                let mut res = response(200, "logged in");
                for c in ["sid=s3cr3t; Path=/", "theme=dark; Path=/; Max-Age=86400"] {
                    res.headers_mut()
                        .append(SET_COOKIE, HeaderValue::from_static(c));
                }
                res
            }
            "/protected" if authed && cookie.contains("sid=s3cr3t") => {
                response(200, "welcome alice")
            }
            "/protected" => response(403, format!("no: auth={authed} cookie={cookie:?}")),
            "/echo" => response(
                200,
                format!(
                    "client={} auth={} cookie={} query={}",
                    header(&req, "x-client"),
                    header(&req, AUTHORIZATION),
                    cookie,
                    req.uri.query().unwrap_or_default()
                ),
            ),
            _ => response(404, "not found"),
        }
    })
}

#[tokio::test]
async fn a_whole_session_is_saved_at_close_and_loaded_back() {
    let srv = login_server();
    let dir = temp_dir("round-trip");
    let file = StateFile::new(dir.join("api.json")).include_credentials(true);

    let session = Session::builder()
        .state_file(file.clone())
        .base_url(&srv.url("/"))
        .header("X-Client", "nightly")
        .query(&[("v", "2")])
        .basic_auth("alice", Some("wonder"))
        .build()
        .unwrap();
    assert!(session.loaded_state().is_none(), "no file yet");
    let login = session.get("login").send().await.unwrap();
    assert_eq!(login.text().await.unwrap(), "logged in");
    session.close().await.unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }

    let again = Session::builder().state_file(file.clone()).build().unwrap();
    let report = again.loaded_state().unwrap();
    assert_eq!(
        (report.headers, report.query, report.auth, report.base_url),
        (1, 1, true, true)
    );
    assert_eq!(
        report.cookies, 2,
        "the session cookie and the persistent one: {report:?}"
    );
    assert!(report.issues.is_empty(), "{:?}", report.issues);
    let page = again.get("protected").send().await.unwrap();
    assert_eq!(page.text().await.unwrap(), "welcome alice");
    let echo = text(&again, "echo").await;
    assert!(
        echo.starts_with(&format!("client=nightly auth={ALICE} ")),
        "{echo}"
    );
    assert!(
        echo.contains("sid=s3cr3t") && echo.contains("theme=dark"),
        "{echo}"
    );
    assert!(echo.ends_with("query=v=2"), "{echo}");
}

#[tokio::test]
async fn credentials_stay_out_of_the_file_unless_asked_for() {
    let srv = login_server();
    let dir = temp_dir("no-credentials");
    let file = StateFile::new(dir.join("api.json"));
    let session = Session::builder()
        .basic_auth("alice", Some("wonder"))
        .header("X-Api-Key", {
            let mut key = HeaderValue::from_static("key-123");
            key.set_sensitive(true);
            key
        })
        .header("X-Client", "nightly")
        .base_url("http://bob:hunter2@127.0.0.1:9/")
        .build()
        .unwrap();
    session.get(srv.url("/login")).send().await.unwrap();
    let report = session.save_state(&file).await.unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    for secret in ["wonder", "YWxpY2U6d29uZGVy", "key-123", "hunter2"] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
    assert!(
        text.contains("nightly") && text.contains("s3cr3t"),
        "{text}"
    );
    let left: Vec<String> = report.left_out.iter().map(|i| i.subject.clone()).collect();
    assert!(left.contains(&"auth".to_owned()), "{left:?}");
    assert!(left.contains(&"header x-api-key".to_owned()), "{left:?}");
    assert!(left.contains(&"base URL password".to_owned()), "{left:?}");
    assert!(!report.auth);
}

#[tokio::test]
async fn setters_after_the_file_win_and_setters_before_it_lose() {
    let dir = temp_dir("order");
    let file = StateFile::new(dir.join("s.json")).save_on_close(false);
    let saved = Session::builder()
        .header("X-Client", "from-file")
        .build()
        .unwrap();
    saved.save_state(&file).await.unwrap();

    let after = Session::builder()
        .state_file(file.clone())
        .header("X-Client", "from-code")
        .build()
        .unwrap();
    assert_eq!(after.defaults().headers()["x-client"], "from-code");
    let before = Session::builder()
        .header("X-Client", "from-code")
        .state_file(file)
        .build()
        .unwrap();
    assert_eq!(before.defaults().headers()["x-client"], "from-file");
}

#[tokio::test]
async fn digest_credentials_are_saved_and_restored() {
    let dir = temp_dir("digest");
    let file = StateFile::new(dir.join("d.json")).include_credentials(true);
    let session = Session::builder()
        .digest_auth("dora", "explorer")
        .build()
        .unwrap();
    let report = session.save_state(&file).await.unwrap();
    assert!(report.auth);
    let again = Session::builder().state_file(file.clone()).build().unwrap();
    let (state, _) = again.state(&file);
    assert_eq!(
        state.auth,
        Some(Credentials::Digest {
            username: "dora".into(),
            password: "explorer".into()
        })
    );
}

/// Builds a session from `file`, which must fail with a `StateError` that
/// `expected` accepts.
fn assert_build_fails(file: StateFile, expected: impl FnOnce(&StateError) -> bool) {
    let err = Session::builder().state_file(file).build().unwrap_err();
    assert!(err.is_builder());
    let source = std::error::Error::source(&err).expect("the state error is the source");
    let state = source.downcast_ref::<StateError>().expect("a StateError");
    assert!(expected(state), "{state:?}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = temp_dir("bad");
    let cut = write(
        &dir,
        "cut.json",
        "{\n  \"http_session_state\": 1,\n  \"headers\": [",
    );
    assert_build_fails(StateFile::new(cut), |e| {
        matches!(
            e,
            StateError::Json {
                line: 3,
                column: 14,
                ..
            }
        )
    });
    let future = write(&dir, "v9.json", r#"{"http_session_state": 9}"#);
    assert_build_fails(
        StateFile::new(future),
        |e| matches!(e, StateError::UnknownVersion { found, .. } if found == "9"),
    );
    let other = write(&dir, "other.json", r#"{"cookies": []}"#);
    assert_build_fails(
        StateFile::new(other),
        |e| matches!(e, StateError::Invalid { what, .. } if what.contains("not an http-session state file")),
    );
    let bad_header = write(
        &dir,
        "header.json",
        r#"{"http_session_state": 1, "headers": [{"name": "X-Bad", "value": "a\nb"}]}"#,
    );
    assert_build_fails(
        StateFile::new(bad_header),
        |e| matches!(e, StateError::Invalid { what, .. } if what.contains("header X-Bad")),
    );
    let httpie4 = write(
        &dir,
        "h4.json",
        r#"{"__meta__": {"about": "HTTPie session file", "httpie": "4.0.0"}}"#,
    );
    assert_build_fails(
        StateFile::httpie(httpie4),
        |e| matches!(e, StateError::UnknownVersion { found, .. } if found == "HTTPie 4.0.0"),
    );
    let config = write(
        &dir,
        "config.json",
        r#"{"__meta__": {"about": "HTTPie configuration file"}}"#,
    );
    assert_build_fails(StateFile::httpie(config), |e| {
        matches!(e, StateError::Invalid { .. })
    });
    let not_utf8 = dir.join("latin1.json");
    std::fs::write(&not_utf8, b"{\"http_session_state\": 1, \"x\": \"\xe9\"}").unwrap();
    assert_build_fails(
        StateFile::new(not_utf8),
        |e| matches!(e, StateError::Invalid { what, .. } if what.starts_with("not UTF-8")),
    );
}

#[test]
fn expired_cookies_and_open_permissions_are_reported() {
    let dir = temp_dir("report");
    let path = write(
        &dir,
        "old.json",
        r#"{
            "__meta__": {"about": "HTTPie session file", "httpie": "3.2.4"},
            "auth": {"type": "basic", "raw_auth": "alice:wonder"},
            "cookies": [
                {"name": "gone", "value": "1", "domain": "127.0.0.1", "path": "/", "secure": false, "expires": 1000},
                {"name": "kept", "value": "2", "domain": "127.0.0.1", "path": "/", "secure": false, "expires": null}
            ],
            "headers": []
        }"#,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let session = Session::builder()
        .state_file(StateFile::httpie(&path).save_on_close(false))
        .build()
        .unwrap();
    let report = session.loaded_state().unwrap();
    assert_eq!(report.cookies, 1);
    let issues: Vec<String> = report.issues.iter().map(ToString::to_string).collect();
    assert!(
        issues.contains(&"cookie gone (127.0.0.1): expired: not loaded".to_owned()),
        "{issues:?}"
    );
    #[cfg(unix)]
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("file: holds credentials and is readable by other users")),
        "{issues:?}"
    );
}

#[tokio::test]
async fn old_httpie_layouts_load_with_bound_cookies() {
    let srv = login_server();
    let dir = temp_dir("legacy");
    // HTTPie 3.0: headers and cookies as objects, no cookie domain, auth
    // with username and password.
    let path = write(
        &dir,
        "legacy.json",
        r#"{
            "__meta__": {"about": "HTTPie session file", "httpie": "3.0.2"},
            "auth": {"type": "basic", "username": "alice", "password": "wonder"},
            "cookies": {"sid": {"value": "s3cr3t", "path": "/", "secure": false, "expires": null}},
            "headers": {"X-Client": "legacy"}
        }"#,
    );
    let unbound = Session::builder()
        .state_file(StateFile::httpie(&path).save_on_close(false))
        .build()
        .unwrap();
    let report = unbound.loaded_state().unwrap();
    assert_eq!(report.cookies, 0);
    assert!(
        report.issues[0]
            .to_string()
            .starts_with("cookie sid: has no domain"),
        "{:?}",
        report.issues
    );

    let bound = Session::builder()
        .state_file(
            StateFile::httpie(&path)
                .bind_cookies("127.0.0.1")
                .save_on_close(false),
        )
        .build()
        .unwrap();
    assert_eq!(bound.loaded_state().unwrap().cookies, 1);
    let page = bound.get(srv.url("/protected")).send().await.unwrap();
    assert_eq!(page.text().await.unwrap(), "welcome alice");
    let echo = text(&bound, srv.url("/echo")).await;
    assert!(echo.starts_with("client=legacy "), "{echo}");
}

#[tokio::test]
async fn what_httpie_cannot_hold_is_reported_when_writing_its_format() {
    let srv = server::http(|_req: Req| async move {
        let mut res = response(200, "ok");
        res.headers_mut().append(
            SET_COOKIE,
            HeaderValue::from_static("h=1; HttpOnly; SameSite=Strict"),
        );
        res
    });
    let dir = temp_dir("httpie-left-out");
    let session = Session::builder()
        .query(&[("v", "2")])
        .base_url(&srv.url("/"))
        .build()
        .unwrap();
    session.get("x").send().await.unwrap();
    let report = session
        .save_state(&StateFile::httpie(dir.join("h.json")))
        .await
        .unwrap();
    let left: Vec<String> = report.left_out.iter().map(ToString::to_string).collect();
    assert_eq!(
        left,
        [
            "query v: HTTPie sessions have no query parameters",
            "base URL: HTTPie sessions have no base URL",
            "cookie h (127.0.0.1): HttpOnly: HTTPie's format has no field for it",
            "cookie h (127.0.0.1): SameSite: HTTPie's format has no field for it",
        ]
    );
    assert_eq!(report.cookies, 1);
}

/// The real HTTPie: `$HTTPIE`, else the virtual environment `cargo xtask
/// ci` installs it into, else `http` on the `PATH`.
fn httpie() -> Command {
    let candidates = [
        std::env::var_os("HTTPIE").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/httpie-venv/bin/http")),
    ];
    let program = candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("http"));
    let mut cmd = Command::new(program);
    // No config, no update checks, no terminal: a plain run.
    cmd.env(
        "HTTPIE_CONFIG_DIR",
        std::env::temp_dir().join("http-session-httpie-config"),
    )
    .args(["--ignore-stdin", "--check-status", "--print=b"]);
    cmd
}

fn run(mut cmd: Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("HTTPie could not start ({e}); `cargo xtask ci` installs it into target/httpie-venv, or set $HTTPIE")
    });
    assert!(
        out.status.success(),
        "HTTPie failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_session_made_by_httpie_is_loaded_and_reaches_the_protected_page() {
    let srv = login_server();
    let dir = temp_dir("from-httpie");
    let path = dir.join("httpie.json");
    let mut login = httpie();
    login.arg(format!("--session={}", path.display()));
    login.args([
        "-a",
        "alice:wonder",
        &srv.url("/login"),
        "X-Client:from-httpie",
    ]);
    assert_eq!(run(login).trim(), "logged in");

    let session = Session::builder()
        .state_file(StateFile::httpie(&path).save_on_close(false))
        .build()
        .unwrap();
    let report = session.loaded_state().unwrap();
    assert!(
        report.auth && report.cookies == 2 && report.headers == 1,
        "{report:?}"
    );
    let page = session.get(srv.url("/protected")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "welcome alice");
    let echo = text(&session, srv.url("/echo")).await;
    assert!(echo.starts_with("client=from-httpie "), "{echo}");
}

#[tokio::test]
async fn a_session_file_we_write_is_used_by_httpie() {
    let srv = login_server();
    let dir = temp_dir("to-httpie");
    let file = StateFile::httpie(dir.join("ours.json")).include_credentials(true);
    let session = Session::builder()
        .state_file(file.clone())
        .basic_auth("alice", Some("wonder"))
        .header("X-Client", "from-rust")
        .build()
        .unwrap();
    session.get(srv.url("/login")).send().await.unwrap();
    session.close().await.unwrap();

    let mut page = httpie();
    page.arg(format!("--session={}", file.path().display()));
    page.arg(srv.url("/protected"));
    assert_eq!(run(page).trim(), "welcome alice");
    let mut echo = httpie();
    echo.arg(format!("--session={}", file.path().display()));
    echo.arg(srv.url("/echo"));
    let echo = run(echo);
    assert!(
        echo.starts_with(&format!("client=from-rust auth={ALICE} ")),
        "{echo}"
    );
    assert!(echo.contains("sid=s3cr3t"), "{echo}");
}
