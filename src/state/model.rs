//! [`SessionState`]: what a session file holds, taken from a session and
//! given back to a builder.

use std::fmt;

use base64::Engine as _;
use http::header::{
    HeaderMap, HeaderName, ACCEPT, AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, USER_AGENT,
};
use session_cookies::StoredCookie;
use session_core::defaults::{Defaults, DEFAULT_USER_AGENT};
use session_core::Url;

use super::{Issue, LoadReport, SaveReport, StateFile};

/// A session's state as a session file holds it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SessionState {
    /// Default headers.
    pub headers: HeaderMap,
    /// Default query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The base URL.
    pub base_url: Option<Url>,
    /// Session auth.
    pub auth: Option<Credentials>,
    /// Cookies.
    pub cookies: Vec<StoredCookie>,
}

/// Session auth a file can hold (in this crate's format: an object with a
/// `type` of `basic`, `bearer` or `digest`).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Credentials {
    /// HTTP Basic.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Option<String>,
    },
    /// A bearer token.
    Bearer {
        /// The token.
        token: String,
    },
    /// HTTP Digest (RFC 7616).
    Digest {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never prints a secret.
        match self {
            Credentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
            Credentials::Bearer { .. } => f.debug_struct("Bearer").finish_non_exhaustive(),
            Credentials::Digest { username, .. } => f
                .debug_struct("Digest")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// The auth a builder was given that the defaults do not show.
#[derive(Debug, Clone, Default)]
pub(crate) enum AuthRecord {
    /// Basic or Bearer (in the defaults), or none.
    #[default]
    InDefaults,
    /// Digest, with its credentials.
    Digest { username: String, password: String },
    /// A scheme a file cannot hold (`auth(..)` with your own, `.netrc`).
    Other(&'static str),
}

/// A loaded file's cookies and report, until the jar exists.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) cookies: Vec<StoredCookie>,
    pub(crate) report: LoadReport,
}

impl SessionState {
    /// Does it hold auth or a credential header?
    pub(crate) fn holds_credentials(&self) -> bool {
        self.auth.is_some() || self.headers.iter().any(|(n, v)| is_credential(n, v))
    }

    /// The state of a session, with what `file` leaves out taken away and
    /// listed in the report.
    pub(crate) fn capture(
        defaults: &Defaults,
        auth: &AuthRecord,
        jar: Option<&session_cookies::Jar>,
        file: &StateFile,
    ) -> (SessionState, SaveReport) {
        let credentials = file.includes_credentials();
        let mut report = SaveReport::default();
        let mut state = SessionState::default();
        let needs_credentials = "a credential: saved only with include_credentials";

        for builtin in [USER_AGENT, ACCEPT] {
            if !defaults.headers().contains_key(&builtin) {
                report.left_out.push(Issue::new(
                    format!("header {builtin}"),
                    "removed from the defaults; a file records headers, not removals",
                ));
            }
        }
        for (name, value) in defaults.headers() {
            let builtin = (name == USER_AGENT && value == DEFAULT_USER_AGENT)
                || (name == ACCEPT && value == "*/*");
            if builtin {
                continue;
            }
            if is_credential(name, value) && !credentials {
                report
                    .left_out
                    .push(Issue::new(format!("header {name}"), needs_credentials));
                continue;
            }
            if std::str::from_utf8(value.as_bytes()).is_err() {
                report.left_out.push(Issue::new(
                    format!("header {name}"),
                    "its value is not UTF-8 text, which a JSON file cannot hold",
                ));
                continue;
            }
            state.headers.append(name.clone(), value.clone());
        }
        state.query = defaults.query().to_vec();

        state.base_url = defaults.base_url().cloned();
        if let Some(url) = &mut state.base_url {
            if url.password().is_some() && !credentials {
                let _ = url.set_password(None);
                report
                    .left_out
                    .push(Issue::new("base URL password", needs_credentials));
            }
        }

        let auth = match (defaults.auth(), auth) {
            (Some(value), _) => decode_auth(value),
            (None, AuthRecord::Digest { username, password }) => Some(Credentials::Digest {
                username: username.clone(),
                password: password.clone(),
            }),
            (None, AuthRecord::Other(what)) => {
                report
                    .left_out
                    .push(Issue::new("auth", format!("{what} cannot be saved")));
                None
            }
            (None, AuthRecord::InDefaults) => None,
        };
        if auth.is_some() && !credentials {
            report.left_out.push(Issue::new("auth", needs_credentials));
        } else {
            state.auth = auth;
        }

        if let Some(jar) = jar {
            state.cookies = jar.cookies_to_save(file.includes_session_cookies());
        }
        report.headers = state.headers.len();
        report.query = state.query.len();
        report.auth = state.auth.is_some();
        report.cookies = state.cookies.len();
        (state, report)
    }

    /// Puts the file's defaults into `defaults`: its headers replace those of
    /// the same name, its query parameters replace those of the same name.
    pub(crate) fn apply_defaults(&self, defaults: &mut Defaults, report: &mut LoadReport) {
        for name in self.headers.keys() {
            defaults.headers_mut().remove(name);
        }
        for (name, value) in &self.headers {
            defaults.headers_mut().append(name.clone(), value.clone());
        }
        let query = defaults.query_mut();
        query.retain(|(name, _)| !self.query.iter().any(|(n, _)| n == name));
        query.extend(self.query.iter().cloned());
        if let Some(base) = &self.base_url {
            defaults.set_base_url(Some(base.clone()));
        }
        report.headers = self.headers.len();
        report.query = self.query.len();
        report.base_url = self.base_url.is_some();
        report.auth = self.auth.is_some();
    }
}

/// A header that carries a credential.
fn is_credential(name: &HeaderName, value: &http::HeaderValue) -> bool {
    value.is_sensitive() || name == AUTHORIZATION || name == PROXY_AUTHORIZATION || name == COOKIE
}

/// Basic or Bearer credentials back from the `Authorization` value session
/// auth sends.
fn decode_auth(value: &http::HeaderValue) -> Option<Credentials> {
    let text = value.to_str().ok()?;
    if let Some(token) = text.strip_prefix("Bearer ") {
        return Some(Credentials::Bearer {
            token: token.to_owned(),
        });
    }
    let encoded = text.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(Credentials::Basic {
        username: username.to_owned(),
        password: Some(password.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_and_bearer_come_back_from_their_header() {
        let mut d = Defaults::default();
        d.set_basic_auth("alice", Some("pa:ss"));
        assert_eq!(
            decode_auth(d.auth().unwrap()),
            Some(Credentials::Basic {
                username: "alice".into(),
                password: Some("pa:ss".into())
            })
        );
        d.set_bearer_auth("t0k").unwrap();
        assert_eq!(
            decode_auth(d.auth().unwrap()),
            Some(Credentials::Bearer {
                token: "t0k".into()
            })
        );
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let c = Credentials::Basic {
            username: "alice".into(),
            password: Some("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = Credentials::Bearer {
            token: "t0k3n".into(),
        };
        assert!(!format!("{c:?}").contains("t0k3n"));
    }
}
