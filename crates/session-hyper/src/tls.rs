//! rustls client configurations: one shared default, and custom ones; and
//! the per-request override [`RequestTls`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use session_core::BoxError;

/// The TLS settings of a transport.
#[derive(Clone, Debug)]
pub(crate) struct TlsSettings {
    pub(crate) built_in_roots: bool,
    pub(crate) native_roots: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) identity: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    pub(crate) accept_invalid_certs: bool,
    pub(crate) alpn_h2: bool,
    pub(crate) min_tls13: bool,
    /// A CA bundle file named by `SSL_CERT_FILE`, read when the
    /// configuration is built (and cached while the file is unchanged).
    pub(crate) env_roots: Option<PathBuf>,
}

/// What makes two configurations without client certificate or extra roots
/// the same: the flags, and the environment's bundle file as it is now.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    flags: [bool; 5],
    env_roots: Option<(PathBuf, Option<SystemTime>, u64)>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            built_in_roots: true,
            native_roots: false,
            extra_roots: Vec::new(),
            identity: None,
            accept_invalid_certs: false,
            alpn_h2: true,
            min_tls13: false,
            env_roots: None,
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

impl TlsSettings {
    /// The client configuration. Configurations without a client
    /// certificate or extra roots are built once per process and shared
    /// (the default one, and one per `SSL_CERT_FILE` while the file is
    /// unchanged), so building a transport costs microseconds.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, BoxError> {
        if self.identity.is_some() || !self.extra_roots.is_empty() {
            return self.build();
        }
        let env_roots = match &self.env_roots {
            Some(path) => {
                let meta = std::fs::metadata(path).map_err(|err| {
                    format!("cannot read SSL_CERT_FILE {}: {err}", path.display())
                })?;
                Some((path.clone(), meta.modified().ok(), meta.len()))
            }
            None => None,
        };
        let key = CacheKey {
            flags: [
                self.built_in_roots,
                self.native_roots,
                self.accept_invalid_certs,
                self.alpn_h2,
                self.min_tls13,
            ],
            env_roots,
        };
        static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<ClientConfig>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(config) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(config.clone());
        }
        let config = self.build()?;
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        // A changed bundle file leaves stale entries behind; keep the cache small.
        if cache.len() >= 16 {
            cache.clear();
        }
        Ok(cache.entry(key).or_insert(config).clone())
    }

    fn build(&self) -> Result<Arc<ClientConfig>, BoxError> {
        let versions: &[&rustls::SupportedProtocolVersion] = if self.min_tls13 {
            &[&rustls::version::TLS13]
        } else {
            rustls::DEFAULT_VERSIONS
        };
        let builder =
            ClientConfig::builder_with_provider(provider()).with_protocol_versions(versions)?;
        let builder = if self.accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider())))
        } else {
            builder.with_root_certificates(self.roots()?)
        };
        let mut config = match &self.identity {
            Some((chain, key)) => builder.with_client_auth_cert(chain.clone(), key.clone_key())?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = if self.alpn_h2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(Arc::new(config))
    }

    fn roots(&self) -> Result<RootCertStore, BoxError> {
        let mut roots = RootCertStore::empty();
        #[cfg(feature = "webpki-roots")]
        if self.built_in_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A certificate the store cannot parse is skipped, as browsers do.
                let _ = roots.add(cert);
            }
        }
        for cert in &self.extra_roots {
            roots.add(cert.clone())?;
        }
        if let Some(path) = &self.env_roots {
            let pem = std::fs::read(path)
                .map_err(|err| format!("cannot read SSL_CERT_FILE {}: {err}", path.display()))?;
            // A system bundle may hold certificates rustls cannot use; skip those.
            let (added, _ignored) = roots.add_parsable_certificates(certs_from_pem(&pem)?);
            if added == 0 {
                return Err(
                    format!("no usable certificate in SSL_CERT_FILE {}", path.display()).into(),
                );
            }
        }
        Ok(roots)
    }
}

/// A client certificate chain and its private key, for mTLS.
///
/// ```
/// # fn pems() -> (Vec<u8>, Vec<u8>) { (Vec::new(), Vec::new()) }
/// let (chain, key) = pems();
/// assert!(session_hyper::Identity::from_pem(&chain, &key).is_err()); // empty
/// ```
#[derive(Clone)]
pub struct Identity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: Arc<PrivateKeyDer<'static>>,
}

impl Identity {
    /// Reads a PEM chain (leaf first) and a PEM private key.
    ///
    /// # Errors
    /// When either PEM holds no certificate or no key.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Identity, BoxError> {
        Ok(Identity {
            chain: certs_from_pem(cert_chain)?,
            key: Arc::new(key_from_pem(key)?),
        })
    }
}

impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        self.chain == other.chain && self.key.secret_der() == other.key.secret_der()
    }
}

impl Eq for Identity {}

impl std::hash::Hash for Identity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.chain.hash(state);
        self.key.secret_der().hash(state);
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// Overrides TLS settings for one request: put it in the request's
/// extensions. The request then rides only connections made under exactly
/// these settings (a pool per security profile), never one made under
/// weaker ones.
///
/// ```
/// use session_hyper::RequestTls;
///
/// let mut req = http::Request::new(session_core::Body::empty());
/// req.extensions_mut().insert(RequestTls::new().danger_accept_invalid_certs(true));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct RequestTls {
    pub(crate) accept_invalid_certs: Option<bool>,
    pub(crate) identity: Option<Identity>,
}

impl RequestTls {
    /// No override yet.
    pub fn new() -> Self {
        RequestTls::default()
    }

    /// **Dangerous** when `true`: accepts any certificate for this request.
    /// `false` turns verification back on for a transport that has it off.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = Some(accept);
        self
    }

    /// Presents this client certificate for this request.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// These settings applied over a transport's.
    pub(crate) fn apply(&self, base: &TlsSettings) -> TlsSettings {
        let mut tls = base.clone();
        if let Some(accept) = self.accept_invalid_certs {
            tls.accept_invalid_certs = accept;
        }
        if let Some(id) = &self.identity {
            tls.identity = Some((id.chain.clone(), id.key.clone()));
        }
        tls
    }
}

/// A TLS protocol version, for [`tls_min_version`](crate::HyperTransportBuilder::tls_min_version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2 (the default minimum).
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// Parses every certificate of a PEM bundle.
pub(crate) fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, BoxError> {
    let certs = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err("no certificate found in PEM".into());
    }
    Ok(certs)
}

/// Parses the first private key of a PEM file.
pub(crate) fn key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, BoxError> {
    Ok(PrivateKeyDer::from_pem_slice(pem)?)
}

/// Accepts any certificate chain, but still checks the handshake signatures.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
