//! Why a connection could not be made: the leaf errors a transport puts in
//! the chain of causes, which [`Error::is_connect`](super::Error::is_connect)
//! and the narrower questions (`is_dns`, `is_tls`, `is_proxy`) look for.

use std::fmt;

use http::StatusCode;

use super::BoxError;

/// The source of a leaf error, as `std::error::Error::source` returns it.
fn source_of(source: &Option<BoxError>) -> Option<&(dyn std::error::Error + 'static)> {
    source
        .as_deref()
        .map(|e| e as &(dyn std::error::Error + 'static))
}

/// A transport could not reach the server: name resolution, connection or
/// TLS handshake failed. The request was never sent, so it is safe to retry
/// for any method.
#[derive(Debug, thiserror::Error)]
#[error("connect error: {0}")]
pub struct Connect(#[source] BoxError);

impl Connect {
    /// Wraps the cause of a connect failure.
    pub fn new(source: impl Into<BoxError>) -> Self {
        Connect(source.into())
    }
}

/// The server provably did not process the request: an HTTP/2 stream it
/// refused (`RST_STREAM` with `REFUSED_STREAM`) or that was above the last
/// stream of its graceful `GOAWAY` (RFC 9113 §8.7). Like
/// [`Connect`], it is safe to send the request again whatever its method;
/// retry layers count it as a connect error.
#[derive(Debug, thiserror::Error)]
#[error("the server did not process the request: {0}")]
pub struct NotSent(#[source] BoxError);

impl NotSent {
    /// Wraps the cause.
    pub fn new(source: impl Into<BoxError>) -> Self {
        NotSent(source.into())
    }
}

/// A host name could not be resolved to an address: the resolver failed or
/// found no address. [`Error::is_dns`](super::Error::is_dns) looks for it;
/// it is a connect error too.
///
/// ```
/// use session_core::error::{Connect, DnsError};
///
/// let err = session_core::Error::request(Connect::new(DnsError::new("api.example.invalid")));
/// assert!(err.is_dns() && err.is_connect());
/// assert!(!err.is_tls() && !err.is_proxy() && !err.is_timeout());
/// ```
#[derive(Debug)]
pub struct DnsError {
    host: String,
    source: Option<BoxError>,
}

impl DnsError {
    /// Resolving `host` failed.
    pub fn new(host: impl Into<String>) -> Self {
        DnsError {
            host: host.into(),
            source: None,
        }
    }

    /// Keeps the resolver's own error as the cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The name that did not resolve.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve {}", self.host)
    }
}

impl std::error::Error for DnsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        source_of(&self.source)
    }
}

/// Why a server's certificate was refused, when that is why a TLS handshake
/// failed ([`Error::certificate_problem`](super::Error::certificate_problem)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// The certificate's validity period has ended.
    Expired,
    /// The certificate's validity period has not begun.
    NotYetValid,
    /// No trusted root issued the certificate's chain (a self-signed
    /// certificate, or a private CA that was not added).
    UnknownIssuer,
    /// The certificate is not valid for the host name asked for.
    NameMismatch,
    /// The certificate was revoked.
    Revoked,
    /// A signature in the chain is invalid or uses an unsupported algorithm.
    BadSignature,
    /// The certificate is not for server authentication.
    InvalidPurpose,
    /// The certificate could not be parsed.
    BadEncoding,
    /// Another reason the verifier gave.
    Other,
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertificateProblem::Expired => "the certificate has expired",
            CertificateProblem::NotYetValid => "the certificate is not valid yet",
            CertificateProblem::UnknownIssuer => "the certificate's issuer is not trusted",
            CertificateProblem::NameMismatch => "the certificate is for another name",
            CertificateProblem::Revoked => "the certificate was revoked",
            CertificateProblem::BadSignature => "a signature in the chain is invalid",
            CertificateProblem::InvalidPurpose => "the certificate is not for a server",
            CertificateProblem::BadEncoding => "the certificate could not be parsed",
            CertificateProblem::Other => "the certificate was refused",
        })
    }
}

/// A TLS handshake failed; when the server's certificate was refused, the
/// [`CertificateProblem`] says why. The TLS library's own error is the
/// cause. [`Error::is_tls`](super::Error::is_tls) looks for it; it is a
/// connect error too.
///
/// ```
/// use session_core::error::{CertificateProblem, Connect, TlsError};
///
/// let tls = TlsError::new("api.example.test").with_certificate_problem(CertificateProblem::Expired);
/// let err = session_core::Error::request(Connect::new(tls));
/// assert!(err.is_tls() && err.is_connect() && !err.is_dns());
/// assert_eq!(err.certificate_problem(), Some(CertificateProblem::Expired));
/// ```
#[derive(Debug)]
pub struct TlsError {
    host: String,
    problem: Option<CertificateProblem>,
    source: Option<BoxError>,
}

impl TlsError {
    /// The handshake with `host` failed.
    pub fn new(host: impl Into<String>) -> Self {
        TlsError {
            host: host.into(),
            problem: None,
            source: None,
        }
    }

    /// Says that the server's certificate was refused, and why.
    #[must_use]
    pub fn with_certificate_problem(mut self, problem: CertificateProblem) -> Self {
        self.problem = Some(problem);
        self
    }

    /// Keeps the TLS library's error as the cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The host the handshake was with.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Why the server's certificate was refused, if that is why the
    /// handshake failed.
    pub fn certificate_problem(&self) -> Option<CertificateProblem> {
        self.problem
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLS handshake with {} failed", self.host)?;
        if let Some(problem) = self.problem {
            write!(f, " ({problem})")?;
        }
        Ok(())
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        source_of(&self.source)
    }
}

/// A proxy could not be used: it refused the connection, answered `CONNECT`
/// with something other than 2xx (a `407` asks for credentials), broke the
/// tunnel, failed its TLS handshake or its SOCKS handshake.
/// [`Error::is_proxy`](super::Error::is_proxy) looks for it; it is a
/// connect error too.
///
/// ```
/// use http::StatusCode;
/// use session_core::error::{Connect, ProxyError};
///
/// let refused = ProxyError::new("http://proxy.test:3128", "refused CONNECT to api.test:443")
///     .with_status(StatusCode::PROXY_AUTHENTICATION_REQUIRED);
/// assert_eq!(refused.connect_status(), Some(StatusCode::PROXY_AUTHENTICATION_REQUIRED));
/// let err = session_core::Error::request(Connect::new(refused));
/// assert!(err.is_proxy() && err.is_connect() && !err.is_status());
/// ```
#[derive(Debug)]
pub struct ProxyError {
    proxy: String,
    status: Option<StatusCode>,
    what: String,
    source: Option<BoxError>,
}

impl ProxyError {
    /// `proxy` (its URL, without credentials) failed: `what` says how.
    pub fn new(proxy: impl fmt::Display, what: impl Into<String>) -> Self {
        ProxyError {
            proxy: proxy.to_string(),
            status: None,
            what: what.into(),
            source: None,
        }
    }

    /// The status the proxy answered `CONNECT` with.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Keeps the cause (an io error, a [`TlsError`], a [`DnsError`]...).
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The proxy's URL, without credentials.
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    /// The status the proxy answered `CONNECT` with, if it answered.
    pub fn connect_status(&self) -> Option<StatusCode> {
        self.status
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy {}: {}", self.proxy, self.what)?;
        if let Some(status) = self.status {
            write!(f, " ({status})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        source_of(&self.source)
    }
}
