//! Observability over real sockets: the request, hop and attempt spans with
//! their OpenTelemetry fields, the transport's connection events, and the
//! connection phase timings on `Response::connection()`.
//!
//! Each test runs on its own thread (a current-thread runtime) under its
//! own subscriber, a small one written here that records every span, field
//! and event with its parent.

mod support;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_session::retry::Retry;
use http_session::Session;
use support::server::{self, response, Req};
use support::tls::Ca;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A span as the recorder saw it.
#[derive(Debug, Clone)]
struct SpanRec {
    id: u64,
    name: &'static str,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

/// An event as the recorder saw it, with the span it happened in.
#[derive(Debug, Clone)]
struct EventRec {
    message: String,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Recorded {
    spans: Vec<SpanRec>,
    events: Vec<EventRec>,
    /// The spans entered on the test's thread, innermost last.
    stack: Vec<u64>,
}

/// Records every span and event (a subscriber interested in everything).
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut rec = self.0.lock().unwrap();
        let parent = match attrs.parent() {
            Some(id) => Some(id.into_u64()),
            None if attrs.is_contextual() => rec.stack.last().copied(),
            None => None,
        };
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let id = rec.spans.len() as u64 + 1;
        rec.spans.push(SpanRec {
            id,
            name: attrs.metadata().name(),
            parent,
            fields,
        });
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut rec = self.0.lock().unwrap();
        let span = &mut rec.spans[span.into_u64() as usize - 1];
        values.record(&mut Fields(&mut span.fields));
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut rec = self.0.lock().unwrap();
        let parent = match event.parent() {
            Some(id) => Some(id.into_u64()),
            None if event.is_contextual() => rec.stack.last().copied(),
            None => None,
        };
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        rec.events.push(EventRec {
            message,
            parent,
            fields,
        });
    }

    fn enter(&self, span: &Id) {
        self.0.lock().unwrap().stack.push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut rec = self.0.lock().unwrap();
        if let Some(at) = rec.stack.iter().rposition(|&id| id == span.into_u64()) {
            rec.stack.remove(at);
        }
    }
}

impl Recorder {
    /// Installs the recorder as this thread's subscriber.
    fn install() -> (Recorder, tracing::subscriber::DefaultGuard) {
        let recorder = Recorder::default();
        let guard = tracing::subscriber::set_default(recorder.clone());
        (recorder, guard)
    }

    fn spans(&self, name: &str) -> Vec<SpanRec> {
        let rec = self.0.lock().unwrap();
        rec.spans
            .iter()
            .filter(|s| s.name == name)
            .cloned()
            .collect()
    }

    fn events(&self, message: &str) -> Vec<EventRec> {
        let rec = self.0.lock().unwrap();
        rec.events
            .iter()
            .filter(|e| e.message == message)
            .cloned()
            .collect()
    }

    /// Is `span` (or one of its ancestors) the span `ancestor`?
    fn within(&self, span: Option<u64>, ancestor: u64) -> bool {
        let rec = self.0.lock().unwrap();
        let mut next = span;
        while let Some(id) = next {
            if id == ancestor {
                return true;
            }
            next = rec.spans[id as usize - 1].parent;
        }
        false
    }

    /// Everything recorded, as text (to look for what must never show).
    fn dump(&self) -> String {
        let rec = self.0.lock().unwrap();
        format!("{:?} {:?}", rec.spans, rec.events)
    }
}

fn field<'a>(span: &'a SpanRec, name: &str) -> &'a str {
    span.fields
        .get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("{} has no {name}: {span:?}", span.name))
}

#[tokio::test]
async fn one_request_span_with_method_redacted_url_and_status() {
    let srv = server::http(|_req: Req| async { response(404, "none") });
    let (rec, _guard) = Recorder::install();
    let session = Session::new();
    let port = srv.port();
    let url = format!("http://ada:s3cr3t-pw@127.0.0.1:{port}/things?sig=s3cr3t-sig&page=2");
    let res = session.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let requests = rec.spans("request");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let span = &requests[0];
    assert_eq!(field(span, "http.request.method"), "GET");
    assert_eq!(field(span, "otel.name"), "GET");
    assert_eq!(
        field(span, "url.full"),
        format!("http://REDACTED:REDACTED@127.0.0.1:{port}/things?sig=REDACTED&page=2")
    );
    assert_eq!(field(span, "server.address"), "127.0.0.1");
    assert_eq!(field(span, "server.port"), port.to_string());
    assert_eq!(field(span, "http.response.status_code"), "404");
    assert_eq!(field(span, "network.protocol.version"), "1.1");
    assert_eq!(field(span, "error.type"), "404");
    assert_eq!(span.parent, None);
    let dump = rec.dump();
    assert!(!dump.contains("s3cr3t"), "a secret was traced: {dump}");
}

