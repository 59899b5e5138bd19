//! The three clients under test, behind one `get`: this crate's `Session`,
//! raw hyper-util (the baseline), and reqwest; plus the raw baselines of the
//! cookie round trip (a minimal jar) and of HTTPS (hyper-rustls).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::server;

// The clients are made once per run and never moved in the timed loops.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Bench {
    Session(http_session::Session),
    Raw(Client<HttpConnector, Empty<Bytes>>),
    Reqwest(reqwest::Client),
    /// A session with `.retry(Retry::new().total(3))`.
    SessionRetry(http_session::Session),
    /// Raw hyper-util sending back what a [`MiniJar`] holds.
    RawJar(Client<HttpConnector, Empty<Bytes>>, Arc<MiniJar>),
    /// Raw hyper-util over hyper-rustls, trusting the test CA only.
    RawTls(Client<HttpsConnector<HttpConnector>, Empty<Bytes>>),
    /// A session set up for one measurement (an HTTP cache, or sending
    /// only what raw hyper-util sends), named for the table.
    Named(&'static str, http_session::Session),
    /// A fresh raw hyper-util client for each request.
    OneOffRaw,
    /// `http_session::get(url)`: a fresh session for each request.
    OneOffSession,
    /// `reqwest::get(url)`: a fresh client for each request.
    OneOffReqwest,
}

/// The least a cookie round trip needs: name/value pairs, replaced by name
/// from each response's `Set-Cookie` lines, all sent in one `Cookie` header.
#[derive(Default)]
pub struct MiniJar(Mutex<Vec<(String, String)>>);

impl MiniJar {
    /// `a=1; b=2; c=3`, or `None` while empty.
    fn header(&self) -> Option<String> {
        let pairs = self.0.lock().expect("jar lock");
        let mut out = String::new();
        for (name, value) in pairs.iter() {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        (!out.is_empty()).then_some(out)
    }

    /// Keeps `name=value` of each `Set-Cookie` (up to its first `;`).
    fn store(&self, headers: &http::HeaderMap) {
        let mut pairs = self.0.lock().expect("jar lock");
        for line in headers.get_all(http::header::SET_COOKIE) {
            let Ok(line) = line.to_str() else { continue };
            let pair = line.split_once(';').map_or(line, |(pair, _)| pair);
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => value.clone_into(v),
                None => pairs.push((name.to_owned(), value.to_owned())),
            }
        }
    }
}

/// Raw hyper-util over plain TCP (`TCP_NODELAY`, the pool's idle timer).
fn raw_client() -> Client<HttpConnector, Empty<Bytes>> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build(http)
}

/// Raw hyper-util over hyper-rustls (h1 and h2 by ALPN), with `ca_pem` as
/// its only root.
pub(crate) fn raw_tls_client(ca_pem: &str) -> Client<HttpsConnector<HttpConnector>, Empty<Bytes>> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("pem")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build(https)
}

