//! The politeness budget in a Session: below the retries, so each attempt
//! is counted; a bad setting fails `build`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_session::budget::{Budget, Limits, MemoryBudget};
use http_session::retry::Retry;
use http_session::Session;
use support::server::{self, response, Req};

#[tokio::test]
async fn each_retry_attempt_waits_for_the_budget() {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let srv = server::http(move |_req: Req| {
        let n = {
            let mut seen = seen.lock().unwrap();
            seen.push(Instant::now());
            seen.len()
        };
        async move {
            if n < 3 {
                response(503, "busy")
            } else {
                response(200, "ok")
            }
        }
    });
    let session = Session::builder()
        // No backoff: only the budget spaces the attempts.
        .retry(Retry::new().total(3).status_forcelist([503]))
        .budget(
            Budget::new().default_limits(Limits::new().rate(5, Duration::from_secs(1), 1)),
            MemoryBudget::new(),
        )
        .build()
        .unwrap();
    let res = session.get(srv.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 3);
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= Duration::from_millis(180), "attempts {gap:?} apart");
    }
}

#[test]
fn a_bad_budget_fails_build() {
    let err = Session::builder()
        .budget(
            Budget::new().default_limits(Limits::new().max_concurrent(0)),
            MemoryBudget::new(),
        )
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
}
