//! Session files: a whole session's state (default headers, query
//! parameters, base URL, auth, cookies) saved to one JSON file and loaded
//! back, in this crate's format or in [HTTPie]'s, so a session logged in
//! yesterday (or with `http --session=FILE`) goes on today.
//!
//! # What is saved
//!
//! | state | this crate's format | HTTPie's format |
//! |---|---|---|
//! | default headers | yes | yes (`headers`) |
//! | default query parameters | yes | no: reported |
//! | base URL | yes (without its password unless credentials are included) | no: reported |
//! | Basic, Bearer, Digest auth | only with [`StateFile::include_credentials`] | same (`auth`) |
//! | another auth scheme, `.netrc` | no: reported | no: reported |
//! | cookies | every attribute (the jar's JSON) | name, value, domain, path, `Secure`, expiry; `HttpOnly` and `SameSite` are reported |
//!
//! Headers that carry credentials (`Authorization`, `Proxy-Authorization`,
//! `Cookie`, and any value marked sensitive) are saved only with
//! [`StateFile::include_credentials`], as auth is. The built-in defaults
//! (`User-Agent: http-session/<version>`, `Accept: */*`) are not saved, so a
//! newer version's defaults apply; a removed built-in default is reported.
//! Session cookies (no expiry) are saved: they are usually the login.
//!
//! Files are written atomically (a new file, synced, renamed over the old
//! one) and always with owner-only permissions (`0600` on Unix). Nothing
//! left out is dropped silently: [`SaveReport::left_out`] lists it.
//!
//! # Loading
//!
//! [`SessionBuilder::state_file`](crate::SessionBuilder::state_file) reads
//! the file where it stands in the builder chain: the file's headers,
//! query parameters, base URL and auth replace what the setters before it
//! set, and setters after it replace the file's. A missing file is a new
//! session. Its cookies go into the session's jar when it is built. What
//! could not be loaded (an expired cookie, an auth type this crate lacks, a
//! cookie with no domain) is listed in [`LoadReport::issues`]
//! ([`Session::loaded_state`](crate::Session::loaded_state)); a file that
//! cannot be used at all (not JSON, an unknown version, a header that is not
//! valid) makes [`build`](crate::SessionBuilder::build) fail with a
//! [`StateError`]. A file holding credentials that other users can read
//! gives a warning in the report (and a `tracing` warning).
//!
//! With [`StateFile::save_on_close`] (on by default) the session saves its
//! state there when [`Session::close`](crate::Session::close) is called;
//! [`Session::save_state`](crate::Session::save_state) saves at any time.
//!
//! # HTTPie
//!
//! HTTPie 3 sessions (`http --session=./api.json ...`) are read and written
//! with [`StateFile::httpie`]: its `headers`, `cookies` and `auth` (`basic`,
//! `digest`, `bearer`) map onto the session's; the older layouts (headers and
//! cookies as objects, auth as `username`/`password`) are read too. A cookie
//! HTTPie stored with a leading dot (`.example.com`) is sent to subdomains;
//! one without is host-only (stricter than Python's cookie jar, never
//! looser). A cookie with no domain (HTTPie before 3.1) is loaded only when
//! [`StateFile::bind_cookies`] names its host.
//!
//! # Example
//!
//! ```
//! use http_session::state::StateFile;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("http-session-state-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let path = dir.join("api.json");
//! let file = StateFile::new(&path).include_credentials(true);
//!
//! let session = http_session::Session::builder()
//!     .state_file(file.clone())
//!     .header("X-Client", "nightly-sync")
//!     .bearer_auth("t0k3n")
//!     .build()?;
//! session.close().await?; // saves the state
//!
//! let again = http_session::Session::builder().state_file(file).build()?;
//! assert_eq!(again.defaults().headers()["x-client"], "nightly-sync");
//! assert!(again.defaults().has_auth());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```
//!
//! [HTTPie]: https://httpie.io/docs/cli/sessions

mod error;
mod file;
mod httpie;
mod model;
mod native;
mod report;

