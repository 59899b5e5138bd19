//! Deterministic tests on tokio's paused clock: the sleep sequence, the cap,
//! jitter bounds, `Retry-After` in both forms and over the cap, counters,
//! methods and the history, against a scripted `service_fn` backend.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http::{Method, Request, Response, StatusCode};
use session_retry::{
    BoxError, Counter, Error, ErrorKind, Outcome, Retry, RetryHistory, RetryLayer, StopReason,
};
use tokio::time::Instant;
use tower::{service_fn, Layer, ServiceExt};

/// What the scripted backend answers, in order (the last one repeats).
#[derive(Clone)]
enum Reply {
    Status(u16),
    WithRetryAfter(u16, String),
    Refused,
    Reset,
}

type Calls = Arc<Mutex<Vec<Instant>>>;

/// Sends one request through `retry` to a backend playing `script`; returns
/// the result and the instants at which the backend was called.
async fn run(
    retry: Retry,
    method: Method,
    extra_header: Option<(&'static str, &'static str)>,
    script: Vec<Reply>,
) -> (Result<Response<String>, BoxError>, Vec<Instant>) {
    let calls: Calls = Arc::default();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let backend = {
        let calls = calls.clone();
        service_fn(move |_req: Request<String>| {
            calls.lock().unwrap().push(Instant::now());
            let mut script = script.lock().unwrap();
            let reply = if script.len() > 1 {
                script.pop_front().unwrap()
            } else {
                script.front().cloned().unwrap()
            };
            async move {
                match reply {
                    Reply::Status(code) => {
                        let mut res = Response::new(String::from("body"));
                        *res.status_mut() = StatusCode::from_u16(code).unwrap();
                        Ok::<_, BoxError>(res)
                    }
                    Reply::WithRetryAfter(code, value) => {
                        let mut res = Response::new(String::new());
                        *res.status_mut() = StatusCode::from_u16(code).unwrap();
                        res.headers_mut()
                            .insert("retry-after", value.parse().unwrap());
                        Ok(res)
                    }
                    Reply::Refused => Err(BoxError::from(std::io::Error::from(
                        std::io::ErrorKind::ConnectionRefused,
                    ))),
                    Reply::Reset => Err(BoxError::from(std::io::Error::from(
                        std::io::ErrorKind::ConnectionReset,
                    ))),
                }
            }
        })
    };
    let service = RetryLayer::new(retry).unwrap().layer(backend);
    let mut req = Request::builder().method(method).uri("http://api.test/x");
    if let Some((name, value)) = extra_header {
        req = req.header(name, value);
    }
    let result = service
        .oneshot(req.body(String::from("payload")).unwrap())
        .await;
    let calls = calls.lock().unwrap().clone();
    (result, calls)
}

