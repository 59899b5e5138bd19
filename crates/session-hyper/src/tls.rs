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
    /// The name sent in SNI and verified in the certificate, instead of the
    /// URL's host.
    pub(crate) server_name: Option<String>,
}

/// Everything that shapes a client configuration: the flags, the
/// environment's bundle file as it is now, and a digest of the extra roots
/// and of the client certificate and key (a digest, so the cache's keys
/// hold no secret).
#[derive(Clone, PartialEq, Eq, Hash)]
struct ConfigKey {
    flags: [bool; 5],
    env_roots: Option<EnvBundle>,
    extra_roots: Option<[u8; 32]>,
    identity: Option<[u8; 32]>,
}

/// The roots every configuration with these sources starts from.
#[derive(Clone, PartialEq, Eq, Hash)]
struct RootsKey {
    built_in: bool,
    native: bool,
    env_roots: Option<EnvBundle>,
}

/// A CA bundle file as it is now: a changed file is read again.
#[derive(Clone, PartialEq, Eq, Hash)]
struct EnvBundle {
    path: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
}

/// A cache entry: configurations with a client certificate are held weakly,
/// so its private key lives no longer than the sessions that use it.
enum Cached {
    Strong(Arc<ClientConfig>),
    Weak(std::sync::Weak<ClientConfig>),
}

impl Cached {
    fn get(&self) -> Option<Arc<ClientConfig>> {
        match self {
            Cached::Strong(config) => Some(config.clone()),
            Cached::Weak(config) => config.upgrade(),
        }
    }
}

/// The most configurations (and root stores) kept; beyond it the cache
/// starts again, so changed settings leave nothing behind for long.
const CACHE_ENTRIES: usize = 32;

/// A digest of byte strings, each prefixed by its length.
fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
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
            server_name: None,
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
    /// The client configuration. Configurations are built once per process
    /// for each set of settings and shared (extra roots and a client
    /// certificate are part of the key, as digests), so building a
    /// transport costs microseconds, and sessions with the same settings
    /// share one TLS session cache and resume each other's sessions. The
    /// roots a configuration starts from (the bundled ones, the system's,
    /// the `SSL_CERT_FILE` bundle while the file is unchanged) are parsed
    /// once per process too.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, BoxError> {
        let env_roots = self.env_bundle()?;
        let key = ConfigKey {
            flags: [
                self.built_in_roots,
                self.native_roots,
                self.accept_invalid_certs,
                self.alpn_h2,
                self.min_tls13,
            ],
            env_roots: env_roots.clone(),
            extra_roots: (!self.extra_roots.is_empty())
                .then(|| digest(self.extra_roots.iter().map(|c| c.as_ref()))),
            identity: self.identity.as_ref().map(|(chain, key)| {
                digest(chain.iter().map(|c| c.as_ref()).chain([key.secret_der()]))
            }),
        };
        static CACHE: OnceLock<Mutex<HashMap<ConfigKey, Cached>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let cached = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .and_then(Cached::get);
        if let Some(config) = cached {
            return Ok(config);
        }
        let config = self.build(env_roots)?;
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        let entry = if self.identity.is_some() {
            Cached::Weak(Arc::downgrade(&config))
        } else {
            Cached::Strong(config.clone())
        };
        cache.insert(key, entry);
        Ok(config)
    }

    /// The `SSL_CERT_FILE` bundle as it is now, if one is named.
    fn env_bundle(&self) -> Result<Option<EnvBundle>, BoxError> {
        let Some(path) = &self.env_roots else {
            return Ok(None);
        };
        let meta = std::fs::metadata(path)
            .map_err(|err| format!("cannot read SSL_CERT_FILE {}: {err}", path.display()))?;
        Ok(Some(EnvBundle {
            path: path.clone(),
            modified: meta.modified().ok(),
            len: meta.len(),
        }))
    }

    fn build(&self, env_roots: Option<EnvBundle>) -> Result<Arc<ClientConfig>, BoxError> {
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
            builder.with_root_certificates(self.roots(env_roots)?)
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

    /// The base roots (cached) plus the extra ones.
    fn roots(&self, env_roots: Option<EnvBundle>) -> Result<Arc<RootCertStore>, BoxError> {
        let base = base_roots(RootsKey {
            built_in: self.built_in_roots,
            native: self.native_roots,
            env_roots,
        })?;
        if self.extra_roots.is_empty() {
            return Ok(base);
        }
        let mut roots = RootCertStore::clone(&base);
        for cert in &self.extra_roots {
            roots.add(cert.clone())?;
        }
        Ok(Arc::new(roots))
    }
}

