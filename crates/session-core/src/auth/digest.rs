//! HTTP Digest auth (RFC 7616) on top of the `http-auth` crate: MD5,
//! MD5-sess, SHA-256, SHA-256-sess, SHA-512-256 (and `-sess`), `qop=auth`,
//! nonce counting and `stale=true`.
//!
//! The first request to an origin goes without credentials; its 401 carries
//! a challenge, and the request is sent once more (its body replayed) with
//! the answer. Later requests to the same origin answer the stored challenge
//! up front, counting `nc` up. A 401 to an answer is returned as it is,
//! unless the server says the nonce was `stale`, in which case the new
//! challenge is answered once.
//!
//! ```
//! use session_core::{auth::Digest, mock::MockTransport, Session};
//!
//! let session = Session::builder()
//!     .transport(MockTransport::new())
//!     .auth(Digest::new("Mufasa", "Circle of Life"))
//!     .build()
//!     .unwrap();
//! # let _ = session;
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use http::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http_auth::digest::Algorithm;
use http_auth::{DigestClient, PasswordParams};

use super::{origin_key, Auth};
use crate::body::Body;
use crate::error::BoxError;

/// Digest credentials, answering the challenges of each origin they are
/// sent to. See the [module docs](self) for more details.
pub struct Digest {
    username: String,
    password: String,
    /// The last challenge of each origin (`scheme://host:port`).
    clients: Mutex<HashMap<String, DigestClient>>,
}

impl Digest {
    /// Digest credentials.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Digest {
            username: username.into(),
            password: password.into(),
            clients: Mutex::new(HashMap::new()),
        }
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A `Digest` challenge that cannot be answered: an unknown algorithm, a
/// missing `nonce` or `realm`, no supported `qop`, or bad syntax.
#[derive(Debug, Clone)]
pub struct InvalidChallenge {
    reason: String,
}

impl fmt::Display for InvalidChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot answer the Digest challenge: {}", self.reason)
    }
}

impl std::error::Error for InvalidChallenge {}

fn strength(algorithm: Algorithm) -> u8 {
    match algorithm {
        Algorithm::Sha512Trunc256 => 3,
        Algorithm::Sha256 => 2,
        _ => 1,
    }
}

/// The strongest Digest challenge of a response: `Ok(None)` without one, an
/// error when only invalid ones are present.
fn best_challenge(headers: &http::HeaderMap) -> Result<Option<DigestClient>, InvalidChallenge> {
    let mut best: Option<DigestClient> = None;
    let mut error = None;
    for value in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(text) = value.to_str() else {
            continue;
        };
        let challenges = match http_auth::parse_challenges(text) {
            Ok(challenges) => challenges,
            Err(err) => {
                if text.to_ascii_lowercase().contains("digest") {
                    error = Some(err.to_string());
                }
                continue;
            }
        };
        for challenge in challenges {
            if !challenge.scheme.eq_ignore_ascii_case("Digest") {
                continue;
            }
            match DigestClient::try_from(&challenge) {
                Ok(client) => {
                    let better = best
                        .as_ref()
                        .is_none_or(|b| strength(client.algorithm()) > strength(b.algorithm()));
                    if better {
                        best = Some(client);
                    }
                }
                Err(reason) => error = Some(reason),
            }
        }
    }
    match (best, error) {
        (Some(best), _) => Ok(Some(best)),
        (None, Some(reason)) => Err(InvalidChallenge { reason }),
        (None, None) => Ok(None),
    }
}

