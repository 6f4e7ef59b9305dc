//! Waiting for a submitted process: its end, and its log lines while it runs.

use super::*;

pub(super) async fn submit_and_wait(ctx: &Ctx, spec: FunctionSpec, wait: &Wait) -> anyhow::Result<()> {
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

pub(super) fn print_log_lines(logs: &[Log]) {
    for log in logs {
        print!("{}", log.message);
        if !log.message.ends_with('\n') {
            println!();
        }
    }
}

/// Prints a process's log lines newer than `since` as they arrive, until the process has
/// ended and its last lines are printed; returns the ended process.
pub(super) async fn follow_logs(ctx: &Ctx, processid: &str, mut since: i64) -> anyhow::Result<Process> {
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
    let client = ctx.client()?;
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
