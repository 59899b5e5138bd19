//! The retry layer without session-core: `http::Request<String>` over a
//! `tower::service_fn`, as a user of a bare client plugs it in. Nothing here
//! names session-core, so this runs with `--no-default-features` too.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use session_retry::{
    BoxError, Counter, Error, ErrorKind, Outcome, Retry, RetryHistory, RetryLayer, StopReason,
};
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test(start_paused = true)]
async fn retries_string_requests_over_a_service_fn() {
    // A refused connection, then 503, then 200; every attempt's body is kept.
    let bodies: Arc<Mutex<Vec<String>>> = Arc::default();
    let transport = {
        let bodies = bodies.clone();
        service_fn(move |req: Request<String>| {
            let attempt = {
                let mut bodies = bodies.lock().unwrap();
                bodies.push(req.into_body());
                bodies.len()
            };
            async move {
                match attempt {
                    1 => Err(BoxError::from(io::Error::from(
                        io::ErrorKind::ConnectionRefused,
                    ))),
                    2 => {
                        let mut res = Response::new(String::from("busy"));
                        *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        Ok(res)
                    }
                    _ => Ok(Response::new(String::from("stored"))),
                }
            }
        })
    };
    let retry = Retry::new()
        .total(3)
        .backoff_factor(0.1)
        .status_forcelist([503]);
    let service = RetryLayer::new(retry).unwrap().layer(transport);
    let req = Request::put("http://api.test/item")
        .body(String::from("payload"))
        .unwrap();
    let res = service.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.body(), "stored");
    assert_eq!(*bodies.lock().unwrap(), ["payload"; 3]);
    let history = res.extensions().get::<RetryHistory>().unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        matches!(
            &history.attempts()[0].outcome,
            Outcome::Error {
                kind: ErrorKind::Connect,
                ..
            }
        ),
        "{history:?}"
    );
    assert_eq!(
        history.attempts()[1].outcome.status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(
        history.sleeps(),
        [Duration::ZERO, Duration::from_millis(200)]
    );

    // A timer that fires (tokio's `Elapsed`) is a read error, and the final
    // error is a timeout, without session-core's `TimedOut`.
    let timing_out = service_fn(|_req: Request<String>| async {
        tokio::time::timeout(Duration::from_secs(1), std::future::pending::<()>()).await?;
        Ok::<_, BoxError>(Response::new(String::new()))
    });
    let service = RetryLayer::new(Retry::new().total(1))
        .unwrap()
        .layer(timing_out);
    let err = service
        .oneshot(Request::new(String::new()))
        .await
        .unwrap_err();
    let err = *err.downcast::<Error>().expect("a session_retry::Error");
    assert!(err.is_timeout() && err.is_exhausted(), "{err:?}");
    assert!(!err.is_connect());
    assert_eq!(err.history().len(), 2);
    assert_eq!(
        err.history().stop_reason(),
        Some(&StopReason::Exhausted(Counter::Total))
    );
    for attempt in err.history().attempts() {
        assert!(
            matches!(
                &attempt.outcome,
                Outcome::Error {
                    kind: ErrorKind::Read,
                    ..
                }
            ),
            "{attempt:?}"
        );
    }
}
