//! A blocking session, for code that is not async: `send()` returns the
//! response, `text()` returns the text.
//!
//! A blocking [`Session`] is the async [`Session`](crate::Session) (the same
//! [`SessionBuilder`](crate::SessionBuilder), the same defaults, cookies,
//! retries, redirects, auth and mounts, the same one stack) driven by a
//! runtime on a background thread that the session owns. Each call hands its
//! work to that runtime and waits for the answer, so it works the same from
//! `main`, from a pool of threads, and from inside an async runtime: it
//! never needs a runtime of the caller's, and never panics for being called
//! inside one.
//!
//! # Example
//!
//! ```
//! use http::{Method, StatusCode};
//! use http_session::{blocking, mock::MockTransport};
//!
//! # fn main() -> Result<(), http_session::Error> {
//! let mock = MockTransport::new()
//!     .route(Method::POST, "/login", |_| (StatusCode::OK, "welcome"))
//!     .route(Method::GET, "/me", |_| (StatusCode::OK, r#"{"name":"ada"}"#));
//! let session = blocking::Session::builder()
//!     .user_agent("MyApp/1.0")
//!     .transport(mock.clone())
//!     .build_blocking()?;
//!
//! let text = session.post("https://api.test/login").form(&[("user", "ada")]).send()?.text()?;
//! assert_eq!(text, "welcome");
//! let me: serde_json::Value = session.get("https://api.test/me").send()?.json()?;
//! assert_eq!(me["name"], "ada");
//! assert_eq!(mock.requests()[1].headers["user-agent"], "MyApp/1.0");
//! session.close()?;
//! # Ok(()) }
//! ```
//!
//! With the `hyper` feature, `blocking::Session::new()` is a session with
//! the defaults, and [`Response`] streams its body through [`std::io::Read`]:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let session = http_session::blocking::Session::new();
//! let mut response = session.get("https://example.com/big.iso").send()?.error_for_status()?;
//! let mut file = std::fs::File::create("big.iso")?;
//! std::io::copy(&mut response, &mut file)?;
//! # Ok(()) }
//! ```
//!
//! # Threads and async code
//!
//! `Session` is `Clone + Send + Sync`: clone it into as many threads as you
//! like; every clone shares the cookies, the connection pool and the one
//! background runtime, which stops (on its own thread) when the last clone
//! and the last [`Response`] are dropped.
//!
//! Called inside an async task, a blocking call blocks that task's worker
//! thread until the answer comes, as any blocking I/O would: it works (even
//! on a current-thread runtime, since the work runs elsewhere) but stalls
//! the other tasks of that worker meanwhile. In async code prefer
//! [`Session::as_async`], or run the blocking calls with
//! `tokio::task::spawn_blocking`:
//!
//! ```
//! # use http::{Method, StatusCode};
//! # use http_session::{blocking, mock::MockTransport};
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), http_session::Error> {
//!     # let mock = MockTransport::new().route(Method::GET, "/", |_| (StatusCode::OK, "hi"));
//!     let session = blocking::Session::builder().transport(mock).build_blocking()?;
//!     // Blocks this worker thread until the answer comes; no panic.
//!     assert_eq!(session.get("https://api.test/").send()?.text()?, "hi");
//!     // Better in async code: the same session, async.
//!     assert_eq!(session.as_async().get("https://api.test/").send().await?.text().await?, "hi");
//!     Ok(())
//! }
//! ```
//!
//! # Timeouts and errors
//!
//! The session's or request's `timeout` covers a blocking call as it covers
//! an async one, body reads included. A call whose work was dropped before
//! it finished (a panic in a layer of the stack) returns an error whose
//! source is [`RuntimeStopped`] instead of waiting forever; a blocking call
//! made on the session's own runtime thread (from one of its middlewares)
//! returns [`CalledFromRuntime`] instead of waiting on itself.

mod request;
mod response;
mod runtime;
mod session;

pub use request::RequestBuilder;
pub use response::Response;
pub use runtime::{CalledFromRuntime, RuntimeStopped};
pub use session::Session;
