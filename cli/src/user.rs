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

    pub fn client(&self) -> Client {
        Client::new(self.addresses())
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
        Ok(self.client().call(&key, message).await?)
    }

    pub(crate) async fn send(&self, role: Role, message: impl Into<Message>) -> anyhow::Result<()> {
        let key = self.key(role)?;
        self.client().send(&key, &message.into()).await?;
        Ok(())
    }
}

/// What a command acts on, by name.
#[derive(clap::Args)]
pub struct Named {
    #[arg(long)]
    name: String,
}

#[derive(clap::Subcommand)]
pub enum ColonyCmd {
    /// Add a colony (server owner).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        colonyid: String,
    },
    /// List colonies (server owner).
    Ls,
    /// Show a colony.
    #[command(alias = "check")]
    Get(Named),
    /// Remove a colony (server owner).
    Remove(Named),
    /// Process and workflow counts of the colony.
    Stats,
}

#[derive(clap::Subcommand)]
pub enum ExecutorCmd {
    /// Register an executor in the colony (colony owner).
    Add {
        #[arg(long)]
        executorid: String,
        #[arg(long)]
        name: String,
        #[arg(long = "type")]
        executortype: String,
        #[arg(long)]
        approve: bool,
    },
    /// Generate a key for a new executor, register it (colony owner) and print the key.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "type")]
        executortype: String,
        #[arg(long)]
        approve: bool,
        /// Write the private key to this file instead of printing it.
        #[arg(long)]
        keypath: Option<std::path::PathBuf>,
        /// Write the executor id to this file as well.
        #[arg(long)]
        idpath: Option<std::path::PathBuf>,
    },
    Approve(Named),
    Reject(Named),
    Remove(Named),
    Ls {
        /// Also list unregistered executors.
        #[arg(long)]
        all: bool,
        /// Only executors of this type.
        #[arg(long = "type")]
        executortype: Option<String>,
    },
    Get(Named),
    /// Run a built-in OS executor: runs `funcname args...` as a child process.
    Start(crate::executor::ExecutorArgs),
    /// The same, under the name other executors use.
    #[command(subcommand)]
    Os(OsCmd),
}

#[derive(clap::Subcommand)]
pub enum OsCmd {
    Start(crate::executor::ExecutorArgs),
}

/// Limits of a spec built on the command line.
#[derive(clap::Args)]
pub struct Limits {
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    maxwaittime: i64,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    maxexectime: i64,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    maxretries: i64,
    #[arg(long, default_value_t = 0)]
    priority: i64,
    #[arg(long, default_value = "")]
    label: String,
}

/// Waiting for a submitted process.
#[derive(clap::Args)]
pub struct Wait {
    /// Wait until the process ends.
    #[arg(long)]
    wait: bool,
    /// With --wait, print its output only.
    #[arg(long)]
    out: bool,
    /// Print the process's log lines as they are added, until it ends.
    #[arg(long)]
    follow: bool,
}

#[derive(clap::Subcommand)]
pub enum FunctionCmd {
    /// Submit a function spec from a JSON file.
    Submit {
        #[arg(long)]
        spec: std::path::PathBuf,
        #[command(flatten)]
        wait: Wait,
    },
    /// Submit a function call built from flags.
    Exec {
        #[arg(long)]
        func: String,
        #[arg(long, value_delimiter = ',')]
        args: Vec<String>,
        /// `key:value`, comma separated.
        #[arg(long, value_delimiter = ',')]
        kwargs: Vec<String>,
        /// `KEY=value`, comma separated.
        #[arg(long, value_delimiter = ',')]
        env: Vec<String>,
        #[arg(long)]
        targettype: String,
        #[command(flatten)]
        limits: Limits,
        #[command(flatten)]
        wait: Wait,
    },
    /// Tell the colony that an executor (yours) offers a function.
    Register {
        /// The executor's name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        func: String,
    },
    /// Functions registered in the colony.
    Ls,
    Remove {
        #[arg(long)]
        functionid: String,
    },
}

/// Listing filters shared by the ps commands.
#[derive(clap::Args)]
pub struct Listing {
    #[arg(long, default_value_t = 20)]
    count: i64,
    #[arg(long, default_value = "")]
    executortype: String,
    #[arg(long, default_value = "")]
    label: String,
    #[arg(long, default_value = "")]
    initiator: String,
}

