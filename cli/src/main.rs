//! The `colonies` command line: a node (`server start`), a local cluster (`dev`), an OS
//! executor, the benches, and the user commands of ColonyOS's own CLI with the same names
//! and flags. It is a thin edge over `colonies-client`, `colonies-node` and
//! `colonies-localcluster`; it holds no logic other crates need.

mod bench;
mod bench_history;
mod blueprint;
mod certs;
mod channel;
mod cluster;
mod cron;
mod dev;
mod executor;
mod fs;
mod table;
mod tls;
mod user;

use anyhow::Context;
use clap::{Parser, Subcommand};
use colonies_client::identity::PrivateKey;

#[derive(Parser)]
#[command(name = "colonies", about = "ColonyOS-compatible meta-orchestrator, replicated with Raft")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the version of this binary.
    Version,
    /// Keys and identities.
    #[command(subcommand)]
    Security(Security),
    /// Run a server node.
    #[command(subcommand)]
    Server(Server),
    /// Cluster membership.
    #[command(subcommand)]
    Cluster(Cluster),
    /// Load generators that measure a ColonyOS-compatible server.
    #[command(subcommand)]
    Bench(Bench),
    /// A local three-node cluster with the development colony, until Ctrl-C; with --tls, over
    /// TLS (HTTPS, wss, mutual TLS between the nodes) with a throwaway CA.
    Dev {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(flatten)]
        args: dev::DevArgs,
    },
    Colony {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::ColonyCmd,
    },
    Executor {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::ExecutorCmd,
    },
    Function {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::FunctionCmd,
    },
    Process {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::ProcessCmd,
    },
    Workflow {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::WorkflowCmd,
    },
    Log {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::LogCmd,
    },
    Attribute {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::AttributeCmd,
    },
    User {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: user::UserCmd,
    },
    /// Message channels of a process.
    Channel {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: channel::ChannelCmd,
    },
    /// Workflows run on a schedule.
    Cron {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: cron::CronCmd,
    },
    /// Workflows run per batch of packed arguments.
    Generator {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: cron::GeneratorCmd,
    },
    /// ColonyFS metadata: files, labels and snapshots (the bytes are in S3).
    Fs {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: fs::FsCmd,
    },
    /// Named places of a colony, which executors and specs refer to.
    Location {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: fs::LocationCmd,
    },
    /// Desired states that executors reconcile, and their definitions.
    Blueprint {
        #[command(flatten)]
        ctx: user::Ctx,
        #[command(subcommand)]
        command: blueprint::BlueprintCmd,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// N submits from C concurrent clients.
    Submit {
        #[command(flatten)]
        ctx: user::Ctx,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// E executors assign and close while N specs are submitted.
    E2e {
        #[command(flatten)]
        ctx: user::Ctx,
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long, default_value_t = 8)]
        executors: usize,
    },
    /// W executors long-poll an empty queue; with --pid, the server's RSS and CPU meanwhile.
    Longpoll {
        #[command(flatten)]
        ctx: user::Ctx,
        #[arg(long, default_value_t = 5_000)]
        waiters: usize,
        /// Seconds each poll waits.
        #[arg(long, default_value_t = 20)]
        hold: u64,
        /// The server process to measure.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Start a local three-node cluster, kill its leader ROUNDS times, report the gaps.
    Failover {
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// Start a local three-node cluster, grow its history to PROCESSES finished processes,
    /// and report memory, disk, throughput, restart and re-sync times against an empty one.
    History {
        #[arg(long, default_value_t = 100_000)]
        processes: usize,
        /// Processes between two measurements of memory and disk.
        #[arg(long, default_value_t = 25_000)]
        step: usize,
    },
}

/// Where and how to reach a node for cluster administration.
#[derive(clap::Args)]
struct Admin {
    /// Any node of the cluster, `host:port`; it sends the change on to the leader.
    #[arg(long, env = "COLONIES_SERVER_ADDR", default_value = "localhost:50080")]
    server: String,
    #[arg(long, env = "COLONIES_CLUSTER_SECRET", hide_env_values = true)]
    cluster_secret: String,
    #[command(flatten)]
    tls: tls::ClientTls,
    /// With mutual TLS between nodes, a certificate of the cluster CA to show (a node's own
    /// certificate will do); PEM.
    #[arg(long, env = "COLONIES_TLSCERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert; PEM.
    #[arg(long, env = "COLONIES_TLSKEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Cluster {
    /// Every node: address, leader or not, state, term, last applied index.
    Info(cluster::InfoArgs),
    /// Add a started node (run with --join) as a learner, then make it a voter.
    Add {
        #[arg(long)]
        nodeid: u64,
        /// The new node's API address, `host:port`.
        #[arg(long)]
        addr: String,
        #[command(flatten)]
        admin: Admin,
    },
    /// Remove a node from the cluster's voters.
    Remove {
        #[arg(long)]
        nodeid: u64,
        #[command(flatten)]
        admin: Admin,
    },
}

#[derive(Subcommand)]
enum Server {
    /// Start a node of a cluster; every node is started with the same --peers.
    Start(colonies_node::ServerConfig),
    /// Version of the node answering.
    Status(user::Ctx),
    /// Process, workflow and executor counts over every colony (server owner).
    Stats(user::Ctx),
    /// Exit 0 if the node is ready to serve (its `/ready`), 1 otherwise: a health check for
    /// container runtimes and supervisors.
    Ready(user::Ctx),
}

#[derive(Subcommand)]
enum Security {
    /// Generate a new private key and print it with its id.
    Generate,
    /// Print the id of a private key.
    Id {
        #[arg(long, env = "COLONIES_PRVKEY", hide_env_values = true)]
        prvkey: String,
    },
    /// Make a cluster CA (or reuse the one in --out) and TLS certificates for nodes.
    Certs(certs::CertsArgs),
}

/// Sends a membership change and prints the node's answer.
fn change_membership(admin: &Admin, nodeid: u64, addr: Option<&str>) -> anyhow::Result<()> {
    block_on(async {
        let identity = admin.tls_cert.clone().zip(admin.tls_key.clone());
        let http = admin.tls.http(reqwest::Client::builder(), identity)?;
        let routes = colonies_client::admin::Admin::new(http, admin.tls.enabled, &admin.cluster_secret);
        let message = match addr {
            Some(addr) => routes.add_member(&admin.server, nodeid, addr).await?,
            None => routes.remove_member(&admin.server, nodeid).await?,
        };
        println!("{message}");
        Ok(())
    })
}

fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Runtime::new().context("starting the async runtime")?.block_on(work)
}

