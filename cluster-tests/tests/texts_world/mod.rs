//! The colony `error_texts.rs` sends its requests against: every object an error text can
//! be about, in the state that text needs.

mod blueprints;
pub mod cases;
mod files;
mod members;
mod processes;
mod workflows;

use crate::common::*;
use colonies_client::envelope::{Failure, RpcReply, RpcRequest};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::*;
use colonies_client::rpc::Client;
use colonies_statemachine::model::{
    Attribute, AttributeType, Colony, Conditions, Cron, Executor, Function, FunctionSpec, Generator, Process,
    ProcessGraph, User, WorkflowSpec,
};

/// Keys and ids of everything the table refers to.
pub struct World {
    pub server: PrivateKey,
    pub owner: PrivateKey,
    /// `dev-cli`, executortype `cli`.
    pub cli: PrivateKey,
    /// `dev-two`, executortype `two`; also `x2` in colony `other`.
    pub two: PrivateKey,
    /// The user `ada` of `dev`.
    pub ada: PrivateKey,
    pub stranger: PrivateKey,
    /// Assigned to `dev-cli`, running, with the attribute `k` (type out) and the channel `chat`.
    pub running: Process,
    /// Assigned to `dev-cli`, running; the one the per-process limits fill.
    pub bulk: Process,
    pub successful: Process,
    pub failed: Process,
    /// Assigned to `dev-cli`, then cancelled.
    pub cancelled: Process,
    pub waiting: Process,
    /// A graph whose root `dev-two` runs.
    pub running_graph: ProcessGraph,
    pub running_root: String,
    /// A graph whose only process waits for an executortype no executor has.
    pub waiting_graph: ProcessGraph,
    pub waiting_root: String,
    /// Of `dev-cli`.
    pub function: Function,
    /// `nightly`, by `dev-cli`, waits for its previous run, which it has started.
    pub cron: Cron,
    /// `batches`, by `dev-cli`.
    pub generator: Generator,
}

impl World {
    /// A world with no cluster behind it, for tests that only read the table's shape.
    pub fn placeholder() -> World {
        World {
            server: PrivateKey::generate(),
            owner: PrivateKey::generate(),
            cli: PrivateKey::generate(),
            two: PrivateKey::generate(),
            ada: PrivateKey::generate(),
            stranger: PrivateKey::generate(),
            running: Process::default(),
            bulk: Process::default(),
            successful: Process::default(),
            failed: Process::default(),
            cancelled: Process::default(),
            waiting: Process::default(),
            running_graph: ProcessGraph::default(),
            running_root: String::new(),
            waiting_graph: ProcessGraph::default(),
            waiting_root: String::new(),
            function: Function::default(),
            cron: Cron::default(),
            generator: Generator::default(),
        }
    }
}

/// A spec for colony `dev` and `executortype`.
pub fn spec(funcname: &str, executortype: &str) -> FunctionSpec {
    FunctionSpec {
        nodename: funcname.into(),
        conditions: Conditions { executortype: executortype.into(), ..dev_spec(funcname).conditions },
        ..dev_spec(funcname)
    }
}

/// The workflow text of crons and generators: one function no executor runs.
pub fn idle_workflow() -> String {
    let workflow = WorkflowSpec { colonyname: "dev".into(), functionspecs: vec![spec("idle", "none")] };
    serde_json::to_string(&workflow).unwrap()
}

pub fn nightly(name: &str) -> Cron {
    Cron {
        colonyname: "dev".into(),
        name: name.into(),
        interval: 3_600,
        workflowspec: idle_workflow(),
        waitforprevprocessgraph: true,
        ..Cron::default()
    }
}

pub fn batches(name: &str) -> Generator {
    Generator {
        colonyname: "dev".into(),
        name: name.into(),
        workflowspec: idle_workflow(),
        trigger: 10,
        timeout: 3_600,
        ..Generator::default()
    }
}

pub fn attribute(targetid: &str, key: &str) -> Attribute {
    Attribute {
        targetid: targetid.into(),
        targetcolonyname: "dev".into(),
        attributetype: AttributeType::Out,
        key: key.into(),
        value: "v".into(),
        ..Attribute::default()
    }
}

/// A request signed by `key`, as sent: (HTTP status, reply).
pub async fn send_raw(addr: &str, request: &RpcRequest) -> (u16, Result<Vec<u8>, Failure>) {
    let answer = reqwest::Client::new().post(format!("http://{addr}/api")).json(request).send().await.unwrap();
    let status = answer.status().as_u16();
    let reply: RpcReply = answer.json().await.unwrap();
    (status, reply.into_result())
}

async fn assign(client: &Client, key: &PrivateKey) -> Process {
    let message = AssignProcessMsg { colonyname: "dev".into(), timeout: 10, ..Default::default() };
    client.call(key, message).await.unwrap()
}

async fn workflow(client: &Client, key: &PrivateKey, specs: Vec<FunctionSpec>) -> ProcessGraph {
    let spec = WorkflowSpec { colonyname: "dev".into(), functionspecs: specs };
    client.call(key, SubmitWorkflowSpecMsg { spec: Some(spec) }).await.unwrap()
}

