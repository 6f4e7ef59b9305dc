//! What each user command does.

use super::*;
use colonies_node::build_info::{BUILD_TIME, BUILD_VERSION};

pub(super) fn pairs(items: &[String], separator: char, flag: &str) -> anyhow::Result<Vec<(String, String)>> {
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
pub(super) async fn register_executor(
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
    if approve {
        Ok(ctx.client()?.add_approved_executor(&ctx.key(Role::ColonyOwner)?, executor).await?)
    } else {
        ctx.call(Role::ColonyOwner, AddExecutorMsg { executor: Some(executor) }).await
    }
}

/// Writes a secret so only its owner can read it.
pub(super) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
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

pub(super) async fn list_processes(ctx: &Ctx, state: i64, listing: Listing) -> anyhow::Result<()> {
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
            let status = ctx.call(Role::Caller, GetPauseStatusMsg { colonyname: ctx.colony()? }).await?;
            if ctx.json {
                return print_json(&status);
            }
            let running = if status.ispaused { "paused" } else { "running" };
            say(format!("Assignments of colony {}: {running}", ctx.colony()?))
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

pub(super) async fn list_graphs(ctx: &Ctx, state: i64, listing: GraphListing) -> anyhow::Result<()> {
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

/// `server status`: the answering node's build and listeners (unsigned call), and this
/// CLI's build, as the original prints both.
pub async fn server_status(ctx: &Ctx) -> anyhow::Result<()> {
    let key = PrivateKey::generate();
    let info: ServerInfo = ctx.client()?.call(&key, GetServerInfoMsg {}).await?;
    if ctx.json {
        return print_json(&info);
    }
    println!("Server version {} ({}): ok", info.buildversion, ctx.addresses().join(", "));
    table(
        &["", "VERSION", "BUILDTIME"],
        vec![
            vec!["Server".into(), info.buildversion, info.buildtime],
            vec!["CLI".into(), BUILD_VERSION.into(), BUILD_TIME.into()],
        ],
    );
    Ok(())
}
