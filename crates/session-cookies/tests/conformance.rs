//! The IETF http-state parser suite (222 cases), kept in
//! `tests/data/http-state-cookies.json` (see `tests/data/README.md` for its
//! source and license) and run as its `how_to_run` field says, in RFC 6265bis
//! mode.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use http::HeaderValue;
use serde_json::Value;
use session_cookies::{Jar, Url};

fn suite_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/http-state-cookies.json")
}

#[test]
fn http_state_parser_suite() {
    let path = suite_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let suite: Value = serde_json::from_str(&text).expect("suite is JSON");
    let cases = suite["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 222, "the suite has 222 cases");

    let mut passed = 0;
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        // The 2011 answers hold with the clock between 2007-08-08 and
        // 2019-08-06; 2015-01-01T00:00:00Z as the suite suggests.
        let jar = Jar::builder()
            .clock(|| UNIX_EPOCH + Duration::from_secs(1_420_070_400))
            .build();
        let request = Url::parse(case["request_url"].as_str().unwrap()).unwrap();
        for line in case["set_cookie"].as_array().unwrap() {
            let line = line.as_str().unwrap();
            match HeaderValue::from_str(line) {
                Ok(value) => {
                    jar.store_response_cookies(&request, [&value]);
                }
                // Control characters a HeaderValue cannot carry.
                Err(_) => {
                    let _ = jar.store_set_cookie(&request, line);
                }
            }
        }
        let next = Url::parse(case["next_url"].as_str().unwrap()).unwrap();
        let expected = case
            .get("expected_cookie_rfc6265bis")
            .unwrap_or(&case["expected_cookie"])
            .as_str()
            .unwrap();
        let got = jar
            .cookie_header(&next)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if got == expected {
            passed += 1;
        } else {
            failures.push(format!(
                "{name}: set {:?}\n    expected {expected:?}\n    got      {got:?}",
                case["set_cookie"]
            ));
        }
    }
    println!(
        "http-state conformance (RFC 6265bis mode): {passed} of {} cases passed",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
