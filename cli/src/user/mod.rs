//! The user commands of the ColonyOS CLI (same command and flag names), talking to any node
//! of a cluster and failing over across the listed ones.

use anyhow::{Context, bail};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::*;
use colonies_client::rpc::Client;
use colonies_statemachine::model::{
    Attribute, AttributeType, Colony, Conditions, Executor, Function, FunctionSpec, Log, Process, ProcessGraph,
    Statistics, User, WorkflowSpec,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

pub(crate) use crate::table::table;

mod commands;
mod output;
mod run;
mod wait;

pub use commands::*;
pub(crate) use output::*;
pub use run::*;
pub use wait::*;

/// Where the cluster is and who is calling; every user command takes these.
#[derive(clap::Args, Clone)]
pub struct Ctx {
    /// Nodes of the cluster, `host:port`, comma separated; calls fail over across them.
    /// Without it, COLONIES_SERVER_HOST and COLONIES_SERVER_PORT name the one node.
    #[arg(long, env = "COLONIES_SERVER_ADDRS", value_delimiter = ',', global = true)]
    pub servers: Vec<String>,
    #[arg(long, env = "COLONIES_SERVER_HOST", default_value = "localhost", global = true)]
    pub host: String,
    #[arg(long, env = "COLONIES_SERVER_PORT", default_value_t = 50080, global = true)]
    pub port: u16,
    /// The colony most commands work in.
    #[arg(long, env = "COLONIES_COLONY_NAME", global = true, default_value = "")]
    pub colonyname: String,
    /// Key of the executor or user that signs ordinary calls.
    #[arg(long, env = "COLONIES_PRVKEY", hide_env_values = true, global = true)]
    pub prvkey: Option<String>,
    /// Key of the colony owner (executor admin, removeall).
    #[arg(long, env = "COLONIES_COLONY_PRVKEY", hide_env_values = true, global = true)]
    pub colonyprvkey: Option<String>,
    /// Key of the server owner (colonies, cluster info).
    #[arg(long, env = "COLONIES_SERVER_PRVKEY", hide_env_values = true, global = true)]
    pub serverprvkey: Option<String>,
    /// Print the spec's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub tls: crate::tls::ClientTls,
}

/// Which key signs a call.
#[derive(Clone, Copy)]
pub enum Role {
    Caller,
    ColonyOwner,
    ServerOwner,
}

impl Ctx {
    pub fn addresses(&self) -> Vec<String> {
        if self.servers.is_empty() { vec![format!("{}:{}", self.host, self.port)] } else { self.servers.clone() }
    }

    pub fn client(&self) -> anyhow::Result<Client> {
        self.tls.client(self.addresses())
    }

    pub fn key(&self, role: Role) -> anyhow::Result<PrivateKey> {
        let (hex, name) = match role {
            Role::Caller => (&self.prvkey, "COLONIES_PRVKEY (--prvkey)"),
            Role::ColonyOwner => (&self.colonyprvkey, "COLONIES_COLONY_PRVKEY (--colonyprvkey)"),
            Role::ServerOwner => (&self.serverprvkey, "COLONIES_SERVER_PRVKEY (--serverprvkey)"),
        };
        let hex = hex.as_deref().with_context(|| format!("no key: set {name}"))?;
        PrivateKey::from_hex(hex).with_context(|| format!("reading {name}"))
    }

    pub(crate) fn colony(&self) -> anyhow::Result<String> {
        if self.colonyname.is_empty() {
            bail!("no colony: set COLONIES_COLONY_NAME (--colonyname)");
        }
        Ok(self.colonyname.clone())
    }

    pub async fn call<T: DeserializeOwned>(&self, role: Role, message: impl Into<Message>) -> anyhow::Result<T> {
        let key = self.key(role)?;
        Ok(self.client()?.call(&key, message).await?)
    }

    pub(crate) async fn send(&self, role: Role, message: impl Into<Message>) -> anyhow::Result<()> {
        let key = self.key(role)?;
        self.client()?.send(&key, &message.into()).await?;
        Ok(())
    }
}
