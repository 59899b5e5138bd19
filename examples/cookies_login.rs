//! Cookies (the requests guide's login example): POST a login form, then GET
//! a protected page; the session sends the cookie the login set.
//!
//! Run it with `cargo run --example cookies_login`.

mod support;

use http::header::{COOKIE, SET_COOKIE};
use http_session::Session;
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
    Ok(())
}