#[tokio::test]
async fn a_failed_request_span_says_what_failed() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (rec, _guard) = Recorder::install();
    let session = Session::new();
    let err = session
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err}");
    let span = &rec.spans("request")[0];
    assert_eq!(field(span, "error.type"), "connect");
    assert!(!span.fields.contains_key("http.response.status_code"));
}

#[tokio::test]
async fn a_redirect_makes_two_hop_spans_inside_the_request_span() {
    let srv = server::http(|req: Req| async move {
        if req.uri.path() == "/old" {
            let mut res = response(302, "");
            res.headers_mut()
                .insert(http::header::LOCATION, "/new".parse().unwrap());
            res
        } else {
            response(200, "here")
        }
    });
    let (rec, _guard) = Recorder::install();
    let session = Session::new();
    let res = session.get(srv.url("/old")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    let request = &rec.spans("request")[0];
    assert_eq!(field(request, "http.response.status_code"), "200");
    let hops = rec.spans("hop");
    assert_eq!(hops.len(), 2, "{hops:?}");
    for (i, (hop, (path, status))) in hops
        .iter()
        .zip([("/old", "302"), ("/new", "200")])
        .enumerate()
    {
        assert_eq!(hop.parent, Some(request.id));
        assert_eq!(field(hop, "redirect.index"), i.to_string());
        assert_eq!(field(hop, "url.full"), srv.url(path));
        assert_eq!(field(hop, "http.request.method"), "GET");
        assert_eq!(field(hop, "http.response.status_code"), status);
    }
    // Each hop's connection work happens inside it: the second reuses the
    // first's connection.
    let reused = rec.events("connection reused");
    assert_eq!(reused.len(), 1);
    assert!(rec.within(reused[0].parent, hops[1].id));
}

#[tokio::test]
async fn a_retried_request_makes_one_attempt_span_per_attempt() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let srv = server::http(move |_req: Req| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                response(503, "busy")
            } else {
                response(200, "ok")
            }
        }
    });
    let (rec, _guard) = Recorder::install();
    let session = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .backoff_factor(0.01)
                .status_forcelist([503]),
        )
        .build()
        .unwrap();
    let res = session.get(srv.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    let hop = &rec.spans("hop")[0];
    let attempts = rec.spans("attempt");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let (first, second) = (&attempts[0], &attempts[1]);
    assert!(attempts.iter().all(|a| a.parent == Some(hop.id)));
    assert_eq!(field(first, "http.request.resend_count"), "0");
    assert_eq!(field(first, "http.response.status_code"), "503");
    assert_eq!(field(first, "error.type"), "503");
    assert_eq!(field(first, "retry.reason"), "status");
    // urllib3's backoff sleeps nothing before the first retry.
    let delay: u64 = field(first, "retry.delay_ms").parse().unwrap();
    assert!(delay <= 10, "{delay}");
    assert_eq!(field(second, "http.request.resend_count"), "1");
    assert_eq!(field(second, "http.response.status_code"), "200");
    assert!(!second.fields.contains_key("retry.reason"));
    // The hop and the request end with the final answer.
    assert_eq!(field(hop, "http.response.status_code"), "200");
    assert_eq!(
        field(&rec.spans("request")[0], "http.response.status_code"),
        "200"
    );
}

