//! Local clusters of this binary's own nodes on loopback: `colonies dev` for users, and the
//! failover bench.

use crate::user::{Ctx, Role};
use anyhow::{Context, bail};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AddColonyMsg, AddExecutorMsg, ApproveExecutorMsg};
use colonies_localcluster::{Cluster, Output, Placement, Setup, TlsFiles};
use colonies_statemachine::model::{Colony, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a local cluster has to elect its first leader.
const ELECTION_LIMIT: Duration = Duration::from_secs(60);

/// Days the throwaway certificates of `colonies dev --tls` are valid: a dev cluster does
/// not live longer.
const DEV_CERT_DAYS: i64 = 7;

/// Nodes of this very binary on loopback, with datadirs under `root` (temporary when
/// `None`), a random cluster secret unless one is given, and their output on stderr.
pub fn start_local(
    root: Option<PathBuf>,
    placements: &[Placement],
    serverid: String,
    log_level: &str,
    secret: Option<String>,
    tls: Option<TlsFiles>,
) -> anyhow::Result<Cluster> {
    let setup = Setup {
        binary: std::env::current_exe()?,
        serverid,
        secret: secret.unwrap_or_else(|| format!("dev-{}", PrivateKey::generate().to_hex())),
        log_level: log_level.into(),
        // As the reference's dev setup: executors that make a new key at every start come
        // back under their names.
        extra_args: vec!["--allow-executor-reregister".into()],
        tls,
        output: Output::Stderr,
    };
    Cluster::start(setup, root, placements).context("starting a node")
}

/// The node index of the leader, once the nodes agree on one. Fails as soon as a node
/// ends, since the answer could then come from somebody else's node on its port.
pub fn wait_leader(cluster: &mut Cluster) -> anyhow::Result<usize> {
    tokio::task::block_in_place(|| {
        let begun = std::time::Instant::now();
        while begun.elapsed() < ELECTION_LIMIT {
            if let Some((i, status)) = cluster.ended().first() {
                bail!("node {} ({}) ended at start: {status}", i + 1, cluster.nodes[*i].addr());
            }
            if let Ok(leader) = cluster.leader_within(Duration::from_secs(1)) {
                return Ok(leader);
            }
        }
        bail!("no leader was elected within {ELECTION_LIMIT:?}")
    })
}

/// A new CA and one certificate for `localhost` and `127.0.0.1` that every node shows
/// (they all run there), in `dir`.
fn throwaway_tls(dir: &Path) -> anyhow::Result<TlsFiles> {
    let node = crate::certs::NodeCert { name: "node".into(), hosts: vec!["localhost".into(), "127.0.0.1".into()] };
    let (cert, key) = crate::certs::generate(dir, &[node], DEV_CERT_DAYS)?.remove(0);
    Ok(TlsFiles { ca: dir.join(crate::certs::CA_FILE), cert, key })
}

/// How a client reaches the nodes: plain, or TLS trusting the cluster's CA.
pub fn client_tls(tls: Option<&TlsFiles>) -> crate::tls::ClientTls {
    tls.map(|tls| crate::tls::ClientTls { enabled: true, tls_ca: Some(tls.ca.clone()), skip_tls_verify: false })
        .unwrap_or_default()
}

#[derive(clap::Args)]
pub struct DevArgs {
    /// Where the nodes keep their data; a temporary folder, removed at exit, by default.
    #[arg(long)]
    datadir: Option<PathBuf>,
    /// The nodes' shared secret (16 bytes at least), which `cluster info` also needs; a
    /// random one, printed at start, by default.
    #[arg(long, env = "COLONIES_CLUSTER_SECRET", hide_env_values = true)]
    cluster_secret: Option<String>,
}

/// `colonies dev`: three nodes on loopback (COLONIES_SERVER_PORT and the next two ports), the
/// development colony and executor registered from the environment, until Ctrl-C.
pub async fn run(ctx: &Ctx, args: DevArgs) -> anyhow::Result<()> {
    let server = ctx.key(Role::ServerOwner)?;
    let temporary = tempfile::tempdir()?;
    let datadir = args.datadir.unwrap_or_else(|| temporary.path().to_path_buf());
    let ports: Vec<u16> = (0..3).map(|i| ctx.port + i).collect();
    for port in &ports {
        if std::net::TcpListener::bind(("127.0.0.1", *port)).is_err() {
            bail!(
                "port {port} is in use (another `colonies dev`?); stop it or pick other ports with COLONIES_SERVER_PORT"
            );
        }
    }
    // `--tls`: a throwaway CA and certificate next to the data, gone with a temporary datadir.
    let tls = if ctx.tls.enabled { Some(throwaway_tls(&datadir.join("tls"))?) } else { None };
    let placements: Vec<Placement> =
        ports.iter().map(|p| Placement { port: Some(*p), ..Placement::default() }).collect();
    let mut cluster = start_local(Some(datadir.clone()), &placements, server.id(), "warn", args.cluster_secret, tls)?;
    let leader = wait_leader(&mut cluster)?;
    let ctx = ctx.with_servers(cluster.addrs(), client_tls(cluster.setup.tls.as_ref()));
    register(&ctx).await?;
    println!("colonies dev: three nodes, data in {}", datadir.display());
    for (i, addr) in cluster.addrs().iter().enumerate() {
        let role = if i == leader { "leader" } else { "follower" };
        println!("  node {}  {addr}  {role}", i + 1);
    }
    println!("export COLONIES_SERVER_ADDRS={}", cluster.addrs().join(","));
    println!("export COLONIES_CLUSTER_SECRET={}", cluster.setup.secret);
    if let Some(tls) = &cluster.setup.tls {
        println!("export COLONIES_TLS=true");
        println!("export COLONIES_TLS_CA={}", tls.ca.display());
    }
    println!("Ctrl-C stops the cluster.");
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            stopped = &mut stop => {
                stopped?;
                break;
            }
            _ = every_second.tick() => {
                // A node killed on purpose (to watch a failover) is not a reason to stop.
                for (i, status) in cluster.ended() {
                    eprintln!("node {} ({}) ended: {status}", i + 1, cluster.nodes[i].addr());
                }
            }
        }
    }
    drop(cluster);
    Ok(())
}

