//! Every RPC message of the protocol (§6) and the one table that maps a `payloadtype` to
//! its message type and the type of its reply. A message is the struct's fields plus `"msgtype"`, which must equal
//! the envelope's payload type.

use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition, BlueprintHistory};
use colonies_statemachine::channels::{Bytes, MsgEntry};
use colonies_statemachine::files::{File, FileData, Label, Snapshot};
use colonies_statemachine::json::{Json, null_as_default};
use colonies_statemachine::locations::Location;
use colonies_statemachine::model::{
    Allocations, Attribute, Capabilities, Colony, Cron, Executor, Function, FunctionSpec, Generator, Log, Process,
    ProcessGraph, Statistics, User, WorkflowSpec,
};
use colonies_statemachine::texts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why a payload is not a message of its payload type. The texts are the reference's,
/// per payload type (`colonies_statemachine::texts::DECODE_FAILURES`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{}", texts::unknown_payload_type(.0))]
    UnknownType(String),
    #[error("{0}")]
    InvalidJson(&'static str),
    #[error("{0}")]
    TypeMismatch(&'static str),
}

impl DecodeError {
    /// The HTTP status the reference answers with (§1.3).
    pub fn status(&self) -> u16 {
        match self {
            DecodeError::UnknownType(_) => 403,
            DecodeError::InvalidJson(_) | DecodeError::TypeMismatch(_) => 400,
        }
    }
}

#[derive(Deserialize)]
struct MsgType {
    #[serde(default)]
    msgtype: String,
}

fn decode_as<T: serde::de::DeserializeOwned>(json: &[u8], name: &str) -> Result<T, DecodeError> {
    let (invalid, mismatch) =
        texts::decode_failures(name).expect("every payload type has its texts (a test checks the table)");
    let message: T = serde_json::from_slice(json).map_err(|_| DecodeError::InvalidJson(invalid))?;
    let tag: MsgType = serde_json::from_slice(json).map_err(|_| DecodeError::InvalidJson(invalid))?;
    if tag.msgtype != name {
        return Err(DecodeError::TypeMismatch(mismatch));
    }
    Ok(message)
}

/// The struct's JSON with `"msgtype"` appended, the key order the Go client writes.
fn with_msgtype<T: Serialize>(message: &T, name: &str) -> Vec<u8> {
    let mut json = serde_json::to_vec(message).expect("messages always serialize");
    json.pop(); // the closing brace
    if json.len() > 1 {
        json.push(b',');
    }
    json.extend_from_slice(format!("\"msgtype\":\"{name}\"}}").as_bytes());
    json
}

/// A message and what the server answers to it, so that a call's result has the right type
/// without its caller naming one (`Client::call`).
pub trait Request: Into<Message> {
    type Reply: DeserializeOwned;
}

/// The reply of a call that answers `{}`: nothing but its success.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

macro_rules! messages {
    ($(
        $(#[$doc:meta])*
        $variant:ident($ty:ident) = $name:literal -> $reply:ty {
            $($(#[$attr:meta])* $field:ident : $fty:ty),* $(,)?
        }
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
            #[serde(default)]
            pub struct $ty {
                $($(#[$attr])* pub $field: $fty,)*
            }

            impl From<$ty> for Message {
                fn from(message: $ty) -> Message {
                    Message::$variant(message)
                }
            }

            impl Request for $ty {
                type Reply = $reply;
            }
        )*

        #[derive(Clone, Debug, PartialEq)]
        pub enum Message {
            $($variant($ty),)*
        }

        impl Message {
            /// Every payload type this table knows, for tests that go through all of them.
            pub const PAYLOAD_TYPES: &'static [&'static str] = &[$($name),*];

            pub fn payload_type(&self) -> &'static str {
                match self {
                    $(Message::$variant(_) => $name,)*
                }
            }

            /// Decodes the payload JSON of an envelope whose type is `payloadtype`.
            pub fn decode(payloadtype: &str, json: &[u8]) -> Result<Message, DecodeError> {
                match payloadtype {
                    $($name => decode_as::<$ty>(json, $name).map(Message::$variant),)*
                    other => Err(DecodeError::UnknownType(other.to_string())),
                }
            }

            pub fn to_payload_json(&self) -> Vec<u8> {
                match self {
                    $(Message::$variant(message) => with_msgtype(message, $name),)*
                }
            }
        }
    };
}

messages! {
    AddColony(AddColonyMsg) = "addcolonymsg" -> Colony { colony: Option<Colony> }
    RemoveColony(RemoveColonyMsg) = "removecolonymsg" -> Empty { colonyname: String }
    GetColonies(GetColoniesMsg) = "getcoloniesmsg" -> Vec<Colony> {}
    GetColony(GetColonyMsg) = "getcolonymsg" -> Colony { colonyname: String }
    GetColonyStats(GetColonyStatsMsg) = "getcolonystatsmsg" -> Statistics { colonyname: String }
    ChangeColonyId(ChangeColonyIdMsg) = "changecolonyidmsg" -> ChangeColonyIdMsg { colonyname: String, colonyid: String }

    AddExecutor(AddExecutorMsg) = "addexecutormsg" -> Executor { executor: Option<Executor> }
    ApproveExecutor(ApproveExecutorMsg) = "approveexecutormsg" -> Empty {
        colonyname: String, executorname: String,
    }
    RejectExecutor(RejectExecutorMsg) = "rejectexecutormsg" -> Empty {
        colonyname: String, executorname: String,
    }
    RemoveExecutor(RemoveExecutorMsg) = "removeexecutormsg" -> Empty {
        colonyname: String, executorname: String,
    }
    GetExecutors(GetExecutorsMsg) = "getexecutorsmsg" -> Vec<Executor> { colonyname: String }
    GetExecutor(GetExecutorMsg) = "getexecutormsg" -> Executor { colonyname: String, executorname: String }
    GetExecutorById(GetExecutorByIdMsg) = "getexecutorbyidmsg" -> Executor {
        colonyname: String, executorid: String,
    }
    ChangeExecutorId(ChangeExecutorIdMsg) = "changeexecutoridmsg" -> ChangeExecutorIdMsg {
        colonyname: String, executorid: String,
    }
    ReportAllocation(ReportAllocationMsg) = "reportallocationmsg" -> Empty {
        colonyname: String, executorname: String,
        #[serde(deserialize_with = "null_as_default")] allocations: Allocations,
    }
    UpdateExecutor(UpdateExecutorMsg) = "updateexecutormsg" -> Empty {
        colonyname: String, executorname: String,
        #[serde(deserialize_with = "null_as_default")] capabilities: Capabilities,
    }

    /// The function travels under the key `fun` (§12.30). ColonyOS's Rust SDK (colonyos
    /// 1.0.5) sends it as `function`, which the reference refuses; accepting both costs no
    /// other client anything.
    AddFunction(AddFunctionMsg) = "addfunctionmsg" -> Function {
        #[serde(alias = "function")] fun: Option<Function>,
    }
    GetFunctions(GetFunctionsMsg) = "getfunctionsmsg" -> Vec<Function> { colonyname: String, executorname: String }
    RemoveFunction(RemoveFunctionMsg) = "removefunctionmsg" -> Empty { functionid: String }

    SubmitFunctionSpec(SubmitFunctionSpecMsg) = "submitfuncspecmsg" -> Process {
        spec: Option<FunctionSpec>,
    }
    AssignProcess(AssignProcessMsg) = "assignprocessmsg" -> Process {
        colonyname: String, timeout: i64, availablecpu: String, availablemem: String,
    }
    GetProcesses(GetProcessesMsg) = "getprocessesmsg" -> Vec<Process> {
        colonyname: String, count: i64, state: i64, executortype: String, label: String, initiator: String,
    }
    GetProcess(GetProcessMsg) = "getprocessmsg" -> Process { processid: String }
    GetProcessHist(GetProcessHistMsg) = "getprocesshistmsg" -> Vec<Process> {
        colonyname: String, executorid: String, seconds: i64, state: i64,
    }
    RemoveProcess(RemoveProcessMsg) = "removeprocessmsg" -> Empty { processid: String, all: bool }
    RemoveAllProcesses(RemoveAllProcessesMsg) = "removeallprocessesmsg" -> Empty {
        colonyname: String, state: i64,
    }
    CloseSuccessful(CloseSuccessfulMsg) = "closesuccessfulmsg" -> Empty {
        processid: String,
        #[serde(deserialize_with = "null_as_default")] out: Vec<Json>,
    }
    CloseFailed(CloseFailedMsg) = "closefailedmsg" -> Empty {
        processid: String,
        #[serde(deserialize_with = "null_as_default")] errors: Vec<String>,
    }
    SetOutput(SetOutputMsg) = "setoutputmsg" -> Empty {
        processid: String,
        #[serde(deserialize_with = "null_as_default")] out: Vec<Json>,
    }
    CancelProcess(CancelProcessMsg) = "cancelprocessmsg" -> Empty { processid: String }
    PauseAssignments(PauseAssignmentsMsg) = "pauseassignmentsmsg" -> Empty { colonyname: String }
    ResumeAssignments(ResumeAssignmentsMsg) = "resumeassignmentsmsg" -> Empty { colonyname: String }
    GetPauseStatus(GetPauseStatusMsg) = "getpausestatusmsg" -> PauseStatusReply { colonyname: String }

    AddAttribute(AddAttributeMsg) = "addattributemsg" -> Attribute { attribute: Option<Attribute> }
    GetAttribute(GetAttributeMsg) = "getattributemsg" -> Attribute { attributeid: String }

    SubmitWorkflowSpec(SubmitWorkflowSpecMsg) = "submitworkflowspecmsg" -> ProcessGraph {
        spec: Option<WorkflowSpec>,
    }
    GetProcessGraph(GetProcessGraphMsg) = "getprocessgraphmsg" -> ProcessGraph { processgraphid: String }
    GetProcessGraphs(GetProcessGraphsMsg) = "getprocessgraphsmsg" -> Vec<ProcessGraph> {
        colonyname: String, count: i64, state: i64,
    }
    RemoveProcessGraph(RemoveProcessGraphMsg) = "removeprocessgraphmsg" -> Empty {
        processgraphid: String, all: bool,
    }
    RemoveAllProcessGraphs(RemoveAllProcessGraphsMsg) = "removeallprocessgraphsmsg" -> Empty {
        colonyname: String, state: i64,
    }
    CancelProcessGraph(CancelProcessGraphMsg) = "cancelprocessgraphmsg" -> Empty {
        processgraphid: String,
    }
    AddChild(AddChildMsg) = "addchildmsg" -> Process {
        processgraphid: String, parentprocessid: String, childprocessid: String,
        spec: Option<FunctionSpec>, insert: bool,
    }

    AddLog(AddLogMsg) = "addlogmsg" -> Empty { processid: String, message: String }
    AddExecutorLog(AddExecutorLogMsg) = "addexecutorlogmsg" -> Empty {
        colonyname: String, executorname: String, message: String,
    }
    GetLogs(GetLogsMsg) = "getlogsmsg" -> Vec<Log> {
        colonyname: String, processid: String, executorname: String, count: i64, since: i64, latest: bool,
    }
    SearchLogs(SearchLogsMsg) = "searchlogsmsg" -> Vec<Log> {
        colonyname: String, text: String, days: i64, count: i64,
    }

    AddCron(AddCronMsg) = "addcronmsg" -> Cron { cron: Option<Cron> }
    GetCron(GetCronMsg) = "getcronmsg" -> Cron { cronid: String }
    GetCrons(GetCronsMsg) = "getcronsmsg" -> Vec<Cron> { colonyname: String, count: i64 }
    RunCron(RunCronMsg) = "runcronmsg" -> Cron { cronid: String }
    RemoveCron(RemoveCronMsg) = "removecronmsg" -> Empty { cronid: String, all: bool }

    AddGenerator(AddGeneratorMsg) = "addgeneratormsg" -> Generator { generator: Option<Generator> }
    GetGenerator(GetGeneratorMsg) = "getgeneratormsg" -> Generator { generatorid: String }
    GetGenerators(GetGeneratorsMsg) = "getgeneratorsmsg" -> Option<Vec<Generator>> { colonyname: String, count: i64 }
    ResolveGenerator(ResolveGeneratorMsg) = "resolvegeneratormsg" -> Generator {
        colonyname: String, generatorname: String,
    }
    PackGenerator(PackGeneratorMsg) = "packgeneratormsg" -> Empty { generatorid: String, arg: String }
    RemoveGenerator(RemoveGeneratorMsg) = "removegeneratormsg" -> Empty {
        generatorid: String, all: bool,
    }

    AddUser(AddUserMsg) = "addusermsg" -> User { user: Option<User> }
    GetUsers(GetUsersMsg) = "getusersmsg" -> Vec<User> { colonyname: String }
    GetUser(GetUserMsg) = "getusermsg" -> User { colonyname: String, name: String }
    GetUserById(GetUserByIdMsg) = "getuserbyidmsg" -> User { colonyname: String, userid: String }
    RemoveUser(RemoveUserMsg) = "removeusermsg" -> Empty { colonyname: String, name: String }
    ChangeUserId(ChangeUserIdMsg) = "changeuseridmsg" -> ChangeUserIdMsg { colonyname: String, userid: String }

    Version(VersionMsg) = "versionmsg" -> VersionReply { buildversion: String, buildtime: String }
    GetServerInfo(GetServerInfoMsg) = "getserverinfomsg" -> ServerInfo {}
    GetStatistics(GetStatisticsMsg) = "getstatisticsmsg" -> Statistics {}
    GetCluster(GetClusterMsg) = "getclustermsg" -> ClusterInfo {}
    ChangeServerId(ChangeServerIdMsg) = "changeserveridmsg" -> ChangeServerIdMsg { serverid: String }

    /// §6.14: `sequence` is the sender's own number (a repeat is a retry); `payload` is
    /// base64 or an array of byte values.
    ChannelAppend(ChannelAppendMsg) = "channelappendmsg" -> Empty {
        processid: String, name: String, sequence: i64, inreplyto: i64, payload: Bytes, payloadtype: String,
    }
    ChannelRead(ChannelReadMsg) = "channelreadmsg" -> Vec<MsgEntry> {
        processid: String, name: String, afterseq: i64, limit: i64,
    }
    /// Websocket only (§7.3).
    SubscribeChannel(SubscribeChannelMsg) = "subscribechannelmsg" -> Vec<MsgEntry> {
        processid: String, name: String, afterseq: i64, timeout: i64,
    }
    AddBlueprintDefinition(AddBlueprintDefinitionMsg) = "addblueprintdefinitionmsg" -> BlueprintDefinition {
        blueprintdefinition: Option<BlueprintDefinition>,
    }
    GetBlueprintDefinition(GetBlueprintDefinitionMsg) = "getblueprintdefinitionmsg" -> BlueprintDefinition {
        colonyname: String, name: String,
    }
    GetBlueprintDefinitions(GetBlueprintDefinitionsMsg) = "getblueprintdefinitionsmsg" -> Vec<BlueprintDefinition> { colonyname: String }
    RemoveBlueprintDefinition(RemoveBlueprintDefinitionMsg) = "removeblueprintdefinitionmsg" -> Empty {
        namespace: String, name: String,
    }
    AddBlueprint(AddBlueprintMsg) = "addblueprintmsg" -> Blueprint { blueprint: Option<Blueprint> }
    GetBlueprint(GetBlueprintMsg) = "getblueprintmsg" -> Blueprint { namespace: String, name: String }
    GetBlueprints(GetBlueprintsMsg) = "getblueprintsmsg" -> Option<Vec<Blueprint>> {
        namespace: String, kind: String, locationname: String,
    }
    UpdateBlueprint(UpdateBlueprintMsg) = "updateblueprintmsg" -> Blueprint {
        blueprint: Option<Blueprint>, forcegeneration: bool,
    }
    RemoveBlueprint(RemoveBlueprintMsg) = "removeblueprintmsg" -> Empty { namespace: String, name: String }
    GetBlueprintHistory(GetBlueprintHistoryMsg) = "getblueprinthistorymsg" -> Option<Vec<BlueprintHistory>> { blueprintid: String, limit: i64 }
    UpdateBlueprintStatus(UpdateBlueprintStatusMsg) = "updateblueprintstatusmsg" -> Empty {
        colonyname: String, blueprintname: String, status: Json,
    }
    ReconcileBlueprint(ReconcileBlueprintMsg) = "reconcileblueprintmsg" -> Process {
        namespace: String, name: String, force: bool,
    }

    /// Websocket only (§7.2).
    SubscribeProcess(SubscribeProcessMsg) = "subscribeprocessmsg" -> Process {
        colonyname: String, processid: String, executortype: String, state: i64, timeout: i64,
    }
    /// Websocket only (§7.2).
    SubscribeProcesses(SubscribeProcessesMsg) = "subscribeprocessesmsg" -> Process {
        colonyname: String, executortype: String, state: i64, timeout: i64,
    }
    // Locations (§6.12).
    AddLocation(AddLocationMsg) = "addlocationmsg" -> Location { location: Option<Location> }
    GetLocations(GetLocationsMsg) = "getlocationsmsg" -> Vec<Location> { colonyname: String }
    GetLocation(GetLocationMsg) = "getlocationmsg" -> Location { colonyname: String, name: String }
    RemoveLocation(RemoveLocationMsg) = "removelocationmsg" -> Empty { colonyname: String, name: String }

    // File and snapshot metadata (§6.13). pycolonies sends `null` for the strings it was
    // not given, which Go reads as "".
    AddFile(AddFileMsg) = "addfilemsg" -> File { file: Option<File> }
    GetFile(GetFileMsg) = "getfilemsg" -> Vec<File> {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] fileid: String,
        #[serde(deserialize_with = "null_as_default")] label: String,
        #[serde(deserialize_with = "null_as_default")] name: String,
        latest: bool,
    }
    GetFiles(GetFilesMsg) = "getfilesmsg" -> Vec<FileData> {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] label: String,
    }
    GetFileLabels(GetFileLabelsMsg) = "getfilelabelsmsg" -> Vec<Label> {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] name: String,
        exact: bool,
    }
    RemoveFile(RemoveFileMsg) = "removefilemsg" -> Empty {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] fileid: String,
        #[serde(deserialize_with = "null_as_default")] label: String,
        #[serde(deserialize_with = "null_as_default")] name: String,
    }
    CreateSnapshot(CreateSnapshotMsg) = "createsnapshotmsg" -> Snapshot {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] label: String,
        #[serde(deserialize_with = "null_as_default")] name: String,
    }
    GetSnapshot(GetSnapshotMsg) = "getsnapshotmsg" -> Snapshot {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] snapshotid: String,
        #[serde(deserialize_with = "null_as_default")] name: String,
    }
    GetSnapshots(GetSnapshotsMsg) = "getsnapshotsmsg" -> Vec<Snapshot> { colonyname: String }
    RemoveSnapshot(RemoveSnapshotMsg) = "removesnapshotmsg" -> Empty {
        #[serde(deserialize_with = "null_as_default")] colonyname: String,
        #[serde(deserialize_with = "null_as_default")] snapshotid: String,
        #[serde(deserialize_with = "null_as_default")] name: String,
    }
    RemoveAllSnapshots(RemoveAllSnapshotsMsg) = "removeallsnapshotmsg" -> Empty { colonyname: String }
}

