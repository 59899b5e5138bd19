//! The stack's own cost per request, without a network: each session sends
//! to an in-process transport that answers at once, so what is measured is
//! merging defaults, the layers (redirect, auth, cookies, retry), routing and
//! reading the body.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use http_session::{Body, Session};

type Answer = std::future::Ready<Result<http::Response<Body>, Infallible>>;

fn answer(_req: http::Request<Body>) -> Answer {
    std::future::ready(Ok(http::Response::new(Body::from("hello, world!"))))
}

fn transport() -> tower::util::ServiceFn<fn(http::Request<Body>) -> Answer> {
    tower::service_fn(answer as fn(http::Request<Body>) -> Answer)
}

async fn send_n(session: &Session, n: u32) {
    for _ in 0..n {
        session
            .get("http://127.0.0.1:8080/small")
            .send()
            .await
            .expect("send")
            .bytes()
            .await
            .expect("body");
    }
}

async fn per_request(session: &Session, n: u32) -> Duration {
    send_n(session, 1000).await;
    let start = Instant::now();
    send_n(session, n).await;
    start.elapsed() / n
}

async fn direct(n: u32) -> Duration {
    use tower::ServiceExt;
    let svc = transport();
    let start = Instant::now();
    for _ in 0..n {
        let req = http::Request::get("http://127.0.0.1:8080/small")
            .body(Body::empty())
            .expect("request");
        let res = svc.oneshot(req).await.expect("answer");
        res.into_body()
            .collect_limited(usize::MAX)
            .await
            .expect("body");
    }
    start.elapsed() / n
}

pub fn run(quick: bool) -> String {
    let n = if quick { 50_000 } else { 300_000 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async move {
        let bare = Session::builder()
            .transport(transport())
            .cookie_store(false)
            .no_redirects()
            .build()
            .expect("bare");
        let default = Session::builder()
            .transport(transport())
            .build()
            .expect("default");
        let retry = Session::builder()
            .transport(transport())
            .retry(http_session::retry::Retry::new().total(3))
            .build()
            .expect("retry");
        let rows = [
            ("transport called directly", direct(n).await),
            ("session, no cookies", per_request(&bare, n).await),
            (
                "session, defaults (redirects, auth, cookies)",
                per_request(&default, n).await,
            ),
            ("session, defaults + retry", per_request(&retry, n).await),
        ];
        let mut out =
            String::from("== stack overhead per request, in-process transport (no network)\n");
        for (name, t) in rows {
            out += &format!("{name:<46} {t:>10.2?}\n");
        }
        out
    })
}

/// Runs one configuration alone (for `perf record`): `bare`, `default` or `retry`.
pub fn profile(which: &str, n: u32) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async move {
        let mut b = Session::builder().transport(transport());
        b = match which {
            "bare" => b.cookie_store(false).no_redirects(),
            "retry" => b.retry(http_session::retry::Retry::new().total(3)),
            _ => b,
        };
        let s = b.build().expect("session");
        println!("{which}: {:?} per request", per_request(&s, n).await);
    });
}
