//! `Set-Cookie` in, `Cookie` out: an RFC 6265bis cookie jar for HTTP clients,
//! with a tower layer.
//!
//! # Overview
//!
//! [`Jar`] keeps cookies the way RFC 6265bis (§5, "User Agent Requirements")
//! asks of a non-browser client. It is a cheap [`Clone`] handle over shared
//! state, `Send + Sync`, so one jar can serve many tasks and many clients.
//! [`CookieLayer`] plugs it into any tower stack of `http::Request<B>` →
//! `http::Response<B>` services, such as `hyper_util`'s legacy client.
//! [`persist`] saves and loads jars as JSON or as curl's `cookies.txt`.
//!
//! The crate depends on neither hyper nor any session type.
//!
//! # Example: the defaults
//!
//! ```
//! use session_cookies::Jar;
//! use url::Url;
//!
//! let jar = Jar::new();
//! let login = Url::parse("https://shop.example.com/login").unwrap();
//! jar.store_set_cookie(&login, "sid=31d4d96e407aad42; Path=/; Secure; HttpOnly").unwrap();
//! jar.store_set_cookie(&login, "lang=en-US; Domain=example.com").unwrap();
//!
//! let cart = Url::parse("https://shop.example.com/cart").unwrap();
//! assert_eq!(jar.cookie_header(&cart).unwrap(), "sid=31d4d96e407aad42; lang=en-US");
//!
//! // Secure cookies never go over plain http (except to loopback hosts).
//! let plain = Url::parse("http://shop.example.com/cart").unwrap();
//! assert_eq!(jar.cookie_header(&plain).unwrap(), "lang=en-US");
//! ```
//!
//! # Example: customised, as a tower layer
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use http::{header, Request, Response};
//! use session_cookies::{CookieLayer, Jar, ManualClock};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
//! let jar = Jar::builder()
//!     .max_cookies_per_domain(50)
//!     .max_cookies(3000)
//!     .clock(clock.clone())
//!     .build();
//!
//! // A fake transport: the first request logs in, the next shows its cookies.
//! let transport = service_fn(|req: Request<String>| async move {
//!     let seen = req.headers().get(header::COOKIE).cloned();
//!     let res = Response::builder()
//!         .header(header::SET_COOKIE, "sid=1; Max-Age=60; HttpOnly")
//!         .body(format!("{seen:?}"))?;
//!     Ok::<_, http::Error>(res)
//! });
//! let client = CookieLayer::new(jar.clone()).layer(transport);
//!
//! let req = || Request::get("http://example.com/").body(String::new()).unwrap();
//! let first = client.clone().oneshot(req()).await?;
//! assert_eq!(first.body(), "None");
//!
//! // An explicit Cookie header is kept; the jar adds the names it lacks.
//! let mut second = req();
//! second.headers_mut().insert(header::COOKIE, "theme=dark".parse()?);
//! let second = client.clone().oneshot(second).await?;
//! assert_eq!(second.body(), r#"Some("theme=dark; sid=1")"#);
//!
//! clock.advance(Duration::from_secs(3600)); // sid has expired
//! assert!(jar.cookie_header(&"http://example.com/".parse()?).is_none());
//! # Ok(())
//! # }
//! ```
//!
//! # The rules
//!
//! **Parsing** follows RFC 6265bis §5.6 exactly and leniently: a header
//! without `=` is a nameless cookie (`Set-Cookie: foo` stores `("", "foo")`,
//! sent back as `foo`); unknown attributes are ignored; the last `Domain`,
//! `Path`, `Expires` and `Max-Age` win; an empty `Domain=` makes the cookie
//! host-only; `Max-Age` wins over `Expires`; `Expires` uses the cookie-date
//! algorithm of RFC 6265 §5.1.1 (any browser-accepted format; years before
//! 1601 make the attribute ignored). The `cookie` crate's own parser is not
//! used for `Set-Cookie`, because it is stricter than the RFC (it rejects
//! nameless cookies and unusual dates); [`Jar::insert`] takes a
//! [`cookie::Cookie`] built by hand.
//!
//! **Expiry**: `Max-Age` ≤ 0 or an `Expires` in the past deletes the cookie.
//! No cookie lives longer than 400 days; larger values (even
//! `Max-Age=18446744073709551616`) are cut to 400 days.
//!
//! **Domains**: without `Domain` a cookie is host-only (sent to that exact
//! host). `Domain` loses a leading dot and is lower-cased; it must
//! domain-match the request host, or the cookie is rejected. A `Domain`
//! with a character outside US-ASCII makes the jar ignore the cookie
//! (§5.7): it is not converted to its A-label, so a server must send the
//! `xn--` form. IP address hosts match only exactly. `Path` defaults to the
//! request path's directory and matches on `/` boundaries.
//!
//! **Public suffixes**: with the list bundled in the [`psl`] crate (on by
//! default), `Domain=com` or `Domain=co.uk` is rejected, and so is a suffix
//! written as a fully qualified name (`Domain=co.uk.` from `a.co.uk.`); if
//! the suffix *is* the request host (written the same way), the cookie
//! becomes host-only. The one switch that turns this off is
//! [`JarBuilder::public_suffix_list(false)`](JarBuilder::public_suffix_list).
//!
//! **Secure**: a `Secure` cookie is sent only to `https`/`wss` URLs and to
//! loopback hosts (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`), which
//! count as secure origins. Only a secure origin may set one, and an
//! insecure origin may not overwrite or shadow a `Secure` cookie of the same
//! name ("leave secure cookies alone", §5.7). A `__Secure-` name needs
//! `Secure`; a `__Host-` name needs `Secure`, no `Domain`, and a `Path`
//! attribute with the path `/` (a default path of `/`, from a request to
//! `/` or `/x`, is not enough). Prefixes match case-insensitively.
//!
//! **Limits**: a header with a control character (other than tab) is
//! rejected whole; a name plus value over 4096 bytes is rejected; an
//! attribute value over 1024 bytes is ignored, as if absent (§5.6). Over
//! HTTP, the transport sees such lines first: hyper (through `httparse`)
//! refuses a whole response whose head has a control character in a field
//! value, or a head larger than its limit, so the request fails and none of
//! that response's cookies, good ones included, reach the jar. A bare CR or
//! NUL makes the whole head unsafe to read, so this is deliberate; a line
//! that only breaks a cookie rule (a long value, a bad attribute) is dropped
//! alone, by the jar. Each site
//! (registrable domain) keeps at most 180 cookies and the jar 3300
//! ([`JarBuilder::max_cookies_per_domain`], [`JarBuilder::max_cookies`]).
//! Past a cap, expired cookies go first, then those that are not `Secure`,
//! then the `Secure` ones, the least recently used first within each. Past
//! the total cap the jar evicts down to 90% of it at once, so eviction stays
//! cheap.
//!
//! **The `Cookie` header** lists cookies with longer paths first, then older
//! first, and updates their last-access time. `HttpOnly` and `SameSite` are
//! stored and saved; a client that is not a browser sends every cookie that
//! matches, whatever its `SameSite`.
//!
//! **An explicit `Cookie` header** on a request that goes through
//! [`CookieLayer`] is kept as it is. The jar's cookies are appended to it,
//! except those whose name the explicit header already carries, so an
//! explicit value wins over the jar's. Values sent this way are not stored.
//!
//! **Lookups** never scan other sites' cookies: cookies are indexed by
//! registrable domain and a lookup walks the request host's parent domains,
//! so its cost does not grow with cookies stored for other sites.
//!
//! **Panics** elsewhere do not break the jar: its lock recovers from
//! poisoning.
//!
//! # Many processes, one jar
//!
//! [`RedisJar`] (feature `redis`) keeps the jar in Redis, shared by every
//! process with the same server and key prefix, through the same rules:
//! [`CookieLayer::with_store`] puts it in a tower stack, and the layer then
//! awaits Redis before each request and after each response. Concurrent
//! `Set-Cookie` from different processes never overwrite each other; when
//! Redis cannot be reached the request fails ([`Error::is_unavailable`]).
//! [`CookieStore`] is the seam both jars implement.
//!
//! # Features
//!
//! - `redis` (off by default): [`RedisJar`], on the `redis` crate's 1.x
//!   line with tokio.
//!
//! The crate always has the public suffix list and both file formats.
//!
//! # MSRV
//!
//! The `rust-version` of the workspace manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod error;
pub mod future;
mod headers;
mod jar;
mod layer;
mod parse;
pub mod persist;
#[cfg(feature = "redis")]
mod redis_jar;
mod store;
mod stored;
mod time;

pub use crate::error::{BoxError, Error, Result};
pub use crate::jar::{Jar, JarBuilder};
pub use crate::layer::{CookieLayer, CookieService};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis_jar::{RedisJar, RedisJarBuilder};
pub use crate::store::{CookieStore, RemoteStore};
pub use crate::stored::{SameSite, StoredCookie};
pub use crate::time::{Clock, ManualClock, SystemClock};
pub use url::Url;
