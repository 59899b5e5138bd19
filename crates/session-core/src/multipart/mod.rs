//! `multipart/form-data` bodies: [`Form`] and [`Part`] (requests' `files=`
//! and `data=` together).
//!
//! A [`Form`] is a list of named fields, each a [`Part`]: text, bytes, a file
//! read from a path (its file name and content type guessed from the path,
//! both changeable), or a stream. [`RequestBuilder::multipart`] sends it with
//! `Content-Type: multipart/form-data; boundary=...` (a fresh random
//! boundary), and a `Content-Length` when every part's length is known.
//!
//! | requests | here |
//! |---|---|
//! | `data={'key': 'value'}` beside `files=` | `Form::new().text("key", "value")` |
//! | `files={'report': open('report.csv', 'rb')}` | `.file("report", "report.csv")?` |
//! | `files={'f': ('name.txt', b'...', 'text/plain')}` | `.part("f", Part::bytes(..).file_name("name.txt").mime_str("text/plain")?)` |
//! | `files={'f': generator}` (chunked) | `.part("f", Part::stream(Body::from_stream(..)))` |
//!
//! **Sending again.** A form of text, bytes and files is replayable: a
//! `307`/`308` redirect or a retry sends it again, opening each file again
//! rather than holding it in memory (a file whose length changed fails with
//! [`SizeChanged`](crate::body::SizeChanged)). A form with a one-shot stream
//! part is sent once: a `307` stops with
//! [`BodyNotReplayable`](crate::redirect::BodyNotReplayable), and a retry
//! layer does not retry it.
//!
//! **Names.** Field names and file names are written in quoted strings as
//! browsers write them (the HTML form-data encoding that RFC 7578 points to):
//! `"`, CR and LF become `%22`, `%0D` and `%0A`, and non-ASCII characters
//! are sent as UTF-8.
//!
//! # Example
//!
//! ```
//! use http::{Method, StatusCode};
//! use session_core::multipart::{Form, Part};
//! use session_core::{mock::MockTransport, Session};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("session-core-multipart-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("report.csv");
//! # std::fs::write(&path, "a,b\n1,2\n")?;
//! let mock = MockTransport::new().route(Method::POST, "/upload", |_| (StatusCode::OK, "stored"));
//! let session = Session::builder().transport(mock.clone()).build()?;
//!
//! let form = Form::new()
//!     .text("title", "Q3")
//!     .file("report", &path)? // report.csv, text/csv
//!     .part("notes", Part::bytes(&b"draft"[..]).file_name("notes.txt").mime_str("text/plain")?);
//! let response = session.post("http://api.test/upload").multipart(form).send().await?;
//! assert_eq!(response.status(), 200);
//!
//! let sent = &mock.requests()[0];
//! let content_type = sent.headers["content-type"].to_str()?;
//! assert!(content_type.starts_with("multipart/form-data; boundary="));
//! let body = String::from_utf8(sent.body.to_vec())?;
//! assert!(body.contains("name=\"report\"; filename=\"report.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```
//!
//! [`RequestBuilder::multipart`]: crate::RequestBuilder::multipart

mod encode;
mod form;
mod part;

pub use form::Form;
pub use part::Part;
