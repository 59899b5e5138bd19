//! The facade's [`Session`]: a `session_core::Session` wired with the default
//! stack.

use std::ops::Deref;

use crate::builder::SessionBuilder;

/// A session with the default stack: the hyper transport (with the `hyper`
/// feature). It dereferences to [`session_core::Session`], which has the
/// request methods (`get`, `post`, ..., `update`, `close`).
///
/// ```no_run
/// # async fn run() -> Result<(), http_session::Error> {
/// let session = http_session::Session::new();
/// let text = session.get("http://127.0.0.1:8080/").send().await?.text().await?;
/// # let _ = text; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    pub(crate) core: session_core::Session,
    #[cfg(feature = "hyper")]
    pub(crate) transport: Option<session_hyper::HyperTransport>,
    #[cfg(feature = "cookies")]
    pub(crate) jar: Option<session_cookies::Jar>,
    #[cfg(feature = "cookies")]
    pub(crate) state: std::sync::Arc<crate::state::Binding>,
}

impl Session {
    /// A session with the defaults: the hyper transport with verified TLS,
    /// `User-Agent: http-session/<version>`, no timeout.
    ///
    /// It never panics. When the environment keeps the defaults from
    /// building (a proxy variable such as `HTTPS_PROXY` that is not a proxy
    /// URL), every request of the session fails with that builder error
    /// (`is_builder()`); [`Session::builder`]`().build()` returns it at once.
    #[cfg(feature = "hyper")]
    pub fn new() -> Self {
        SessionBuilder::new().build().unwrap_or_else(|err| Session {
            core: crate::unbuilt::unbuildable(err),
            transport: None,
            #[cfg(feature = "cookies")]
            jar: None,
            #[cfg(feature = "cookies")]
            state: std::sync::Arc::default(),
        })
    }

    /// A builder for a session.
    pub fn builder() -> SessionBuilder {
        SessionBuilder::new()
    }

    /// The hyper transport of this session, unless another transport was set
    /// (for its connection count, for example).
    #[cfg(feature = "hyper")]
    pub fn hyper_transport(&self) -> Option<&session_hyper::HyperTransport> {
        self.transport.as_ref()
    }

    /// The session's cookie jar (`None` when cookies are turned off). Look,
    /// insert, remove, save: see [`session_cookies::Jar`].
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> Option<&session_cookies::Jar> {
        self.jar.as_ref()
    }

    /// The core session this wraps.
    pub fn as_core(&self) -> &session_core::Session {
        &self.core
    }

    /// What loading the session file did (see
    /// [`SessionBuilder::state_file`]); `None` when no file was loaded.
    #[cfg(feature = "cookies")]
    pub fn loaded_state(&self) -> Option<&crate::state::LoadReport> {
        self.state.loaded.as_ref()
    }

    /// The session's state as `file` would save it (credentials only when
    /// the file includes them), with what is left out listed in the report.
    #[cfg(feature = "cookies")]
    pub fn state(
        &self,
        file: &crate::state::StateFile,
    ) -> (crate::state::SessionState, crate::state::SaveReport) {
        crate::state::SessionState::capture(
            &self.core.defaults(),
            &self.state.auth,
            self.jar.as_ref(),
            file,
        )
    }

    /// Saves the session's state (default headers, query parameters, base
    /// URL, auth when asked, cookies) to `file` now, atomically and
    /// owner-only (see [`crate::state`]).
    ///
    /// # Errors
    /// The file cannot be written; the old file is then unchanged.
    #[cfg(feature = "cookies")]
    pub async fn save_state(
        &self,
        file: &crate::state::StateFile,
    ) -> Result<crate::state::SaveReport, crate::state::StateError> {
        let (state, mut report) = self.state(file);
        let file = file.clone();
        // Writing syncs a file to disk: keep it off the async workers.
        tokio::task::spawn_blocking(move || {
            file.write(&state, &mut report)?;
            Ok(report)
        })
        .await
        .unwrap_or_else(|join| {
            Err(crate::state::StateError::Io {
                path: std::path::PathBuf::new(),
                source: std::io::Error::other(join),
            })
        })
    }

    /// Closes the session: saves its session file when it has one that
    /// saves on close, runs its close hooks (saving a persistent cookie
    /// jar) and drops this handle; connections close with the last clone.
    ///
    /// # Errors
    /// The session file or the first close hook that failed (every step
    /// runs either way).
    pub async fn close(self) -> crate::Result<()> {
        #[cfg(feature = "cookies")]
        let saved = match self.state.file.as_ref().filter(|f| f.saves_on_close()) {
            Some(file) => self
                .save_state(file)
                .await
                .map(drop)
                .map_err(crate::Error::body),
            None => Ok(()),
        };
        #[cfg(not(feature = "cookies"))]
        let saved = Ok(());
        let closed = self.core.close().await;
        saved.and(closed)
    }
}

#[cfg(feature = "hyper")]
impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Deref for Session {
    type Target = session_core::Session;

    fn deref(&self) -> &session_core::Session {
        &self.core
    }
}

impl From<Session> for session_core::Session {
    fn from(session: Session) -> Self {
        session.core
    }
}
