//! The one request path: every layer of the stack is entered by a plain
//! GET, whatever hop it is. Over loopback, a redirect chain whose hops set
//! cookies and answer 503 once: the outer middleware sees the request once,
//! a hop middleware sees each hop (first and redirected alike), the retry
//! layer retries a redirect hop as it retries a first hop, and the cookie
//! jar sends each attempt of each hop the cookies known when it starts.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::header::{COOKIE, LOCATION, SET_COOKIE};
use http::StatusCode;
use http_session::middleware::from_fn;
use http_session::retry::{Retry, RetryHistory};
use http_session::Session;
use support::server::{recording, response, Req, ResBody};

fn with_cookie(mut res: http::Response<ResBody>, cookie: &str) -> http::Response<ResBody> {
    res.headers_mut()
        .append(SET_COOKIE, cookie.parse().unwrap());
    res
}

fn redirect_to(location: &str) -> http::Response<ResBody> {
    let mut res = response(302, "");
    res.headers_mut()
        .insert(LOCATION, location.parse().unwrap());
    res
}

fn cookie_of(req: &Req) -> String {
    req.headers
        .get(COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_layer_is_entered_on_every_hop() {
    // `/first` is busy once, then redirects; `/hop` is busy once, then
    // redirects; `/end` answers. Each busy answer and each redirect sets a
    // cookie of its own.
    let busy = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let (srv, log) = recording(move |req| {
        let path = req.uri.path().to_owned();
        let first_time = busy.lock().unwrap().insert(path.clone());
        match path.as_str() {
            "/first" | "/hop" if first_time => {
                with_cookie(response(503, "busy"), &format!("busy{}=1", path.len()))
            }
            "/first" => with_cookie(redirect_to("/hop"), "first=1"),
            "/hop" => with_cookie(redirect_to("/end"), "hop=1"),
            _ => response(200, "done"),
        }
    });
    let outer = Arc::new(AtomicUsize::new(0));
    let hops = Arc::new(Mutex::new(Vec::new()));
    let (outer_seen, hops_seen) = (outer.clone(), hops.clone());
    let session = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .status_forcelist([503])
                .backoff_factor(0.0),
        )
        .middleware(from_fn(move |req, next| {
            outer_seen.fetch_add(1, Ordering::SeqCst);
            next.run(req)
        }))
        .hop_middleware(from_fn(
            move |req: http::Request<http_session::Body>, next| {
                hops_seen.lock().unwrap().push(req.uri().path().to_owned());
                next.run(req)
            },
        ))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let res = session.get(srv.url("/first")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.history().len(), 2);
    let retries = res.extensions().get::<RetryHistory>().unwrap();
    assert_eq!(retries.len(), 1, "the last hop was answered at once");

    // The outer layer runs once per request, the hop layer once per hop.
    assert_eq!(outer.load(Ordering::SeqCst), 1);
    assert_eq!(*hops.lock().unwrap(), ["/first", "/hop", "/end"]);

    // Below the hop layer: each hop retried once, each attempt sent the
    // cookies known when it started (the busy answer's cookie included).
    let seen: Vec<(String, String)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|req| (req.uri.path().to_owned(), cookie_of(req)))
        .collect();
    let expected = [
        ("/first", ""),
        ("/first", "busy6=1"),
        ("/hop", "busy6=1; first=1"),
        ("/hop", "busy6=1; first=1; busy4=1"),
        ("/end", "busy6=1; first=1; busy4=1; hop=1"),
    ];
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    for ((path, cookies), (want_path, want)) in seen.iter().zip(expected) {
        assert_eq!(path, want_path);
        let mut got: Vec<&str> = cookies.split("; ").filter(|c| !c.is_empty()).collect();
        let mut want: Vec<&str> = want.split("; ").filter(|c| !c.is_empty()).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "cookies sent to {path}");
    }
}

/// The default session (no retries set) has the same stack: a redirect hop
/// is sent the cookie its 302 set, as the first hop would be.
#[tokio::test]
async fn the_default_session_sends_a_redirects_cookie_on_the_next_hop() {
    let (srv, log) = recording(|req| match req.uri.path() {
        "/login" => with_cookie(redirect_to("/home"), "sid=42"),
        _ => response(200, "home"),
    });
    let session = Session::new();
    let text = session
        .get(srv.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "home");
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(cookie_of(&log[0]), "");
    assert_eq!(cookie_of(&log[1]), "sid=42");
    let jar = session.cookies().unwrap();
    assert_eq!(jar.len(), 1);
}
