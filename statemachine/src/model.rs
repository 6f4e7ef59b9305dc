//! The ColonyOS objects, with the JSON field names and zero-value rules of the spec (§4, §9.3).
//!
//! Every struct decodes missing keys as zero values (`#[serde(default)]`), ignores unknown
//! keys and reads `null` collections as empty, as Go's decoder does. Field names are the
//! wire names.

use crate::json::{Json, null_as_default};
use crate::serialize_omitting_empty;
use crate::time::Time;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

macro_rules! int_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub enum $name {
            #[default]
            $($variant = $value),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn code(self) -> i64 {
                self as i64
            }

            pub fn from_code(code: i64) -> Option<$name> {
                match code {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i64(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = i64::deserialize(d)?;
                $name::from_code(code)
                    .ok_or_else(|| serde::de::Error::custom(format!("invalid {} {code}", $what)))
            }
        }
    };
}

int_enum!(
    /// §4.4: the lifecycle of a process (and of a process graph).
    ProcessState, "process state" {
    Waiting = 0,
    Running = 1,
    Success = 2,
    Failed = 3,
    Cancelled = 4,
});

int_enum!(
    /// §3.3: approval state of an executor.
    ExecutorState, "executor state" {
    Pending = 0,
    Approved = 1,
    Rejected = 2,
    Unregistered = 3,
});

