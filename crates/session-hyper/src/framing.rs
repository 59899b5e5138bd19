//! The framing rules hyper leaves to its caller on the client side: a
//! response head with both `Transfer-Encoding` and `Content-Length`
//! (RFC 9112, 6.3), and a `Transfer-Encoding` that applies `chunked` twice
//! or lists a coding after it (RFC 9112, 6.3 and 7). hyper frames such a
//! body by `Transfer-Encoding` (or reads it to the close) and would keep
//! the connection; this transport refuses the response with a
//! [`FramingError`] and retires the connection (`ConnectionTag::retire`).

use std::fmt;

use http::header::{HeaderMap, CONTENT_LENGTH, TRANSFER_ENCODING};

/// A response whose framing this transport refuses: the request fails with
/// it (found in the error's `source()` chain), and the connection the
/// response came over is closed, never reused.
///
/// ```
/// use session_hyper::FramingError;
///
/// let err = FramingError::Ambiguous;
/// assert!(err.to_string().contains("both Transfer-Encoding and Content-Length"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// Both `Transfer-Encoding` and `Content-Length`: the two would frame the
    /// body differently (RFC 9112, 6.3: request smuggling, response
    /// splitting).
    Ambiguous,
    /// `Transfer-Encoding` applies `chunked` more than once (RFC 9112, 7).
    ChunkedTwice,
    /// `Transfer-Encoding` lists a coding after `chunked`, which must be the
    /// last (RFC 9112, 6.3 and 7).
    CodingAfterChunked,
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FramingError::Ambiguous => {
                "ambiguous response framing: both Transfer-Encoding and Content-Length \
                 (RFC 9112, section 6.3); the connection is closed"
            }
            FramingError::ChunkedTwice => {
                "invalid response framing: Transfer-Encoding applies chunked more than once \
                 (RFC 9112, section 7); the connection is closed"
            }
            FramingError::CodingAfterChunked => {
                "invalid response framing: Transfer-Encoding lists a transfer coding after \
                 chunked (RFC 9112, section 6.3); the connection is closed"
            }
        })
    }
}

impl std::error::Error for FramingError {}

/// Checks the framing of a head that has `Transfer-Encoding` (the caller
/// knows it has: this runs only then) and frames a body.
pub(crate) fn check(headers: &HeaderMap) -> Result<(), FramingError> {
    if headers.contains_key(CONTENT_LENGTH) {
        return Err(FramingError::Ambiguous);
    }
    // Every line of the field, in order, is one list (RFC 9110, 5.3).
    let mut after_chunked = false;
    for value in headers.get_all(TRANSFER_ENCODING) {
        // A value that is not visible ASCII is some coding, not `chunked`.
        let Ok(value) = value.to_str() else {
            if after_chunked {
                return Err(FramingError::CodingAfterChunked);
            }
            continue;
        };
        for coding in value.split(',') {
            // The coding's name, without parameters; empty list elements
            // do not count (RFC 9110, 5.6.1).
            let name = coding.split(';').next().unwrap_or_default().trim();
            if name.is_empty() {
                continue;
            }
            let chunked = name.eq_ignore_ascii_case("chunked");
            if after_chunked {
                return Err(if chunked {
                    FramingError::ChunkedTwice
                } else {
                    FramingError::CodingAfterChunked
                });
            }
            after_chunked = chunked;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn head(fields: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn sound_transfer_encodings_pass() {
        for te in [
            "chunked",
            "Chunked",
            "gzip, chunked",
            "gzip,, chunked ",
            "gzip",
        ] {
            assert_eq!(check(&head(&[("transfer-encoding", te)])), Ok(()), "{te}");
        }
        let two_lines = head(&[
            ("transfer-encoding", "gzip"),
            ("transfer-encoding", "chunked"),
        ]);
        assert_eq!(check(&two_lines), Ok(()));
    }

    #[test]
    fn unsound_transfer_encodings_fail() {
        use FramingError::*;
        let cases = [
            (
                &[("transfer-encoding", "chunked"), ("content-length", "5")][..],
                Ambiguous,
            ),
            (
                &[("content-length", "0"), ("transfer-encoding", "gzip")],
                Ambiguous,
            ),
            (&[("transfer-encoding", "chunked, chunked")], ChunkedTwice),
            (&[("transfer-encoding", "chunked,CHUNKED")], ChunkedTwice),
            (
                &[
                    ("transfer-encoding", "chunked"),
                    ("transfer-encoding", "chunked"),
                ],
                ChunkedTwice,
            ),
            (
                &[("transfer-encoding", "chunked, gzip")],
                CodingAfterChunked,
            ),
            (
                &[("transfer-encoding", "chunked;x=1, br")],
                CodingAfterChunked,
            ),
            (
                &[
                    ("transfer-encoding", "chunked"),
                    ("transfer-encoding", "gzip"),
                ],
                CodingAfterChunked,
            ),
        ];
        for (fields, want) in cases {
            assert_eq!(check(&head(fields)), Err(want), "{fields:?}");
        }
    }
}
