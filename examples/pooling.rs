//! Connection pooling (the requests guide's "pooling" example): the same
//! GETs with a fresh client each time, then with one session, timed, with the
//! connections each opened; then the same with blocking sessions.
//!
//! Run it with `cargo run --release --example pooling`.

mod support;

use std::time::{Duration, Instant};

use http_session::{blocking, Session};
use support::reply;

async fn fresh_each_time(url: &str, n: usize) -> Result<Duration, http_session::Error> {
    let start = Instant::now();
    for _ in 0..n {
        let session = Session::new();
        session.get(url).send().await?.bytes().await?;
    }
    Ok(start.elapsed())
}

async fn one_session(url: &str, n: usize) -> Result<(Duration, u64), http_session::Error> {
    let session = Session::new();
    let start = Instant::now();
    for _ in 0..n {
        session.get(url).send().await?.bytes().await?;
    }
    let opened = session
        .hyper_transport()
        .map_or(0, |t| t.connections_opened());
    Ok((start.elapsed(), opened))
}

/// The same two ways with blocking sessions (each one also starts, and at
/// its drop stops, its background runtime's thread).
fn blocking_fresh_each_time(url: &str, n: usize) -> Result<Duration, http_session::Error> {
    let start = Instant::now();
    for _ in 0..n {
        let session = blocking::Session::new();
        session.get(url).send()?.bytes()?;
    }
    Ok(start.elapsed())
}

fn blocking_one_session(url: &str, n: usize) -> Result<(Duration, u64), http_session::Error> {
    let session = blocking::Session::new();
    let start = Instant::now();
    for _ in 0..n {
        session.get(url).send()?.bytes()?;
    }
    let opened = session
        .hyper_transport()
        .map_or(0, |t| t.connections_opened());
    Ok((start.elapsed(), opened))
}

/// Both, for `n` GETs (run from `spawn_blocking` below: blocking calls belong
/// off the async workers).
fn blocking_step(url: &str, n: usize) -> Result<(Duration, Duration, u64), http_session::Error> {
    let fresh = blocking_fresh_each_time(url, n)?;
    let (pooled, opened) = blocking_one_session(url, n)?;
    Ok((fresh, pooled, opened))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = support::serve(|_req| async { reply(200, "pong") }).await;
    let url = server.url("/ping");
    for n in [5usize, 500] {
        let before = server.connections();
        let fresh = fresh_each_time(&url, n).await?;
        let fresh_conns = server.connections() - before;
        let (pooled, opened) = one_session(&url, n).await?;
        println!(
            "{n:>4} GETs: fresh client each time {fresh:>10.2?} ({fresh_conns} connections), \
             one session {pooled:>10.2?} ({opened} connection(s)), speed-up {:.1}x",
            fresh.as_secs_f64() / pooled.as_secs_f64()
        );
    }
    for n in [5usize, 500] {
        let url = url.clone();
        let (fresh, pooled, opened) =
            tokio::task::spawn_blocking(move || blocking_step(&url, n)).await??;
        println!(
            "{n:>4} GETs, blocking: fresh session each time {fresh:>10.2?}, \
             one session {pooled:>10.2?} ({opened} connection(s)), speed-up {:.1}x",
            fresh.as_secs_f64() / pooled.as_secs_f64()
        );
    }
    Ok(())
}
