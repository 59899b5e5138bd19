//! The three clients under test, behind one `get`: this crate's `Session`,
//! raw hyper-util (the baseline), and reqwest.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioTimer};

// The clients are made once per run and never moved in the timed loops.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Bench {
    Session(http_session::Session),
    Raw(Client<HttpConnector, Empty<Bytes>>),
    Reqwest(reqwest::Client),
    /// A session with `.retry(Retry::new().total(3))`.
    SessionRetry(http_session::Session),
}

impl Bench {
    pub fn name(&self) -> &'static str {
        match self {
            Bench::Session(_) => "http-session",
            Bench::Raw(_) => "hyper-util (raw)",
            Bench::Reqwest(_) => "reqwest",
            Bench::SessionRetry(_) => "session + retry",
        }
    }

    /// The three clients, each with its default settings.
    pub fn all() -> Vec<Bench> {
        vec![Bench::raw(), Bench::session(), Bench::reqwest()]
    }

    pub fn raw() -> Bench {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(http);
        Bench::Raw(client)
    }

    pub fn session() -> Bench {
        Bench::Session(http_session::Session::new())
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

    /// One GET; returns the body length.
    pub async fn get(&self, url: &str) -> usize {
        match self {
            Bench::Session(s) | Bench::SessionRetry(s) => s
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
                res.into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes()
                    .len()
            }
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
