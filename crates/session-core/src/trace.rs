//! Tracing: the spans and events a session emits, with `tracing`.
//!
//! Every request is one span, each hop of its redirect chain one span
//! inside it, and with retries on, each attempt one span inside its hop.
//! The transport adds events for what happens to connections. The field
//! names follow the OpenTelemetry HTTP client conventions where they have
//! one; a `tracing-opentelemetry` layer exports the spans as client spans
//! named after the method (`otel.name`).
//!
//! | span | level | made by | fields |
//! |---|---|---|---|
//! | `request` | `INFO` | the session, around the whole request (until the response head) | `http.request.method`, `url.full`, `server.address`, `server.port`, `http.response.status_code`, `network.protocol.version`, `error.type` |
//! | `hop` | `DEBUG` | the redirect layer, one per request of the chain | `http.request.method`, `url.full`, `redirect.index` (0 for the request as sent), `http.response.status_code`, `network.protocol.version`, `error.type` |
//! | `attempt` | `DEBUG` | `session-retry`'s loop, one per attempt | `http.request.resend_count` (0 for the first), `http.response.status_code`, `error.type`, and for an attempt that is retried, `retry.reason` and `retry.delay_ms` |
//!
//! | event | level | emitted by | fields |
//! |---|---|---|---|
//! | `connection opened` | `DEBUG` | `session-hyper`'s connector | `connection.id`, `network.peer.address`, `network.peer.port`, `dns`, `connect`, `tls` (the phases' durations) |
//! | `connection reused` | `DEBUG` | `session-hyper`, per response over a connection used before | `connection.id`, `network.protocol.version` |
//! | `pool wait` | `DEBUG` | `session-hyper`, when every connection slot a host has is taken (`pool_max_connections_per_host`) | `server.address`, `server.port`, `pool.max_connections` |
//! | `pool wait over` | `DEBUG` | the same, once a slot is free | `server.address`, `server.port`, `pool.wait_ms` |
//! | `retrying`, `retrying after error`, `not retrying` | `DEBUG` | `session-retry` | the status or error kind, the attempt, the delay or the reason |
//!
//! `url.full` never holds credentials: a user name and password in the URL
//! read `REDACTED`, as do the values of the query parameters OpenTelemetry
//! names as secrets (`AWSAccessKeyId`, `Signature`, `sig`,
//! `X-Goog-Signature`). `error.type` is the status code of a `4xx` or `5xx`
//! answer, or a class of the error: `timeout`, `connect`, `redirect`,
//! `body`, `decode`, `builder` or `request`.
//!
//! # Cost
//!
//! With no subscriber, or one not interested in these spans, a span is a
//! check of the callsite's level and interest, and nothing is formatted:
//! the URL is written into `url.full` only for a span that is enabled.
//!
//! # Example
//!
//! Any subscriber sees the spans; here a layer records their names and the
//! status code the request span ends with.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! use http::{Method, StatusCode};
//! use session_core::{mock::MockTransport, Session};
//! use tracing::field::{Field, Visit};
//! use tracing::span::{Attributes, Id, Record};
//! use tracing::{Event, Metadata, Subscriber};
//!
//! /// Records span names, and every `http.response.status_code`.
//! #[derive(Clone, Default)]
//! struct Spans(Arc<Mutex<Vec<String>>>);
//!
//! struct Status<'a>(&'a Mutex<Vec<String>>);
//!
//! impl Visit for Status<'_> {
//!     fn record_u64(&mut self, field: &Field, value: u64) {
//!         if field.name() == "http.response.status_code" {
//!             self.0.lock().unwrap().push(format!("status {value}"));
//!         }
//!     }
//!     fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
//! }
//!
//! impl Subscriber for Spans {
//!     fn enabled(&self, _: &Metadata<'_>) -> bool { true }
//!     fn new_span(&self, span: &Attributes<'_>) -> Id {
//!         let mut seen = self.0.lock().unwrap();
//!         seen.push(span.metadata().name().to_owned());
//!         Id::from_u64(seen.len() as u64)
//!     }
//!     fn record(&self, _: &Id, values: &Record<'_>) { values.record(&mut Status(&self.0)) }
//!     fn record_follows_from(&self, _: &Id, _: &Id) {}
//!     fn event(&self, _: &Event<'_>) {}
//!     fn enter(&self, _: &Id) {}
//!     fn exit(&self, _: &Id) {}
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), session_core::Error> {
//! let spans = Spans::default();
//! let _guard = tracing::subscriber::set_default(spans.clone());
//!
//! let mock = MockTransport::new().route(Method::GET, "/", |_| (StatusCode::OK, "hi"));
//! let session = Session::builder().transport(mock).build()?;
//! session.get("https://api.test/").send().await?;
//!
//! // The request, its one hop, and the status each ends with.
//! let seen = spans.0.lock().unwrap().clone();
//! assert_eq!(seen, ["request", "hop", "status 200", "status 200"]);
//! # Ok(()) }
//! ```

use tracing::field::Empty;
use tracing::Span;

use crate::body::Body;
use crate::error::Error;

/// Query parameters whose values `url.full` never shows (OpenTelemetry's list).
const SECRET_PARAMS: [&str; 4] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// What replaces a secret in `url.full`.
const REDACTED: &str = "REDACTED";

/// A span a future keeps: boxed when it is enabled, and when it is not
/// (no subscriber interested), nothing but a null pointer to move.
#[derive(Debug)]
pub(crate) struct SpanSlot(Option<Box<Span>>);

impl SpanSlot {
    #[inline]
    pub(crate) fn new(span: Span) -> Self {
        if span.is_disabled() {
            SpanSlot(None)
        } else {
            SpanSlot(Some(Box::new(span)))
        }
    }

    /// Enters the span, if there is one, until the guard drops.
    #[inline]
    pub(crate) fn enter(&self) -> Option<tracing::span::Entered<'_>> {
        self.0.as_deref().map(Span::enter)
    }

    /// The span, if there is one.
    #[inline]
    pub(crate) fn get(&self) -> Option<&Span> {
        self.0.as_deref()
    }

    /// Closes the span (its work is done).
    #[inline]
    pub(crate) fn close(&mut self) {
        self.0 = None;
    }
}

