//! One-off requests, as `requests.get(url)`: each call builds a fresh
//! [`Session`] with the defaults, sends one request through its whole
//! stack, and lets it go with the response. No cookie, connection or
//! setting is kept from one call to the next, so there is no state to be
//! surprised by, and nothing to reuse either: every call opens a new
//! connection (and a TLS handshake). Code that sends more than one request
//! should keep a [`Session`], which pools connections and keeps cookies.
//!
//! The builder they return takes every per-request setting (`header`,
//! `query`, `json`, `timeout`, ...); send it with `.send().await` or just
//! `.await`:
//!
//! ```no_run
//! # async fn run() -> Result<(), http_session::Error> {
//! let text = http_session::get("https://example.com/").await?.text().await?;
//! let created = http_session::post("https://api.example.com/items")
//!     .json(&serde_json::json!({ "name": "widget" }))
//!     .await?;
//! # let _ = (text, created); Ok(()) }
//! ```
//!
//! A session that cannot be built (a proxy environment variable that is not
//! a URL, say) makes the request fail with that builder error when it is
//! sent; the call itself never panics.

use http::Method;
use session_core::{IntoUrl, RequestBuilder};

use crate::Session;

macro_rules! one_off {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("A one-off `", stringify!($method), "` request on a fresh session (see [`oneoff`](crate::oneoff)).")]
            pub fn $name(url: impl IntoUrl) -> RequestBuilder {
                request(Method::$method, url)
            }
        )*
    };
}

one_off! {
    get => GET,
    post => POST,
    put => PUT,
    patch => PATCH,
    delete => DELETE,
    head => HEAD,
    options => OPTIONS,
}

/// A one-off request with any method, on a fresh session with the defaults.
pub fn request(method: Method, url: impl IntoUrl) -> RequestBuilder {
    Session::new().core.request(method, url)
}
