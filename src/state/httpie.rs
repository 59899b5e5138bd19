//! HTTPie's session file (`http --session=FILE`), as HTTPie 3.2 writes it:
//!
//! ```json
//! {
//!     "__meta__": { "about": "HTTPie session file", "help": "...", "httpie": "3.2.4" },
//!     "auth": { "raw_auth": "alice:secret", "type": "basic" },
//!     "cookies": [
//!         { "domain": "127.0.0.1", "expires": null, "name": "sid",
//!           "path": "/", "secure": false, "value": "abc" }
//!     ],
//!     "headers": [{ "name": "X-Client", "value": "sync" }]
//! }
//! ```
//!
//! Before 3.2, `headers` was an object (`{"X-Client": "sync"}`); before 3.1,
//! `cookies` was an object keyed by name, usually without a domain, and
//! `auth` had `username` and `password` instead of `raw_auth`.

use std::path::Path;

use serde_json::{json, Map, Value};
use session_cookies::StoredCookie;

use super::native::header;
use super::{Credentials, Issue, LoadReport, SaveReport, SessionState, StateError};

/// What the `__meta__` section says a session file is.
const ABOUT: &str = "HTTPie session file";

/// The HTTPie version whose layout this writes.
const LAYOUT: &str = "3.2.4";

/// The newest major version of HTTPie whose layout this reads.
const NEWEST_MAJOR: u64 = 3;

/// Reads an HTTPie session.
pub(super) fn parse(
    path: &Path,
    text: &str,
    bind: Option<&str>,
    report: &mut LoadReport,
) -> Result<SessionState, StateError> {
    let value: Value = serde_json::from_str(text).map_err(|e| StateError::json(path, e))?;
    let Value::Object(root) = value else {
        return Err(StateError::invalid(
            path,
            "not an HTTPie session (not a JSON object)",
        ));
    };
    check_meta(path, root.get("__meta__"))?;
    let mut state = SessionState::default();
    headers(path, root.get("headers"), &mut state)?;
    cookies(path, root.get("cookies"), bind, &mut state, report)?;
    state.auth = auth(path, root.get("auth"), report)?;
    Ok(state)
}

fn check_meta(path: &Path, meta: Option<&Value>) -> Result<(), StateError> {
    let Some(meta) = meta else { return Ok(()) };
    let Value::Object(meta) = meta else {
        return Err(StateError::invalid(path, "\"__meta__\" is not an object"));
    };
    if let Some(about) = meta.get("about").and_then(Value::as_str) {
        if about != ABOUT {
            return Err(StateError::invalid(
                path,
                format!("not an HTTPie session (\"__meta__\" says {about:?})"),
            ));
        }
    }
    if let Some(version) = meta.get("httpie") {
        let text = version.as_str().unwrap_or_default();
        let major = text.split('.').next().and_then(|m| m.parse::<u64>().ok());
        if major.is_none_or(|m| m > NEWEST_MAJOR) {
            return Err(StateError::UnknownVersion {
                path: path.to_owned(),
                found: format!(
                    "HTTPie {}",
                    if text.is_empty() {
                        version.to_string()
                    } else {
                        text.to_owned()
                    }
                ),
            });
        }
    }
    Ok(())
}

fn headers(
    path: &Path,
    section: Option<&Value>,
    state: &mut SessionState,
) -> Result<(), StateError> {
    let mut add = |name: &str, value: &Value| -> Result<(), StateError> {
        match value {
            // HTTPie skips a header set to nothing.
            Value::Null => Ok(()),
            Value::String(value) => {
                let (name, value) = header(path, name, value)?;
                state.headers.append(name, value);
                Ok(())
            }
            other => Err(StateError::invalid(
                path,
                format!("header {name}: value {other} is not a string"),
            )),
        }
    };
    match section {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(items)) => items.iter().try_for_each(|item| {
            let name = item.get("name").and_then(Value::as_str).ok_or_else(|| {
                StateError::invalid(path, format!("header {item} has no \"name\""))
            })?;
            add(name, item.get("value").unwrap_or(&Value::Null))
        }),
        Some(Value::Object(map)) => map.iter().try_for_each(|(name, value)| add(name, value)),
        Some(other) => Err(StateError::invalid(
            path,
            format!("\"headers\" is {other}, not a list"),
        )),
    }
}

fn cookies(
    path: &Path,
    section: Option<&Value>,
    bind: Option<&str>,
    state: &mut SessionState,
    report: &mut LoadReport,
) -> Result<(), StateError> {
    let entries: Vec<(String, &Map<String, Value>)> = match section {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let fields = item.as_object().ok_or_else(|| {
                    StateError::invalid(path, format!("cookie {item} is not an object"))
                })?;
                let name = fields.get("name").and_then(Value::as_str).ok_or_else(|| {
                    StateError::invalid(path, format!("cookie {item} has no \"name\""))
                })?;
                Ok((name.to_owned(), fields))
            })
            .collect::<Result<_, StateError>>()?,
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, item)| {
                let fields = item.as_object().ok_or_else(|| {
                    StateError::invalid(path, format!("cookie {name}: {item} is not an object"))
                })?;
                Ok((name.clone(), fields))
            })
            .collect::<Result<_, StateError>>()?,
        Some(other) => {
            return Err(StateError::invalid(
                path,
                format!("\"cookies\" is {other}, not a list"),
            ))
        }
    };
    for (name, fields) in entries {
        let text = |key: &str| -> Result<Option<&str>, StateError> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(StateError::invalid(
                    path,
                    format!("cookie {name}: {key} {other} is not a string"),
                )),
            }
        };
        let value = text("value")?.unwrap_or_default();
        let cookie_path = text("path")?.unwrap_or("/");
        let secure = fields
            .get("secure")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let expires = match fields.get("expires") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(other) => {
                return Err(StateError::invalid(
                    path,
                    format!("cookie {name}: expires {other} is not a number"),
                ))
            }
        };
        let (domain, host_only) = match text("domain")?.unwrap_or_default() {
            "" => match bind {
                Some(host) => (host.to_owned(), true),
                None => {
                    report.issues.push(Issue::new(
                        format!("cookie {name}"),
                        "has no domain (an HTTPie session from before 3.1): not loaded; \
                         name its host with StateFile::bind_cookies",
                    ));
                    continue;
                }
            },
            dotted if dotted.starts_with('.') => (dotted[1..].to_ascii_lowercase(), false),
            host => (host.to_ascii_lowercase(), true),
        };
        state.cookies.push(
            StoredCookie::new(name, value, domain)
                .with_path(cookie_path)
                .with_host_only(host_only)
                .with_secure(secure)
                .with_expires_unix(expires),
        );
    }
    Ok(())
}

