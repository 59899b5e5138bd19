//! Cookies (the requests guide's login example): POST a login form, then GET
//! a protected page; the session sends the cookie the login set. Then the
//! same login with a blocking session.
//!
//! Run it with `cargo run --example cookies_login`.

mod support;

use http::header::{COOKIE, SET_COOKIE};
use http_session::{blocking, Session};
use support::{reply, Req};

async fn app(req: Req) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let cookie = req
        .headers
        .get(COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match req.path.as_str() {
        "/login" if req.body == "username=ada&password=lovelace" => {
            let mut res = reply(200, "logged in");
            res.headers_mut().insert(
                SET_COOKIE,
                "session_id=f00d; Path=/; HttpOnly".parse().expect("valid"),
            );
            res
        }
        "/login" => reply(401, "wrong password"),
        "/protected" if cookie.contains("session_id=f00d") => reply(200, "welcome back, ada"),
        "/protected" => reply(403, "please log in"),
        _ => reply(404, ""),
    }
}

/// The same login with a blocking session (run from `spawn_blocking` below:
/// blocking calls belong off the async workers).
fn blocking_login(login: String, protected: String) -> Result<(), http_session::Error> {
    let session = blocking::Session::new();
    let res = session
        .post(&login)
        .form(&[("username", "ada"), ("password", "lovelace")])
        .send()?;
    println!("blocking POST /login -> {}", res.status());
    let page = session.get(&protected).send()?;
    println!(
        "blocking GET /protected -> {} {:?}",
        page.status(),
        page.text()?
    );
    session.close()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = support::serve(app).await;
    let session = Session::new();

    let before = session.get(server.url("/protected")).send().await?;
    println!("GET /protected before logging in -> {}", before.status());

    let login = session
        .post(server.url("/login"))
        .form(&[("username", "ada"), ("password", "lovelace")])
        .send()
        .await?;
    println!(
        "POST /login -> {} {:?}",
        login.status(),
        login.text().await?
    );

    let page = session.get(server.url("/protected")).send().await?;
    println!(
        "GET /protected after logging in -> {} {:?}",
        page.status(),
        page.text().await?
    );

    let jar = session.cookies().expect("cookies are on by default");
    for cookie in jar.cookies() {
        println!(
            "the jar holds {}={} for {}",
            cookie.name(),
            cookie.value(),
            cookie.domain()
        );
    }
    session.close().await?;

    let (login, protected) = (server.url("/login"), server.url("/protected"));
    tokio::task::spawn_blocking(move || blocking_login(login, protected)).await??;
    Ok(())
}
