//! Helpers shared by the cluster tests.
#![allow(dead_code)]

use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AddColonyMsg, GetColoniesMsg};
use colonies_client::rpc::Client;
use colonies_cluster_tests::Cluster;
use colonies_statemachine::model::{Colony, Conditions, Executor, FunctionSpec};
use std::time::Duration;

pub const SERVER_KEY: &str = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d";
pub const COLONY_KEY: &str = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514";
pub const EXECUTOR_KEY: &str = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05";
pub const SECRET: &str = "cluster-tests-secret";
pub const STARTUP: Duration = Duration::from_secs(30);

/// The cluster tests share two cores; one cluster at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn key(hex: &str) -> PrivateKey {
    PrivateKey::from_hex(hex).unwrap()
}

pub fn started_cluster(args: &[&str]) -> Cluster {
    let mut cluster = Cluster::start_with(3, args);
    cluster.wait_healthy(STARTUP);
    cluster.wait_leader(STARTUP);
    cluster
}

pub async fn add_colony(client: &Client, name: &str) -> Result<Colony, colonies_client::rpc::ClientError> {
    let colony = Colony { colonyid: key(COLONY_KEY).id(), name: name.into() };
    client.call(&key(SERVER_KEY), AddColonyMsg { colony: Some(colony) }).await
}

pub async fn colony_names(client: &Client) -> Vec<String> {
    let colonies: Vec<Colony> = client.call(&key(SERVER_KEY), GetColoniesMsg {}).await.unwrap();
    colonies.into_iter().map(|c| c.name).collect()
}

/// Colony `dev` with the approved executor `dev-cli` (of the dev executor key).
pub async fn add_dev_colony(client: &Client) {
    add_colony(client, "dev").await.unwrap();
    add_executor(client, &key(EXECUTOR_KEY), "dev-cli", "cli").await;
}

/// Adds and approves an executor of `dev`.
pub async fn add_executor(client: &Client, executor_key: &PrivateKey, name: &str, kind: &str) {
    let executor = Executor {
        executorid: executor_key.id(),
        executorname: name.into(),
        executortype: kind.into(),
        colonyname: "dev".into(),
        ..Executor::default()
    };
    client.add_approved_executor(&key(COLONY_KEY), executor).await.unwrap();
}

/// A spec for colony `dev` and executortype `cli`, without time limits or retry cap.
pub fn dev_spec(funcname: &str) -> FunctionSpec {
    FunctionSpec {
        funcname: funcname.into(),
        maxwaittime: -1,
        maxexectime: -1,
        maxretries: -1,
        conditions: Conditions { colonyname: "dev".into(), executortype: "cli".into(), ..Conditions::default() },
        ..FunctionSpec::default()
    }
}