#[derive(clap::Subcommand)]
pub enum ProcessCmd {
    /// Running processes.
    Ps(Listing),
    /// Waiting processes.
    Psw(Listing),
    /// Successful processes.
    Pss(Listing),
    /// Failed processes.
    Psf(Listing),
    /// Cancelled processes.
    Psc(Listing),
    Get {
        #[arg(short = 'p', long)]
        processid: String,
        /// Print the output only.
        #[arg(long)]
        out: bool,
    },
    Remove {
        #[arg(short = 'p', long)]
        processid: String,
    },
    /// Remove every process of the colony (or those in one state); asks for YES.
    Removeall(StateChoice),
    /// Wait for a process to be assigned to you (an approved executor) and print it.
    Assign {
        /// Seconds to wait.
        #[arg(long, default_value_t = 100)]
        timeout: i64,
    },
    /// Cancel a waiting or running process.
    Cancel {
        #[arg(short = 'p', long)]
        processid: String,
    },
    /// Stop handing out processes of the colony (colony owner).
    Pause,
    /// Hand out processes of the colony again (colony owner).
    Resume,
    /// Whether assignments of the colony are paused.
    Status,
    /// Close a process assigned to you as successful.
    Close {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long, value_delimiter = ',')]
        out: Vec<String>,
    },
    /// Close a process assigned to you as failed.
    Fail {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long, value_delimiter = ',')]
        errors: Vec<String>,
    },
}

#[derive(clap::Subcommand)]
pub enum WorkflowCmd {
    /// Submit a workflow: a JSON array of function specs with nodename and dependencies.
    Submit {
        #[arg(long)]
        spec: std::path::PathBuf,
    },
    Get {
        #[arg(long)]
        workflowid: String,
    },
    Ps(GraphListing),
    Psw(GraphListing),
    Pss(GraphListing),
    Psf(GraphListing),
    Psc(GraphListing),
    Cancel {
        #[arg(long)]
        workflowid: String,
    },
    Remove {
        #[arg(long)]
        workflowid: String,
    },
    /// Remove every workflow of the colony (or those in one state); asks for YES.
    Removeall(StateChoice),
}

/// The state a removeall is limited to; none means every state.
#[derive(clap::Args)]
pub struct StateChoice {
    #[arg(long)]
    waiting: bool,
    #[arg(long)]
    successful: bool,
    #[arg(long)]
    failed: bool,
    #[arg(long)]
    cancelled: bool,
}

impl StateChoice {
    fn state(&self) -> i64 {
        match (self.waiting, self.successful, self.failed, self.cancelled) {
            (true, ..) => 0,
            (_, true, ..) => 2,
            (_, _, true, _) => 3,
            (.., true) => 4,
            _ => -1,
        }
    }
}

/// Asks on stdin before a bulk removal.
fn confirm(what: &str) -> anyhow::Result<()> {
    eprint!("Remove {what}? Type YES: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "YES" {
        bail!("not removed");
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct GraphListing {
    #[arg(long, default_value_t = 20)]
    count: i64,
}

#[derive(clap::Subcommand)]
pub enum LogCmd {
    /// Log lines of a process, or of an executor with -e.
    Get {
        #[arg(short = 'p', long, default_value = "")]
        processid: String,
        #[arg(short = 'e', long, default_value = "")]
        executorname: String,
        #[arg(long, default_value_t = 100)]
        count: i64,
        /// Only lines after this time (Unix nanoseconds), oldest first.
        #[arg(long, default_value_t = 0)]
        since: i64,
        /// Keep printing the process's new lines until it ends.
        #[arg(long)]
        follow: bool,
    },
    Add {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(short = 'm', long)]
        msg: String,
    },
    /// Log lines of the colony that contain a text.
    Search {
        #[arg(short = 't', long)]
        text: String,
        #[arg(short = 'd', long, default_value_t = 1)]
        days: i64,
        #[arg(long, default_value_t = 10)]
        count: i64,
    },
}

#[derive(clap::Subcommand)]
pub enum UserCmd {
    /// Add a user to the colony (colony owner).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        userid: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        phone: String,
    },
    Ls,
    Get(Named),
    /// Remove a user (colony owner).
    Remove(Named),
}

#[derive(clap::Subcommand)]
pub enum AttributeCmd {
    Add {
        #[arg(short = 'p', long)]
        processid: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        value: String,
    },
    Get {
        #[arg(long)]
        attributeid: String,
    },
}

