//! Session defaults (the requests guide's "defaults" example): a bearer token
//! and `Accept: application/json` on every request, and a default timeout of
//! 5 s that a single request can override; then the same defaults on a
//! blocking session.
//!
//! Run it with `cargo run --example defaults`.

mod support;

use std::time::Duration;

use http_session::{blocking, Session};
use support::{reply, Req};

/// The same defaults on a blocking session: the same builder, finished with
/// `build_blocking`; calls return results instead of futures. (Run from
/// `spawn_blocking` below: blocking calls belong off the async workers.)
fn blocking_step(users: String, slow: String) -> Result<(), http_session::Error> {
    let session = blocking::Session::builder()
        .bearer_auth("YOUR_TOKEN")
        .header("accept", "application/json")
        .timeout(Duration::from_secs(5))
        .build_blocking()?;
    let text = session.get(&users).send()?.text()?;
    println!("blocking GET /users with the same defaults: {text}");
    let err = session
        .get(&slow)
        .timeout(Duration::from_millis(100))
        .send()
        .unwrap_err();
    println!(
        "blocking GET /slow with a 100 ms override: {err} (is_timeout: {})",
        err.is_timeout()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = support::serve(|req: Req| async move {
        if req.path == "/slow" {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned()
        };
        reply(
            200,
            format!(
                "authorization={} accept={}",
                header("authorization"),
                header("accept")
            ),
        )
    })
    .await;

    let session = Session::builder()
        .bearer_auth("YOUR_TOKEN")
        .header("accept", "application/json")
        .timeout(Duration::from_secs(5))
        .build()?;

    let text = session
        .get(server.url("/users"))
        .send()
        .await?
        .text()
        .await?;
    println!("GET /users with session defaults: {text}");

    let text = session
        .get(server.url("/users"))
        .without_header("accept")
        .send()
        .await?
        .text()
        .await?;
    println!("GET /users without the default Accept: {text}");

    let err = session
        .get(server.url("/slow"))
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    println!(
        "GET /slow with a 100 ms override: {err} (is_timeout: {})",
        err.is_timeout()
    );

    let (users, slow) = (server.url("/users"), server.url("/slow"));
    tokio::task::spawn_blocking(move || blocking_step(users, slow)).await??;
    Ok(())
}