/// The span of one request, from `send()` to its response head. Its URL
/// fields are written only when it is enabled.
#[inline]
pub(crate) fn request_span(req: &http::Request<Body>) -> Span {
    let method = req.method().as_str();
    let span = tracing::info_span!(
        "request",
        otel.name = method,
        otel.kind = "client",
        http.request.method = method,
        url.full = Empty,
        server.address = Empty,
        server.port = Empty,
        http.response.status_code = Empty,
        network.protocol.version = Empty,
        error.type = Empty,
    );
    if !span.is_disabled() {
        record_server(&span, req.uri());
    }
    span
}

#[cold]
fn record_server(span: &Span, uri: &http::Uri) {
    record_url(span, uri);
    if let Some(host) = uri.host() {
        span.record(
            "server.address",
            host.trim_start_matches('[').trim_end_matches(']'),
        );
    }
    if let Some(port) = port_of(uri) {
        span.record("server.port", port);
    }
}

/// The span of one hop of a redirect chain: the request as sent is hop 0.
#[inline]
pub(crate) fn hop_span(req: &http::Request<Body>, index: usize) -> Span {
    let method = req.method().as_str();
    let span = tracing::debug_span!(
        "hop",
        otel.name = method,
        otel.kind = "client",
        http.request.method = method,
        url.full = Empty,
        redirect.index = index,
        http.response.status_code = Empty,
        network.protocol.version = Empty,
        error.type = Empty,
    );
    if !span.is_disabled() {
        record_url(&span, req.uri());
    }
    span
}

/// Records what a response says on `span` (enabled or not).
#[inline]
pub(crate) fn record_response<B>(span: Option<&Span>, res: &http::Response<B>) {
    match span {
        Some(span) if !span.is_disabled() => record_head(span, res.status(), res.version()),
        _ => {}
    }
}