pub async fn build(client: &Client) -> World {
    let (server, owner, cli) = (key(SERVER_KEY), key(COLONY_KEY), key(EXECUTOR_KEY));
    let (two, ada, stranger) = (PrivateKey::generate(), PrivateKey::generate(), PrivateKey::generate());
    add_dev_colony(client).await;
    add_executor(client, &two, "dev-two", "two").await;
    let pending = Executor {
        executorid: PrivateKey::generate().id(),
        executorname: "pending".into(),
        executortype: "cli".into(),
        colonyname: "dev".into(),
        ..Executor::default()
    };
    let _: Executor = client.call(&owner, AddExecutorMsg { executor: Some(pending) }).await.unwrap();
    let user = User { colonyname: "dev".into(), userid: ada.id(), name: "ada".into(), ..User::default() };
    let _: User = client.call(&owner, AddUserMsg { user: Some(user) }).await.unwrap();
    // Colony `other`, where dev-two's key is the executor x2: a member of both colonies.
    let other_owner = PrivateKey::generate();
    let other = Colony { colonyid: other_owner.id(), name: "other".into() };
    let _: Colony = client.call(&server, AddColonyMsg { colony: Some(other) }).await.unwrap();
    let x2 = Executor {
        executorid: two.id(),
        executorname: "x2".into(),
        executortype: "two".into(),
        colonyname: "other".into(),
        ..Executor::default()
    };
    let _: Executor = client.call(&other_owner, AddExecutorMsg { executor: Some(x2) }).await.unwrap();
    let approve = ApproveExecutorMsg { colonyname: "other".into(), executorname: "x2".into() };
    client.send(&other_owner, &approve.into()).await.unwrap();

    let function = Function {
        executorname: "dev-cli".into(),
        executortype: "cli".into(),
        colonyname: "dev".into(),
        funcname: "echo".into(),
        ..Function::default()
    };
    let function: Function = client.call(&cli, AddFunctionMsg { fun: Some(function) }).await.unwrap();

    // Assigned oldest first: each assign takes the next of these.
    let mut taken = Vec::new();
    for name in ["successful", "failed", "cancelled", "running", "bulk"] {
        let mut spec = dev_spec(name);
        if name == "running" {
            spec.channels = vec!["chat".into()];
        }
        let _: Process = client.call(&cli, SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap();
    }
    for _ in 0..5 {
        taken.push(assign(client, &cli).await);
    }
    let [successful, failed, cancelled, running, bulk] = taken.try_into().unwrap();
    let close = CloseSuccessfulMsg { processid: successful.processid.clone(), out: vec![] };
    client.send(&cli, &close.into()).await.unwrap();
    let fail = CloseFailedMsg { processid: failed.processid.clone(), errors: vec!["no".into()] };
    client.send(&cli, &fail.into()).await.unwrap();
    client.send(&cli, &CancelProcessMsg { processid: cancelled.processid.clone() }.into()).await.unwrap();
    let _: Attribute =
        client.call(&cli, AddAttributeMsg { attribute: Some(attribute(&running.processid, "k")) }).await.unwrap();
    let waiting: Process = client.call(&cli, SubmitFunctionSpecMsg { spec: Some(dev_spec("waiting")) }).await.unwrap();

    let leaf = FunctionSpec {
        conditions: Conditions { dependencies: vec!["root".into()], ..spec("leaf", "two").conditions },
        ..spec("leaf", "two")
    };
    let running_graph = workflow(client, &cli, vec![spec("root", "two"), leaf]).await;
    let running_root = assign(client, &two).await.processid;
    let waiting_graph = workflow(client, &cli, vec![spec("idle", "none")]).await;
    let message = GetProcessGraphMsg { processgraphid: waiting_graph.processgraphid.clone() };
    let stored: ProcessGraph = client.call(&cli, message).await.unwrap();
    let waiting_root = stored.processids[0].clone();

    let cron: Cron = client.call(&cli, AddCronMsg { cron: Some(nightly("nightly")) }).await.unwrap();
    let cron: Cron = client.call(&cli, RunCronMsg { cronid: cron.cronid }).await.unwrap();
    let generator: Generator =
        client.call(&cli, AddGeneratorMsg { generator: Some(batches("batches")) }).await.unwrap();
    add_blueprints(client, &owner, &cli).await;
    let world = World {
        server,
        owner,
        cli,
        two,
        ada,
        stranger,
        running,
        bulk,
        successful,
        failed,
        cancelled,
        waiting,
        running_graph,
        running_root,
        waiting_graph,
        waiting_root,
        function,
        cron,
        generator,
    };
    files::build(client, &world).await;
    world
}

/// The blueprints the table's rows are about (`blueprints.rs`).
async fn add_blueprints(client: &Client, owner: &PrivateKey, cli: &PrivateKey) {
    use blueprints::{blueprint, definition};
    use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition};
    use serde_json::json;
    for (name, kind, handler) in
        [("deployments", "Deployment", json!({"executorType": "none"})), ("bare", "Bare", json!({}))]
    {
        let message = AddBlueprintDefinitionMsg { blueprintdefinition: Some(definition(name, kind, handler)) };
        let _: BlueprintDefinition = client.call(owner, message).await.unwrap();
    }
    let web = Blueprint { blueprintid: "bp-web".into(), ..blueprint("web", "Deployment", json!({"image": "nginx"})) };
    for blueprint in [web, blueprint("bare", "Bare", json!({"image": "x"}))] {
        let _: Blueprint = client.call(cli, AddBlueprintMsg { blueprint: Some(blueprint) }).await.unwrap();
    }
}
