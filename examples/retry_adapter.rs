//! Retries mounted like the requests guide's adapter:
//! `Retry(total=3, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504])`
//! mounted on one prefix, against a flaky embedded server that fails twice.
//!
//! Run it with `cargo run --example retry_adapter`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http_session::hyper::HyperTransport;
use http_session::retry::{Outcome, Retry, RetryHistory, RetryService};
use http_session::Session;
use support::reply;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let server = support::serve(move |_req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                reply(503, "busy, try again")
            } else {
                reply(200, "finally")
            }
        }
    })
    .await;

    // session.mount(prefix, HTTPAdapter(max_retries=retries))
    let retries = Retry::new()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([500, 502, 503, 504]);
    let adapter = RetryService::new(HyperTransport::new(), retries)?;
    let session = Session::builder()
        .mount(&server.url("/"), adapter)
        .build()?;

    let res = session.get(server.url("/flaky")).send().await?;
    let history = res
        .extensions()
        .get::<RetryHistory>()
        .cloned()
        .unwrap_or_default();
    for (i, attempt) in history.attempts().iter().enumerate() {
        let what = match &attempt.outcome {
            Outcome::Status(code) => code.to_string(),
            other => format!("{other:?}"),
        };
        println!("attempt {}: slept {:?}, got {what}", i + 1, attempt.slept);
    }
    println!(
        "final: {} {:?} after {} attempts seen by the server",
        res.status(),
        res.text().await?,
        hits.load(Ordering::SeqCst)
    );
    Ok(())
}
