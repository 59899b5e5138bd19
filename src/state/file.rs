//! Reading and writing a session file on disk.

use std::io;
use std::path::Path;

use super::StateError;

/// The file's text; `None` when there is no file.
pub(super) fn read(path: &Path) -> Result<Option<String>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| StateError::invalid(path, format!("not UTF-8 text ({e})")))
}

/// Writes atomically, owner-only, through the cookie jar's writer.
pub(super) fn write(path: &Path, data: &[u8]) -> Result<(), StateError> {
    session_cookies::persist::write_atomic(path, data).map_err(|source| StateError::Io {
        path: path.to_owned(),
        source,
    })
}

/// A warning when users other than the owner can read the file.
pub(super) fn readable_by_others(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o044 != 0).then(|| {
            format!(
                "holds credentials and is readable by other users (mode {:o}): chmod 600 it",
                mode & 0o777
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