fn gaps(calls: &[Instant]) -> Vec<Duration> {
    calls.windows(2).map(|w| w[1] - w[0]).collect()
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn history<B>(res: &Response<B>) -> &RetryHistory {
    res.extensions()
        .get::<RetryHistory>()
        .expect("every response carries a history")
}

fn retry_error(err: BoxError) -> Error {
    *err.downcast::<Error>().expect("a session_retry::Error")
}

#[tokio::test(start_paused = true)]
async fn sleep_sequence_for_factor_0_1_is_0_then_doubling_from_0_2() {
    let retry = Retry::new()
        .total(5)
        .backoff_factor(0.1)
        .status_forcelist([503])
        .raise_on_status(false);
    let (res, calls) = run(retry, Method::GET, None, vec![Reply::Status(503)]).await;
    let res = res.unwrap();
    assert_eq!(res.status(), 503);
    let expected = [ms(0), ms(200), ms(400), ms(800), ms(1600)];
    assert_eq!(gaps(&calls), expected, "the backend saw these gaps");
    let history = history(&res);
    assert_eq!(history.sleeps(), expected, "the history records them");
    assert_eq!(history.len(), 6);
    assert_eq!(history.attempts()[0].slept, Duration::ZERO);
    assert_eq!(
        history.stop_reason(),
        Some(&StopReason::Exhausted(Counter::Total))
    );
}

#[tokio::test(start_paused = true)]
async fn guide_settings_succeed_on_the_third_attempt() {
    let retry = Retry::new()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([500, 502, 503, 504]);
    let script = vec![Reply::Status(503), Reply::Status(502), Reply::Status(200)];
    let (res, calls) = run(retry, Method::GET, None, script).await;
    let res = res.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(calls.len(), 3);
    let history = history(&res);
    let outcomes: Vec<_> = history
        .attempts()
        .iter()
        .map(|a| a.outcome.status())
        .collect();
    assert_eq!(
        outcomes,
        [
            Some(StatusCode::SERVICE_UNAVAILABLE),
            Some(StatusCode::BAD_GATEWAY),
            Some(StatusCode::OK)
        ]
    );
    assert_eq!(history.sleeps(), [ms(0), ms(200)]);
    assert_eq!(history.stop_reason(), None);
}

#[tokio::test(start_paused = true)]
async fn status_exhaustion_raises_with_last_status_and_history() {
    let retry = Retry::new()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([503]);
    let (res, calls) = run(retry, Method::GET, None, vec![Reply::Status(503)]).await;
    let err = retry_error(res.unwrap_err());
    assert!(err.is_status() && err.is_exhausted());
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.history().len(), 4);
    assert_eq!(calls.len(), 4);
    assert_eq!(err.history().sleeps(), [ms(0), ms(200), ms(400)]);
    assert_eq!(
        err.to_string(),
        "server answered 503 Service Unavailable after 4 attempts (total retries exhausted)"
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_is_capped_by_backoff_max() {
    let retry = Retry::new()
        .total(6)
        .backoff_factor(1.0)
        .backoff_max(Duration::from_secs(3))
        .status_forcelist([500])
        .raise_on_status(false);
    let (res, calls) = run(retry, Method::GET, None, vec![Reply::Status(500)]).await;
    let secs = Duration::from_secs;
    let expected = [secs(0), secs(2), secs(3), secs(3), secs(3), secs(3)];
    assert_eq!(gaps(&calls), expected);
    assert_eq!(history(&res.unwrap()).sleeps(), expected);
}

#[tokio::test(start_paused = true)]
async fn additive_jitter_stays_within_its_bounds() {
    let retry = Retry::new()
        .total(5)
        .backoff_factor(0.1)
        .backoff_jitter(0.05)
        .status_forcelist([503])
        .raise_on_status(false);
    let (res, calls) = run(retry, Method::GET, None, vec![Reply::Status(503)]).await;
    let gaps = gaps(&calls);
    assert_eq!(gaps[0], Duration::ZERO, "no sleep before the first retry");
    for (gap, base) in gaps[1..].iter().zip([200, 400, 800, 1600]) {
        // The timer wheel rounds up to the next millisecond.
        assert!(
            *gap >= ms(base) && *gap <= ms(base + 51),
            "{gap:?} for base {base} ms"
        );
    }
    assert_eq!(history(&res.unwrap()).len(), 6);
}

#[tokio::test(start_paused = true)]
async fn full_jitter_stays_within_its_bounds() {
    let retry = Retry::new()
        .total(5)
        .backoff_factor(0.1)
        .full_jitter(true)
        .status_forcelist([503])
        .raise_on_status(false);
    let (_, calls) = run(retry, Method::GET, None, vec![Reply::Status(503)]).await;
    let gaps = gaps(&calls);
    assert_eq!(gaps[0], Duration::ZERO);
    for (gap, base) in gaps[1..].iter().zip([200, 400, 800, 1600]) {
        assert!(*gap <= ms(base + 1), "{gap:?} for base {base} ms");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_replace_the_backoff_and_retry_429_outside_the_forcelist() {
    let retry = Retry::new().total(3).backoff_factor(10.0);
    let script = vec![
        Reply::WithRetryAfter(429, "3".into()),
        Reply::WithRetryAfter(503, " 7 ".into()),
        Reply::Status(200),
    ];
    let (res, calls) = run(retry, Method::GET, None, script).await;
    assert_eq!(res.unwrap().status(), 200);
    assert_eq!(
        gaps(&calls),
        [Duration::from_secs(3), Duration::from_secs(7)]
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_not_used_for_other_statuses_unless_listed() {
    let retry = Retry::new().total(3);
    let (res, calls) = run(
        retry,
        Method::GET,
        None,
        vec![Reply::WithRetryAfter(500, "3".into())],
    )
    .await;
    assert_eq!(res.unwrap().status(), 500, "500 is not in the forcelist");
    assert_eq!(calls.len(), 1);
    let ignore = Retry::new().total(3).respect_retry_after(false);
    let (res, calls) = run(
        ignore,
        Method::GET,
        None,
        vec![Reply::WithRetryAfter(429, "3".into())],
    )
    .await;
    assert_eq!(res.unwrap().status(), 429);
    assert_eq!(calls.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date() {
    // Whole seconds: the date names a second 10 s ahead, so the wait is
    // between 9 and 10 s depending on where in the current second we are.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(10));
    let retry = Retry::new().total(1);
    let script = vec![Reply::WithRetryAfter(503, date), Reply::Status(204)];
    let (res, calls) = run(retry, Method::GET, None, script).await;
    assert_eq!(res.unwrap().status(), 204);
    let gap = gaps(&calls)[0];
    assert!(
        gap > Duration::from_secs(8) && gap <= Duration::from_secs(10),
        "{gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_over_the_cap_is_capped() {
    for value in [
        "9999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "184467440737095516150",
    ] {
        let retry = Retry::new().total(1);
        let script = vec![Reply::WithRetryAfter(503, value.into()), Reply::Status(200)];
        let (res, calls) = run(retry, Method::GET, None, script).await;
        assert_eq!(res.unwrap().status(), 200, "{value}");
        assert_eq!(
            gaps(&calls),
            [session_retry::DEFAULT_RETRY_AFTER_MAX],
            "{value}"
        );
    }
    let retry = Retry::new()
        .total(1)
        .retry_after_max(Duration::from_secs(60));
    let script = vec![
        Reply::WithRetryAfter(429, "3600".into()),
        Reply::Status(200),
    ];
    let (_, calls) = run(retry, Method::GET, None, script).await;
    assert_eq!(gaps(&calls), [Duration::from_secs(60)]);
}

#[tokio::test(start_paused = true)]
async fn retry_after_over_the_cap_can_fail_at_once() {
    let retry = Retry::new()
        .total(3)
        .retry_after_max(Duration::from_secs(60))
        .fail_on_long_retry_after(true);
    let script = vec![Reply::WithRetryAfter(503, "3600".into())];
    let (res, calls) = run(retry.clone(), Method::GET, None, script.clone()).await;
    assert_eq!(calls.len(), 1);
    let err = retry_error(res.unwrap_err());
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::RetryAfterTooLong(Duration::from_secs(3600)))
    );
    let (res, calls) = run(retry.raise_on_status(false), Method::GET, None, script).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(
        res.unwrap().status(),
        503,
        "returned as is without raise_on_status"
    );
}

#[tokio::test(start_paused = true)]
async fn unparsable_retry_after_falls_back_to_the_backoff() {
    for value in ["-5", "abc", "1.5", "0"] {
        let retry = Retry::new().total(2).backoff_factor(0.1);
        let script = vec![Reply::WithRetryAfter(503, value.into())];
        let (res, calls) = run(retry.raise_on_status(false), Method::GET, None, script).await;
        assert_eq!(res.unwrap().status(), 503);
        assert_eq!(
            gaps(&calls),
            [ms(0), ms(200)],
            "{value}: still retried, on the backoff"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn total_zero_means_no_retries() {
    let retry = Retry::new().total(0).status_forcelist([503]);
    let (res, calls) = run(retry.clone(), Method::GET, None, vec![Reply::Status(503)]).await;
    assert_eq!(calls.len(), 1);
    let err = retry_error(res.unwrap_err());
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::Exhausted(Counter::Total))
    );
    let (res, calls) = run(retry, Method::GET, None, vec![Reply::Refused]).await;
    assert_eq!(calls.len(), 1);
    let err = retry_error(res.unwrap_err());
    assert!(err.is_connect() && err.is_exhausted());
    let (res, calls) = run(Retry::never(), Method::GET, None, vec![Reply::Status(200)]).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(history(&res.unwrap()).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn post_is_not_retried_on_status_or_read_errors_but_is_on_connect_errors() {
    let retry = Retry::new().total(3).status_forcelist([500, 503]);
    for code in [503, 500] {
        let (res, calls) = run(retry.clone(), Method::POST, None, vec![Reply::Status(code)]).await;
        assert_eq!(calls.len(), 1);
        let res = res.unwrap();
        assert_eq!(res.status().as_u16(), code);
        assert_eq!(
            history(&res).stop_reason(),
            Some(&StopReason::MethodNotRetryable)
        );
    }
    let (res, calls) = run(retry.clone(), Method::POST, None, vec![Reply::Reset]).await;
    assert_eq!(calls.len(), 1);
    let err = retry_error(res.unwrap_err());
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::MethodNotRetryable)
    );
    assert!(err.to_string().contains("not retried"), "{err}");
    let script = vec![Reply::Refused, Reply::Refused, Reply::Status(201)];
    let (res, calls) = run(retry, Method::POST, None, script).await;
    assert_eq!(calls.len(), 3, "connect errors are retried for any method");
    assert_eq!(res.unwrap().status(), 201);
}

#[tokio::test(start_paused = true)]
async fn idempotency_key_makes_post_retryable() {
    let retry = Retry::new().total(3).status_forcelist([503]);
    let key = Some(("idempotency-key", "7c2b1e4a"));
    let script = vec![Reply::Status(503), Reply::Reset, Reply::Status(201)];
    let (res, calls) = run(retry, Method::POST, key, script).await;
    assert_eq!(calls.len(), 3);
    assert_eq!(res.unwrap().status(), 201);
}

#[tokio::test(start_paused = true)]
async fn each_counter_bounds_its_own_kind() {
    let retry = Retry::new()
        .total(10)
        .connect(1)
        .read(2)
        .status(3)
        .status_forcelist([503]);
    let (res, calls) = run(retry.clone(), Method::GET, None, vec![Reply::Refused]).await;
    assert_eq!(calls.len(), 2);
    let err = retry_error(res.unwrap_err());
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::Exhausted(Counter::Connect))
    );
    match &err.history().attempts()[0].outcome {
        Outcome::Error { kind, message } => {
            assert_eq!(*kind, ErrorKind::Connect);
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let (res, calls) = run(retry.clone(), Method::GET, None, vec![Reply::Reset]).await;
    assert_eq!(calls.len(), 3);
    assert_eq!(
        retry_error(res.unwrap_err()).history().stop_reason(),
        Some(&StopReason::Exhausted(Counter::Read))
    );
    let (res, calls) = run(retry.clone(), Method::GET, None, vec![Reply::Status(503)]).await;
    assert_eq!(calls.len(), 4);
    assert!(retry_error(res.unwrap_err()).is_status());
    // Mixed kinds share `total`.
    let mixed = Retry::new().total(2).status_forcelist([503]);
    let script = vec![Reply::Refused, Reply::Reset, Reply::Status(503)];
    let (res, calls) = run(mixed, Method::GET, None, script).await;
    assert_eq!(calls.len(), 3);
    let err = retry_error(res.unwrap_err());
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::Exhausted(Counter::Total))
    );
}

#[tokio::test(start_paused = true)]
async fn success_carries_a_one_attempt_history() {
    let (res, calls) = run(Retry::new(), Method::GET, None, vec![Reply::Status(200)]).await;
    assert_eq!(calls.len(), 1);
    let res = res.unwrap();
    let history = history(&res);
    assert_eq!(history.len(), 1);
    assert_eq!(history.retries(), 0);
    assert_eq!(history.total_slept(), Duration::ZERO);
    assert!(history.stop_reason().is_none());
}

#[tokio::test(start_paused = true)]
async fn budget_stops_retries_when_spent() {
    let budget = session_retry::RetryBudget::new(Duration::from_secs(10), 0, 0.5).unwrap();
    let retry = Retry::new()
        .total(5)
        .status_forcelist([503])
        .raise_on_status(false)
        .budget(budget);
    let layer = RetryLayer::new(retry).unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let backend = {
        let calls = calls.clone();
        service_fn(move |_req: Request<String>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async {
                let mut res = Response::new(String::new());
                *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                Ok::<_, Infallible>(res)
            }
        })
    };
    let service = layer.layer(backend);
    let mut stopped_by_budget = 0;
    for _ in 0..10 {
        let res = service
            .clone()
            .oneshot(Request::new(String::new()))
            .await
            .unwrap();
        if history(&res).stop_reason() == Some(&StopReason::BudgetExhausted) {
            stopped_by_budget += 1;
        }
    }
    // Ten first attempts at 50% pay for five retries in all.
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 15);
    assert!(stopped_by_budget >= 9, "{stopped_by_budget}");
}
