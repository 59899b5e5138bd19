//! How a [`RedisJar`](super::RedisJar) writes cookies in Redis: one hash per
//! site, one field per cookie identity, the cookie as JSON.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stored::StoredCookie;

/// The hash field holding a bucket's version; no cookie field starts with
/// `#` (they start with a digit).
pub(super) const VERSION_FIELD: &str = "#v";

/// The field of a cookie: its identity (name, domain, host-only flag,
/// path), each length-prefixed so that no two identities share a field:
/// `{len}:{name}{len}:{domain}{h|d}{path}`.
pub(super) fn field(c: &StoredCookie) -> String {
    let mut out = String::with_capacity(c.name.len() + c.domain.len() + c.path.len() + 12);
    out.push_str(&c.name.len().to_string());
    out.push(':');
    out.push_str(&c.name);
    out.push_str(&c.domain.len().to_string());
    out.push(':');
    out.push_str(&c.domain);
    out.push(if c.host_only { 'h' } else { 'd' });
    out.push_str(&c.path);
    out
}

/// A cookie as stored: its record (the JSON of [`StoredCookie`], as
/// [`persist`](crate::persist) writes it) and its creation order, which
/// breaks ties between cookies created in the same microsecond (those of
/// one response).
#[derive(Serialize, Deserialize)]
struct Stored {
    seq: u64,
    cookie: StoredCookie,
}

/// The value of a cookie's field.
pub(super) fn value(c: &StoredCookie, seq: u64) -> String {
    let stored = Stored {
        seq,
        cookie: c.clone(),
    };
    serde_json::to_string(&stored).expect("a cookie serializes to JSON")
}

/// A cookie and its creation order, from its field's value.
pub(super) fn decode(value: &str) -> Result<(StoredCookie, u64)> {
    let stored: Stored = serde_json::from_str(value).map_err(|e| {
        Error::unavailable(
            "a cookie in Redis is not one this jar wrote",
            Some(Box::new(e)),
        )
    })?;
    Ok((stored.cookie, stored.seq))
}

/// `s` with the characters of a `SCAN MATCH` pattern escaped.
pub(super) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_do_not_collide() {
        let a = StoredCookie::new("a1", "v", "b.test").with_path("/");
        // Without the lengths these would both be "a1b.test" + ...
        let b = StoredCookie::new("a", "v", "1b.test").with_path("/");
        assert_ne!(field(&a), field(&b));
        assert_eq!(field(&a), "2:a16:b.testh/");
        let c = a.clone().with_host_only(false);
        assert_ne!(field(&a), field(&c));
        assert!(!field(&a).starts_with('#'));
    }

    #[test]
    fn values_round_trip() {
        let c = StoredCookie::new("sid", "1", "example.com")
            .with_secure(true)
            .with_expires_unix(Some(2_000_000_000));
        let (back, seq) = decode(&value(&c, 7)).unwrap();
        assert_eq!((back, seq), (c, 7));
        assert!(decode("{").unwrap_err().is_unavailable());
    }

    #[test]
    fn escapes_glob_characters() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
