//! Retries mounted like the requests guide's adapter:
//! `Retry(total=3, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504])`
//! mounted on one prefix, against a flaky embedded server that fails twice
//! before each success; then the same mount on a blocking session.
//!
//! Run it with `cargo run --example retry_adapter`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_session::hyper::HyperTransport;
use http_session::retry::{Outcome, Retry, RetryHistory, RetryService};
use http_session::{blocking, Session};
use support::reply;

/// The requests guide's `Retry(total=3, backoff_factor=0.1, status_forcelist=[...])`.
fn retries() -> Retry {
    Retry::new()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([500, 502, 503, 504])
}

/// Prints each attempt a response went through.
fn print_attempts(history: &RetryHistory) {
    for (i, attempt) in history.attempts().iter().enumerate() {
        let what = match &attempt.outcome {
            Outcome::Status(code) => code.to_string(),
            other => format!("{other:?}"),
        };
        println!("attempt {}: slept {:?}, got {what}", i + 1, attempt.slept);
    }
}

/// The same adapter mounted on a blocking session (run from `spawn_blocking`
/// below: blocking calls, and the backoff sleeps they wait for, belong off
/// the async workers).
fn blocking_step(
    prefix: String,
    url: String,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let adapter = RetryService::new(HyperTransport::new(), retries())?;
    let session = blocking::Session::builder()
        .mount(&prefix, adapter)
        .build_blocking()?;
    let res = session.get(&url).send()?;
    print_attempts(
        &res.extensions()
            .get::<RetryHistory>()
            .cloned()
            .unwrap_or_default(),
    );
    println!("blocking final: {} {:?}", res.status(), res.text()?);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = support::serve(move |_req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n % 3 < 2 {
                reply(503, "busy, try again")
            } else {
                reply(200, "finally")
            }
        }
    })
    .await;

    // session.mount(prefix, HTTPAdapter(max_retries=retries))
    let adapter = RetryService::new(HyperTransport::new(), retries())?;
    let session = Session::builder()
        .mount(&server.url("/"), adapter)
        .build()?;

    let res = session.get(server.url("/flaky")).send().await?;
    print_attempts(
        &res.extensions()
            .get::<RetryHistory>()
            .cloned()
            .unwrap_or_default(),
    );
    println!(
        "final: {} {:?} after {} attempts seen by the server",
        res.status(),
        res.text().await?,
        hits.load(Ordering::SeqCst)
    );

    let (prefix, url) = (server.url("/"), server.url("/flaky"));
    tokio::task::spawn_blocking(move || blocking_step(prefix, url))
        .await?
        .map_err(|err| err as Box<dyn std::error::Error>)?;
    println!(
        "{} attempts seen by the server in all",
        hits.load(Ordering::SeqCst)
    );
    Ok(())
}
