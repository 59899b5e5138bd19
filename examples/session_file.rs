//! Session files: log in once, save the whole session (headers, auth,
//! cookies) to a file, and go on from it in a later run, or hand it to
//! HTTPie (`http --session=FILE`), and back.
//!
//! Run it with `cargo run --example session_file`. No network is needed.

mod support;

use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http_session::state::StateFile;
use http_session::Session;
use support::{reply, Req};

/// `/login` wants Basic auth for ada and sets a session cookie; `/reports`
/// wants both.
async fn app(req: Req) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let get = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let authed = get(AUTHORIZATION.as_str()) == "Basic YWRhOmxvdmVsYWNl"; // ada:lovelace
    match req.path.as_str() {
        "/login" if authed => {
            let mut res = reply(200, "logged in");
            let cookie = "session=f00d; Path=/; HttpOnly; Max-Age=3600";
            res.headers_mut()
                .insert(SET_COOKIE, cookie.parse().expect("valid"));
            res
        }
        "/reports" if authed && get(COOKIE.as_str()).contains("session=f00d") => {
            reply(200, format!("reports for client {}", get("x-client")))
        }
        _ => reply(403, "log in first"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = support::serve(app).await;
    let dir = std::env::temp_dir().join(format!("http-session-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // Monday: log in, and save the session when it closes. Credentials are
    // saved only when asked for; the file is owner-only either way.
    let file = StateFile::new(dir.join("api.json")).include_credentials(true);
    let monday = Session::builder()
        .state_file(file.clone())
        .header("X-Client", "nightly-report")
        .basic_auth("ada", Some("lovelace"))
        .build()?;
    let login = monday.get(server.url("/login")).send().await?;
    println!("Monday: GET /login -> {}", login.status());
    monday.close().await?;
    println!("  saved to {}", file.path().display());

    // Tuesday: a new process, the same session.
    let tuesday = Session::builder().state_file(file.clone()).build()?;
    let report = tuesday.loaded_state().expect("the file exists now");
    println!(
        "Tuesday: loaded {} header(s), auth: {}, {} cookie(s)",
        report.headers, report.auth, report.cookies
    );
    let page = tuesday.get(server.url("/reports")).send().await?;
    println!(
        "  GET /reports -> {} {:?}",
        page.status(),
        page.text().await?
    );

    // The same session as an HTTPie session file: `http --session=FILE URL`
    // goes on from it. What HTTPie's format cannot hold is listed.
    let httpie = StateFile::httpie(dir.join("httpie.json")).include_credentials(true);
    let saved = tuesday.save_state(&httpie).await?;
    println!("HTTPie file: {}", httpie.path().display());
    for issue in &saved.left_out {
        println!("  left out: {issue}");
    }
    println!(
        "  (while this runs, `http --session={} {}` goes on from it)",
        httpie.path().display(),
        server.url("/reports")
    );

    // And back: HTTPie's file as this session's state.
    let from_httpie = Session::builder()
        .state_file(httpie.save_on_close(false))
        .build()?;
    let page = from_httpie.get(server.url("/reports")).send().await?;
    println!("From the HTTPie file: GET /reports -> {}", page.status());

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
