//! `Authorization` header values for Basic (RFC 7617) and Bearer (RFC 6750)
//! auth.

use base64::Engine;
use http::HeaderValue;

use crate::error::Error;

/// `Basic base64(user:password)`, marked sensitive.
///
/// ```
/// let value = session_core::auth::basic_header("Aladdin", Some("open sesame"));
/// assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
/// assert!(value.is_sensitive());
/// ```
pub fn basic_header(username: &str, password: Option<&str>) -> HeaderValue {
    let mut raw = String::with_capacity(username.len() + 1 + password.map_or(0, str::len));
    raw.push_str(username);
    raw.push(':');
    if let Some(password) = password {
        raw.push_str(password);
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .expect("base64 output is a valid header value");
    value.set_sensitive(true);
    value
}

/// `Bearer token`, marked sensitive.
///
/// # Errors
/// A token with characters a header value cannot carry (CR, LF, NUL).
pub fn bearer_header(token: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(Error::builder)?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_matches_rfc7617_example() {
        let v = basic_header("Aladdin", Some("open sesame"));
        assert_eq!(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(v.is_sensitive());
        assert_eq!(basic_header("user", None), "Basic dXNlcjo=");
    }

    #[test]
    fn bearer_rejects_newlines() {
        assert!(bearer_header("abc").unwrap().is_sensitive());
        assert!(bearer_header("abc\r\nX-Evil: 1").unwrap_err().is_builder());
    }
}
