//! The `colonies` command line.

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
}

#[derive(Subcommand)]
enum Server {
    /// Start a node of a cluster; every node is started with the same --peers.
    Start(colonies_node::ServerConfig),
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
        Command::Server(Server::Start(config)) => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn")),
                )
                .init();
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(colonies_node::run(config)).context("running the server")?;
        }
    }
    Ok(())
}