/// Prints rows as aligned columns under a header.
pub(crate) fn say(text: String) -> anyhow::Result<()> {
    println!("{text}");
    Ok(())
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A JSON object as FIELD/VALUE rows, for records without a table of their own.
pub(crate) fn show_fields<T: Serialize>(ctx: &Ctx, record: &T) -> anyhow::Result<()> {
    if ctx.json {
        return print_json(record);
    }
    let rows = match serde_json::to_value(record)? {
        serde_json::Value::Object(fields) => fields
            .into_iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(text) => vec![name, text],
                other => vec![name, other.to_string()],
            })
            .collect(),
        other => vec![vec!["value".into(), other.to_string()]],
    };
    table(&["FIELD", "VALUE"], rows);
    Ok(())
}

fn values(list: &[colonies_statemachine::json::Json]) -> String {
    let shown: Vec<String> = list
        .iter()
        .map(|v| match &v.0 {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    shown.join(", ")
}

fn state_name(state: colonies_statemachine::model::ProcessState) -> &'static str {
    use colonies_statemachine::model::ProcessState::*;
    match state {
        Waiting => "WAITING",
        Running => "RUNNING",
        Success => "SUCCESS",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
    }
}

fn show_processes(ctx: &Ctx, processes: &[Process]) -> anyhow::Result<()> {
    if ctx.json {
        return print_json(&processes);
    }
    let rows = processes
        .iter()
        .map(|p| {
            vec![
                p.processid.clone(),
                p.spec.funcname.clone(),
                values(&p.spec.args),
                p.spec.conditions.executortype.clone(),
                state_name(p.state).to_string(),
                p.submissiontime.to_rfc3339(),
            ]
        })
        .collect();
    table(&["ID", "FUNCNAME", "ARGS", "EXECUTORTYPE", "STATE", "SUBMISSION TIME"], rows);
    Ok(())
}

fn show_process(ctx: &Ctx, process: &Process, out_only: bool) -> anyhow::Result<()> {
    if ctx.json {
        return print_json(process);
    }
    if out_only {
        println!("{}", values(&process.out));
        return Ok(());
    }
    let rows = vec![
        vec!["ID".into(), process.processid.clone()],
        vec!["FuncName".into(), process.spec.funcname.clone()],
        vec!["Args".into(), values(&process.spec.args)],
        vec!["State".into(), state_name(process.state).into()],
        vec!["ExecutorType".into(), process.spec.conditions.executortype.clone()],
        vec!["AssignedExecutorID".into(), process.assignedexecutorid.clone()],
        vec!["SubmissionTime".into(), process.submissiontime.to_rfc3339()],
        vec!["StartTime".into(), process.starttime.to_rfc3339()],
        vec!["EndTime".into(), process.endtime.to_rfc3339()],
        vec!["Retries".into(), process.retries.to_string()],
        vec!["Output".into(), values(&process.out)],
        vec!["Errors".into(), process.errors.join(", ")],
    ];
    table(&["FIELD", "VALUE"], rows);
    Ok(())
}

/// Reads a spec file, naming the file and the field when it is wrong.
pub(crate) fn read_spec<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let deserializer = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let field = e.path().to_string();
        anyhow::anyhow!("{}: field `{field}`: {}", path.display(), e.inner())
    })
}

/// The CLI's rules for a spec: limits of 0 mean none, the colony defaults to ours.
pub(crate) fn complete(ctx: &Ctx, mut spec: FunctionSpec) -> anyhow::Result<FunctionSpec> {
    if spec.maxwaittime == 0 {
        spec.maxwaittime = -1;
    }
    if spec.maxexectime == 0 {
        spec.maxexectime = -1;
    }
    if spec.conditions.colonyname.is_empty() {
        spec.conditions.colonyname = ctx.colony()?;
    }
    Ok(spec)
}

async fn submit_and_wait(ctx: &Ctx, spec: FunctionSpec, wait: &Wait) -> anyhow::Result<()> {
    let process: Process = ctx.call(Role::Caller, SubmitFunctionSpecMsg { spec: Some(spec) }).await?;
    if wait.follow {
        let done = follow_logs(ctx, &process.processid, 0).await?;
        return if wait.wait { show_process(ctx, &done, wait.out) } else { Ok(()) };
    }
    if !wait.wait {
        return if ctx.json { print_json(&process) } else { say(process.processid) };
    }
    let done = wait_until_done(ctx, &process.processid, Duration::from_secs(24 * 3600)).await?;
    show_process(ctx, &done, wait.out)
}

fn print_log_lines(logs: &[Log]) {
    for log in logs {
        print!("{}", log.message);
        if !log.message.ends_with('\n') {
            println!();
        }
    }
}