fn target(ctx: &user::Ctx) -> anyhow::Result<bench::Target> {
    let serverprvkey = ctx.serverprvkey.clone().context("the bench needs COLONIES_SERVER_PRVKEY (--serverprvkey)")?;
    Ok(bench::Target { servers: ctx.addresses(), serverprvkey })
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Version => println!("colonies-rs {}", env!("CARGO_PKG_VERSION")),
        Command::Security(Security::Generate) => {
            let key = PrivateKey::generate();
            println!("Id={}", key.id());
            println!("PrvKey={}", key.to_hex());
        }
        Command::Security(Security::Id { prvkey }) => {
            let key = PrivateKey::from_hex(&prvkey).context("reading --prvkey")?;
            println!("Id={}", key.id());
        }
        Command::Security(Security::Certs(args)) => certs::run(&args)?,
        Command::Cluster(Cluster::Add { nodeid, addr, admin }) => change_membership(&admin, nodeid, Some(&addr))?,
        Command::Cluster(Cluster::Remove { nodeid, admin }) => change_membership(&admin, nodeid, None)?,
        Command::Bench(command) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(async {
                match command {
                    Bench::Submit { ctx, count, clients } => {
                        bench::submit(&target(&ctx)?, count, clients).await.map(drop)
                    }
                    Bench::E2e { ctx, count, clients, executors } => {
                        bench::end_to_end(&target(&ctx)?, count, clients, executors).await.map(drop)
                    }
                    Bench::Longpoll { ctx, waiters, hold, pid } => {
                        bench::longpoll(&target(&ctx)?, waiters, hold, pid).await
                    }
                    Bench::Failover { rounds } => bench::failover(rounds).await,
                    Bench::History { processes, step } => bench_history::history(processes, step).await,
                }
            })?;
        }
        Command::Cluster(Cluster::Info(args)) => block_on(cluster::cluster_info(&args))?,
        Command::Server(Server::Status(ctx)) => block_on(user::server_status(&ctx))?,
        Command::Server(Server::Stats(ctx)) => block_on(user::server_stats(&ctx))?,
        Command::Server(Server::Ready(ctx)) => block_on(cluster::node_ready(&ctx))?,
        Command::Dev { ctx, args } => block_on(dev::run(&ctx, args))?,
        Command::Colony { ctx, command } => block_on(user::colony(&ctx, command))?,
        Command::Executor { ctx, command } => block_on(user::executor(&ctx, command))?,
        Command::Function { ctx, command } => block_on(user::function(&ctx, command))?,
        Command::Process { ctx, command } => block_on(user::process(&ctx, command))?,
        Command::Workflow { ctx, command } => block_on(user::workflow(&ctx, command))?,
        Command::Log { ctx, command } => block_on(user::log(&ctx, command))?,
        Command::Attribute { ctx, command } => block_on(user::attribute(&ctx, command))?,
        Command::User { ctx, command } => block_on(user::user(&ctx, command))?,
        Command::Cron { ctx, command } => block_on(cron::cron(&ctx, command))?,
        Command::Channel { ctx, command } => block_on(channel::channel(&ctx, command))?,
        Command::Generator { ctx, command } => block_on(cron::generator(&ctx, command))?,
        Command::Fs { ctx, command } => block_on(fs::fs(&ctx, command))?,
        Command::Location { ctx, command } => block_on(fs::location(&ctx, command))?,
        Command::Blueprint { ctx, command } => block_on(blueprint::blueprint(&ctx, command))?,
        Command::Server(Server::Start(config)) => {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
            let logs = tracing_subscriber::fmt().with_env_filter(filter);
            match config.log_format {
                colonies_node::config::LogFormat::Text => logs.init(),
                // The fields of each event at the top level, where log collectors look.
                colonies_node::config::LogFormat::Json => logs.json().flatten_event(true).init(),
            }
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            if let Err(e) = runtime.block_on(colonies_node::run(config)) {
                // Exit at once: dropping the runtime waits for blocking work, which a failed
                // store (a full disk) can hold for ever, leaving a node that said it stops
                // but never ends, so no supervisor restarts it.
                eprintln!("Error: running the server: {e}");
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
