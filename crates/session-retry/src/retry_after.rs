//! Reading the `Retry-After` header (RFC 9110 §10.2.3).
//!
//! The value is either a number of seconds (`120`) or an HTTP date
//! (`Wed, 21 Oct 2015 07:28:00 GMT`, parsed with the `httpdate` crate). How
//! the odd values are handled:
//!
//! | value | result |
//! |---|---|
//! | `120`, ` 120 ` | 120 s |
//! | `9999999999` (317 years), or more digits than fit | longer than any cap: capped by `retry_after_max` (or fails at once with `fail_on_long_retry_after`) |
//! | a date in the past, `0` | zero: the backoff is used instead (as urllib3) |
//! | a date in year 9999 | as a huge number of seconds |
//! | `-5`, `abc`, `1.5`, empty, not ASCII | unparsable: the backoff is used instead |

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The default `retry_after_max`: 6 hours (urllib3's `DEFAULT_RETRY_AFTER_MAX`).
pub const DEFAULT_RETRY_AFTER_MAX: Duration = Duration::from_secs(6 * 60 * 60);

/// What the `Retry-After` header of a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAfter {
    /// No header.
    Absent,
    /// A header that is neither seconds nor an HTTP date.
    Invalid,
    /// Wait this long (not capped yet).
    Wait(Duration),
}

impl RetryAfter {
    pub(crate) fn is_present(self) -> bool {
        self != RetryAfter::Absent
    }
}

/// Reads `Retry-After` from `headers`, measuring dates from `now`.
pub(crate) fn parse(headers: &HeaderMap, now: SystemTime) -> RetryAfter {
    let Some(value) = headers.get(http::header::RETRY_AFTER) else {
        return RetryAfter::Absent;
    };
    let Ok(text) = value.to_str() else {
        return RetryAfter::Invalid;
    };
    parse_str(text, now)
}

/// The wait a response's `Retry-After` header asks for, measuring an HTTP
/// date from `now`: `None` when the header is absent or is neither a number
/// of seconds nor an HTTP date (`-5`, `1.5`, `abc`). A date in the past is a
/// zero wait, and a huge value is returned as it is: the caller caps it
/// (as `retry_after_max` does here). Other layers that honour `Retry-After` (the `session-budget`
/// crate's) read the header with this, so that every layer reads it alike.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::{header::RETRY_AFTER, HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(session_retry::parse_retry_after(&headers, SystemTime::now()), None);
/// headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
/// assert_eq!(
///     session_retry::parse_retry_after(&headers, SystemTime::now()),
///     Some(Duration::from_secs(120))
/// );
/// headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
/// assert_eq!(session_retry::parse_retry_after(&headers, SystemTime::now()), None);
/// ```
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    match parse(headers, now) {
        RetryAfter::Wait(wait) => Some(wait),
        RetryAfter::Absent | RetryAfter::Invalid => None,
    }
}

pub(crate) fn parse_str(text: &str, now: SystemTime) -> RetryAfter {
    let text = text.trim();
    if text.is_empty() {
        return RetryAfter::Invalid;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time".
        let secs = text.parse::<u64>().unwrap_or(u64::MAX);
        return RetryAfter::Wait(Duration::from_secs(secs));
    }
    match httpdate::parse_http_date(text) {
        Ok(date) => RetryAfter::Wait(date.duration_since(now).unwrap_or(Duration::ZERO)),
        Err(_) => RetryAfter::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        // Sun, 06 Nov 1994 08:49:37 GMT
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn seconds_and_dates() {
        assert_eq!(
            parse_str("120", now()),
            RetryAfter::Wait(Duration::from_secs(120))
        );
        assert_eq!(
            parse_str(" 7 ", now()),
            RetryAfter::Wait(Duration::from_secs(7))
        );
        assert_eq!(
            parse_str("Sun, 06 Nov 1994 08:49:40 GMT", now()),
            RetryAfter::Wait(Duration::from_secs(3))
        );
        // The two obsolete forms RFC 9110 still asks recipients to accept.
        assert_eq!(
            parse_str("Sunday, 06-Nov-94 08:49:47 GMT", now()),
            RetryAfter::Wait(Duration::from_secs(10))
        );
        assert_eq!(
            parse_str("Sun Nov  6 08:49:38 1994", now()),
            RetryAfter::Wait(Duration::from_secs(1))
        );
    }

    #[test]
    fn odd_values() {
        assert_eq!(parse_str("-5", now()), RetryAfter::Invalid);
        assert_eq!(parse_str("abc", now()), RetryAfter::Invalid);
        assert_eq!(parse_str("1.5", now()), RetryAfter::Invalid);
        assert_eq!(parse_str("", now()), RetryAfter::Invalid);
        assert_eq!(
            parse_str("9999999999", now()),
            RetryAfter::Wait(Duration::from_secs(9_999_999_999))
        );
        assert_eq!(
            parse_str("99999999999999999999999", now()),
            RetryAfter::Wait(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_str("Sat, 06 Nov 1993 08:49:37 GMT", now()),
            RetryAfter::Wait(Duration::ZERO)
        );
        match parse_str("Fri, 31 Dec 9999 23:59:59 GMT", now()) {
            RetryAfter::Wait(wait) => assert!(wait > DEFAULT_RETRY_AFTER_MAX),
            other => panic!("year 9999 should parse, got {other:?}"),
        }
    }

    #[test]
    fn header_lookup() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse(&headers, now()), RetryAfter::Absent);
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("3"),
        );
        assert_eq!(
            parse(&headers, now()),
            RetryAfter::Wait(Duration::from_secs(3))
        );
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        assert_eq!(parse(&headers, now()), RetryAfter::Invalid);
        assert!(RetryAfter::Invalid.is_present());
    }
}
