//! The built-in OS executor: long-polls the cluster for processes of its type, runs
//! `funcname args...` as a child process with the spec's env, streams stdout as log lines,
//! and closes the process with the outcome.

use crate::user::{Ctx, Role};
use anyhow::Context;
use colonies_client::identity::PrivateKey;
use colonies_client::messages::{AddLogMsg, AssignProcessMsg, CloseFailedMsg, CloseSuccessfulMsg, Message};
use colonies_client::rpc::Client;
use colonies_statemachine::model::{Executor, Process};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(clap::Args, Clone)]
pub struct ExecutorArgs {
    #[arg(long, env = "COLONIES_EXECUTOR_NAME")]
    pub executorname: String,
    #[arg(long, env = "COLONIES_EXECUTOR_TYPE", default_value = "cli")]
    pub executortype: String,
    /// Processes run at once.
    #[arg(long, default_value_t = 1)]
    pub parallel: usize,
    /// Seconds each assign waits on the server for work.
    #[arg(long, default_value_t = 10)]
    pub timeout: i64,
}

/// With the colony owner's key at hand the executor registers itself under a fresh key;
/// otherwise it works with COLONIES_PRVKEY, which must already be an approved executor.
async fn identity(ctx: &Ctx, args: &ExecutorArgs, colonyname: &str) -> anyhow::Result<PrivateKey> {
    let Ok(owner) = ctx.key(Role::ColonyOwner) else {
        return ctx.key(Role::Caller).context("no executor key, and no colony key to register one");
    };
    let key = PrivateKey::generate();
    let executor = Executor {
        executorid: key.id(),
        executortype: args.executortype.clone(),
        executorname: args.executorname.clone(),
        colonyname: colonyname.to_string(),
        ..Executor::default()
    };
    ctx.client()?
        .add_approved_executor(&owner, executor)
        .await
        .with_context(|| format!("registering and approving executor {}", args.executorname))?;
    Ok(key)
}

pub async fn run(ctx: &Ctx, args: ExecutorArgs) -> anyhow::Result<()> {
    let colonyname = ctx.colonyname.clone();
    anyhow::ensure!(!colonyname.is_empty(), "no colony: set COLONIES_COLONY_NAME (--colonyname)");
    let key = Arc::new(identity(ctx, &args, &colonyname).await?);
    let client = ctx.client()?;
    eprintln!("executor {} ({}) waiting for work in colony {colonyname}", args.executorname, args.executortype);
    let workers: Vec<_> = (0..args.parallel.max(1))
        .map(|_| {
            let (client, key, colonyname, timeout) = (client.clone(), key.clone(), colonyname.clone(), args.timeout);
            tokio::spawn(async move { work(&client, &key, &colonyname, timeout).await })
        })
        .collect();
    let stop = tokio::signal::ctrl_c();
    tokio::select! {
        _ = stop => Ok(()),
        ended = futures_first(workers) => ended,
    }
}

/// Ends with the first worker that fails.
async fn futures_first(workers: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>) -> anyhow::Result<()> {
    for worker in workers {
        worker.await??;
    }
    Ok(())
}

async fn work(client: &Client, key: &PrivateKey, colonyname: &str, timeout: i64) -> anyhow::Result<()> {
    loop {
        let assign = AssignProcessMsg { colonyname: colonyname.into(), timeout, ..AssignProcessMsg::default() };
        let process: Process = match client.call(key, assign).await {
            Ok(process) => process,
            // Nothing to do within the timeout, or no leader for a while: ask again.
            Err(e) if e.status() == Some(404) || e.status().is_none() => continue,
            Err(e) => return Err(e.into()),
        };
        let outcome = execute(client, key, &process).await;
        let close: Message = match outcome {
            Ok(out) => CloseSuccessfulMsg { processid: process.processid.clone(), out }.into(),
            Err(error) => CloseFailedMsg { processid: process.processid.clone(), errors: vec![error] }.into(),
        };
        // A refused close means the attempt is no longer ours (requeued after its
        // maxexectime): the new attempt's executor owns the result.
        if let Err(e) = client.send(key, &close).await {
            eprintln!("process {}: not closed: {e}", process.processid);
        }
    }
}

fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs the process's function; its stdout lines are the output.
async fn execute(
    client: &Client,
    key: &PrivateKey,
    process: &Process,
) -> Result<Vec<colonies_statemachine::json::Json>, String> {
    let spec = &process.spec;
    let mut command = tokio::process::Command::new(&spec.funcname);
    command
        .args(spec.args.iter().map(|a| text_of(&a.0)))
        .envs(&spec.env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| format!("cannot run {}: {e}", spec.funcname))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let processid = process.processid.clone();
    let run = async {
        let mut lines = BufReader::new(stdout).lines();
        let mut out = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            let log = AddLogMsg { processid: processid.clone(), message: format!("{line}\n") };
            let _ = client.send(key, &log.into()).await;
            out.push(serde_json::Value::String(line).into());
        }
        let mut errors = String::new();
        let mut stderr_lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = stderr_lines.next_line().await {
            errors.push_str(&line);
            errors.push('\n');
        }
        let status = child.wait().await.map_err(|e| e.to_string())?;
        if status.success() {
            Ok(out)
        } else {
            Err(format!("{} exited with {status}: {}", spec.funcname, errors.trim()))
        }
    };
    if spec.maxexectime > 0 {
        // Past maxexectime the server requeues the process; the child must not go on.
        match tokio::time::timeout(Duration::from_secs(spec.maxexectime as u64), run).await {
            Ok(result) => result,
            Err(_) => Err(format!("{} stopped after maxexectime {} s", spec.funcname, spec.maxexectime)),
        }
    } else {
        run.await
    }
}
