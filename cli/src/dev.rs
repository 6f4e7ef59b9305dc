//! Local clusters of this binary's own nodes on loopback: `colonies dev` for users, and the
//! failover bench.

use crate::user::{Ctx, Role};
use anyhow::{Context, bail};
use colonies_client::admin::Admin;
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AddColonyMsg, AddExecutorMsg, ApproveExecutorMsg};
use colonies_statemachine::model::{Colony, Executor};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Node processes started from this binary; all of them are killed on drop.
pub struct LocalCluster {
    exe: PathBuf,
    datadir: PathBuf,
    pub ports: Vec<u16>,
    serverid: String,
    secret: String,
    log_level: String,
    nodes: Vec<Option<Child>>,
    tls: Option<DevTls>,
    /// Reads the nodes' `/cluster` with the secret.
    admin: Admin,
}

/// The throwaway TLS files of `colonies dev --tls`: a new CA, and one certificate for
/// `localhost` and `127.0.0.1` that every node shows (they all run there).
#[derive(Clone)]
pub struct DevTls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl DevTls {
    /// Days the throwaway certificates are valid: a dev cluster does not live longer.
    const DAYS: i64 = 7;

    pub fn generate(dir: &std::path::Path) -> anyhow::Result<DevTls> {
        let node = crate::certs::NodeCert { name: "node".into(), hosts: vec!["localhost".into(), "127.0.0.1".into()] };
        let (cert, key) = crate::certs::generate(dir, &[node], Self::DAYS)?.remove(0);
        Ok(DevTls { ca: dir.join(crate::certs::CA_FILE), cert, key })
    }

    /// What a client of the cluster needs: TLS, trusting the throwaway CA.
    pub fn client(&self) -> crate::tls::ClientTls {
        crate::tls::ClientTls { enabled: true, tls_ca: Some(self.ca.clone()), skip_tls_verify: false }
    }
}

impl LocalCluster {
    /// Starts `ports.len()` nodes with datadirs under `datadir`, sharing `secret` (a random
    /// one when none is given).
    pub fn start(
        datadir: PathBuf,
        ports: Vec<u16>,
        serverid: String,
        log_level: &str,
        secret: Option<String>,
        tls: Option<DevTls>,
    ) -> anyhow::Result<Self> {
        let secret = secret.unwrap_or_else(|| format!("dev-{}", PrivateKey::generate().to_hex()));
        let client_tls = tls.as_ref().map(DevTls::client).unwrap_or_default();
        let http = client_tls.http(reqwest::Client::builder().timeout(Duration::from_secs(2)), None)?;
        let mut cluster = LocalCluster {
            exe: std::env::current_exe()?,
            datadir,
            serverid,
            admin: Admin::new(http, client_tls.enabled, &secret),
            secret,
            log_level: log_level.into(),
            nodes: ports.iter().map(|_| None).collect(),
            ports,
            tls,
        };
        for i in 0..cluster.ports.len() {
            cluster.restart(i)?;
        }
        Ok(cluster)
    }

    /// The process id of node `i`, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i].as_ref().map(Child::id)
    }

    /// Node `i`'s datadir.
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self.datadir.join(format!("node{}", i + 1))
    }

    /// How clients reach the nodes: plain, or TLS with the throwaway CA.
    pub fn client_tls(&self) -> crate::tls::ClientTls {
        self.tls.as_ref().map(DevTls::client).unwrap_or_default()
    }

    pub fn addresses(&self) -> Vec<String> {
        self.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect()
    }

    /// (Re)starts node `i` (0-based) on its port and datadir.
    pub fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        let peers: Vec<String> =
            self.ports.iter().enumerate().map(|(n, p)| format!("{}=127.0.0.1:{p}", n + 1)).collect();
        let mut command = Command::new(&self.exe);
        command.args(["server", "start"]);
        if let Some(tls) = &self.tls {
            command.arg("--tls").arg("--tls-cert").arg(&tls.cert).arg("--tls-key").arg(&tls.key);
            command.arg("--tls-cluster-ca").arg(&tls.ca);
        }
        let child = command
            .args(["--host", "127.0.0.1", "--nodeid", &(i + 1).to_string()])
            .args(["--port", &self.ports[i].to_string(), "--peers", &peers.join(",")])
            .arg("--datadir")
            .arg(self.node_dir(i))
            // As the reference's dev setup: executors that make a new key at every start
            // come back under their names.
            .arg("--allow-executor-reregister")
            .env("COLONIES_SERVER_ID", &self.serverid)
            .env("COLONIES_CLUSTER_SECRET", &self.secret)
            .env("RUST_LOG", &self.log_level)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a node")?;
        self.nodes[i] = Some(child);
        Ok(())
    }

    /// SIGKILLs node `i`.
    pub fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.nodes[i].take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Nodes that have ended since the last call (0-based), with how they ended.
    pub fn exited(&mut self) -> Vec<(usize, std::process::ExitStatus)> {
        let mut ended = Vec::new();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if let Some(child) = node
                && let Ok(Some(status)) = child.try_wait()
            {
                ended.push((i, status));
                *node = None;
            }
        }
        ended
    }

    /// The node id of the leader, once one is elected (60 s at most). Fails as soon as one
    /// of the nodes ends, since the answer could then come from somebody else's node.
    pub async fn wait_leader(&mut self) -> anyhow::Result<u64> {
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_secs(60) {
            if let Some((i, status)) = self.exited().first() {
                bail!("node {} (port {}) ended at start: {status}", i + 1, self.ports[*i]);
            }
            for port in &self.ports {
                if let Some(status) = self.status(*port).await
                    && let Some(leader) = status["leader"].as_u64()
                {
                    return Ok(leader);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("no leader was elected within 60 s")
    }
}

impl LocalCluster {
    /// The `/cluster` status of the node on `port`, which takes the cluster secret.
    pub async fn status(&self, port: u16) -> Option<serde_json::Value> {
        self.admin.status(&format!("127.0.0.1:{port}")).await.ok()
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            let _ = self.kill(i);
        }
    }
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
    let tls = if ctx.tls.enabled { Some(DevTls::generate(&datadir.join("tls"))?) } else { None };
    let mut cluster = LocalCluster::start(datadir.clone(), ports, server.id(), "warn", args.cluster_secret, tls)?;
    let leader = cluster.wait_leader().await?;
    let ctx = ctx.with_servers(cluster.addresses(), cluster.client_tls());
    register(&ctx).await?;
    println!("colonies dev: three nodes, data in {}", datadir.display());
    for (i, addr) in cluster.addresses().iter().enumerate() {
        let role = if i as u64 + 1 == leader { "leader" } else { "follower" };
        println!("  node {}  {addr}  {role}", i + 1);
    }
    println!("export COLONIES_SERVER_ADDRS={}", cluster.addresses().join(","));
    println!("export COLONIES_CLUSTER_SECRET={}", cluster.secret);
    if let Some(tls) = &cluster.tls {
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
                for (i, status) in cluster.exited() {
                    eprintln!("node {} ({}) ended: {status}", i + 1, cluster.addresses()[i]);
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