/// The reply to `versionmsg`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VersionReply {
    pub buildversion: String,
    pub buildtime: String,
    pub msgtype: String,
}

/// One listener in `ServerInfo` (§4.13).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Backend {
    #[serde(rename = "type")]
    pub kind: String,
    pub port: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
}

/// The reply to `getserverinfomsg`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    pub buildversion: String,
    pub buildtime: String,
    pub backends: Vec<Backend>,
}

/// A node in the reply to `getclustermsg`. `port`, `peerport` and `relayport` name the
/// reference's etcd and relay ports; here the API port carries everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterNode {
    pub name: String,
    pub host: String,
    pub port: i64,
    pub peerport: i64,
    pub relayport: i64,
    pub apiport: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    pub nodes: Vec<ClusterNode>,
    pub leader: ClusterNode,
}

/// The reply to `getpausestatusmsg`, sent with payload type `pausestatusreplymsg`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PauseStatusReply {
    pub msgtype: String,
    pub colonyname: String,
    pub ispaused: bool,
}

pub const PAUSE_STATUS_REPLY_TYPE: &str = "pausestatusreplymsg";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_payload_type_has_its_decode_texts_and_the_table_no_others() {
        for name in Message::PAYLOAD_TYPES {
            assert!(texts::decode_failures(name).is_some(), "{name} has no decode texts");
        }
        for (name, ..) in texts::DECODE_FAILURES {
            assert!(Message::PAYLOAD_TYPES.contains(name), "{name} is not a payload type");
        }
        assert_eq!(texts::DECODE_FAILURES.len(), Message::PAYLOAD_TYPES.len());
    }

    #[test]
    fn decode_failures_speak_as_the_reference_handler_does() {
        let e = Message::decode("submitfuncspecmsg", b"[").unwrap_err();
        assert_eq!((e.status(), e.to_string().as_str()), (400, "Failed to submit process, invalid JSON"));
        let e = Message::decode("assignprocessmsg", br#"{"msgtype":"getprocessmsg"}"#).unwrap_err();
        assert_eq!(e.to_string(), "Failed to assign process, msg.msgType does not match payloadType");
        let e = Message::decode("nosuchmsg", b"{}").unwrap_err();
        assert_eq!((e.status(), e.to_string().as_str()), (403, "invalid rpcMsg.PayloadType: nosuchmsg"));
    }
}