#[tokio::test]
async fn a_kept_alive_connection_is_opened_once_then_reused() {
    let srv = server::http(|_req: Req| async { response(200, "ok") });
    let (rec, _guard) = Recorder::install();
    let session = Session::new();
    for _ in 0..2 {
        let res = session.get(srv.url("/")).send().await.unwrap();
        res.text().await.unwrap();
    }
    let requests = rec.spans("request");
    let opened = rec.events("connection opened");
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(rec.within(opened[0].parent, requests[0].id));
    assert_eq!(opened[0].fields["network.peer.address"], "127.0.0.1");
    assert_eq!(
        opened[0].fields["network.peer.port"],
        srv.port().to_string()
    );
    // An IP address: no name to resolve.
    assert!(!opened[0].fields.contains_key("dns"));
    assert!(opened[0].fields.contains_key("connect"));
    let reused = rec.events("connection reused");
    assert_eq!(reused.len(), 1, "{reused:?}");
    assert!(rec.within(reused[0].parent, requests[1].id));
    assert_eq!(
        reused[0].fields["connection.id"],
        opened[0].fields["connection.id"]
    );
}

#[tokio::test]
async fn a_request_waiting_for_the_hosts_one_connection_emits_a_pool_wait() {
    let srv = server::http(|_req: Req| async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        response(200, "ok")
    });
    let (rec, _guard) = Recorder::install();
    let session = Session::builder()
        .pool_max_connections_per_host(1)
        .build()
        .unwrap();
    let (a, b) = tokio::join!(
        session.get(srv.url("/a")).send(),
        session.get(srv.url("/b")).send()
    );
    assert_eq!(a.unwrap().status(), 200);
    assert_eq!(b.unwrap().status(), 200);
    assert_eq!(srv.connections(), 1);

    let waits = rec.events("pool wait");
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(waits[0].fields["server.address"], "127.0.0.1");
    assert_eq!(waits[0].fields["pool.max_connections"], "1");
    // It happened inside the second request's span.
    let second = &rec.spans("request")[1];
    assert!(rec.within(waits[0].parent, second.id));
}

#[tokio::test]
async fn a_new_https_connection_reports_its_phases_and_a_reused_one_the_same() {
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["localhost"]);
    let srv = server::https(leaf.server_config(), |req: Req| async move {
        if req.uri.path() == "/slow" {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        response(200, "ok")
    });
    let session = Session::builder()
        .add_root_certificate_pem(ca.cert_pem.as_bytes())
        .build()
        .unwrap();

    let first = session.get(srv.https_url("/")).send().await.unwrap();
    let info = *first.connection().unwrap();
    assert!(!info.reused);
    let t = info.timings;
    // `localhost` is a name: resolved by the system.
    assert!(t.dns.is_some(), "{t:?}");
    assert!(t.connect.is_some(), "{t:?}");
    assert!(t.tls.is_some_and(|d| d > Duration::ZERO), "{t:?}");
    assert!(t.ttfb.is_some(), "{t:?}");
    assert_eq!(
        t.setup(),
        Some(t.dns.unwrap() + t.connect.unwrap() + t.tls.unwrap())
    );
    first.text().await.unwrap();

    // The same connection: its phases as they were, and this response's
    // own time to first byte, at least the server's 50 ms.
    let second = session.get(srv.https_url("/slow")).send().await.unwrap();
    let again = *second.connection().unwrap();
    assert!(again.reused);
    assert_eq!(again.id, info.id);
    assert_eq!(
        (again.timings.dns, again.timings.connect, again.timings.tls),
        (t.dns, t.connect, t.tls)
    );
    let ttfb = again.timings.ttfb.unwrap();
    assert!(ttfb >= Duration::from_millis(50), "{ttfb:?}");
    assert!(
        second.elapsed() >= ttfb,
        "{:?} < {ttfb:?}",
        second.elapsed()
    );
}

#[tokio::test]
async fn plain_http_to_an_address_has_no_dns_and_no_tls() {
    let srv = server::http(|_req: Req| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        response(200, "ok")
    });
    let session = Session::new();
    let res = session.get(srv.url("/")).send().await.unwrap();
    let t = res.connection().unwrap().timings;
    assert_eq!((t.dns, t.tls), (None, None), "{t:?}");
    assert!(t.connect.is_some(), "{t:?}");
    // A new connection: measured from when it was ready, so the server's
    // wait is in it and the connect is not.
    let ttfb = t.ttfb.unwrap();
    assert!(ttfb >= Duration::from_millis(50), "{ttfb:?}");
    assert!(res.elapsed() >= ttfb + t.connect.unwrap());
}
