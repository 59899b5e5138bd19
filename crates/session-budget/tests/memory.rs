//! The memory backend over real sockets: a loopback server records when
//! each request arrives and how many were in flight; only lower bounds on
//! time are asserted.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use session_budget::{Budget, BudgetBackend, BudgetLayer, Decision, Lease, Limits, MemoryBudget};
use tower::{Layer, ServiceExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_holds_for_one_worker() {
    let server = support::ok(Duration::ZERO);
    let budget = Budget::new().default_limits(Limits::new().rate(5, Duration::from_secs(1), 1));
    let service = BudgetLayer::new(budget, MemoryBudget::new())
        .unwrap()
        .layer(support::client());
    // Ten requests at once: the budget lines them up.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let service = service.clone();
            let req = support::get(&server.url(&format!("/{i}")));
            tokio::spawn(async move { service.oneshot(req).await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(server.log().arrivals().len(), 10);
    // Nine intervals of 200 ms between the first and the last (a few ms of
    // loopback jitter allowed).
    let span = server.log().span();
    assert!(
        span >= Duration::from_millis(1780),
        "10 requests in {span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_for_workers_sharing_a_memory_budget() {
    let server = support::ok(Duration::from_millis(100));
    let backend = MemoryBudget::new();
    let budget = Budget::new().default_limits(Limits::new().max_concurrent(2));
    let mut tasks = Vec::new();
    for worker in 0..3 {
        // Each worker: its own layer and client, one shared backend.
        let service = BudgetLayer::new(budget.clone(), backend.clone())
            .unwrap()
            .layer(support::client());
        for i in 0..4 {
            let service = service.clone();
            let req = support::get(&server.url(&format!("/{worker}/{i}")));
            tasks.push(tokio::spawn(
                async move { service.oneshot(req).await.unwrap() },
            ));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.log().arrivals().len(), 12);
    assert_eq!(
        server.log().max_in_flight(),
        2,
        "never more than the cap, and it was reached"
    );
}

fn slow_down_on(path: &'static str) -> support::Server {
    support::http(Duration::ZERO, move |p| async move {
        let mut res = Response::new(Full::new(Bytes::new()));
        if p == path {
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        res
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_from_one_worker_pauses_the_others() {
    let server = slow_down_on("/slow-down");
    let backend = MemoryBudget::new();
    let budget = Budget::new().default_limits(Limits::new().rate(100, Duration::from_secs(1), 10));
    let a = BudgetLayer::new(budget.clone(), backend.clone())
        .unwrap()
        .layer(support::client());
    let b = BudgetLayer::new(budget, backend)
        .unwrap()
        .layer(support::client());
    let res = a
        .oneshot(support::get(&server.url("/slow-down")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    b.oneshot(support::get(&server.url("/after")))
        .await
        .unwrap();
    let log = server.log();
    let gap = log
        .arrival_of("/after")
        .duration_since(log.arrival_of("/slow-down"));
    assert!(
        gap >= Duration::from_millis(980),
        "the other worker went after {gap:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_lease_expires() {
    let server = support::ok(Duration::ZERO);
    let backend = MemoryBudget::new();
    let limits = Limits::new()
        .max_concurrent(1)
        .lease_ttl(Duration::from_secs(1));
    let host = format!("http://{}", server.addr());
    // A worker takes the only slot and dies without handing it back.
    let start = Instant::now();
    match backend.acquire(&host, &limits).await.unwrap() {
        Decision::Go(lease) => std::mem::forget(lease),
        other => panic!("{other:?}"),
    }
    let service = BudgetLayer::new(Budget::new().default_limits(limits), backend)
        .unwrap()
        .layer(support::client());
    service
        .oneshot(support::get(&server.url("/next")))
        .await
        .unwrap();
    let waited = server.log().arrival_of("/next").duration_since(start);
    assert!(
        waited >= Duration::from_millis(990),
        "went after {waited:?}"
    );
}

/// A backend that counts the calls it gets.
#[derive(Clone, Default)]
struct Counting {
    inner: MemoryBudget,
    calls: Arc<AtomicUsize>,
}

impl BudgetBackend for Counting {
    fn acquire(
        &self,
        host: &str,
        limits: &Limits,
    ) -> impl Future<Output = session_budget::Result<Decision>> + Send {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.acquire(host, limits)
    }

    fn release(&self, lease: Lease) -> impl Future<Output = session_budget::Result<()>> + Send {
        self.inner.release(lease)
    }

    fn push_back(
        &self,
        host: &str,
        limits: &Limits,
        pause: Duration,
    ) -> impl Future<Output = session_budget::Result<()>> + Send {
        self.inner.push_back(host, limits, pause)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_without_limits_never_reach_the_backend() {
    let server = support::ok(Duration::ZERO);
    let backend = Counting::default();
    let budget = Budget::new().host("limited.test", Limits::new().max_concurrent(1));
    let service = BudgetLayer::new(budget, backend.clone())
        .unwrap()
        .layer(support::client());
    for _ in 0..3 {
        service
            .clone()
            .oneshot(support::get(&server.url("/")))
            .await
            .unwrap();
    }
    assert_eq!(backend.calls.load(Ordering::SeqCst), 0);

    // An unlimited budget: the same.
    let service = BudgetLayer::new(Budget::new(), backend.clone())
        .unwrap()
        .layer(support::client());
    service
        .oneshot(support::get(&server.url("/")))
        .await
        .unwrap();
    assert_eq!(backend.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_hands_its_lease_back() {
    let server = support::ok(Duration::from_secs(5));
    let backend = MemoryBudget::new();
    let limits = Limits::new()
        .max_concurrent(1)
        .lease_ttl(Duration::from_secs(60));
    let service = BudgetLayer::new(
        Budget::new().default_limits(limits.clone()),
        backend.clone(),
    )
    .unwrap()
    .layer(support::client());
    // Cancelled while it waits for its (slow) head.
    let slow = service.clone().oneshot(support::get(&server.url("/slow")));
    assert!(tokio::time::timeout(Duration::from_millis(200), slow)
        .await
        .is_err());
    // The release runs on a task of its own: soon, not at the TTL.
    let host = format!("http://{}", server.addr());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match backend.acquire(&host, &limits).await.unwrap() {
            Decision::Go(_) => break,
            Decision::Wait(wait) => {
                assert!(Instant::now() < deadline, "the lease was never handed back");
                tokio::time::sleep(wait).await;
            }
            other => panic!("{other:?}"),
        }
    }
}
