//! The Redis backend against a real `redis-server` (session-testkit) and a
//! loopback HTTP server: several workers, each with its own `RedisBudget`
//! (its own connection) and client, share one budget; faults are a server
//! that is stopped, paused and restarted. Only lower bounds on time are
//! asserted.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use session_budget::{
    Budget, BudgetBackend, BudgetLayer, BudgetService, Decision, Limits, RedisBudget,
};
use session_testkit::RedisServer;
use tower::{Layer, ServiceExt};

type Worker = BudgetService<support::HttpClient, RedisBudget>;

fn backend(redis: &RedisServer) -> RedisBudget {
    RedisBudget::builder(redis.url())
        .fallback_share(2)
        .recheck_after(Duration::from_millis(200))
        .response_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

fn worker(budget: &Budget, backend: RedisBudget) -> Worker {
    BudgetLayer::new(budget.clone(), backend)
        .unwrap()
        .layer(support::client())
}

/// `n` requests from each of `workers` workers, all at once.
async fn run(workers: &[Worker], server: &support::Server, n: usize) {
    let mut tasks = Vec::new();
    for (w, worker) in workers.iter().enumerate() {
        for i in 0..n {
            let req = support::get(&server.url(&format!("/{w}/{i}")));
            let worker = worker.clone();
            tasks.push(tokio::spawn(
                async move { worker.oneshot(req).await.unwrap() },
            ));
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_for_workers_sharing_redis() {
    let redis = RedisServer::start();
    let server = support::ok(Duration::from_millis(100));
    let budget = Budget::new().default_limits(Limits::new().max_concurrent(2));
    let workers: Vec<_> = (0..3).map(|_| worker(&budget, backend(&redis))).collect();
    run(&workers, &server, 4).await;
    assert_eq!(server.log().arrivals().len(), 12);
    assert_eq!(
        server.log().max_in_flight(),
        2,
        "never more than the cap, and it was reached"
    );
    // Every lease was handed back.
    let host = format!("http://{}", server.addr());
    assert_eq!(
        redis.command(&format!("ZCARD session-budget:{{{host}}}:leases")),
        ":0\r\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_holds_for_workers_sharing_redis() {
    let redis = RedisServer::start();
    let server = support::ok(Duration::ZERO);
    let budget = Budget::new().default_limits(Limits::new().rate(5, Duration::from_secs(1), 1));
    let workers: Vec<_> = (0..3).map(|_| worker(&budget, backend(&redis))).collect();
    run(&workers, &server, 3).await;
    assert_eq!(server.log().arrivals().len(), 9);
    // One every 200 ms for the fleet: eight intervals.
    let span = server.log().span();
    assert!(
        span >= Duration::from_millis(1580),
        "9 requests in {span:?}"
    );
    // The keys expire on their own.
    let host = format!("http://{}", server.addr());
    let ttl = redis.command(&format!("PTTL session-budget:{{{host}}}:tat"));
    assert!(ttl.starts_with(':') && !ttl.starts_with(":-"), "PTTL {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_from_one_worker_delays_the_others() {
    let redis = RedisServer::start();
    let server = support::http(Duration::ZERO, |path| async move {
        let mut res = Response::new(Full::new(Bytes::new()));
        if path == "/slow-down" {
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        res
    });
    let budget = Budget::new().default_limits(Limits::new().rate(100, Duration::from_secs(1), 10));
    let a = worker(&budget, backend(&redis));
    let others: Vec<_> = (0..2).map(|_| worker(&budget, backend(&redis))).collect();
    let res = a
        .oneshot(support::get(&server.url("/slow-down")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let mut tasks = Vec::new();
    for (i, other) in others.into_iter().enumerate() {
        let req = support::get(&server.url(&format!("/after/{i}")));
        tasks.push(tokio::spawn(other.oneshot(req)));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let log = server.log();
    let pushed = log.arrival_of("/slow-down");
    for i in 0..2 {
        let gap = log
            .arrival_of(&format!("/after/{i}"))
            .duration_since(pushed);
        assert!(
            gap >= Duration::from_millis(980),
            "worker {i} went after {gap:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_lease_expires() {
    let redis = RedisServer::start();
    let server = support::ok(Duration::ZERO);
    let limits = Limits::new()
        .max_concurrent(1)
        .lease_ttl(Duration::from_secs(1));
    let host = format!("http://{}", server.addr());
    // A worker takes the only slot and dies: its connection goes too.
    let start = Instant::now();
    {
        let dead = backend(&redis);
        match dead.acquire(&host, &limits).await.unwrap() {
            Decision::Go(lease) => assert!(lease.id().is_some()),
            other => panic!("{other:?}"),
        }
    }
    let ttl = redis.command(&format!("PTTL session-budget:{{{host}}}:leases"));
    assert!(
        ttl.starts_with(':') && !ttl.starts_with(":-"),
        "the lease set expires: {ttl}"
    );
    let other = worker(&Budget::new().default_limits(limits), backend(&redis));
    other
        .oneshot(support::get(&server.url("/next")))
        .await
        .unwrap();
    let waited = server.log().arrival_of("/next").duration_since(start);
    assert!(
        waited >= Duration::from_millis(990),
        "went after {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_falls_back_to_a_share_then_shares_again() {
    let redis = RedisServer::start();
    let server = support::ok(Duration::ZERO);
    // 10 a second for the fleet; a share of 2 workers is 5 a second.
    let budget = Budget::new().default_limits(Limits::new().rate(10, Duration::from_secs(1), 1));
    let shared = backend(&redis);
    let one = worker(&budget, shared.clone());
    one.clone()
        .oneshot(support::get(&server.url("/up")))
        .await
        .unwrap();
    assert!(!shared.is_down());

    redis.stop();
    let start = server.log().arrivals().len();
    run(std::slice::from_ref(&one), &server, 6).await;
    assert!(shared.is_down());
    let times = server.log().arrivals();
    let span = times[times.len() - 1].duration_since(times[start]);
    // Five intervals of the share (200 ms), not of the full limit (100 ms).
    assert!(
        span >= Duration::from_millis(980),
        "6 requests in {span:?} while Redis was down"
    );

    redis.restart();
    tokio::time::sleep(Duration::from_millis(300)).await; // past recheck_after
    one.oneshot(support::get(&server.url("/back")))
        .await
        .unwrap();
    assert!(!shared.is_down(), "back on Redis");
    let host = format!("http://{}", server.addr());
    assert_eq!(
        redis.command(&format!("EXISTS session-budget:{{{host}}}:tat")),
        ":1\r\n",
        "the request was counted in Redis again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_with_a_typed_error_when_told_to() {
    let redis = RedisServer::start();
    let server = support::ok(Duration::ZERO);
    let backend = RedisBudget::builder(redis.url())
        .fail_when_unavailable()
        .recheck_after(Duration::from_millis(200))
        .build()
        .unwrap();
    let budget = Budget::new().default_limits(Limits::new().max_concurrent(4));
    let one = worker(&budget, backend.clone());
    one.clone()
        .oneshot(support::get(&server.url("/up")))
        .await
        .unwrap();

    redis.stop();
    for _ in 0..2 {
        // The first finds it gone; the second, that it is still marked down.
        let err = one
            .clone()
            .oneshot(support::get(&server.url("/down")))
            .await
            .unwrap_err();
        let err = err
            .downcast_ref::<session_budget::Error>()
            .unwrap_or_else(|| panic!("not a budget error: {err}"));
        assert!(err.is_unavailable(), "{err}");
    }
    assert_eq!(
        server.log().arrivals().len(),
        1,
        "nothing was sent without the budget"
    );

    redis.restart();
    tokio::time::sleep(Duration::from_millis(300)).await;
    one.oneshot(support::get(&server.url("/back")))
        .await
        .unwrap();
    assert!(!backend.is_down());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_counts_as_down() {
    let redis = RedisServer::start();
    let server = support::ok(Duration::ZERO);
    let backend = backend(&redis); // 300 ms response timeout
    let budget = Budget::new().default_limits(Limits::new().max_concurrent(4));
    let one = worker(&budget, backend.clone());
    one.clone()
        .oneshot(support::get(&server.url("/up")))
        .await
        .unwrap();

    // Every client of the server waits 2 s for an answer.
    assert!(redis.command("CLIENT PAUSE 2000 ALL").starts_with("+OK"));
    one.clone()
        .oneshot(support::get(&server.url("/slow")))
        .await
        .unwrap();
    assert!(backend.is_down(), "the timeout made it fall back");
    assert_eq!(server.log().arrivals().len(), 2);
}
