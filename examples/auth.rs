//! Authentication, as in the requests guide: HTTP Basic auth set once on the
//! session and sent on every request (`s.auth = HTTPBasicAuth(user, pw)`),
//! then HTTP Digest auth, against an embedded loopback server; then both
//! with a blocking session.
//!
//! Run it with `cargo run --example auth`. No network is needed.

mod support;

use std::collections::HashMap;

use md5::{Digest as _, Md5};

use http_session::{blocking, Session};
use support::{reply, Req};

const REALM: &str = "example";
const NONCE: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";

fn md5_hex(data: &str) -> String {
    Md5::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The parameters of a `Digest` Authorization header.
fn digest_params(header: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let rest = header.strip_prefix("Digest ").unwrap_or("");
    let mut chars = rest.chars().peekable();
    loop {
        let key: String = chars
            .by_ref()
            .skip_while(|c| *c == ' ' || *c == ',')
            .take_while(|c| *c != '=')
            .collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                value.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        params.insert(key.trim().to_owned(), value);
    }
    params
}

/// Checks a Digest answer (MD5, qop=auth) for user `alice`, password `wonderland`.
fn digest_ok(req: &Req) -> bool {
    let Some(header) = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let p = digest_params(header);
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let ha1 = md5_hex(&format!("alice:{REALM}:wonderland"));
    let ha2 = md5_hex(&format!("{}:{}", req.method, get("uri")));
    let expected = md5_hex(&format!(
        "{ha1}:{NONCE}:{}:{}:auth:{ha2}",
        get("nc"),
        get("cnonce")
    ));
    get("username") == "alice" && get("nonce") == NONCE && get("response") == expected
}

async fn app(req: Req) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    match req.path.as_str() {
        "/basic" => match req.headers.get("authorization") {
            // "user:pass" in base64.
            Some(v) if v == "Basic dXNlcjpwYXNz" => reply(200, "welcome, user"),
            _ => reply(401, "who are you?"),
        },
        "/digest" => {
            if digest_ok(&req) {
                reply(200, "welcome, alice")
            } else {
                let mut res = reply(401, "digest required");
                let challenge = format!(
                    r#"Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5"#
                );
                res.headers_mut()
                    .insert("www-authenticate", challenge.parse().expect("header value"));
                res
            }
        }
        _ => reply(404, ""),
    }
}

/// Basic and Digest with blocking sessions (run from `spawn_blocking` below:
/// blocking calls belong off the async workers).
fn blocking_auth(basic: String, digest: String) -> Result<(), http_session::Error> {
    let session = blocking::Session::builder()
        .basic_auth("user", Some("pass"))
        .build_blocking()?;
    let res = session.get(&basic).send()?;
    println!(
        "4. blocking GET /basic -> {} {:?}",
        res.status(),
        res.text()?
    );

    let session = blocking::Session::builder()
        .digest_auth("alice", "wonderland")
        .build_blocking()?;
    let res = session.post(&digest).body("replayed on the retry").send()?;
    println!(
        "5. blocking POST /digest -> {} {:?}",
        res.status(),
        res.text()?
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = support::serve(app).await;
    println!("== authentication, against {}", server.url(""));

    // 1. Basic auth on the session: every request carries it.
    let session = Session::builder()
        .basic_auth("user", Some("pass"))
        .build()?;
    for i in 1..=2 {
        let res = session.get(server.url("/basic")).send().await?;
        println!(
            "1.{i} GET /basic -> {} {:?}",
            res.status(),
            res.text().await?
        );
    }

    // 2. Without auth the server refuses.
    let anonymous = Session::new();
    let res = anonymous.get(server.url("/basic")).send().await?;
    println!("2. without auth -> {}", res.status());

    // 3. Digest: the first request gets a challenge and is answered once;
    //    later requests answer up front (one round trip).
    let digest = Session::builder()
        .digest_auth("alice", "wonderland")
        .build()?;
    for i in 1..=2 {
        let res = digest
            .post(server.url("/digest"))
            .body("replayed on the retry")
            .send()
            .await?;
        println!(
            "3.{i} POST /digest -> {} {:?}",
            res.status(),
            res.text().await?
        );
    }
    session.close().await?;
    digest.close().await?;

    let (basic, digest) = (server.url("/basic"), server.url("/digest"));
    tokio::task::spawn_blocking(move || blocking_auth(basic, digest)).await??;
    Ok(())
}
