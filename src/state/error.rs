//! [`StateError`]: a session file that cannot be read, written or used.

use std::path::PathBuf;

/// A session file that cannot be read, written or used. Each names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file could not be read, or written (the old file is then
    /// unchanged).
    #[error("session file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not JSON (or is cut short).
    #[error("session file {}: not valid JSON at line {line}, column {column}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Where the JSON breaks (1-based).
        line: usize,
        /// Where the JSON breaks (1-based).
        column: usize,
        /// The parser's message.
        source: serde_json::Error,
    },
    /// The file says it has a layout version this crate does not know.
    #[error("session file {}: unknown version {found}", path.display())]
    UnknownVersion {
        /// The file.
        path: PathBuf,
        /// The version it states.
        found: String,
    },
    /// The file is JSON but not a session file of its format, or holds a
    /// value that cannot be used (a header that is not valid, say).
    #[error("session file {}: {what}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        what: String,
    },
}

impl StateError {
    pub(crate) fn invalid(path: &std::path::Path, what: impl Into<String>) -> Self {
        StateError::Invalid {
            path: path.to_owned(),
            what: what.into(),
        }
    }

    pub(crate) fn json(path: &std::path::Path, source: serde_json::Error) -> Self {
        StateError::Json {
            path: path.to_owned(),
            line: source.line(),
            column: source.column(),
            source,
        }
    }

    /// The file this error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            StateError::Io { path, .. }
            | StateError::Json { path, .. }
            | StateError::UnknownVersion { path, .. }
            | StateError::Invalid { path, .. } => path,
        }
    }
}
