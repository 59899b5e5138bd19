//! How this transport's failures become session-core's leaf errors, so a
//! caller asks `is_dns()`, `is_tls()`, `certificate_problem()` instead of
//! downcasting into rustls or reading messages.

use std::io;

use rustls::CertificateError;
use session_core::error::{CertificateProblem, DnsError, TlsError};
use session_core::BoxError;

/// A failed TLS handshake with `host`: tokio-rustls hands back rustls's
/// error inside an `io::Error`, whose `source()` skips it, so it is taken
/// out and kept as the cause itself.
pub(crate) fn tls_failed(host: &str, err: io::Error) -> TlsError {
    let tls = TlsError::new(host);
    if !err
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        return tls.with_source(err);
    }
    let Some(Ok(rustls)) = err
        .into_inner()
        .map(|inner| inner.downcast::<rustls::Error>())
    else {
        // Not reached: checked above.
        return tls;
    };
    match certificate_problem(&rustls) {
        Some(problem) => tls.with_certificate_problem(problem).with_source(*rustls),
        None => tls.with_source(*rustls),
    }
}

/// Why rustls refused the server's certificate, if it did.
fn certificate_problem(err: &rustls::Error) -> Option<CertificateProblem> {
    let rustls::Error::InvalidCertificate(cert) = err else {
        return None;
    };
    Some(match cert {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            CertificateProblem::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertificateProblem::NotYetValid
        }
        CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateProblem::NameMismatch
        }
        CertificateError::Revoked => CertificateProblem::Revoked,
        CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            CertificateProblem::BadSignature
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            CertificateProblem::InvalidPurpose
        }
        CertificateError::BadEncoding => CertificateProblem::BadEncoding,
        _ => CertificateProblem::Other,
    })
}

/// Resolving `host` failed with the resolver's `err`.
pub(crate) fn dns_failed(host: &str, err: impl Into<BoxError>) -> BoxError {
    Box::new(DnsError::new(host).with_source(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_certificate_errors_become_problems() {
        let io = |e: CertificateError| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(e),
            )
        };
        for (cert, problem) in [
            (CertificateError::Expired, CertificateProblem::Expired),
            (
                CertificateError::UnknownIssuer,
                CertificateProblem::UnknownIssuer,
            ),
            (
                CertificateError::NotValidForName,
                CertificateProblem::NameMismatch,
            ),
            (
                CertificateError::NotValidYet,
                CertificateProblem::NotYetValid,
            ),
            (CertificateError::Revoked, CertificateProblem::Revoked),
        ] {
            let tls = tls_failed("h.test", io(cert));
            assert_eq!(tls.certificate_problem(), Some(problem));
            // rustls's error is the cause itself, not hidden in an io::Error.
            let source = std::error::Error::source(&tls).unwrap();
            assert!(source.is::<rustls::Error>(), "{source:?}");
        }
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(tls_failed("h.test", alert).certificate_problem(), None);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let tls = tls_failed("h.test", reset);
        assert!(std::error::Error::source(&tls).unwrap().is::<io::Error>());
    }
}
