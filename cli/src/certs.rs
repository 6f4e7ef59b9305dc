//! `colonies security certs`: a cluster CA and node certificates for TLS (issue 13), and
//! the throwaway set of `colonies dev --tls`. ECDSA P-256 keys made by rcgen; PEM files.
//!
//! A node certificate serves both ends of mutual TLS (server and client authentication),
//! so one file per node is all a node needs: `--tls-cert`, `--tls-key`, and the CA as
//! `--tls-cluster-ca`.

use anyhow::{Context, bail};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};

/// Days a cluster CA is valid: it outlives many rounds of node certificates.
pub const CA_DAYS: i64 = 3_650;
/// Default days a node certificate is valid (`--days`).
pub const DEFAULT_NODE_DAYS: i64 = 365;
/// The CA's subject. A CA is re-created from its key under this name when more node
/// certificates are made later (`certs` with an `--out` that holds one), so it is fixed.
const CA_NAME: &str = "colonies cluster CA";
pub const CA_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca-key.pem";

#[derive(clap::Args)]
pub struct CertsArgs {
    /// Folder for the files: `ca.pem`, `ca-key.pem` (kept secret: it makes peers), and
    /// `NAME.pem`, `NAME-key.pem` per node. A CA already there is reused.
    #[arg(long)]
    pub out: PathBuf,
    /// A node certificate to make, `NAME=HOST,HOST,...`: the host names and IP addresses
    /// clients and peers reach the node at. Repeat per node.
    #[arg(long = "node", value_parser = parse_node, required = true)]
    pub nodes: Vec<NodeCert>,
    /// Days the node certificates are valid.
    #[arg(long, default_value_t = DEFAULT_NODE_DAYS, value_parser = clap::value_parser!(i64).range(1..=CA_DAYS))]
    pub days: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCert {
    pub name: String,
    pub hosts: Vec<String>,
}

fn parse_node(text: &str) -> Result<NodeCert, String> {
    let (name, hosts) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=HOST,HOST"))?;
    let valid_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid_name || name.starts_with('.') {
        return Err(format!("node name {name:?}: letters, digits, '-', '_' and '.' only (it names the files)"));
    }
    let hosts: Vec<String> = hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(String::from).collect();
    if hosts.is_empty() {
        return Err(format!("node {name}: no host names"));
    }
    Ok(NodeCert { name: name.into(), hosts })
}

/// The validity window from yesterday (clocks differ a little) to `days` from today.
fn validity(params: &mut CertificateParams, days: i64) {
    use chrono::Datelike;
    let date = |at: chrono::DateTime<chrono::Utc>| rcgen::date_time_ymd(at.year(), at.month() as u8, at.day() as u8);
    let now = chrono::Utc::now();
    params.not_before = date(now - chrono::Duration::days(1));
    params.not_after = date(now + chrono::Duration::days(days));
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    validity(&mut params, CA_DAYS);
    params
}

/// Writes `text` to `path`; `secret` files are readable by their owner only.
fn write(path: &Path, text: &str, secret: bool) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if secret { 0o600 } else { 0o644 };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// The CA of `dir`, made there first if it has none.
fn cluster_ca(dir: &Path) -> anyhow::Result<(Certificate, KeyPair)> {
    let key_file = dir.join(CA_KEY_FILE);
    if key_file.exists() {
        let pem = std::fs::read_to_string(&key_file).with_context(|| format!("reading {}", key_file.display()))?;
        let key =
            KeyPair::from_pem(&pem).with_context(|| format!("{} is not a PEM private key", key_file.display()))?;
        // The same subject and key make the same issuer: certificates signed now chain to
        // the `ca.pem` the nodes already have.
        return Ok((ca_params().self_signed(&key)?, key));
    }
    if dir.join(CA_FILE).exists() {
        bail!("{} exists without {CA_KEY_FILE}: cannot sign with it", dir.join(CA_FILE).display());
    }
    let key = KeyPair::generate()?;
    let cert = ca_params().self_signed(&key)?;
    write(&dir.join(CA_FILE), &cert.pem(), false)?;
    write(&key_file, &key.serialize_pem(), true)?;
    Ok((cert, key))
}

/// Makes (or reuses) the CA in `dir` and one certificate per node; returns the files
/// written per node, `(certificate, key)`.
pub fn generate(dir: &Path, nodes: &[NodeCert], days: i64) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (ca, ca_key) = cluster_ca(dir)?;
    let mut written = Vec::new();
    for node in nodes {
        let mut params = CertificateParams::new(node.hosts.clone())
            .with_context(|| format!("node {}: host names {:?}", node.name, node.hosts))?;
        params.distinguished_name.push(DnType::CommonName, node.name.as_str());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, days);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca, &ca_key)?;
        let files = (dir.join(format!("{}.pem", node.name)), dir.join(format!("{}-key.pem", node.name)));
        write(&files.0, &cert.pem(), false)?;
        write(&files.1, &key.serialize_pem(), true)?;
        written.push(files);
    }
    Ok(written)
}

/// `colonies security certs`.
pub fn run(args: &CertsArgs) -> anyhow::Result<()> {
    let written = generate(&args.out, &args.nodes, args.days)?;
    println!(
        "CA: {} (give it to clients and nodes); its key {} stays private",
        args.out.join(CA_FILE).display(),
        args.out.join(CA_KEY_FILE).display()
    );
    for (node, (cert, key)) in args.nodes.iter().zip(written) {
        println!(
            "node {} ({}): --tls-cert {} --tls-key {}",
            node.name,
            node.hosts.join(","),
            cert.display(),
            key.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use colonies_client::tls::{load_certs, root_store};

    #[test]
    fn node_specs_parse_and_bad_ones_are_explained() {
        let node = parse_node("node1=localhost, 127.0.0.1").unwrap();
        assert_eq!(node, NodeCert { name: "node1".into(), hosts: vec!["localhost".into(), "127.0.0.1".into()] });
        assert!(parse_node("node1").unwrap_err().contains("NAME=HOST"));
        assert!(parse_node("../x=a").unwrap_err().contains("letters, digits"));
        assert!(parse_node("n=").unwrap_err().contains("no host names"));
    }

    /// Certificates made later with the kept CA key verify against the first `ca.pem`.
    #[test]
    fn node_certificates_chain_to_the_ca_also_when_made_later() {
        let dir = tempfile::tempdir().unwrap();
        let node = |name: &str| NodeCert { name: name.into(), hosts: vec!["localhost".into(), "127.0.0.1".into()] };
        generate(dir.path(), &[node("a")], 30).unwrap();
        let first_ca = std::fs::read(dir.path().join(CA_FILE)).unwrap();
        generate(dir.path(), &[node("b")], 30).unwrap();
        assert_eq!(std::fs::read(dir.path().join(CA_FILE)).unwrap(), first_ca, "the CA file is kept");
        let roots = std::sync::Arc::new(root_store(Some(&dir.path().join(CA_FILE))).unwrap());
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots, colonies_client::tls::provider())
                .build()
                .unwrap();
        for name in ["a", "b"] {
            let chain = load_certs(&dir.path().join(format!("{name}.pem"))).unwrap();
            let now = rustls::pki_types::UnixTime::now();
            assert!(verifier.verify_client_cert(&chain[0], &[], now).is_ok(), "{name} chains to the CA");
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("a-key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "keys are private to their owner");
    }
}
