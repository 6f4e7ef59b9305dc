//! TLS on the client side (issue 13): which servers a client trusts, and the certificate a
//! node shows its peers (mutual TLS). rustls on ring; PEM files as the Go server uses them.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path:?}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path:?} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("no trusted root certificates: the system has none; give a CA file")]
    NoRoots,
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("TLS setup: {0}")]
    Http(String),
    /// Flags that do not make a TLS setup (named in the message).
    #[error("{0}")]
    Config(String),
}

/// How a client speaks TLS to the servers it calls.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// A PEM file of the CA certificates to trust instead of the system's roots (a private
    /// CA, or the cluster CA between nodes).
    pub ca: Option<PathBuf>,
    /// Accept any server certificate: the traffic is encrypted but the server is not
    /// authenticated, so anyone on the path can pose as it. For self-signed dev setups only.
    pub skip_verify: bool,
    /// Certificate chain and key (PEM files) shown to the server when it asks for one: a
    /// node's own, which its peers check against the cluster CA.
    pub identity: Option<(PathBuf, PathBuf)>,
}

/// The one crypto provider of the build (ring): named explicitly, so that a dependency that
/// enables another provider cannot make the process default ambiguous.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read { path: path.into(), reason: e.to_string() })
}

/// Every certificate of a PEM file, in order (a chain starts with the leaf).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Read { path: path.into(), reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.into() });
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(&read(path)?).map_err(|e| TlsError::Read { path: path.into(), reason: e.to_string() })
}

/// The certificates of `ca`, or the system's roots when none is given.
pub fn root_store(ca: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in load_certs(path)? {
                roots.add(cert)?;
            }
        }
        None => {
            // Unreadable system certificates are skipped, as curl does; none at all is an error.
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    if roots.is_empty() {
        return Err(TlsError::NoRoots);
    }
    Ok(roots)
}

impl TlsSettings {
    /// The rustls configuration these settings describe.
    pub fn client_config(&self) -> Result<ClientConfig, TlsError> {
        let builder = ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
        let builder = if self.skip_verify {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyServer(provider())))
        } else {
            builder.with_root_certificates(root_store(self.ca.as_deref())?)
        };
        Ok(match &self.identity {
            Some((cert, key)) => builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?)?,
            None => builder.with_no_client_auth(),
        })
    }

    /// An HTTP client that speaks TLS as these settings say, from a builder with the
    /// caller's timeouts.
    pub fn http_client(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::Client, TlsError> {
        builder.use_preconfigured_tls(self.client_config()?).build().map_err(|e| TlsError::Http(e.to_string()))
    }
}

/// `http` or `https`: the scheme of every URL of a client with or without TLS.
pub fn scheme(tls: bool) -> &'static str {
    if tls { "https" } else { "http" }
}

/// Accepts any certificate (`--skip-tls-verify`), but still checks that the server holds
/// the key of the certificate it sent, so the handshake itself stays sound.
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
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
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named_in_the_error() {
        let missing = TlsSettings { ca: Some("/nonexistent/ca.pem".into()), ..Default::default() };
        assert!(missing.client_config().unwrap_err().to_string().contains("/nonexistent/ca.pem"));
        let dir = std::env::temp_dir().join(format!("colonies-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let settings = TlsSettings { ca: Some(empty.clone()), ..Default::default() };
        assert!(matches!(settings.client_config(), Err(TlsError::NoCertificate { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn skipping_verification_needs_no_roots() {
        let settings = TlsSettings { skip_verify: true, ca: Some("/nonexistent".into()), identity: None };
        assert!(settings.client_config().is_ok());
    }
}
