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
}

impl Session {
    /// A session with the defaults: the hyper transport with verified TLS,
    /// `User-Agent: http-session/<version>`, no timeout.
    ///
    /// # Panics
    /// Never in practice: the default configuration always builds.
    #[cfg(feature = "hyper")]
    pub fn new() -> Self {
        SessionBuilder::new()
            .build()
            .expect("the default session configuration is valid")
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

    /// Closes the session: runs its close hooks (saving a persistent cookie
    /// jar) and drops this handle; connections close with the last clone.
    ///
    /// # Errors
    /// The first close hook that failed.
    pub async fn close(self) -> crate::Result<()> {
        self.core.close().await
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
