//! The table's row type and the helpers its rows are written with.

use super::*;
use crate::common::*;
use colonies_client::identity::PrivateKey;
use colonies_client::messages::*;
use colonies_statemachine::model::{Colony, Conditions, Executor, Function, FunctionSpec, User, WorkflowSpec};

/// Every row of the table.
pub fn cases(w: &World) -> Vec<Case> {
    [members::rows(w), processes::rows(w), workflows::rows(w), files::rows(w), blueprints::rows(w)]
        .into_iter()
        .flatten()
        .collect()
}

pub enum Expect {
    Is(String),
    /// The rest is a library's reason (Rust's, where the reference has Go's).
    StartsWith(String),
}

pub struct Case {
    pub text: &'static str,
    pub key: PrivateKey,
    pub message: Message,
    pub status: u16,
    pub expected: Expect,
}

pub fn is(text: &'static str, key: &PrivateKey, message: impl Into<Message>, status: u16, expected: &str) -> Case {
    Case { text, key: key.clone(), message: message.into(), status, expected: Expect::Is(expected.into()) }
}

pub fn dev() -> String {
    "dev".into()
}

pub fn random_id() -> String {
    PrivateKey::generate().id()
}

pub fn with_spec(spec: FunctionSpec) -> SubmitFunctionSpecMsg {
    SubmitFunctionSpecMsg { spec: Some(spec) }
}

pub fn with_conditions(conditions: Conditions) -> SubmitFunctionSpecMsg {
    with_spec(FunctionSpec { conditions: Conditions { colonyname: dev(), ..conditions }, ..dev_spec("f") })
}

pub fn workflow_of(specs: Vec<FunctionSpec>) -> SubmitWorkflowSpecMsg {
    SubmitWorkflowSpecMsg { spec: Some(WorkflowSpec { colonyname: dev(), functionspecs: specs }) }
}

pub fn depending(name: &str, on: &str) -> FunctionSpec {
    let base = spec(name, "none");
    FunctionSpec { conditions: Conditions { dependencies: vec![on.into()], ..base.conditions.clone() }, ..base }
}

pub fn cron_with(name: &str, change: impl FnOnce(&mut colonies_statemachine::model::Cron)) -> AddCronMsg {
    let mut cron = nightly(name);
    change(&mut cron);
    AddCronMsg { cron: Some(cron) }
}

pub fn child(processgraphid: &str, parent: &str, colonyname: &str, childprocessid: &str) -> AddChildMsg {
    AddChildMsg {
        processgraphid: processgraphid.into(),
        parentprocessid: parent.into(),
        childprocessid: childprocessid.into(),
        spec: Some(FunctionSpec {
            conditions: Conditions { colonyname: colonyname.into(), ..spec("child", "two").conditions },
            ..spec("child", "two")
        }),
        insert: false,
    }
}

pub fn new_colony(name: &str, colonyid: String) -> AddColonyMsg {
    AddColonyMsg { colony: Some(Colony { colonyid, name: name.into() }) }
}

pub fn new_executor(name: &str, executorid: String) -> AddExecutorMsg {
    let executor = Executor {
        executorid,
        executorname: name.into(),
        executortype: "cli".into(),
        colonyname: dev(),
        ..Executor::default()
    };
    AddExecutorMsg { executor: Some(executor) }
}

pub fn new_user(name: &str) -> AddUserMsg {
    AddUserMsg { user: Some(User { colonyname: dev(), userid: random_id(), name: name.into(), ..User::default() }) }
}

pub fn function(executorname: &str, functionid: &str) -> AddFunctionMsg {
    AddFunctionMsg {
        fun: Some(Function {
            functionid: functionid.into(),
            executorname: executorname.into(),
            colonyname: dev(),
            funcname: "f".into(),
            ..Function::default()
        }),
    }
}

pub fn add_attribute(target: &str, key: &str) -> AddAttributeMsg {
    AddAttributeMsg { attribute: Some(attribute(target, key)) }
}

pub fn close(processid: &str) -> CloseSuccessfulMsg {
    CloseSuccessfulMsg { processid: processid.into(), out: vec![] }
}

pub fn fail(processid: &str) -> CloseFailedMsg {
    CloseFailedMsg { processid: processid.into(), errors: vec![] }
}

pub fn log(processid: &str) -> AddLogMsg {
    AddLogMsg { processid: processid.into(), message: "m".into() }
}

pub fn processes(count: i64, state: i64, initiator: &str) -> GetProcessesMsg {
    GetProcessesMsg { colonyname: dev(), count, state, initiator: initiator.into(), ..Default::default() }
}

pub fn bad_cron(name: &str, expression: &str) -> AddCronMsg {
    cron_with(name, |c| {
        c.interval = -1;
        c.cronexpression = expression.into();
    })
}