impl Auth for Digest {
    fn sign(&self, request: &mut http::Request<Body>) -> Result<(), BoxError> {
        let key = origin_key(request.uri());
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(client) = clients.get_mut(&key) else {
            return Ok(());
        };
        let uri = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let answer = client
            .respond(&PasswordParams {
                username: &self.username,
                password: &self.password,
                uri,
                method: request.method().as_str(),
                body: None,
            })
            .map_err(|reason| InvalidChallenge { reason })?;
        let mut value = HeaderValue::try_from(answer)?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    fn on_unauthorized(
        &self,
        request: &http::Request<()>,
        response: &http::Response<Body>,
    ) -> Result<bool, BoxError> {
        let Some(client) = best_challenge(response.headers())? else {
            return Ok(false);
        };
        let answered = request.headers().get(AUTHORIZATION).is_some_and(|v| {
            v.as_bytes().len() > 7 && v.as_bytes()[..7].eq_ignore_ascii_case(b"digest ")
        });
        if answered && !client.stale() {
            // The credentials themselves were refused.
            return Ok(false);
        }
        let key = origin_key(request.uri());
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, client);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unauthorized(challenge: &str) -> http::Response<Body> {
        http::Response::builder()
            .status(401)
            .header(WWW_AUTHENTICATE, challenge)
            .body(Body::empty())
            .unwrap()
    }

    fn get(uri: &str) -> http::Request<()> {
        http::Request::get(uri).body(()).unwrap()
    }

    #[test]
    fn answers_then_signs_preemptively_with_counting() {
        let digest = Digest::new("Mufasa", "Circle of Life");
        let head = get("http://a.test/dir/index.html");
        let res = unauthorized(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        );
        assert!(digest.on_unauthorized(&head, &res).unwrap());
        let mut req = http::Request::get("http://a.test/dir/index.html")
            .body(Body::empty())
            .unwrap();
        digest.sign(&mut req).unwrap();
        let v = req.headers()[AUTHORIZATION].to_str().unwrap().to_owned();
        assert!(v.starts_with("Digest ") && v.contains("nc=00000001"), "{v}");
        assert!(
            v.contains("algorithm=SHA-256") && v.contains("qop=auth,"),
            "{v}"
        );
        digest.sign(&mut req).unwrap();
        assert!(req.headers()[AUTHORIZATION]
            .to_str()
            .unwrap()
            .contains("nc=00000002"));
        // Another origin has no challenge yet: nothing is sent there.
        let mut other = http::Request::get("http://b.test/")
            .body(Body::empty())
            .unwrap();
        digest.sign(&mut other).unwrap();
        assert!(other.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn refused_answer_is_not_retried_unless_stale() {
        let digest = Digest::new("u", "p");
        let mut head = get("http://a.test/");
        head.headers_mut().insert(
            AUTHORIZATION,
            HeaderValue::from_static("Digest username=\"u\""),
        );
        let plain = unauthorized(r#"Digest realm="r", nonce="n2", qop="auth""#);
        assert!(!digest.on_unauthorized(&head, &plain).unwrap());
        let stale = unauthorized(r#"Digest realm="r", nonce="n3", qop="auth", stale=true"#);
        assert!(digest.on_unauthorized(&head, &stale).unwrap());
    }

    #[test]
    fn bad_challenges_are_errors_and_others_are_ignored() {
        let digest = Digest::new("u", "p");
        let head = get("http://a.test/");
        let err = digest
            .on_unauthorized(
                &head,
                &unauthorized(r#"Digest realm="r", nonce="n", algorithm=FOO"#),
            )
            .unwrap_err();
        assert!(err.to_string().contains("unknown algorithm"), "{err}");
        let err = digest
            .on_unauthorized(&head, &unauthorized(r#"Digest realm="r", qop="auth""#))
            .unwrap_err();
        assert!(err.to_string().contains("nonce"), "{err}");
        let err = digest
            .on_unauthorized(&head, &unauthorized(r#"Digest realm="r, nonce="#))
            .unwrap_err();
        assert!(err.is::<InvalidChallenge>());
        assert!(!digest
            .on_unauthorized(&head, &unauthorized(r#"Basic realm="r""#))
            .unwrap());
        // The strongest valid challenge wins over an invalid one.
        let res = http::Response::builder()
            .status(401)
            .header(
                WWW_AUTHENTICATE,
                r#"Digest realm="r", nonce="n", qop="auth", algorithm=MD5"#,
            )
            .header(
                WWW_AUTHENTICATE,
                r#"Digest realm="r", nonce="n", qop="auth", algorithm=SHA-512-256"#,
            )
            .header(
                WWW_AUTHENTICATE,
                r#"Digest realm="r", nonce="n", algorithm=BAD"#,
            )
            .body(Body::empty())
            .unwrap();
        assert!(digest.on_unauthorized(&head, &res).unwrap());
        let mut req = http::Request::get("http://a.test/")
            .body(Body::empty())
            .unwrap();
        digest.sign(&mut req).unwrap();
        let v = req.headers()[AUTHORIZATION].to_str().unwrap();
        assert!(v.contains("algorithm=SHA-512-256"), "{v}");
    }
}