fn auth(
    path: &Path,
    section: Option<&Value>,
    report: &mut LoadReport,
) -> Result<Option<Credentials>, StateError> {
    let Some(Value::Object(auth)) = section else {
        return match section {
            None | Some(Value::Null) => Ok(None),
            Some(other) => Err(StateError::invalid(
                path,
                format!("\"auth\" is {other}, not an object"),
            )),
        };
    };
    let Some(kind) = auth.get("type").and_then(Value::as_str) else {
        return Ok(None);
    };
    let field = |key: &str| auth.get(key).and_then(Value::as_str);
    // HTTPie 3 keeps what was typed after `-a`; older files split it.
    let (username, password) = match field("raw_auth") {
        Some(raw) if kind == "bearer" => (raw, None),
        Some(raw) => match raw.split_once(':') {
            Some((user, pass)) => (user, Some(pass)),
            None => (raw, None),
        },
        None => (field("username").unwrap_or_default(), field("password")),
    };
    let credentials = match (kind, password) {
        ("basic", Some(password)) => Credentials::Basic {
            username: username.to_owned(),
            password: Some(password.to_owned()),
        },
        ("digest", Some(password)) => Credentials::Digest {
            username: username.to_owned(),
            password: password.to_owned(),
        },
        ("bearer", _) => Credentials::Bearer {
            token: username.to_owned(),
        },
        ("basic" | "digest", None) => {
            report.issues.push(Issue::new(
                "auth",
                format!("{kind} auth without a password (HTTPie would ask for it): not loaded"),
            ));
            return Ok(None);
        }
        (other, _) => {
            report.issues.push(Issue::new(
                "auth",
                format!(
                    "auth type {other:?} (an HTTPie plugin) is not one this crate has: not loaded"
                ),
            ));
            return Ok(None);
        }
    };
    Ok(Some(credentials))
}

/// Writes an HTTPie 3.2 session; what it has no place for goes in the report.
pub(super) fn render(state: &SessionState, report: &mut SaveReport) -> String {
    for (name, _) in &state.query {
        report.left_out.push(Issue::new(
            format!("query {name}"),
            "HTTPie sessions have no query parameters",
        ));
    }
    report.query = 0;
    if state.base_url.is_some() {
        report
            .left_out
            .push(Issue::new("base URL", "HTTPie sessions have no base URL"));
    }
    let headers: Vec<Value> = state
        .headers
        .iter()
        .filter_map(|(n, v)| {
            Some(json!({ "name": n.as_str(), "value": std::str::from_utf8(v.as_bytes()).ok()? }))
        })
        .collect();
    let cookies: Vec<Value> = state
        .cookies
        .iter()
        .map(|c| {
            let subject = || format!("cookie {} ({})", c.name(), c.domain());
            if c.http_only() {
                report.left_out.push(Issue::new(
                    subject(),
                    "HttpOnly: HTTPie's format has no field for it",
                ));
            }
            if c.same_site() != session_cookies::SameSite::Default {
                report.left_out.push(Issue::new(
                    subject(),
                    "SameSite: HTTPie's format has no field for it",
                ));
            }
            let domain = if c.host_only() {
                c.domain().to_owned()
            } else {
                format!(".{}", c.domain())
            };
            json!({
                "domain": domain,
                "expires": c.expires_unix(),
                "name": c.name(),
                "path": c.path(),
                "secure": c.secure(),
                "value": c.value(),
            })
        })
        .collect();
    let auth = match &state.auth {
        None => json!({ "password": null, "type": null, "username": null }),
        Some(Credentials::Basic { username, password }) => {
            json!({ "raw_auth": format!("{username}:{}", password.as_deref().unwrap_or_default()), "type": "basic" })
        }
        Some(Credentials::Digest { username, password }) => {
            json!({ "raw_auth": format!("{username}:{password}"), "type": "digest" })
        }
        Some(Credentials::Bearer { token }) => json!({ "raw_auth": token, "type": "bearer" }),
    };
    let file = json!({
        "__meta__": { "about": ABOUT, "help": "https://httpie.io/docs#sessions", "httpie": LAYOUT },
        "auth": auth,
        "cookies": cookies,
        "headers": headers,
    });
    // HTTPie's own layout: four spaces, keys sorted (serde_json's map is sorted).
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&file, &mut serializer).expect("a JSON value always serializes");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}
