//! `retry-after`: `Retry-After` values read by `session_retry::RetryLayer`
//! over a `tower::service_fn` that answers every attempt with a 503 (or the
//! script's status) carrying the script's values in turn. Runs on a paused
//! tokio clock, so any sleep ends at once.
//!
//! ```text
//! #max 60        retry_after_max in seconds (6 h by default)
//! #fail          fail_on_long_retry_after(true)
//! #ignore        respect_retry_after(false)
//! #status 429    the status of every answer (503 by default)
//! #total 2       the retries allowed (3 by default, at most 6)
//! 120            a Retry-After value per attempt, used in turn
//! Wed, 21 Oct 2015 07:28:00 GMT
//! ```
//!
//! A value that is not a valid header is left out of its answer.
//!
//! Checks: the history (on the response, or on the error) has at most
//! `total + 1` attempts, and every sleep is at most `retry_after_max` (the
//! backoff is off, so only `Retry-After` makes the layer sleep).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use session_retry::{Retry, RetryHistory, RetryLayer, DEFAULT_RETRY_AFTER_MAX};
use tower::{service_fn, Layer, ServiceExt};

use super::{command, lines, runtime, script, status_label, text, Target};
use crate::gen::Gen;

/// The target.
pub const TARGET: Target = Target {
    name: "retry-after",
    about: "Retry-After (seconds, HTTP dates, junk) read by RetryLayer on a paused clock",
    run,
    generate,
    dictionary: DICTIONARY,
    max_len: 8 * 1024,
};

const DICTIONARY: &[&str] = &[
    "\n#max 0",
    "\n#max 1",
    "\n#max 18446744073709551615",
    "\n#fail",
    "\n#ignore",
    "\n#status 429",
    "\n#status 413",
    "\n#status 500",
    "\n#total 0",
    "\n#total 6",
    "\n",
    "GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Feb 29",
    "18446744073709551616",
    "-5",
    " ",
];

struct Script {
    max: Duration,
    fail: bool,
    respect: bool,
    status: StatusCode,
    total: u32,
    values: Vec<Option<HeaderValue>>,
}

fn parse(input: &[u8]) -> Script {
    let mut s = Script {
        max: DEFAULT_RETRY_AFTER_MAX,
        fail: false,
        respect: true,
        status: StatusCode::SERVICE_UNAVAILABLE,
        total: 3,
        values: Vec::new(),
    };
    for line in lines(input) {
        let num = |rest: &[u8]| text(rest).trim().parse::<u64>().ok();
        match command(line, &["#max", "#fail", "#ignore", "#status", "#total"]) {
            Some(("#max", rest)) => {
                if let Some(n) = num(rest) {
                    s.max = Duration::from_secs(n);
                }
            }
            Some(("#fail", _)) => s.fail = true,
            Some(("#ignore", _)) => s.respect = false,
            Some(("#status", rest)) => {
                if let Some(code) = num(rest)
                    .and_then(|n| u16::try_from(n).ok())
                    .and_then(|n| StatusCode::from_u16(n).ok())
                {
                    s.status = code;
                }
            }
            Some((_, rest)) => {
                if let Some(n) = num(rest) {
                    s.total = n.min(6) as u32;
                }
            }
            None => s.values.push(HeaderValue::from_bytes(line).ok()),
        }
    }
    s
}

fn run(input: &[u8]) -> String {
    let s = parse(input);
    let rt = runtime(true);
    let answers = Arc::new(AtomicUsize::new(0));
    let transport = {
        let answers = answers.clone();
        let values = Arc::new(s.values);
        let status = s.status;
        service_fn(move |_req: Request<String>| {
            let i = answers.fetch_add(1, Ordering::SeqCst);
            let values = values.clone();
            async move {
                let mut res = Response::new(String::from("busy"));
                *res.status_mut() = status;
                if !values.is_empty() {
                    if let Some(v) = &values[i % values.len()] {
                        res.headers_mut().insert(RETRY_AFTER, v.clone());
                    }
                }
                Ok::<_, std::convert::Infallible>(res)
            }
        })
    };
    let retry = Retry::new()
        .total(s.total)
        .status_forcelist([500])
        .retry_after_max(s.max)
        .fail_on_long_retry_after(s.fail)
        .respect_retry_after(s.respect);
    let service = RetryLayer::new(retry)
        .expect("a valid retry configuration")
        .layer(transport);
    let req = Request::get("http://api.test/item")
        .body(String::new())
        .expect("a fixed request");
    let result = rt.block_on(service.oneshot(req));
    let (history, label): (RetryHistory, String) = match result {
        Ok(res) => {
            let h = res
                .extensions()
                .get::<RetryHistory>()
                .cloned()
                .expect("every response carries a RetryHistory");
            (h, format!("ok {}", status_label(res.status())))
        }
        Err(err) => match err.downcast::<session_retry::Error>() {
            Ok(e) => (
                e.history().clone(),
                format!(
                    "error status={} exhausted={}",
                    e.is_status(),
                    e.is_exhausted()
                ),
            ),
            Err(other) => panic!("the retry layer failed with a foreign error: {other}"),
        },
    };
    let attempts = history.len();
    assert!(
        attempts <= s.total as usize + 1,
        "{attempts} attempts with total({})",
        s.total
    );
    assert_eq!(
        attempts,
        answers.load(Ordering::SeqCst),
        "the history does not count every attempt"
    );
    for sleep in history.sleeps() {
        assert!(
            sleep <= s.max,
            "slept {sleep:?}, more than retry_after_max {:?}",
            s.max
        );
    }
    let stop = history
        .stop_reason()
        .map_or_else(|| "-".to_owned(), |r| format!("{r:?}"));
    let stop: String = stop.chars().take_while(|c| c.is_alphanumeric()).collect();
    let slept = history.sleeps().iter().any(|d| !d.is_zero());
    format!("{label} attempts={attempts} slept={slept} stop={stop}")
}

fn value(g: &mut Gen) -> Vec<u8> {
    match g.below(10) {
        0..=2 => g.number().into_bytes(),
        3..=5 => g.date().into_bytes(),
        6 => g.junk(24),
        7 => String::new().into_bytes(),
        8 => g.long("9", 300).into_bytes(),
        _ => format!(" {} ", g.below(100)).into_bytes(),
    }
}

fn generate(g: &mut Gen) -> Vec<u8> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    if g.one_in(2) {
        out.push(
            format!(
                "#max {}",
                g.pick(&["0", "1", "5", "60", "21600", "18446744073709551615"])
            )
            .into_bytes(),
        );
    }
    if g.one_in(4) {
        out.push(b"#fail".to_vec());
    }
    if g.one_in(10) {
        out.push(b"#ignore".to_vec());
    }
    if g.one_in(3) {
        out.push(
            format!(
                "#status {}",
                g.pick(&["413", "429", "503", "500", "200", "301"])
            )
            .into_bytes(),
        );
    }
    if g.one_in(4) {
        out.push(format!("#total {}", g.below(7)).into_bytes());
    }
    let n = 1 + g.below(4);
    for _ in 0..n {
        out.push(value(g));
    }
    script(out)
}
