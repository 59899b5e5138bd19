//! The mock transport: swapped in with one line, answers by route, records
//! what it saw, and composes with middleware.

use http::{Method, StatusCode};
use http_session::middleware::from_fn;
use http_session::{mock::MockTransport, Session};

#[tokio::test]
async fn mock_answers_by_route_and_records_requests() {
    let mock = MockTransport::new()
        .route(Method::GET, "/users/7", |_| (StatusCode::OK, r#"{"id":7}"#))
        .route(Method::POST, "/users", |req| {
            (StatusCode::CREATED, req.body.clone())
        })
        .fallback(|_| (StatusCode::IM_A_TEAPOT, "fallback"));
    let session = Session::builder()
        .transport(mock.clone())
        .header("x-app", "t")
        .build()
        .unwrap();

    let user: serde_json::Value = session
        .get("https://api.test/users/7")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["id"], 7);
    let created = session
        .post("https://api.test/users")
        .body("new")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.text().await.unwrap(), "new");
    let other = session
        .delete("https://api.test/else")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::IM_A_TEAPOT);

    let seen = mock.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].method, Method::POST);
    assert_eq!(seen[1].body, "new");
    assert_eq!(seen[0].headers["x-app"], "t");
    mock.clear();
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn mock_errors_surface_as_request_errors() {
    let mock = MockTransport::new()
        .route_any("/fail", |_| -> Result<(StatusCode, &'static str), _> {
            Err("connection reset by mock".into())
        });
    let session = Session::builder().transport(mock).build().unwrap();
    let err = session.get("http://x.test/fail").send().await.unwrap_err();
    assert!(err.is_request());
    assert_eq!(err.url().unwrap().path(), "/fail");
}

#[tokio::test]
async fn middleware_and_layers_run_in_documented_order() {
    let mock = MockTransport::new().fallback(|req| {
        let order = req
            .headers
            .get_all("x-order")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        (StatusCode::OK, order.join(","))
    });
    let session = Session::builder()
        .transport(mock)
        .middleware(from_fn(
            |mut req: http::Request<http_session::Body>, next| async move {
                req.headers_mut()
                    .append("x-order", "outer-1".parse().unwrap());
                next.run(req).await
            },
        ))
        .middleware(from_fn(
            |mut req: http::Request<http_session::Body>, next| async move {
                req.headers_mut()
                    .append("x-order", "outer-2".parse().unwrap());
                next.run(req).await
            },
        ))
        .hop_middleware(from_fn(
            |mut req: http::Request<http_session::Body>, next| async move {
                req.headers_mut().append("x-order", "hop".parse().unwrap());
                let mut res = next.run(req).await?;
                res.headers_mut().insert("x-hop-saw", "1".parse().unwrap());
                Ok(res)
            },
        ))
        .build()
        .unwrap();
    let res = session.get("http://x.test/").send().await.unwrap();
    assert_eq!(res.headers()["x-hop-saw"], "1");
    assert_eq!(res.text().await.unwrap(), "outer-1,outer-2,hop");
}

#[tokio::test]
async fn a_middleware_can_answer_without_calling_next() {
    let mock = MockTransport::new();
    let session = Session::builder()
        .transport(mock.clone())
        .middleware(from_fn(
            |_req: http::Request<http_session::Body>, _next| async move {
                let mut res = http::Response::new(http_session::Body::from("cached"));
                *res.status_mut() = StatusCode::OK;
                Ok(res)
            },
        ))
        .build()
        .unwrap();
    let res = session.get("http://x.test/").send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "cached");
    assert!(mock.requests().is_empty());
}

#[test]
fn a_session_needs_a_transport_without_the_default() {
    let err = http_session::core::Session::builder().build().unwrap_err();
    assert!(err.is_builder());
}

#[test]
fn debug_output_never_shows_a_url_password() {
    let session = http_session::core::Session::builder()
        .transport(MockTransport::new())
        .base_url("https://svc:base-s3cret@api.test/")
        .build()
        .unwrap();
    let shown = format!("{session:?}");
    assert!(!shown.contains("base-s3cret"), "{shown}");
    let rb = session.get("https://u:req-s3cret@api.test/x");
    let shown = format!("{rb:?}");
    assert!(!shown.contains("req-s3cret"), "{shown}");
    assert!(shown.contains("api.test"), "{shown}");
}