/// Prints a process's log lines newer than `since` as they arrive, until the process has
/// ended and its last lines are printed; returns the ended process.
async fn follow_logs(ctx: &Ctx, processid: &str, mut since: i64) -> anyhow::Result<Process> {
    use colonies_statemachine::model::ProcessState::{Cancelled, Failed, Success};
    let colonyname = ctx.colony()?;
    loop {
        // Read the state first: lines added before it ended are then all in the next read.
        let process: Process = ctx.call(Role::Caller, GetProcessMsg { processid: processid.into() }).await?;
        loop {
            let message = GetLogsMsg {
                colonyname: colonyname.clone(),
                processid: processid.into(),
                count: 500,
                since,
                ..GetLogsMsg::default()
            };
            let logs: Vec<Log> = ctx.call(Role::Caller, message).await?;
            print_log_lines(&logs);
            match logs.last() {
                Some(last) if logs.len() == 500 => since = last.timestamp,
                Some(last) => {
                    since = last.timestamp;
                    break;
                }
                None => break,
            }
        }
        if matches!(process.state, Success | Failed | Cancelled) {
            return Ok(process);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until a process has ended, told by the `/pubsub` websocket as the reference CLI
/// does; reading the process again after each subscription covers a node going away, an
/// expired subscription and an end the subscription did not ask about.
pub async fn wait_until_done(ctx: &Ctx, processid: &str, limit: Duration) -> anyhow::Result<Process> {
    use colonies_statemachine::model::ProcessState::{Cancelled, Failed, Success};
    const SUBSCRIPTION_SECONDS: i64 = 100;
    let key = ctx.key(Role::Caller)?;
    let client = ctx.client();
    let begun = Instant::now();
    loop {
        let process: Process = client.call(&key, GetProcessMsg { processid: processid.into() }).await?;
        if matches!(process.state, Success | Failed | Cancelled) {
            return Ok(process);
        }
        if begun.elapsed() > limit {
            bail!("process {processid} did not end within {limit:?}");
        }
        let subscribe = |state: colonies_statemachine::model::ProcessState| {
            let message = SubscribeProcessMsg {
                colonyname: process.spec.conditions.colonyname.clone(),
                processid: processid.into(),
                executortype: process.spec.conditions.executortype.clone(),
                state: state.code(),
                timeout: SUBSCRIPTION_SECONDS,
            };
            client.subscribe_process(&key, message)
        };
        let heard = tokio::select! {
            heard = subscribe(Success) => heard,
            heard = subscribe(Failed) => heard,
            heard = subscribe(Cancelled) => heard,
        };
        match heard {
            Ok(Some(ended)) => return Ok(ended),
            Ok(None) => {}
            Err(refused @ colonies_client::rpc::ClientError::Server(_)) => return Err(refused.into()),
            // No node took the websocket: read again after a pause, as a poll.
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn pairs(items: &[String], separator: char, flag: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| {
            item.split_once(separator)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("--{flag} {item}: expected KEY{separator}VALUE"))
        })
        .collect()
}

pub async fn colony(ctx: &Ctx, command: ColonyCmd) -> anyhow::Result<()> {
    match command {
        ColonyCmd::Add { name, colonyid } => {
            let colony: Colony =
                ctx.call(Role::ServerOwner, AddColonyMsg { colony: Some(Colony { colonyid, name }) }).await?;
            if ctx.json { print_json(&colony) } else { say(format!("Colony {} added", colony.name)) }
        }
        ColonyCmd::Ls => {
            let colonies: Vec<Colony> = ctx.call(Role::ServerOwner, GetColoniesMsg {}).await?;
            if ctx.json {
                return print_json(&colonies);
            }
            table(&["NAME", "COLONYID"], colonies.into_iter().map(|c| vec![c.name, c.colonyid]).collect());
            Ok(())
        }
        ColonyCmd::Get(Named { name }) => {
            let colony: Colony = ctx.call(Role::Caller, GetColonyMsg { colonyname: name }).await?;
            if ctx.json {
                print_json(&colony)
            } else {
                {
                    table(&["NAME", "COLONYID"], vec![vec![colony.name, colony.colonyid]]);
                    Ok(())
                }
            }
        }
        ColonyCmd::Remove(Named { name }) => {
            ctx.send(Role::ServerOwner, RemoveColonyMsg { colonyname: name.clone() }).await?;
            say(format!("Colony {name} removed"))
        }
        ColonyCmd::Stats => {
            let stats: Statistics = ctx.call(Role::Caller, GetColonyStatsMsg { colonyname: ctx.colony()? }).await?;
            show_fields(ctx, &stats)
        }
    }
}

/// `server stats`: counts over every colony (server owner).
pub async fn server_stats(ctx: &Ctx) -> anyhow::Result<()> {
    let stats: Statistics = ctx.call(Role::ServerOwner, GetStatisticsMsg {}).await?;
    show_fields(ctx, &stats)
}

/// Registers an executor with the colony owner's key, approving it when asked.
async fn register_executor(
    ctx: &Ctx,
    executorid: String,
    name: &str,
    executortype: String,
    approve: bool,
) -> anyhow::Result<Executor> {
    let colonyname = ctx.colony()?;
    let executor = Executor {
        executorid,
        executortype,
        executorname: name.to_string(),
        colonyname: colonyname.clone(),
        ..Executor::default()
    };
    let added: Executor = ctx.call(Role::ColonyOwner, AddExecutorMsg { executor: Some(executor) }).await?;
    if approve {
        ctx.send(Role::ColonyOwner, ApproveExecutorMsg { colonyname, executorname: name.to_string() }).await?;
    }
    Ok(added)
}

/// Writes a secret so only its owner can read it.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

pub async fn executor(ctx: &Ctx, command: ExecutorCmd) -> anyhow::Result<()> {
    let colonyname = ctx.colony()?;
    match command {
        ExecutorCmd::Add { executorid, name, executortype, approve } => {
            let added = register_executor(ctx, executorid, &name, executortype, approve).await?;
            if ctx.json { print_json(&added) } else { say(format!("Executor {name} added")) }
        }
        ExecutorCmd::Create { name, executortype, approve, keypath, idpath } => {
            let key = PrivateKey::generate();
            let added = register_executor(ctx, key.id(), &name, executortype, approve).await?;
            if let Some(path) = &idpath {
                std::fs::write(path, key.id()).with_context(|| format!("writing {}", path.display()))?;
            }
            match &keypath {
                Some(path) => write_private(path, &key.to_hex())?,
                None if ctx.json => {
                    return print_json(&serde_json::json!({ "executor": added, "prvkey": key.to_hex() }));
                }
                None => println!("PrvKey={}", key.to_hex()),
            }
            if ctx.json { print_json(&added) } else { say(format!("Executor {name} created, Id={}", key.id())) }
        }
        ExecutorCmd::Approve(Named { name }) => {
            ctx.send(Role::ColonyOwner, ApproveExecutorMsg { colonyname, executorname: name.clone() }).await?;
            say(format!("Executor {name} approved"))
        }
        ExecutorCmd::Reject(Named { name }) => {
            ctx.send(Role::ColonyOwner, RejectExecutorMsg { colonyname, executorname: name.clone() }).await?;
            say(format!("Executor {name} rejected"))
        }
        ExecutorCmd::Remove(Named { name }) => {
            ctx.send(Role::ColonyOwner, RemoveExecutorMsg { colonyname, executorname: name.clone() }).await?;
            say(format!("Executor {name} removed"))
        }
        ExecutorCmd::Ls { all, executortype } => {
            use colonies_statemachine::model::ExecutorState::Unregistered;
            let executors: Vec<Executor> = ctx.call(Role::Caller, GetExecutorsMsg { colonyname }).await?;
            let executors: Vec<Executor> = executors
                .into_iter()
                .filter(|e| all || e.state != Unregistered)
                .filter(|e| executortype.as_ref().is_none_or(|t| &e.executortype == t))
                .collect();
            if ctx.json {
                return print_json(&executors);
            }
            let rows = executors
                .into_iter()
                .map(|e| {
                    use colonies_statemachine::model::ExecutorState::*;
                    let state = match e.state {
                        Pending => "PENDING",
                        Approved => "APPROVED",
                        Rejected => "REJECTED",
                        Unregistered => "UNREGISTERED",
                    };
                    vec![e.executorname, e.executortype, state.into(), e.lastheardfromtime.to_rfc3339()]
                })
                .collect();
            table(&["NAME", "TYPE", "STATE", "LAST HEARD FROM"], rows);
            Ok(())
        }
        ExecutorCmd::Get(Named { name }) => {
            let executor: Executor = ctx.call(Role::Caller, GetExecutorMsg { colonyname, executorname: name }).await?;
            show_fields(ctx, &executor)
        }
        ExecutorCmd::Start(args) | ExecutorCmd::Os(OsCmd::Start(args)) => crate::executor::run(ctx, args).await,
    }
}

pub async fn function(ctx: &Ctx, command: FunctionCmd) -> anyhow::Result<()> {
    match command {
        FunctionCmd::Submit { spec, wait } => {
            let spec = complete(ctx, read_spec(&spec)?)?;
            submit_and_wait(ctx, spec, &wait).await
        }
        FunctionCmd::Exec { func, args, kwargs, env, targettype, limits, wait } => {
            let spec = FunctionSpec {
                funcname: func,
                // The reference CLI sends every argument as a string.
                args: args.into_iter().map(|a| serde_json::Value::String(a).into()).collect(),
                kwargs: pairs(&kwargs, ':', "kwargs")?
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v).into()))
                    .collect(),
                env: pairs(&env, '=', "env")?.into_iter().collect::<BTreeMap<_, _>>(),
                maxwaittime: limits.maxwaittime,
                maxexectime: limits.maxexectime,
                maxretries: limits.maxretries,
                priority: limits.priority,
                label: limits.label,
                conditions: Conditions { executortype: targettype, ..Conditions::default() },
                ..FunctionSpec::default()
            };
            submit_and_wait(ctx, complete(ctx, spec)?, &wait).await
        }
        FunctionCmd::Register { name, func } => {
            let function =
                Function { executorname: name, colonyname: ctx.colony()?, funcname: func, ..Function::default() };
            let added: Function = ctx.call(Role::Caller, AddFunctionMsg { fun: Some(function) }).await?;
            if ctx.json { print_json(&added) } else { say(format!("Function {} registered", added.functionid)) }
        }
        FunctionCmd::Ls => {
            let message = GetFunctionsMsg { colonyname: ctx.colony()?, executorname: String::new() };
            let functions: Vec<Function> = ctx.call(Role::Caller, message).await?;
            if ctx.json {
                return print_json(&functions);
            }
            let rows = functions
                .into_iter()
                .map(|f| vec![f.functionid, f.funcname, f.executorname, f.counter.to_string()])
                .collect();
            table(&["FUNCTIONID", "FUNCNAME", "EXECUTOR", "CALLS"], rows);
            Ok(())
        }
        FunctionCmd::Remove { functionid } => {
            ctx.send(Role::Caller, RemoveFunctionMsg { functionid: functionid.clone() }).await?;
            say(format!("Function {functionid} removed"))
        }
    }
}

async fn list_processes(ctx: &Ctx, state: i64, listing: Listing) -> anyhow::Result<()> {
    let message = GetProcessesMsg {
        colonyname: ctx.colony()?,
        count: listing.count,
        state,
        executortype: listing.executortype,
        label: listing.label,
        initiator: listing.initiator,
    };
    let processes: Vec<Process> = ctx.call(Role::Caller, message).await?;
    show_processes(ctx, &processes)
}

pub async fn process(ctx: &Ctx, command: ProcessCmd) -> anyhow::Result<()> {
    match command {
        ProcessCmd::Psw(listing) => list_processes(ctx, 0, listing).await,
        ProcessCmd::Ps(listing) => list_processes(ctx, 1, listing).await,
        ProcessCmd::Pss(listing) => list_processes(ctx, 2, listing).await,
        ProcessCmd::Psf(listing) => list_processes(ctx, 3, listing).await,
        ProcessCmd::Psc(listing) => list_processes(ctx, 4, listing).await,
        ProcessCmd::Get { processid, out } => {
            let process: Process = ctx.call(Role::Caller, GetProcessMsg { processid }).await?;
            show_process(ctx, &process, out)
        }
        ProcessCmd::Remove { processid } => {
            ctx.send(Role::Caller, RemoveProcessMsg { processid: processid.clone(), all: false }).await?;
            say(format!("Process {processid} removed"))
        }
        ProcessCmd::Removeall(choice) => {
            confirm(&format!("these processes of colony {}", ctx.colony()?))?;
            let message = RemoveAllProcessesMsg { colonyname: ctx.colony()?, state: choice.state() };
            ctx.send(Role::ColonyOwner, message).await?;
            say("Processes removed".into())
        }
        ProcessCmd::Assign { timeout } => {
            let message = AssignProcessMsg { colonyname: ctx.colony()?, timeout, ..AssignProcessMsg::default() };
            let process: Process = ctx.call(Role::Caller, message).await?;
            show_process(ctx, &process, false)
        }
        ProcessCmd::Cancel { processid } => {
            ctx.send(Role::Caller, CancelProcessMsg { processid: processid.clone() }).await?;
            say(format!("Process {processid} cancelled"))
        }
        ProcessCmd::Pause => {
            ctx.send(Role::ColonyOwner, PauseAssignmentsMsg { colonyname: ctx.colony()? }).await?;
            say(format!("Assignments of colony {} paused", ctx.colony()?))
        }
        ProcessCmd::Resume => {
            ctx.send(Role::ColonyOwner, ResumeAssignmentsMsg { colonyname: ctx.colony()? }).await?;
            say(format!("Assignments of colony {} resumed", ctx.colony()?))
        }
        ProcessCmd::Status => {
            let status: serde_json::Value =
                ctx.call(Role::Caller, GetPauseStatusMsg { colonyname: ctx.colony()? }).await?;
            if ctx.json {
                return print_json(&status);
            }
            let paused = status["ispaused"].as_bool().unwrap_or(false);
            say(format!("Assignments of colony {}: {}", ctx.colony()?, if paused { "paused" } else { "running" }))
        }
        ProcessCmd::Close { processid, out } => {
            let out = out.into_iter().map(|o| serde_json::Value::String(o).into()).collect();
            ctx.send(Role::Caller, CloseSuccessfulMsg { processid: processid.clone(), out }).await?;
            say(format!("Process {processid} closed as successful"))
        }
        ProcessCmd::Fail { processid, errors } => {
            let errors = if errors.is_empty() { vec!["No errors specified".to_string()] } else { errors };
            ctx.send(Role::Caller, CloseFailedMsg { processid: processid.clone(), errors }).await?;
            say(format!("Process {processid} closed as failed"))
        }
    }
}

async fn list_graphs(ctx: &Ctx, state: i64, listing: GraphListing) -> anyhow::Result<()> {
    let message = GetProcessGraphsMsg { colonyname: ctx.colony()?, count: listing.count, state };
    let graphs: Vec<ProcessGraph> = ctx.call(Role::Caller, message).await?;
    if ctx.json {
        return print_json(&graphs);
    }
    let rows = graphs
        .into_iter()
        .map(|g| vec![g.processgraphid, state_name(g.state).into(), g.submissiontime.to_rfc3339()])
        .collect();
    table(&["WORKFLOWID", "STATE", "SUBMISSION TIME"], rows);
    Ok(())
}

pub async fn workflow(ctx: &Ctx, command: WorkflowCmd) -> anyhow::Result<()> {
    match command {
        WorkflowCmd::Submit { spec } => {
            let functionspecs: Vec<FunctionSpec> = read_spec(&spec)?;
            let functionspecs = functionspecs.into_iter().map(|s| complete(ctx, s)).collect::<Result<_, _>>()?;
            let workflow = WorkflowSpec { colonyname: ctx.colony()?, functionspecs };
            let graph: ProcessGraph = ctx.call(Role::Caller, SubmitWorkflowSpecMsg { spec: Some(workflow) }).await?;
            if ctx.json { print_json(&graph) } else { say(graph.processgraphid) }
        }
        WorkflowCmd::Get { workflowid } => {
            let graph: ProcessGraph = ctx.call(Role::Caller, GetProcessGraphMsg { processgraphid: workflowid }).await?;
            if ctx.json {
                return print_json(&graph);
            }
            let mut processes = Vec::new();
            for processid in &graph.processids {
                processes.push(ctx.call(Role::Caller, GetProcessMsg { processid: processid.clone() }).await?);
            }
            println!("Workflow {} {}", graph.processgraphid, state_name(graph.state));
            show_processes(ctx, &processes)
        }
        WorkflowCmd::Psw(listing) => list_graphs(ctx, 0, listing).await,
        WorkflowCmd::Ps(listing) => list_graphs(ctx, 1, listing).await,
        WorkflowCmd::Pss(listing) => list_graphs(ctx, 2, listing).await,
        WorkflowCmd::Psf(listing) => list_graphs(ctx, 3, listing).await,
        WorkflowCmd::Psc(listing) => list_graphs(ctx, 4, listing).await,
        WorkflowCmd::Cancel { workflowid } => {
            ctx.send(Role::Caller, CancelProcessGraphMsg { processgraphid: workflowid.clone() }).await?;
            say(format!("Workflow {workflowid} cancelled"))
        }
        WorkflowCmd::Remove { workflowid } => {
            let message = RemoveProcessGraphMsg { processgraphid: workflowid.clone(), all: false };
            ctx.send(Role::Caller, message).await?;
            say(format!("Workflow {workflowid} removed"))
        }
        WorkflowCmd::Removeall(choice) => {
            confirm(&format!("these workflows of colony {}", ctx.colony()?))?;
            let message = RemoveAllProcessGraphsMsg { colonyname: ctx.colony()?, state: choice.state() };
            ctx.send(Role::ColonyOwner, message).await?;
            say("Workflows removed".into())
        }
    }
}

pub async fn log(ctx: &Ctx, command: LogCmd) -> anyhow::Result<()> {
    match command {
        LogCmd::Get { processid, executorname, count, since, follow } => {
            if follow {
                follow_logs(ctx, &processid, since).await?;
                return Ok(());
            }
            let message =
                GetLogsMsg { colonyname: ctx.colony()?, processid, executorname, count, since, latest: since == 0 };
            let logs: Vec<Log> = ctx.call(Role::Caller, message).await?;
            if ctx.json {
                return print_json(&logs);
            }
            print_log_lines(&logs);
            Ok(())
        }
        LogCmd::Add { processid, msg } => ctx.send(Role::Caller, AddLogMsg { processid, message: msg }).await,
        LogCmd::Search { text, days, count } => {
            let message = SearchLogsMsg { colonyname: ctx.colony()?, text, days, count };
            let logs: Vec<Log> = ctx.call(Role::Caller, message).await?;
            if ctx.json {
                return print_json(&logs);
            }
            let rows =
                logs.into_iter().map(|l| vec![l.processid, l.executorname, l.message.trim_end().to_string()]).collect();
            table(&["PROCESSID", "EXECUTOR", "MESSAGE"], rows);
            Ok(())
        }
    }
}

pub async fn user(ctx: &Ctx, command: UserCmd) -> anyhow::Result<()> {
    let colonyname = ctx.colony()?;
    match command {
        UserCmd::Add { name, userid, email, phone } => {
            let user = User { colonyname, userid, name: name.clone(), email, phone };
            let added: User = ctx.call(Role::ColonyOwner, AddUserMsg { user: Some(user) }).await?;
            if ctx.json { print_json(&added) } else { say(format!("User {name} added")) }
        }
        UserCmd::Ls => {
            let users: Vec<User> = ctx.call(Role::Caller, GetUsersMsg { colonyname }).await?;
            if ctx.json {
                return print_json(&users);
            }
            table(
                &["NAME", "USERID", "EMAIL", "PHONE"],
                users.into_iter().map(|u| vec![u.name, u.userid, u.email, u.phone]).collect(),
            );
            Ok(())
        }
        UserCmd::Get(Named { name }) => {
            let user: User = ctx.call(Role::Caller, GetUserMsg { colonyname, name }).await?;
            show_fields(ctx, &user)
        }
        UserCmd::Remove(Named { name }) => {
            ctx.send(Role::ColonyOwner, RemoveUserMsg { colonyname, name: name.clone() }).await?;
            say(format!("User {name} removed"))
        }
    }
}

pub async fn attribute(ctx: &Ctx, command: AttributeCmd) -> anyhow::Result<()> {
    let attribute: Attribute = match command {
        AttributeCmd::Add { processid, key, value } => {
            let process: Process = ctx.call(Role::Caller, GetProcessMsg { processid: processid.clone() }).await?;
            let attribute = Attribute {
                targetid: processid,
                targetcolonyname: process.spec.conditions.colonyname,
                targetprocessgraphid: process.processgraphid,
                attributetype: AttributeType::Out,
                key,
                value,
                ..Attribute::default()
            };
            ctx.call(Role::Caller, AddAttributeMsg { attribute: Some(attribute) }).await?
        }
        AttributeCmd::Get { attributeid } => ctx.call(Role::Caller, GetAttributeMsg { attributeid }).await?,
    };
    if ctx.json {
        return print_json(&attribute);
    }
    table(&["ID", "KEY", "VALUE"], vec![vec![attribute.attributeid, attribute.key, attribute.value]]);
    Ok(())
}

/// `server status`: the answering node's version and listeners (unsigned call).
pub async fn server_status(ctx: &Ctx) -> anyhow::Result<()> {
    let key = PrivateKey::generate();
    let info: ServerInfo = ctx.client().call(&key, GetServerInfoMsg {}).await?;
    if ctx.json {
        return print_json(&info);
    }
    println!("Server version {} ({}): ok", info.buildversion, ctx.addresses().join(", "));
    Ok(())
}