int_enum!(
    /// §4.5: what an attribute holds.
    AttributeType, "attribute type" {
    In = 0,
    Out = 1,
    Err = 2,
    Env = 3,
});

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Colony {
    pub colonyid: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Gpu {
    pub name: String,
    pub mem: String,
    pub count: i64,
    pub nodecount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Hardware {
    pub model: String,
    pub nodes: i64,
    pub cpu: String,
    pub cores: i64,
    pub mem: String,
    pub storage: String,
    #[serde(deserialize_with = "null_as_default")]
    pub gpu: Gpu,
    pub platform: String,
    pub architecture: String,
    pub network: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Software {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    pub hardware: Option<Vec<Hardware>>,
    pub software: Option<Vec<Software>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub allocatedcpu: i64,
    pub usedcpu: i64,
    pub allocatedgpu: i64,
    pub usedgpu: i64,
    pub allocatedstorage: i64,
    pub usedstorage: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Allocations {
    pub projects: Option<BTreeMap<String, Project>>,
}

/// §4.2.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Executor {
    pub executorid: String,
    pub executortype: String,
    pub executorname: String,
    pub colonyname: String,
    pub state: ExecutorState,
    pub requirefuncreg: bool,
    pub commissiontime: Time,
    pub lastheardfromtime: Time,
    pub locationname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub capabilities: Capabilities,
    #[serde(deserialize_with = "null_as_default")]
    pub allocations: Allocations,
    pub blueprintid: String,
    pub blueprintgen: i64,
}

serialize_omitting_empty!(Executor {
    executorid: always,
    executortype: always,
    executorname: always,
    colonyname: always,
    state: always,
    requirefuncreg: always,
    commissiontime: always,
    lastheardfromtime: always,
    locationname: omit_empty,
    capabilities: always,
    allocations: always,
    blueprintid: omit_empty,
    blueprintgen: omit_empty,
});

/// §4.3 `conditions`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Conditions {
    pub colonyname: String,
    /// `None` and `Some([])` differ on the wire (null vs []); both mean "any executor".
    pub executornames: Option<Vec<String>>,
    pub executortype: String,
    pub locationname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub dependencies: Vec<String>,
    pub nodes: i64,
    pub cpu: String,
    pub processes: i64,
    pub processespernode: i64,
    pub mem: String,
    pub storage: String,
    #[serde(deserialize_with = "null_as_default")]
    pub gpu: Gpu,
    pub walltime: i64,
}

serialize_omitting_empty!(Conditions {
    colonyname: always,
    executornames: always,
    executortype: always,
    locationname: omit_empty,
    dependencies: always,
    nodes: always,
    cpu: always,
    processes: always,
    processespernode: always,
    mem: always,
    storage: always,
    gpu: always,
    walltime: always,
});

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SnapshotMount {
    pub snapshotid: String,
    pub label: String,
    pub dir: String,
    pub keepfiles: bool,
    pub keepsnapshot: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KeepLocal {
    pub keeplocal: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OnConflicts {
    #[serde(deserialize_with = "null_as_default")]
    pub onstart: KeepLocal,
    #[serde(deserialize_with = "null_as_default")]
    pub onclose: KeepLocal,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncDirMount {
    pub label: String,
    pub dir: String,
    pub keepfiles: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub onconflicts: OnConflicts,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Filesystem {
    pub mount: String,
    pub snapshots: Option<Vec<SnapshotMount>>,
    pub dirs: Option<Vec<SyncDirMount>>,
}

/// §4.3: what a client submits.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct FunctionSpec {
    pub nodename: String,
    pub funcname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub args: Vec<Json>,
    #[serde(deserialize_with = "null_as_default")]
    pub kwargs: BTreeMap<String, Json>,
    pub priority: i64,
    pub maxwaittime: i64,
    pub maxexectime: i64,
    pub maxretries: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub conditions: Conditions,
    pub label: String,
    #[serde(deserialize_with = "null_as_default")]
    pub fs: Filesystem,
    #[serde(deserialize_with = "null_as_default")]
    pub env: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    pub channels: Vec<String>,
}

serialize_omitting_empty!(FunctionSpec {
    nodename: always,
    funcname: always,
    args: always,
    kwargs: always,
    priority: always,
    maxwaittime: always,
    maxexectime: always,
    maxretries: always,
    conditions: always,
    label: always,
    fs: always,
    env: always,
    channels: omit_empty,
});

/// §4.5.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Attribute {
    pub attributeid: String,
    pub targetid: String,
    pub targetcolonyname: String,
    pub targetprocessgraphid: String,
    pub state: ProcessState,
    pub attributetype: AttributeType,
    pub key: String,
    pub value: String,
}

/// §4.4.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Process {
    pub processid: String,
    pub initiatorid: String,
    pub initiatorname: String,
    pub assignedexecutorid: String,
    pub isassigned: bool,
    pub state: ProcessState,
    pub prioritytime: i64,
    pub submissiontime: Time,
    pub starttime: Time,
    pub endtime: Time,
    pub waitdeadline: Time,
    pub execdeadline: Time,
    pub retries: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub attributes: Vec<Attribute>,
    #[serde(deserialize_with = "null_as_default")]
    pub spec: FunctionSpec,
    pub waitforparents: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub parents: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub children: Vec<String>,
    pub processgraphid: String,
    #[serde(rename = "in", deserialize_with = "null_as_default")]
    pub input: Vec<Json>,
    #[serde(deserialize_with = "null_as_default")]
    pub out: Vec<Json>,
    #[serde(deserialize_with = "null_as_default")]
    pub errors: Vec<String>,
}

/// §4.6: what `submitworkflowspecmsg` carries.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkflowSpec {
    pub colonyname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub functionspecs: Vec<FunctionSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphNodeData {
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphNodePosition {
    pub x: i64,
    pub y: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphNodeStyle {
    pub color: String,
    pub background: String,
}

/// A node of the UI layout of a process graph (§4.6).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphNode {
    pub id: String,
    pub data: GraphNodeData,
    pub position: GraphNodePosition,
    #[serde(rename = "type")]
    pub kind: String,
    pub style: GraphNodeStyle,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Edge {
    pub id: String,
    pub source: String,
    pub target: String,
    pub animated: bool,
}

/// §4.6.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessGraph {
    pub processgraphid: String,
    pub initiatorid: String,
    pub initiatorname: String,
    pub colonyname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub rootprocessids: Vec<String>,
    pub state: ProcessState,
    pub submissiontime: Time,
    pub starttime: Time,
    pub endtime: Time,
    #[serde(deserialize_with = "null_as_default")]
    pub processids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub nodes: Vec<GraphNode>,
    #[serde(deserialize_with = "null_as_default")]
    pub edges: Vec<Edge>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct FunctionArg {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    pub required: bool,
    #[serde(rename = "enum", deserialize_with = "null_as_default")]
    pub choices: Vec<String>,
}

serialize_omitting_empty!(FunctionArg {
    name: always,
    kind as "type": always,
    description: omit_empty,
    required: omit_empty,
    choices as "enum": omit_empty,
});

/// §4.7: a function registered by an executor, with its run statistics.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Function {
    pub functionid: String,
    pub executorname: String,
    pub executortype: String,
    pub colonyname: String,
    pub funcname: String,
    pub description: String,
    #[serde(deserialize_with = "null_as_default")]
    pub args: Vec<FunctionArg>,
    pub locationname: String,
    pub counter: i64,
    pub minwaittime: f64,
    pub maxwaittime: f64,
    pub minexectime: f64,
    pub maxexectime: f64,
    pub avgwaittime: f64,
    pub avgexectime: f64,
}

serialize_omitting_empty!(Function {
    functionid: always,
    executorname: always,
    executortype: always,
    colonyname: always,
    funcname: always,
    description: omit_empty,
    args: omit_empty,
    locationname: omit_empty,
    counter: always,
    minwaittime: always,
    maxwaittime: always,
    minexectime: always,
    maxexectime: always,
    avgwaittime: always,
    avgexectime: always,
});

/// §4.8. `timestamp` is Unix nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Log {
    pub processid: String,
    pub colonyname: String,
    pub executorname: String,
    pub message: String,
    pub timestamp: i64,
}

/// §4.9.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    pub colonyname: String,
    pub userid: String,
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// §4.10: a workflow run on a schedule. `workflowspec` is a WorkflowSpec as a JSON string.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Cron {
    pub cronid: String,
    pub initiatorid: String,
    pub initiatorname: String,
    pub colonyname: String,
    pub name: String,
    pub cronexpression: String,
    pub interval: i64,
    pub random: bool,
    pub nextrun: Time,
    pub lastrun: Time,
    pub workflowspec: String,
    pub prevprocessgraphid: String,
    pub waitforprevprocessgraph: bool,
    pub checkerperiod: i64,
}

/// §4.11: a workflow run with packed arguments, per `trigger` of them or after `timeout` s.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Generator {
    pub generatorid: String,
    pub initiatorid: String,
    pub initiatorname: String,
    pub colonyname: String,
    pub name: String,
    pub workflowspec: String,
    pub trigger: i64,
    pub timeout: i64,
    pub firstpack: Time,
    pub lastrun: Time,
    pub queuesize: i64,
    pub checkerperiod: i64,
}

/// §4.12.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Statistics {
    pub colonies: i64,
    pub executors: i64,
    pub activeexecutors: i64,
    pub unregisteredexecutors: i64,
    pub waitingprocesses: i64,
    pub runningprocesses: i64,
    pub successfulprocesses: i64,
    pub failedprocesses: i64,
    pub cancelledprocesses: i64,
    pub waitingworkflows: i64,
    pub runningworkflows: i64,
    pub successfulworkflows: i64,
    pub failedworkflows: i64,
    pub cancelledworkflows: i64,
}
