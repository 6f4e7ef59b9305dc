//! Server flags, each with an environment fallback named like ColonyOS's.

use std::collections::BTreeMap;

#[derive(Clone, Debug, clap::Args)]
pub struct ServerConfig {
    /// This node's id in `--peers`.
    #[arg(long, env = "COLONIES_NODE_ID")]
    pub nodeid: u64,
    /// Address to listen on.
    #[arg(long, env = "COLONIES_SERVER_HTTP_HOST", default_value = "0.0.0.0")]
    pub host: String,
    /// Port of the HTTP API (and of the Raft peer routes).
    #[arg(long, env = "COLONIES_SERVER_PORT", default_value_t = 50080)]
    pub port: u16,
    /// Folder for this node's Raft log, vote and snapshots.
    #[arg(long, env = "COLONIES_DATADIR")]
    pub datadir: std::path::PathBuf,
    /// Every node of the cluster as `id=host:port`, comma separated, this one included.
    #[arg(long, env = "COLONIES_PEERS", value_parser = parse_peers)]
    pub peers: Peers,
    /// Shared secret that peers present to each other; callers without it cannot touch Raft.
    #[arg(long, env = "COLONIES_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: String,
    /// Server owner id, set once when the cluster is first formed.
    #[arg(long, env = "COLONIES_SERVER_ID")]
    pub serverid: Option<String>,
    /// Proxy calls that need the leader instead of redirecting the client to it.
    #[arg(long, env = "COLONIES_FORWARD")]
    pub forward: bool,
    /// Wait to be added to a running cluster (`colonies cluster add`) instead of forming
    /// one with the listed peers.
    #[arg(long, env = "COLONIES_JOIN")]
    pub join: bool,
    /// Take a snapshot (and compact the log) after this many log entries.
    #[arg(long, env = "COLONIES_SNAPSHOT_LOGS", default_value_t = 10_000)]
    pub snapshot_logs: u64,
    /// Bytes of snapshot data per message to a follower that needs a snapshot.
    #[arg(long, env = "COLONIES_SNAPSHOT_CHUNK_BYTES", default_value_t = colonies_raft::config::DEFAULT_SNAPSHOT_CHUNK_BYTES,
          value_parser = clap::value_parser!(u64).range(colonies_raft::config::MIN_SNAPSHOT_CHUNK_BYTES..=colonies_raft::config::MAX_SNAPSHOT_CHUNK_BYTES))]
    pub snapshot_chunk_bytes: u64,
    /// Largest `/api` request body in bytes; larger ones get a 413 error reply.
    #[arg(long, env = "COLONIES_MAX_BODY", default_value_t = crate::limits::DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Open connections served at once (long-polls included); beyond it new connections are
    /// closed at once. Lowered if needed to fit under the open-file limit.
    #[arg(long, env = "COLONIES_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Remove processes and workflows that ended, and log lines written, more than
    /// `--retention-policy` seconds ago (never waiting or running work).
    #[arg(long, env = "COLONIES_RETENTION")]
    pub retention: bool,
    /// How long history is kept with `--retention`, in seconds.
    #[arg(long, env = "COLONIES_RETENTION_POLICY", default_value_t = 604_800, value_parser = clap::value_parser!(i64).range(1..))]
    pub retention_policy: i64,
    /// Adding an executor under a name already registered in the colony replaces the old
    /// registration (new id, pending again) instead of failing, so an executor that makes a
    /// new key at every start can come back under its name.
    #[arg(long, env = "COLONIES_ALLOW_EXECUTOR_REREGISTER")]
    pub allow_executor_reregister: bool,
    /// Executors not heard from (no assign call, long-polls included) for this many seconds
    /// are removed, as by `executor remove`: their running processes go back to the queue.
    #[arg(long, env = "COLONIES_STALE_EXECUTOR_DURATION", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub stale_executor_duration: u64,
    /// How often the leader looks for stale executors, in seconds.
    #[arg(long, env = "COLONIES_CLEANUP_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub cleanup_interval: u64,
    /// Origins whose web pages may call the API (CORS) and open `/pubsub`, comma
    /// separated (`https://ui.example.org,http://localhost:3000`); empty or `*`: any, as
    /// the original. Calls without an `Origin` header (CLI, SDKs) are not affected.
    #[arg(long, env = "COLONIES_CORS_ORIGINS", value_delimiter = ',', value_parser = crate::cors::parse_origin)]
    pub cors_origins: Vec<String>,
    /// Serve `/metrics` (Prometheus text format) on this `host:port`, or on a bare port of
    /// 127.0.0.1; off when not given.
    #[arg(long, env = "COLONIES_METRICS_ADDR", value_parser = crate::metrics::parse_metrics_addr)]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// How log lines are written: `text` for people, `json` (one object a line) for log
    /// collectors. Which lines: `RUST_LOG` (default `info,openraft=warn`).
    #[arg(long, env = "COLONIES_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub tls: crate::tls::TlsConfig,
}

impl ServerConfig {
    /// Seconds of history to keep, when retention is on.
    pub fn retention(&self) -> Option<i64> {
        self.retention.then_some(self.retention_policy)
    }

    pub fn stale_policy(&self) -> crate::liveness::StalePolicy {
        crate::liveness::StalePolicy {
            stale_after: std::time::Duration::from_secs(self.stale_executor_duration),
            check_every: std::time::Duration::from_secs(self.cleanup_interval),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Default of `--max-connections`: ten thousand parked executors and clients.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The shortest cluster secret a node accepts: shorter ones can be guessed.
pub const MIN_SECRET_BYTES: usize = 16;

/// Refuses an empty or short cluster secret, which would let anyone who guesses it append
/// to the Raft log.
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the cluster secret (--cluster-secret, COLONIES_CLUSTER_SECRET) is {} bytes; at least {MIN_SECRET_BYTES} are required",
            secret.len()
        ));
    }
    Ok(())
}

/// Node id -> `host:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peers(pub BTreeMap<u64, String>);

pub fn parse_peers(text: &str) -> Result<Peers, String> {
    let mut peers = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, addr) = item.split_once('=').ok_or_else(|| format!("peer {item:?} is not id=host:port"))?;
        let id: u64 = id.trim().parse().map_err(|_| format!("peer id {id:?} is not a number"))?;
        let addr = addr.trim();
        if !addr.contains(':') {
            return Err(format!("peer address {addr:?} has no port"));
        }
        if peers.insert(id, addr.to_string()).is_some() {
            return Err(format!("peer id {id} is listed twice"));
        }
    }
    if peers.is_empty() {
        return Err("no peers given".into());
    }
    Ok(Peers(peers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_bad_lists_are_explained() {
        let peers = parse_peers("1=127.0.0.1:5001, 2=node2:5002").unwrap();
        assert_eq!(peers.0[&2], "node2:5002");
        assert!(parse_peers("1=a:1,1=b:2").unwrap_err().contains("twice"));
        assert!(parse_peers("x=a:1").unwrap_err().contains("not a number"));
        assert!(parse_peers("1=nohost").unwrap_err().contains("no port"));
        assert!(parse_peers("").is_err());
    }

    #[test]
    fn empty_and_short_secrets_are_refused() {
        assert!(check_secret("").unwrap_err().contains("is 0 bytes"));
        assert!(check_secret("fifteen-bytes!!").is_err());
        assert!(check_secret("sixteen-bytes!!!").is_ok());
    }
}
