//! TLS of a node (issue 13). The API, `/pubsub` and the peer routes share one port, so one
//! certificate serves clients and peers. With a cluster CA the node also asks every client
//! for a certificate (mutual TLS): clients of the API need none and are served as before,
//! but the peer routes (Raft, membership) refuse a caller that did not show one the cluster
//! CA signed, on top of the cluster secret. A node's calls to its peers verify their
//! certificates against the cluster CA and show its own.

use colonies_client::tls::{TlsError, TlsSettings, load_certs, load_key, provider, root_store};
use rustls::server::WebPkiClientVerifier;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A client must finish the TLS handshake within this time of connecting: a slow or silent
/// one cannot hold a socket (and a connection permit) for longer.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Default, clap::Args)]
pub struct TlsConfig {
    /// Serve HTTPS (the API, `/pubsub` as wss, the peer routes) and call the peers over
    /// HTTPS. Needs --tls-cert and --tls-key.
    #[arg(long = "tls", env = "COLONIES_TLS")]
    pub enabled: bool,
    /// PEM certificate chain of this node; its names must include the address clients and
    /// peers use for it (`--peers`).
    #[arg(long, env = "COLONIES_TLSCERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "COLONIES_TLSKEY")]
    pub tls_key: Option<PathBuf>,
    /// PEM certificate of the cluster CA: mutual TLS between nodes. Peers must show a
    /// certificate it signed to use the Raft and membership routes, and a node trusts only
    /// certificates it signed when calling its peers. Without it peers are verified against
    /// the system roots and authenticated by the cluster secret alone.
    #[arg(long, env = "COLONIES_TLS_CLUSTER_CA")]
    pub tls_cluster_ca: Option<PathBuf>,
}

/// A node's TLS, loaded and checked at start.
pub struct NodeTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// How the node calls its peers (and a leader it forwards to).
    pub peers: TlsSettings,
    /// Whether the peer routes require a certificate of the cluster CA.
    pub mutual: bool,
}

impl TlsConfig {
    /// The node's TLS, `None` without `--tls`. Certificate files given without `--tls` are
    /// refused rather than ignored: a node must not serve plain HTTP by mistake.
    pub fn load(&self) -> Result<Option<NodeTls>, TlsError> {
        if !self.enabled {
            if self.tls_cert.is_some() || self.tls_key.is_some() || self.tls_cluster_ca.is_some() {
                return Err(TlsError::Config(
                    "--tls-cert, --tls-key or --tls-cluster-ca given without --tls (COLONIES_TLS=true)".into(),
                ));
            }
            return Ok(None);
        }
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Err(TlsError::Config(
                "--tls needs --tls-cert and --tls-key (COLONIES_TLSCERT, COLONIES_TLSKEY)".into(),
            ));
        };
        let builder = rustls::ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
        let builder = match &self.tls_cluster_ca {
            Some(ca) => {
                // Clients of the API have no certificate: they are let in, and only the
                // peer routes ask for one (ClusterCertificate).
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(root_store(Some(ca))?), provider())
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| TlsError::Config(format!("the cluster CA {ca:?}: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut server = builder.with_single_cert(load_certs(cert)?, load_key(key)?)?;
        // The API is served over HTTP/1.1 only.
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let peers = TlsSettings {
            ca: self.tls_cluster_ca.clone(),
            skip_verify: false,
            identity: self.tls_cluster_ca.as_ref().map(|_| (cert.clone(), key.clone())),
        };
        Ok(Some(NodeTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
            peers,
            mutual: self.tls_cluster_ca.is_some(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_configured_tls_is_refused_with_the_flags_named() {
        let files_only = TlsConfig { tls_cert: Some("c.pem".into()), ..Default::default() };
        assert!(files_only.load().err().unwrap().to_string().contains("without --tls"));
        let no_files = TlsConfig { enabled: true, ..Default::default() };
        assert!(no_files.load().err().unwrap().to_string().contains("--tls needs --tls-cert"));
        let missing = TlsConfig {
            enabled: true,
            tls_cert: Some("/nonexistent/c.pem".into()),
            tls_key: Some("/nonexistent/k.pem".into()),
            tls_cluster_ca: None,
        };
        assert!(missing.load().err().unwrap().to_string().contains("/nonexistent/c.pem"));
        assert!(TlsConfig::default().load().unwrap().is_none());
    }
}