impl Bench {
    pub fn name(&self) -> &'static str {
        match self {
            Bench::Session(_) => "http-session",
            Bench::Raw(_) => "hyper-util (raw)",
            Bench::Reqwest(_) => "reqwest",
            Bench::SessionRetry(_) => "session + retry",
            Bench::RawJar(..) => "hyper-util + jar",
            Bench::RawTls(_) => "hyper-rustls (raw)",
            Bench::Named(name, _) => name,
            Bench::OneOffRaw => "hyper-util, fresh client",
            Bench::OneOffSession => "http_session::get",
            Bench::OneOffReqwest => "reqwest::get",
        }
    }

    /// The three clients, each with its default settings.
    pub fn all() -> Vec<Bench> {
        vec![Bench::raw(), Bench::session(), Bench::reqwest()]
    }

    /// [`Bench::all`] and the session's stack sending raw hyper-util's
    /// request ([`Bench::session_bare`]): how much of the gap to raw is the
    /// stack and how much is the headers a `requests`-like client sends.
    pub fn all_and_bare() -> Vec<Bench> {
        vec![
            Bench::raw(),
            Bench::session(),
            Bench::session_bare(),
            Bench::reqwest(),
        ]
    }

    /// A fresh client per request: raw hyper-util, the session's one-off
    /// `http_session::get`, and `reqwest::get`.
    pub fn one_off_all() -> Vec<Bench> {
        vec![Bench::OneOffRaw, Bench::OneOffSession, Bench::OneOffReqwest]
    }

    /// A session with a cache in `store` (memory, SQLite or Redis).
    pub fn cached(name: &'static str, store: impl http_session::cache::store::Store) -> Bench {
        let cache = http_session::cache::Cache::private().store(store);
        let session = http_session::Session::builder()
            .cache(cache)
            .build()
            .expect("session with a cache");
        Bench::Named(name, session)
    }

    pub fn raw() -> Bench {
        Bench::Raw(raw_client())
    }

    pub fn session() -> Bench {
        Bench::Session(http_session::Session::new())
    }

    /// The default session's stack, every layer present, sending the
    /// request raw hyper-util sends: no `User-Agent` or `Accept` default
    /// header and no `Accept-Encoding` (decompression off). What the
    /// session's own request costs to build, send and parse is the
    /// difference with [`Bench::session`].
    pub fn session_bare() -> Bench {
        let session = http_session::Session::builder()
            .without_default_header(http::header::USER_AGENT)
            .without_default_header(http::header::ACCEPT)
            .decompress(false)
            .build()
            .expect("session without default headers");
        Bench::Named("session, raw's request", session)
    }

    /// A session without and with the retry layer (success path only).
    pub fn retry_pair() -> Vec<Bench> {
        let retry = http_session::retry::Retry::new()
            .total(3)
            .status_forcelist([500, 502, 503, 504]);
        let with = http_session::Session::builder()
            .retry(retry)
            .build()
            .expect("retry session");
        vec![Bench::session(), Bench::SessionRetry(with)]
    }

    pub fn reqwest() -> Bench {
        Bench::Reqwest(reqwest::Client::new())
    }

    /// The cookie round trip: raw hyper-util with a [`MiniJar`], then the
    /// session (its jar is on by default), with and without its default
    /// headers. reqwest is built without cookies.
    pub fn cookie_pair() -> Vec<Bench> {
        vec![Bench::raw_jar(), Bench::session(), Bench::session_bare()]
    }

    pub fn raw_jar() -> Bench {
        Bench::RawJar(raw_client(), Arc::default())
    }

    /// The three clients over HTTPS, each trusting the test CA of
    /// [`server::tls_pair`].
    pub fn tls_all() -> Vec<Bench> {
        let ca_pem = &server::tls_pair().1;
        let reqwest = reqwest::Client::builder()
            .tls_certs_merge([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca pem")])
            .build()
            .expect("reqwest with the test CA");
        vec![
            Bench::raw_tls(),
            Bench::session_tls(),
            Bench::Reqwest(reqwest),
        ]
    }

    pub fn raw_tls() -> Bench {
        Bench::RawTls(raw_tls_client(&server::tls_pair().1))
    }

    pub fn session_tls() -> Bench {
        let session = http_session::Session::builder()
            .add_root_certificate_pem(server::tls_pair().1.as_bytes())
            .build()
            .expect("session with the test CA");
        Bench::Session(session)
    }

    /// One GET; returns the body length.
    pub async fn get(&self, url: &str) -> usize {
        match self {
            Bench::Session(s) | Bench::SessionRetry(s) | Bench::Named(_, s) => s
                .get(url)
                .send()
                .await
                .expect("session get")
                .bytes()
                .await
                .expect("body")
                .len(),
            Bench::Raw(c) => {
                let uri: http::Uri = url.parse().expect("uri");
                let res = c.get(uri).await.expect("raw get");
                body_len(res).await
            }
            Bench::RawTls(c) => {
                let uri: http::Uri = url.parse().expect("uri");
                let res = c.get(uri).await.expect("raw https get");
                body_len(res).await
            }
            Bench::RawJar(c, jar) => {
                let mut req = http::Request::get(url);
                if let Some(cookie) = jar.header() {
                    req = req.header(http::header::COOKIE, cookie);
                }
                let req = req.body(Empty::new()).expect("request");
                let res = c.request(req).await.expect("raw get");
                jar.store(res.headers());
                body_len(res).await
            }
            Bench::OneOffRaw => {
                let uri: http::Uri = url.parse().expect("uri");
                let res = raw_client().get(uri).await.expect("raw get");
                body_len(res).await
            }
            Bench::OneOffSession => http_session::get(url)
                .await
                .expect("one-off get")
                .bytes()
                .await
                .expect("body")
                .len(),
            Bench::OneOffReqwest => reqwest::get(url)
                .await
                .expect("reqwest::get")
                .bytes()
                .await
                .expect("body")
                .len(),
            Bench::Reqwest(c) => c
                .get(url)
                .send()
                .await
                .expect("reqwest get")
                .bytes()
                .await
                .expect("body")
                .len(),
        }
    }
}

/// Reads a raw response's body; returns its length.
async fn body_len(res: http::Response<hyper::body::Incoming>) -> usize {
    res.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}
