//! How the CLI speaks TLS to a cluster (issue 13): `COLONIES_TLS=true` as with the Go CLI,
//! the CA to trust, and `--skip-tls-verify` (`--insecure`) for self-signed dev setups.

use anyhow::{Context, bail};
use colonies_client::rpc::Client;
use colonies_client::tls::{TlsSettings, scheme};
use std::path::PathBuf;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct ClientTls {
    /// Speak HTTPS (and wss) to the servers.
    #[arg(long = "tls", env = "COLONIES_TLS", global = true)]
    pub enabled: bool,
    /// PEM file of the CA certificates to trust instead of the system's roots (a private or
    /// dev CA).
    #[arg(long, env = "COLONIES_TLS_CA", global = true)]
    pub tls_ca: Option<PathBuf>,
    /// Accept any server certificate: encrypted, but anyone on the path can pose as the
    /// server. For self-signed dev setups only.
    #[arg(long, visible_alias = "insecure", env = "COLONIES_SKIP_TLS_VERIFY", global = true)]
    pub skip_tls_verify: bool,
}

impl ClientTls {
    /// The TLS settings in force, `None` for plain HTTP. A CA or skip flag without `--tls`
    /// is refused rather than ignored: the user meant TLS.
    pub fn settings(&self) -> anyhow::Result<Option<TlsSettings>> {
        self.settings_with(None)
    }

    /// As `settings`, showing `identity` (certificate and key) when the server asks for one.
    pub fn settings_with(&self, identity: Option<(PathBuf, PathBuf)>) -> anyhow::Result<Option<TlsSettings>> {
        if !self.enabled {
            if self.tls_ca.is_some() || self.skip_tls_verify {
                bail!("--tls-ca and --skip-tls-verify need --tls (COLONIES_TLS=true)");
            }
            return Ok(None);
        }
        Ok(Some(TlsSettings { ca: self.tls_ca.clone(), skip_verify: self.skip_tls_verify, identity }))
    }

    pub fn scheme(&self) -> &'static str {
        scheme(self.enabled)
    }

    /// A `Client` of the ColonyOS API for `servers`.
    pub fn client(&self, servers: Vec<String>) -> anyhow::Result<Client> {
        Client::with_tls(servers, self.settings()?.as_ref()).context("setting up TLS")
    }

    /// An HTTP client for the cluster's other routes (`/cluster`, `/ready`, membership).
    pub fn http(
        &self,
        builder: reqwest::ClientBuilder,
        identity: Option<(PathBuf, PathBuf)>,
    ) -> anyhow::Result<reqwest::Client> {
        match self.settings_with(identity)? {
            Some(settings) => Ok(settings.http_client(builder).context("setting up TLS")?),
            None => Ok(builder.build()?),
        }
    }
}
