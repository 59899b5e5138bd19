//! The IETF http-state parser suite (222 cases), run against any store: a
//! store under test says how to feed it one `Set-Cookie` line and how to
//! read the `Cookie` header it sends.

use std::future::Future;
use std::path::PathBuf;

use serde_json::Value;
use session_cookies::Url;

/// A jar the suite runs against.
pub trait UnderTest {
    /// Stores one `Set-Cookie` line of a response to `url` (a line a rule
    /// refuses is skipped).
    fn set(&self, url: &Url, line: &str) -> impl Future<Output = ()>;
    /// The `Cookie` header sent to `url` (`""` for none).
    fn header(&self, url: &Url) -> impl Future<Output = String>;
}

/// The suite's clock: 2015-01-01T00:00:00Z, as the suite suggests.
pub const SUITE_TIME: u64 = 1_420_070_400;

/// Runs every case with a fresh jar from `make(case_name)`; returns the
/// number passed and a description of each failure.
pub async fn run<J: UnderTest>(make: impl Fn(&str) -> J) -> (usize, Vec<String>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/http-state-cookies.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let suite: Value = serde_json::from_str(&text).expect("suite is JSON");
    let cases = suite["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 222, "the suite has 222 cases");

    let mut passed = 0;
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let jar = make(name);
        let request = Url::parse(case["request_url"].as_str().unwrap()).unwrap();
        for line in case["set_cookie"].as_array().unwrap() {
            jar.set(&request, line.as_str().unwrap()).await;
        }
        let next = Url::parse(case["next_url"].as_str().unwrap()).unwrap();
        let expected = case
            .get("expected_cookie_rfc6265bis")
            .unwrap_or(&case["expected_cookie"])
            .as_str()
            .unwrap();
        let got = jar.header(&next).await;
        if got == expected {
            passed += 1;
        } else {
            failures.push(format!(
                "{name}: set {:?}\n    expected {expected:?}\n    got      {got:?}",
                case["set_cookie"]
            ));
        }
    }
    (passed, failures)
}
