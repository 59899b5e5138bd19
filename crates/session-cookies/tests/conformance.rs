//! The IETF http-state parser suite (222 cases), kept in
//! `tests/data/http-state-cookies.json` (see `tests/data/README.md` for its
//! source and license) and run as its `how_to_run` field says, in RFC 6265bis
//! mode, against the local jar (`tests/redis.rs` runs it against Redis).

mod support;

use std::time::{Duration, UNIX_EPOCH};

use http::HeaderValue;
use session_cookies::{Jar, Url};
use support::suite::{self, UnderTest, SUITE_TIME};

impl UnderTest for Jar {
    async fn set(&self, url: &Url, line: &str) {
        match HeaderValue::from_str(line) {
            Ok(value) => {
                self.store_response_cookies(url, [&value]);
            }
            // Control characters a HeaderValue cannot carry.
            Err(_) => {
                let _ = self.store_set_cookie(url, line);
            }
        }
    }

    async fn header(&self, url: &Url) -> String {
        self.cookie_header(url)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn http_state_parser_suite() {
    // The 2011 answers hold with the clock between 2007-08-08 and
    // 2019-08-06; 2015-01-01T00:00:00Z as the suite suggests.
    let (passed, failures) = suite::run(|_| {
        Jar::builder()
            .clock(|| UNIX_EPOCH + Duration::from_secs(SUITE_TIME))
            .build()
    })
    .await;
    println!("http-state conformance (RFC 6265bis mode): {passed} of 222 cases passed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
