//! A guided tour of `http_session::Session` against an embedded loopback
//! server: defaults, JSON and form bodies, connection reuse, errors,
//! redirects, cookies, retries, session files, multipart uploads, a
//! download with a progress bar, the blocking session, one-off calls, and
//! close.
//!
//! Run it with `cargo run --example tour`. No network is needed.

mod support;

use std::time::Duration;

use http_session::Session;
use support::{reply, Req};

static FLAKY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static CATALOG: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn app(req: Req) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/data") => {
            let ua = req
                .headers
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            reply(
                200,
                format!(r#"{{"items":[1,2,3],"seen_user_agent":"{ua}"}}"#),
            )
        }
        ("POST", "/submit") => reply(
            201,
            format!("received form: {}", String::from_utf8_lossy(&req.body)),
        ),
        ("GET", "/missing") => reply(404, "not here"),
        ("POST", "/login") => {
            let mut res = reply(200, "welcome");
            res.headers_mut().insert(
                "set-cookie",
                http::HeaderValue::from_static("session=t0ur; Path=/; HttpOnly"),
            );
            res
        }
        ("GET", "/account") => {
            let cookie = req
                .headers
                .get("cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if cookie.contains("session=t0ur") {
                reply(200, "your account")
            } else {
                reply(403, "log in first")
            }
        }
        ("GET", "/flaky") => {
            // Fails twice, then works: the retrying session hides it.
            let n = FLAKY.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n < 2 {
                reply(503, "busy")
            } else {
                reply(200, "recovered")
            }
        }
        ("POST", "/old-submit") => {
            let mut res = reply(303, "");
            res.headers_mut()
                .insert("location", http::HeaderValue::from_static("/data"));
            res
        }
        ("POST", "/upload") => {
            // Parse the form as a server would, with `multer`.
            let content_type = req.headers[http::header::CONTENT_TYPE]
                .to_str()
                .unwrap_or("");
            let Ok(boundary) = multer::parse_boundary(content_type) else {
                return reply(400, "not multipart");
            };
            let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(req.body) });
            let mut form = multer::Multipart::new(body, boundary);
            let mut seen = Vec::new();
            while let Ok(Some(field)) = form.next_field().await {
                let name = field.name().unwrap_or("").to_owned();
                let file = field.file_name().map(str::to_owned);
                let mime = field.content_type().map(|m| m.to_string());
                let len = field.bytes().await.map_or(0, |b| b.len());
                seen.push(format!("{name} (file {file:?}, {mime:?}, {len} bytes)"));
            }
            reply(200, seen.join("; "))
        }
        ("GET", "/large") => reply(200, vec![b'x'; 16 << 20]),
        ("GET", "/catalog") => {
            let n = CATALOG.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let mut res = reply(200, format!("catalog, served by the origin {n} time(s)"));
            res.headers_mut().insert(
                "cache-control",
                http::HeaderValue::from_static("max-age=60"),
            );
            res
        }
        _ => reply(404, ""),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = support::serve(app).await;
    println!("== http-session tour, against {}", server.url(""));

    // 1. A session with a default User-Agent (requests: s.headers.update(...)).
    let session = Session::builder()
        .user_agent("MyApp/1.0")
        .timeout(Duration::from_secs(5))
        .build()?;
    println!("\n1. Session built with User-Agent MyApp/1.0 and a 5 s default timeout");

    // 2. GET JSON (requests: r1 = s.get(url); r1.json()).
    let r1 = session.get(server.url("/data")).send().await?;
    let conn1 = *r1
        .connection()
        .expect("the hyper transport reports connections");
    let data: serde_json::Value = r1.json().await?;
    println!("2. GET /data -> {data}");
    println!("   the server saw User-Agent {}", data["seen_user_agent"]);

    // 3. POST a form (requests: s.post(url, data={'key': 'value'})).
    let r2 = session
        .post(server.url("/submit"))
        .form(&[("key", "value")])
        .send()
        .await?;
    let conn2 = *r2.connection().expect("connection info");
    println!("3. POST /submit -> {} {:?}", r2.status(), r2.text().await?);

    // 4. The second request reused the first one's connection.
    println!(
        "4. connection #{} then #{} (reused: {}); the server accepted {} connection(s)",
        conn1.id,
        conn2.id,
        conn2.reused,
        server.connections()
    );

    // 5. Errors are typed and name the URL.
    let err = session
        .get(server.url("/missing"))
        .send()
        .await?
        .error_for_status()
        .unwrap_err();
    println!(
        "5. error_for_status: {err} (is_status: {})",
        err.is_status()
    );
    let err = session
        .get("gopher://example.invalid/")
        .send()
        .await
        .unwrap_err();
    println!(
        "   unsupported scheme: {err}: {}",
        std::error::Error::source(&err)
            .map(|e| e.to_string())
            .unwrap_or_default()
    );

    // 6. Defaults can change after the session is built, as after a login.
    session.update(|d| d.set_bearer_auth("token-from-login"))?;
    let prepared = session.get(server.url("/data")).build()?;
    println!(
        "6. after update(), every request carries Authorization: {:?}",
        prepared.headers()["authorization"].to_str()?
    );

    // 6b. Redirects are followed with requests' rules: a 303 turns the POST
    //     into a GET, and the history keeps every hop.
    let res = session
        .post(server.url("/old-submit"))
        .form(&[("key", "value")])
        .send()
        .await?;
    println!(
        "6b. POST /old-submit -> {} at {} after {:?}",
        res.status(),
        res.url().path(),
        res.history()
            .iter()
            .map(|h| h.status.as_u16())
            .collect::<Vec<_>>()
    );

    // 6c. Cookies: the login's Set-Cookie is kept and sent back.
    let login = session.post(server.url("/login")).send().await?;
    let account = session.get(server.url("/account")).send().await?;
    println!(
        "6c. POST /login -> {}, then GET /account -> {} {:?} (the jar holds {} cookie)",
        login.status(),
        account.status(),
        account.text().await?,
        session.cookies().map_or(0, |jar| jar.len())
    );

    // 6d. Retries as urllib3's Retry: two 503s, then a 200.
    let retrying = Session::builder()
        .retry(
            http_session::retry::Retry::new()
                .total(3)
                .backoff_factor(0.1)
                .status_forcelist([500, 502, 503, 504]),
        )
        .build()?;
    let res = retrying.get(server.url("/flaky")).send().await?;
    let attempts = res
        .extensions()
        .get::<http_session::retry::RetryHistory>()
        .map_or(1, |h| h.len());
    println!(
        "6d. GET /flaky with retries -> {} {:?} after {attempts} attempts",
        res.status(),
        res.text().await?
    );

    // 6e. Session files: save the logged-in session, and carry on tomorrow
    //     (requests: pickle the session; HTTPie: --session=FILE).
    let file = http_session::state::StateFile::new(
        std::env::temp_dir().join(format!("http-session-tour-{}.json", std::process::id())),
    );
    let saved = session.save_state(&file).await?;
    let tomorrow = Session::builder().state_file(file.clone()).build()?;
    let account = tomorrow.get(server.url("/account")).send().await?;
    println!(
        "6e. saved {} cookie(s) and {} header(s) (left out: {}); a new session from the file -> GET /account {}",
        saved.cookies,
        saved.headers,
        saved
            .left_out
            .iter()
            .map(|i| i.subject.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        account.status()
    );
    std::fs::remove_file(file.path())?;

    // 6f. Multipart (requests: files={'report': open(..)}, data={'title': ..}):
    //     the file is read in chunks, its content type guessed from its name.
    let path = std::env::temp_dir().join("http-session-tour-report.csv");
    std::fs::write(&path, "day,visits\nmon,12\ntue,17\n")?;
    let form = http_session::multipart::Form::new()
        .text("title", "weekly report")
        .file("report", &path)?;
    let res = session
        .post(server.url("/upload"))
        .multipart(form)
        .send()
        .await?;
    println!(
        "6f. multipart upload -> {}: {}",
        res.status(),
        res.text().await?
    );
    std::fs::remove_file(&path)?;

    // 6g. A large download with a progress bar fed by the progress hook.
    let res = session.get(server.url("/large")).send().await?;
    let bar = indicatif::ProgressBar::new(res.content_length().unwrap_or(0));
    bar.set_style(indicatif::ProgressStyle::with_template(
        "    {bar:40} {bytes}/{total_bytes} ({bytes_per_sec})",
    )?);
    let hook = bar.clone();
    let data = res
        .download_progress(move |p| hook.set_position(p.done))
        .bytes()
        .await?;
    bar.finish();
    println!(
        "6g. downloaded {} MiB with a progress bar",
        data.len() >> 20
    );

    // 6h. The same session for code that is not async (feature `blocking`):
    //     the same builder, defaults and stack, driven by a runtime on a
    //     thread of its own; calls return results, not futures. In async
    //     code, blocking calls belong off the workers: spawn_blocking.
    let url = server.url("/data");
    let (status, body) = tokio::task::spawn_blocking(move || {
        let blocking = http_session::blocking::Session::builder()
            .user_agent("MyApp/1.0 (blocking)")
            .build_blocking()?;
        let res = blocking.get(&url).send()?;
        Ok::<_, http_session::Error>((res.status(), res.text()?))
    })
    .await??;
    println!("6h. blocking GET /data -> {status} {body}");

    // 6i. One-off calls, as requests.get(url): a fresh session for one
    //     request, nothing kept; keep a Session to reuse connections.
    let once = http_session::get(server.url("/data")).await?;
    println!(
        "6i. http_session::get(..) -> {} (a fresh session: {} connection(s) accepted so far)",
        once.status(),
        server.connections()
    );

    // 6j. An HTTP cache (feature `cache`): RFC 9111 in memory by default
    //     (a SqliteStore shares one file between processes); below the
    //     redirects, above the retries. The second GET is a hit.
    let cached = Session::builder()
        .cache(http_session::cache::Cache::private())
        .build()?;
    for _ in 0..2 {
        let res = cached.get(server.url("/catalog")).send().await?;
        let from = res
            .extensions()
            .get::<http_session::cache::CacheStatus>()
            .copied();
        println!("6j. GET /catalog -> {from:?}: {}", res.text().await?);
        // Give the entry's writer its turn (it commits as the body ends).
        tokio::task::yield_now().await;
    }

    // 7. close() runs the close hooks; dropping the last clone frees the pool.
    session.close().await?;
    println!("7. session closed");
    Ok(())
}