use std::path::{Path, PathBuf};

pub use error::StateError;
pub use model::{Credentials, SessionState};
pub use report::{Issue, LoadReport, SaveReport};

pub(crate) use model::{AuthRecord, Loaded};

/// What a built session knows of its session file.
#[derive(Debug, Default)]
pub(crate) struct Binding {
    pub(crate) file: Option<StateFile>,
    pub(crate) loaded: Option<LoadReport>,
    pub(crate) auth: AuthRecord,
}

/// A session file: where it is, its format, and what goes in it.
#[derive(Debug, Clone)]
#[must_use]
pub struct StateFile {
    path: PathBuf,
    format: StateFormat,
    credentials: bool,
    session_cookies: bool,
    save_on_close: bool,
    bind_cookies: Option<String>,
}

/// The layout of a session file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateFormat {
    /// This crate's JSON: everything the session has, cookies with every
    /// attribute.
    Native,
    /// HTTPie 3's session file (`http --session=FILE`).
    Httpie,
}

impl StateFile {
    /// A session file at `path` in this crate's format: credentials left
    /// out, session cookies kept, saved on close.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile {
            path: path.into(),
            format: StateFormat::Native,
            credentials: false,
            session_cookies: true,
            save_on_close: true,
            bind_cookies: None,
        }
    }

    /// An HTTPie session file at `path` (see the [module docs](self#httpie)).
    pub fn httpie(path: impl Into<PathBuf>) -> Self {
        StateFile {
            format: StateFormat::Httpie,
            ..StateFile::new(path)
        }
    }

    /// Saves auth and credential headers too (off by default). The file is
    /// owner-only either way.
    pub fn include_credentials(mut self, include: bool) -> Self {
        self.credentials = include;
        self
    }

    /// Saves cookies without an expiry (on by default).
    pub fn include_session_cookies(mut self, include: bool) -> Self {
        self.session_cookies = include;
        self
    }

    /// Saves the session's state here on `close()` (on by default).
    pub fn save_on_close(mut self, save: bool) -> Self {
        self.save_on_close = save;
        self
    }

    /// Loads HTTPie cookies that have no domain (HTTPie before 3.1) as
    /// host-only cookies of `host`, as `httpie cli sessions upgrade
    /// --bind-cookies` does; without it they are reported and left out.
    pub fn bind_cookies(mut self, host: impl Into<String>) -> Self {
        self.bind_cookies = Some(host.into().to_ascii_lowercase());
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's layout.
    pub fn format(&self) -> StateFormat {
        self.format
    }

    /// Reads the file: `Ok(None)` when it does not exist.
    pub(crate) fn read(&self) -> Result<Option<(SessionState, LoadReport)>, StateError> {
        let Some(text) = file::read(&self.path)? else {
            return Ok(None);
        };
        let mut report = LoadReport::default();
        let state = match self.format {
            StateFormat::Native => native::parse(&self.path, &text, &mut report)?,
            StateFormat::Httpie => {
                httpie::parse(&self.path, &text, self.bind_cookies.as_deref(), &mut report)?
            }
        };
        if state.holds_credentials() {
            if let Some(warning) = file::readable_by_others(&self.path) {
                tracing::warn!(path = %self.path.display(), "{warning}");
                report.issues.push(Issue::new("file", warning));
            }
        }
        Ok(Some((state, report)))
    }

    /// Writes `state` (already stripped of what this file leaves out).
    pub(crate) fn write(
        &self,
        state: &SessionState,
        report: &mut SaveReport,
    ) -> Result<(), StateError> {
        let text = match self.format {
            StateFormat::Native => native::render(state),
            StateFormat::Httpie => httpie::render(state, report),
        };
        file::write(&self.path, text.as_bytes())
    }

    pub(crate) fn includes_credentials(&self) -> bool {
        self.credentials
    }

    pub(crate) fn includes_session_cookies(&self) -> bool {
        self.session_cookies
    }

    pub(crate) fn saves_on_close(&self) -> bool {
        self.save_on_close
    }
}