/// The bundled roots, the system's and the `SSL_CERT_FILE` bundle, as
/// asked: parsed once per process (a bundle again when its file changes).
fn base_roots(key: RootsKey) -> Result<Arc<RootCertStore>, BoxError> {
    static CACHE: OnceLock<Mutex<HashMap<RootsKey, Arc<RootCertStore>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(roots) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(roots.clone());
    }
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    if key.built_in {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    #[cfg(feature = "native-roots")]
    if key.native {
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A certificate the store cannot parse is skipped, as browsers do.
            let _ = roots.add(cert);
        }
    }
    if let Some(bundle) = &key.env_roots {
        let path = &bundle.path;
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
    let roots = Arc::new(roots);
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(key, roots.clone());
    Ok(roots)
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
/// extensions (or use the facade's `RequestBuilderExt::tls`). The request
/// then rides only connections made under exactly these settings (a pool
/// per security profile), never one made under weaker ones.
///
/// ```
/// use session_hyper::{RequestTls, TlsVersion};
///
/// # let key = rcgen::KeyPair::generate().unwrap();
/// # let ca = rcgen::CertificateParams::new(vec![]).unwrap().self_signed(&key).unwrap();
/// # let internal_ca_pem = ca.pem();
/// // requests: verify='internal-ca.pem'; plus TLS 1.3 and a name override.
/// let tls = RequestTls::new()
///     .root_certificates_pem(internal_ca_pem.as_bytes()).unwrap()
///     .min_version(TlsVersion::Tls13)
///     .server_name("api.internal.test");
/// let mut req = http::Request::new(session_core::Body::empty());
/// req.extensions_mut().insert(tls);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[must_use]
pub struct RequestTls {
    pub(crate) accept_invalid_certs: Option<bool>,
    pub(crate) identity: Option<Identity>,
    pub(crate) roots: Option<Vec<CertificateDer<'static>>>,
    pub(crate) min_tls13: Option<bool>,
    pub(crate) server_name: Option<String>,
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

    /// Trusts exactly the certificates of this PEM bundle for this request,
    /// instead of the transport's roots (requests' `verify='bundle.pem'`);
    /// verification is on.
    ///
    /// # Errors
    /// A PEM with no certificate, or one that does not parse.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, BoxError> {
        self.roots = Some(certs_from_pem(pem)?);
        Ok(self)
    }

    /// [`root_certificates_pem`](Self::root_certificates_pem) from a file.
    ///
    /// # Errors
    /// A file that cannot be read, or a PEM that does not parse.
    pub fn root_certificates_file(
        self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, BoxError> {
        let path = path.as_ref();
        let pem = std::fs::read(path)
            .map_err(|err| format!("cannot read CA bundle {}: {err}", path.display()))?;
        self.root_certificates_pem(&pem)
    }

    /// The oldest TLS version accepted for this request.
    pub fn min_version(mut self, version: TlsVersion) -> Self {
        self.min_tls13 = Some(version == TlsVersion::Tls13);
        self
    }

    /// Sends `name` in SNI and verifies the certificate for it, instead of
    /// the URL's host (reaching `https://10.0.0.7/` as `api.internal.test`).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
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
        if let Some(roots) = &self.roots {
            tls.built_in_roots = false;
            tls.native_roots = false;
            tls.env_roots = None;
            tls.extra_roots = roots.clone();
            tls.accept_invalid_certs = self.accept_invalid_certs.unwrap_or(false);
        }
        if let Some(min_tls13) = self.min_tls13 {
            tls.min_tls13 = min_tls13;
        }
        if let Some(name) = &self.server_name {
            tls.server_name = Some(name.clone());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn der(name: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let secret = PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        (cert.der().clone(), secret)
    }

    #[test]
    fn configurations_are_shared_by_settings_extra_roots_and_identity_included() {
        let (root_a, _) = der("a.test");
        let (root_b, _) = der("b.test");
        let with = |roots: Vec<CertificateDer<'static>>| TlsSettings {
            extra_roots: roots,
            ..TlsSettings::default()
        };
        let a1 = with(vec![root_a.clone()]).client_config().unwrap();
        let a2 = with(vec![root_a.clone()]).client_config().unwrap();
        let b = with(vec![root_b]).client_config().unwrap();
        assert!(Arc::ptr_eq(&a1, &a2));
        assert!(!Arc::ptr_eq(&a1, &b));

        let (cert, key) = der("client.test");
        let identity = TlsSettings {
            identity: Some((vec![cert], Arc::new(key))),
            ..TlsSettings::default()
        };
        let i1 = identity.client_config().unwrap();
        let i2 = identity.client_config().unwrap();
        assert!(Arc::ptr_eq(&i1, &i2), "shared while in use");
        assert!(!Arc::ptr_eq(&i1, &a1));
        let weak = Arc::downgrade(&i1);
        drop((i1, i2));
        assert!(
            weak.upgrade().is_none(),
            "the cache keeps no client key alive"
        );
    }
}
