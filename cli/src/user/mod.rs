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
use std::sync::{Arc, OnceLock};
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
    #[arg(skip)]
    client: SharedClient,
}

/// The client of a `Ctx`, made at its first call and reused after (its connections and its
/// idea of the leader with it). A copy of a context starts without one: it may have been
/// given other servers.
#[derive(Default)]
struct SharedClient(OnceLock<Arc<Client>>);

impl Clone for SharedClient {
    fn clone(&self) -> Self {
        SharedClient::default()
    }
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

    /// The same caller and colony, talking to other servers.
    pub fn with_servers(&self, servers: Vec<String>, tls: crate::tls::ClientTls) -> Ctx {
        Ctx { servers, tls, ..self.clone() }
    }

    pub fn client(&self) -> anyhow::Result<Arc<Client>> {
        if let Some(client) = self.client.0.get() {
            return Ok(client.clone());
        }
        let client = Arc::new(self.tls.client(self.addresses())?);
        Ok(self.client.0.get_or_init(|| client).clone())
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

    pub async fn call<M: Request>(&self, role: Role, message: M) -> anyhow::Result<M::Reply> {
        let key = self.key(role)?;
        Ok(self.client()?.call(&key, message).await?)
    }

    pub(crate) async fn send(&self, role: Role, message: impl Into<Message>) -> anyhow::Result<()> {
        let key = self.key(role)?;
        self.client()?.send(&key, &message.into()).await?;
        Ok(())
    }
}