#[cold]
fn record_head(span: &Span, status: http::StatusCode, version: http::Version) {
    span.record("http.response.status_code", status.as_u16());
    if status.is_client_error() || status.is_server_error() {
        span.record("error.type", status.as_str());
    }
    if let Some(version) = protocol_version(version) {
        span.record("network.protocol.version", version);
    }
}

/// Records the class of an error on `span` (enabled or not).
#[inline]
pub(crate) fn record_error(span: Option<&Span>, err: &Error) {
    if let Some(span) = span.filter(|s| !s.is_disabled()) {
        span.record("error.type", error_type(err));
    }
}

/// Records the class of a boxed error on `span` (enabled or not).
#[inline]
pub(crate) fn record_boxed_error(span: Option<&Span>, err: &crate::BoxError) {
    let Some(span) = span.filter(|s| !s.is_disabled()) else {
        return;
    };
    let class = match err.downcast_ref::<Error>() {
        Some(err) => error_type(err),
        None => boxed_error_type(&**err),
    };
    span.record("error.type", class);
}

/// A low-cardinality class of `err`, for `error.type`.
fn error_type(err: &Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_redirect() {
        "redirect"
    } else if err.is_body() {
        "body"
    } else if err.is_decode() {
        "decode"
    } else if err.is_builder() {
        "builder"
    } else {
        "request"
    }
}

/// The class of an error not (yet) wrapped in an [`Error`].
fn boxed_error_type(err: &(dyn std::error::Error + Send + Sync + 'static)) -> &'static str {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(inner) = e.downcast_ref::<Error>() {
            return error_type(inner);
        }
        if e.is::<crate::error::TimedOut>() {
            return "timeout";
        }
        if e.is::<crate::error::Connect>() {
            return "connect";
        }
        next = e.source();
    }
    "request"
}

/// The version as OpenTelemetry writes it (`1.1`, `2`).
fn protocol_version(version: http::Version) -> Option<&'static str> {
    Some(match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// The port a URI goes to: its own, or its scheme's.
fn port_of(uri: &http::Uri) -> Option<u16> {
    uri.port_u16().or_else(|| match uri.scheme_str() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    })
}

fn record_url(span: &Span, uri: &http::Uri) {
    span.record("url.full", url_full(&uri.to_string()).as_str());
}

/// `url` with its credentials and secret query values replaced by
/// `REDACTED`.
pub(crate) fn url_full(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    // The authority starts after `scheme://` and ends at the path, query
    // or fragment.
    let rest = match url.find("://") {
        Some(at) => {
            let start = at + 3;
            out.push_str(&url[..start]);
            let rest = &url[start..];
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, after) = rest.split_at(end);
            match authority.rfind('@') {
                Some(at) => {
                    let userinfo = &authority[..at];
                    out.push_str(REDACTED);
                    if userinfo.contains(':') {
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    out.push_str(&authority[at..]);
                }
                None => out.push_str(authority),
            }
            after
        }
        None => url,
    };
    let (before_fragment, fragment) = match rest.find('#') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    match before_fragment.split_once('?') {
        None => out.push_str(before_fragment),
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((key, _)) if SECRET_PARAMS.contains(&key) => {
                        out.push_str(key);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
        }
    }
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::url_full;

    #[test]
    fn credentials_and_secret_parameters_are_redacted() {
        let cases = [
            ("https://a.test/x?y=1", "https://a.test/x?y=1"),
            (
                "https://ada:lovelace@a.test:8443/x",
                "https://REDACTED:REDACTED@a.test:8443/x",
            ),
            ("http://ada@a.test", "http://REDACTED@a.test"),
            (
                "https://a.test/s?sig=abc&page=2&Signature=x#top",
                "https://a.test/s?sig=REDACTED&page=2&Signature=REDACTED#top",
            ),
            ("https://a.test/p@q", "https://a.test/p@q"),
            ("/relative?sig=1", "/relative?sig=REDACTED"),
        ];
        for (url, expected) in cases {
            assert_eq!(url_full(url), expected, "{url}");
        }
    }
}
