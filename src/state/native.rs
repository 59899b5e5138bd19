//! This crate's session file:
//!
//! ```json
//! {
//!   "http_session_state": 1,
//!   "base_url": "https://api.example.com/v1",
//!   "headers": [{ "name": "X-Client", "value": "sync" }],
//!   "query": [{ "name": "api-version", "value": "2" }],
//!   "auth": { "type": "bearer", "token": "..." },
//!   "cookies": [ /* the cookie jar's JSON records */ ]
//! }
//! ```

use std::path::Path;

use http::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use session_cookies::StoredCookie;
use session_core::Url;

use super::{Credentials, LoadReport, SessionState, StateError};

/// The layout version this crate writes and reads.
const VERSION: u64 = 1;

/// The key that holds the version, and says what the file is.
const VERSION_KEY: &str = "http_session_state";

#[derive(Serialize, Deserialize)]
struct NativeFile {
    http_session_state: u64,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    headers: Vec<Pair>,
    #[serde(default)]
    query: Vec<Pair>,
    #[serde(default)]
    auth: Option<Credentials>,
    #[serde(default)]
    cookies: Vec<StoredCookie>,
}

#[derive(Serialize, Deserialize)]
struct Pair {
    name: String,
    value: String,
}

/// Reads this crate's layout.
pub(super) fn parse(
    path: &Path,
    text: &str,
    _report: &mut LoadReport,
) -> Result<SessionState, StateError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| StateError::json(path, e))?;
    match value.get(VERSION_KEY) {
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(v) => {
            return Err(StateError::UnknownVersion {
                path: path.to_owned(),
                found: v.to_string(),
            })
        }
        None => {
            return Err(StateError::invalid(
                path,
                format!("not an http-session state file (no \"{VERSION_KEY}\" key)"),
            ))
        }
    }
    let file: NativeFile =
        serde_json::from_value(value).map_err(|e| StateError::invalid(path, e.to_string()))?;
    let mut state = SessionState::default();
    for Pair { name, value } in file.headers {
        let (name, value) = header(path, &name, &value)?;
        state.headers.append(name, value);
    }
    state.query = file.query.into_iter().map(|p| (p.name, p.value)).collect();
    state.base_url = file
        .base_url
        .map(|u| {
            Url::parse(&u).map_err(|e| StateError::invalid(path, format!("base_url {u:?}: {e}")))
        })
        .transpose()?;
    state.auth = file.auth;
    state.cookies = file.cookies;
    Ok(state)
}

/// Writes this crate's layout.
pub(super) fn render(state: &SessionState) -> String {
    let pair = |name: &str, value: &str| Pair {
        name: name.to_owned(),
        value: value.to_owned(),
    };
    let file = NativeFile {
        http_session_state: VERSION,
        base_url: state.base_url.as_ref().map(Url::to_string),
        headers: state
            .headers
            .iter()
            // `capture` kept only UTF-8 values.
            .filter_map(|(n, v)| Some(pair(n.as_str(), std::str::from_utf8(v.as_bytes()).ok()?)))
            .collect(),
        query: state.query.iter().map(|(n, v)| pair(n, v)).collect(),
        auth: state.auth.clone(),
        cookies: state.cookies.clone(),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a state file always serializes");
    text.push('\n');
    text
}

/// A header from a file, or an error that names it.
pub(super) fn header(
    path: &Path,
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), StateError> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| StateError::invalid(path, format!("header name {name:?} is not valid")))?;
    let header_value = HeaderValue::from_str(value).map_err(|_| {
        StateError::invalid(
            path,
            format!("header {name}: value {value:?} is not valid (control characters?)"),
        )
    })?;
    Ok((header_name, header_value))
}
