//! How the user commands print records, and how they read spec files.

use super::*;

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

pub(super) fn values(list: &[colonies_statemachine::json::Json]) -> String {
    let shown: Vec<String> = list
        .iter()
        .map(|v| match &v.0 {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    shown.join(", ")
}

pub(super) fn state_name(state: colonies_statemachine::model::ProcessState) -> &'static str {
    use colonies_statemachine::model::ProcessState::*;
    match state {
        Waiting => "WAITING",
        Running => "RUNNING",
        Success => "SUCCESS",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
    }
}

pub(super) fn show_processes(ctx: &Ctx, processes: &[Process]) -> anyhow::Result<()> {
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

pub(super) fn show_process(ctx: &Ctx, process: &Process, out_only: bool) -> anyhow::Result<()> {
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