/// Registers the colony of COLONIES_COLONY_NAME/_PRVKEY and, when COLONIES_PRVKEY is set, an
/// approved executor `dev-cli` with that key. Already registered is fine (a restart).
async fn register(ctx: &Ctx) -> anyhow::Result<()> {
    let (Ok(owner), false) = (ctx.key(Role::ColonyOwner), ctx.colonyname.is_empty()) else {
        eprintln!("COLONIES_COLONY_NAME or COLONIES_COLONY_PRVKEY unset: no colony registered");
        return Ok(());
    };
    let colony = Colony { colonyid: owner.id(), name: ctx.colonyname.clone() };
    let added = ctx.call(Role::ServerOwner, AddColonyMsg { colony: Some(colony) }).await;
    if let Err(e) = added
        && !e.to_string().contains("already exists")
    {
        return Err(e.context("registering the colony"));
    }
    if let Ok(key) = ctx.key(Role::Caller) {
        let executortype = std::env::var("COLONIES_EXECUTOR_TYPE").unwrap_or_else(|_| "cli".into());
        let executor = Executor {
            executorid: key.id(),
            executortype,
            executorname: "dev-cli".into(),
            colonyname: ctx.colonyname.clone(),
            ..Executor::default()
        };
        let added = ctx.call(Role::ColonyOwner, AddExecutorMsg { executor: Some(executor) }).await;
        if let Err(e) = added
            && !e.to_string().contains("already exists")
        {
            return Err(e.context("registering the executor dev-cli"));
        }
        let approve = ApproveExecutorMsg { colonyname: ctx.colonyname.clone(), executorname: "dev-cli".into() };
        ctx.call(Role::ColonyOwner, approve).await.context("approving dev-cli")?;
    }
    Ok(())
}
