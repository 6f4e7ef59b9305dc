//! Who may do what, against a real cluster (issue 13): one table of payload types and the
//! roles of spec §3, and what a replayed request can do.
//!
//! Every refused call must leave the replicated state as it was: the digest of every node
//! is compared before and after.

mod common;

use colonies_client::envelope::{Failure, RpcReply, RpcRequest};
use colonies_client::identity::PrivateKey;
use colonies_client::messages::*;
use colonies_client::rpc::Client;
use colonies_cluster_tests::Cluster;
use colonies_statemachine::blueprints::{Blueprint, BlueprintDefinition};
use colonies_statemachine::files::File;
use colonies_statemachine::locations::Location;
use colonies_statemachine::model::{Colony, Executor, Function, Process, ProcessState, User};
use colonies_statemachine::{Json, Time};
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    ServerOwner,
    ColonyOwner,
    Member,
    Unapproved,
    User,
    OtherColony,
    Stranger,
}

use Role::*;

const ROLES: [Role; 7] = [ServerOwner, ColonyOwner, Member, Unapproved, User, OtherColony, Stranger];

struct Keys {
    unapproved: PrivateKey,
    user: PrivateKey,
    /// A second user of `dev`: neither initiator nor executor of the channelled process.
    other_user: PrivateKey,
    other_owner: PrivateKey,
    other_member: PrivateKey,
    stranger: PrivateKey,
}

impl Keys {
    fn of(&self, role: Role) -> PrivateKey {
        match role {
            ServerOwner => key(SERVER_KEY),
            ColonyOwner => key(COLONY_KEY),
            Member => key(EXECUTOR_KEY),
            Unapproved => self.unapproved.clone(),
            User => self.user.clone(),
            OtherColony => self.other_member.clone(),
            Stranger => self.stranger.clone(),
        }
    }
}

/// One request, signed by `role`, straight to `addr`: (HTTP status, reply).
async fn call(addr: &str, role: Role, keys: &Keys, message: &Message) -> (u16, Result<Vec<u8>, Failure>) {
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &keys.of(role));
    send(addr, &request).await
}

async fn send(addr: &str, request: &RpcRequest) -> (u16, Result<Vec<u8>, Failure>) {
    let answer = reqwest::Client::new().post(format!("http://{addr}/api")).json(request).send().await.unwrap();
    let status = answer.status().as_u16();
    let reply: RpcReply = answer.json().await.unwrap();
    (status, reply.into_result())
}

/// Colony `dev` (owner: COLONY_KEY) with its approved executor `dev-cli`, an unapproved
/// executor, a spare unapproved one, two users; colony `other` with an approved executor; a
/// process with a channel that the user submitted and `dev-cli` runs; two waiting
/// processes in `dev`, the first to be assigned and closed, the second cancelled.
async fn populate(cluster: &Cluster, keys: &Keys) -> (Process, Process, Process) {
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let executor = |key: &PrivateKey, name: &str, colony: &str| Executor {
        executorid: key.id(),
        executorname: name.into(),
        executortype: "cli".into(),
        colonyname: colony.into(),
        ..Executor::default()
    };
    for (key, name) in [(&keys.unapproved, "pending"), (&PrivateKey::generate(), "spare")] {
        let _: Executor = client
            .call(&keys.of(ColonyOwner), AddExecutorMsg { executor: Some(executor(key, name, "dev")) })
            .await
            .unwrap();
    }
    for (key, name) in [(&keys.user, "ada"), (&keys.other_user, "eve")] {
        let user = User { colonyname: "dev".into(), userid: key.id(), name: name.into(), ..User::default() };
        let _: User = client.call(&keys.of(ColonyOwner), AddUserMsg { user: Some(user) }).await.unwrap();
    }
    let other = Colony { colonyid: keys.other_owner.id(), name: "other".into() };
    let _: Colony = client.call(&key(SERVER_KEY), AddColonyMsg { colony: Some(other) }).await.unwrap();
    let member = executor(&keys.other_member, "x", "other");
    let _: Executor = client.call(&keys.other_owner, AddExecutorMsg { executor: Some(member) }).await.unwrap();
    let approve = ApproveExecutorMsg { colonyname: "other".into(), executorname: "x".into() };
    client.send(&keys.other_owner, &approve.into()).await.unwrap();
    let mut spec = dev_spec("channelled");
    spec.channels = vec!["talk".into()];
    let channelled: Process = client.call(&keys.user, SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap();
    let heard_before = last_heard(&client, "dev-cli").await;
    let assign = AssignProcessMsg { colonyname: "dev".into(), timeout: 10, ..Default::default() };
    let assigned: Process = client.call(&key(EXECUTOR_KEY), assign).await.unwrap();
    assert_eq!(assigned.processid, channelled.processid);
    wait_heard_after(&client, "dev-cli", heard_before).await;
    let mut submitted = Vec::new();
    for name in ["waiting", "cancelled"] {
        let spec = dev_spec(name);
        submitted.push(client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap());
    }
    let cancelled = submitted.pop().unwrap();
    (submitted.pop().unwrap(), cancelled, channelled)
}

/// The `Deployment` kind of colony `dev`, reconciled by executors of type `bp-reconciler`.
fn blueprint_definition() -> BlueprintDefinition {
    serde_json::from_value(json!({
        "kind": "BlueprintDefinition",
        "metadata": {"name": "deployments", "colonyname": "dev"},
        "spec": {"names": {"kind": "Deployment"}, "handler": {"executorType": "bp-reconciler"}}
    }))
    .unwrap()
}

/// Blueprint `web` of colony `dev` (id `bp-web`) running `image`.
fn blueprint(image: &str) -> Blueprint {
    serde_json::from_value(json!({
        "blueprintid": "bp-web",
        "kind": "Deployment",
        "metadata": {"name": "web", "colonyname": "dev"},
        "spec": {"image": image}
    }))
    .unwrap()
}

struct Row {
    message: Message,
    allowed: &'static [Role],
    /// A write: only the first allowed role is tried, after every refused one.
    write: bool,
}

fn read(message: impl Into<Message>, allowed: &'static [Role]) -> Row {
    Row { message: message.into(), allowed, write: false }
}

fn write(message: impl Into<Message>, allowed: &'static [Role]) -> Row {
    Row { message: message.into(), allowed, write: true }
}

/// The status a refused role gets: 403, except where the reference answers otherwise.
fn refused_status(payloadtype: &str, role: Role) -> u16 {
    match (payloadtype, role) {
        // A user passes the membership check and then has no executor row (§5.2).
        ("assignprocessmsg", User) => 500,
        _ => 403,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_is_allowed_exactly_what_the_table_says_and_refusals_change_nothing() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let keys = Keys {
        unapproved: PrivateKey::generate(),
        user: PrivateKey::generate(),
        other_owner: PrivateKey::generate(),
        other_member: PrivateKey::generate(),
        stranger: PrivateKey::generate(),
        other_user: PrivateKey::generate(),
    };
    let (waiting, cancelled, channelled) = populate(&cluster, &keys).await;
    let leader = cluster.wait_leader(STARTUP);
    let addr = cluster.nodes[leader].addr();
    let dev = || "dev".to_string();
    let new_colony = Colony { colonyid: PrivateKey::generate().id(), name: "made".into() };
    let new_user =
        User { colonyname: dev(), userid: PrivateKey::generate().id(), name: "bob".into(), ..User::default() };
    let new_executor = Executor {
        executorid: PrivateKey::generate().id(),
        executorname: "new".into(),
        executortype: "cli".into(),
        colonyname: dev(),
        ..Executor::default()
    };
    let function = Function {
        executorname: "dev-cli".into(),
        executortype: "cli".into(),
        colonyname: dev(),
        funcname: "echo".into(),
        ..Function::default()
    };
    let new_file = File { colonyname: dev(), label: "/data".into(), name: "a.txt".into(), ..File::default() };
    let new_location = Location { colonyname: dev(), name: "north".into(), ..Location::default() };
    const MEMBERS: &[Role] = &[Member, User];
    // The channelled process's assigned executor and its initiator (§6.14).
    const RUNNER_AND_INITIATOR: &[Role] = &[Member, User];
    let talk =
        |processid: &str| ChannelReadMsg { processid: processid.into(), name: "talk".into(), ..Default::default() };
    let say = ChannelAppendMsg {
        processid: channelled.processid.clone(),
        name: "talk".into(),
        sequence: 1,
        payload: colonies_statemachine::channels::Bytes(b"hello".to_vec()),
        ..Default::default()
    };
    const ANY_MEMBER: &[Role] = &[Member, Unapproved, User];
    const MEMBERS_OR_OWNER: &[Role] = &[Member, User, ColonyOwner];
    let rows = vec![
        read(GetColoniesMsg {}, &[ServerOwner]),
        read(GetStatisticsMsg {}, &[ServerOwner]),
        read(GetClusterMsg {}, &[ServerOwner]),
        read(GetColonyMsg { colonyname: dev() }, MEMBERS),
        read(GetColonyMsg { colonyname: "other".into() }, &[OtherColony]),
        read(GetColonyStatsMsg { colonyname: dev() }, MEMBERS),
        read(GetExecutorsMsg { colonyname: dev() }, ANY_MEMBER),
        read(GetExecutorMsg { colonyname: dev(), executorname: "dev-cli".into() }, MEMBERS),
        read(GetUsersMsg { colonyname: dev() }, ANY_MEMBER),
        read(GetPauseStatusMsg { colonyname: dev() }, ANY_MEMBER),
        read(GetProcessMsg { processid: waiting.processid.clone() }, MEMBERS),
        read(GetProcessesMsg { colonyname: dev(), count: 10, ..Default::default() }, MEMBERS),
        read(
            GetLogsMsg { colonyname: dev(), processid: waiting.processid.clone(), count: 10, ..Default::default() },
            MEMBERS,
        ),
        write(AddColonyMsg { colony: Some(new_colony) }, &[ServerOwner]),
        write(RemoveColonyMsg { colonyname: "made".into() }, &[ServerOwner]),
        write(AddExecutorMsg { executor: Some(new_executor) }, &[ColonyOwner]),
        write(ApproveExecutorMsg { colonyname: dev(), executorname: "spare".into() }, &[ColonyOwner]),
        write(AddUserMsg { user: Some(new_user) }, &[ColonyOwner]),
        write(PauseAssignmentsMsg { colonyname: dev() }, &[ColonyOwner]),
        write(ResumeAssignmentsMsg { colonyname: dev() }, &[ColonyOwner]),
        write(AddFunctionMsg { fun: Some(function) }, &[Member]),
        write(SubmitFunctionSpecMsg { spec: Some(dev_spec("more")) }, MEMBERS),
        write(AssignProcessMsg { colonyname: dev(), timeout: -1, ..Default::default() }, &[Member]),
        write(AddLogMsg { processid: waiting.processid.clone(), message: "hello".into() }, &[Member]),
        write(CloseSuccessfulMsg { processid: waiting.processid.clone(), out: vec![] }, &[Member]),
        write(CancelProcessMsg { processid: cancelled.processid.clone() }, MEMBERS),
        // Files and snapshots (§6.13): approved members.
        write(AddFileMsg { file: Some(new_file.clone()) }, MEMBERS),
        read(
            GetFileMsg { colonyname: dev(), label: "/data".into(), name: "a.txt".into(), ..Default::default() },
            MEMBERS,
        ),
        read(GetFilesMsg { colonyname: dev(), label: "/data".into() }, MEMBERS),
        read(GetFileLabelsMsg { colonyname: dev(), ..Default::default() }, MEMBERS),
        write(CreateSnapshotMsg { colonyname: dev(), label: "/data".into(), name: "snap".into() }, MEMBERS),
        read(GetSnapshotMsg { colonyname: dev(), name: "snap".into(), ..Default::default() }, MEMBERS),
        read(GetSnapshotsMsg { colonyname: dev() }, MEMBERS),
        write(RemoveSnapshotMsg { colonyname: dev(), name: "snap".into(), ..Default::default() }, MEMBERS),
        write(RemoveAllSnapshotsMsg { colonyname: dev() }, MEMBERS),
        write(
            RemoveFileMsg { colonyname: dev(), label: "/data".into(), name: "a.txt".into(), ..Default::default() },
            MEMBERS,
        ),
        // Locations (§6.12): the colony owner writes, any member reads.
        write(AddLocationMsg { location: Some(new_location) }, &[ColonyOwner]),
        read(GetLocationsMsg { colonyname: dev() }, ANY_MEMBER),
        read(GetLocationMsg { colonyname: dev(), name: "north".into() }, ANY_MEMBER),
        write(RemoveLocationMsg { colonyname: dev(), name: "north".into() }, &[ColonyOwner]),
        // What an executor reports about itself: only that executor (§6.2).
        write(
            ReportAllocationMsg { colonyname: dev(), executorname: "dev-cli".into(), ..Default::default() },
            &[Member],
        ),
        write(UpdateExecutorMsg { colonyname: dev(), executorname: "dev-cli".into(), ..Default::default() }, &[Member]),
        write(ChangeServerIdMsg { serverid: key(SERVER_KEY).id() }, &[ServerOwner]),
        read(talk(&channelled.processid), RUNNER_AND_INITIATOR),
        write(say.clone(), RUNNER_AND_INITIATOR),
        // Blueprints (§6.15), in the order of their life. The handler type has no executor,
        // so the reconciliation processes they submit are never assigned.
        write(AddBlueprintDefinitionMsg { blueprintdefinition: Some(blueprint_definition()) }, &[ColonyOwner]),
        read(GetBlueprintDefinitionMsg { colonyname: dev(), name: "deployments".into() }, MEMBERS_OR_OWNER),
        read(GetBlueprintDefinitionsMsg { colonyname: dev() }, MEMBERS_OR_OWNER),
        write(AddBlueprintMsg { blueprint: Some(blueprint("x")) }, MEMBERS_OR_OWNER),
        read(GetBlueprintMsg { namespace: dev(), name: "web".into() }, MEMBERS_OR_OWNER),
        read(GetBlueprintsMsg { namespace: dev(), ..Default::default() }, MEMBERS_OR_OWNER),
        write(UpdateBlueprintMsg { blueprint: Some(blueprint("y")), forcegeneration: false }, MEMBERS_OR_OWNER),
        read(GetBlueprintHistoryMsg { blueprintid: "bp-web".into(), limit: 0 }, MEMBERS_OR_OWNER),
        write(
            UpdateBlueprintStatusMsg { colonyname: dev(), blueprintname: "web".into(), status: Json(json!({"up": 1})) },
            MEMBERS,
        ),
        write(ReconcileBlueprintMsg { namespace: dev(), name: "web".into(), force: true }, MEMBERS),
        write(RemoveBlueprintMsg { namespace: dev(), name: "web".into() }, MEMBERS_OR_OWNER),
        write(RemoveBlueprintDefinitionMsg { namespace: dev(), name: "deployments".into() }, &[ColonyOwner]),
    ];
    let client = Client::new(cluster.addrs());
    let mut checked = 0;
    for row in rows {
        let payloadtype = row.message.payload_type();
        let before = cluster.wait_converged(STARTUP);
        for role in ROLES.iter().filter(|r| !row.allowed.contains(r)) {
            let (status, reply) = call(&addr, *role, &keys, &row.message).await;
            let expected = refused_status(payloadtype, *role);
            let failure = reply.expect_err(&format!("{payloadtype} by {role:?} succeeded"));
            assert_eq!(
                (status, failure.status),
                (expected, i64::from(expected)),
                "{payloadtype} by {role:?}: {failure}"
            );
            checked += 1;
        }
        assert_eq!(cluster.wait_converged(STARTUP), before, "a refused {payloadtype} changed the state");
        let allowed = if row.write { &row.allowed[..1] } else { row.allowed };
        let heard_before = last_heard(&client, "dev-cli").await;
        for role in allowed {
            let (status, reply) = call(&addr, *role, &keys, &row.message).await;
            assert_eq!(status, 200, "{payloadtype} by {role:?}: {:?}", reply.err());
            checked += 1;
        }
        if payloadtype == "assignprocessmsg" {
            // An allowed assign is a sign of life the leader replicates a moment later;
            // it must land before the next row's "refusals change nothing" baseline.
            wait_heard_after(&client, "dev-cli", heard_before).await;
        }
    }
    // A user of the colony who neither submitted nor runs the process may not use its channels.
    let before = cluster.wait_converged(STARTUP);
    for message in [Message::from(talk(&channelled.processid)), say.into()] {
        let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &keys.other_user);
        let (status, reply) = send(&addr, &request).await;
        assert_eq!(status, 403, "{} by another user: {:?}", message.payload_type(), reply.map(String::from_utf8));
        checked += 1;
    }
    assert_eq!(cluster.wait_converged(STARTUP), before, "a refused channel call changed the state");
    eprintln!("{checked} calls checked");
    // The process the table assigned and closed went through its life normally.
    let done: Process =
        Client::new(vec![addr]).call(&key(EXECUTOR_KEY), GetProcessMsg { processid: waiting.processid }).await.unwrap();
    assert_eq!(done.state, ProcessState::Success);
}

async fn last_heard(client: &Client, executorname: &str) -> Time {
    let message = GetExecutorMsg { colonyname: "dev".into(), executorname: executorname.into() };
    let executor: Executor = client.call(&key(EXECUTOR_KEY), message).await.unwrap();
    executor.lastheardfromtime
}

/// Waits (30 s at most) until the executor's replicated `lastheardfromtime` moves past
/// `before`: the leader reports assigns as signs of life a moment after it answers them, in
/// one entry with every other executor it heard from since its last report.
async fn wait_heard_after(client: &Client, executorname: &str, before: Time) {
    let begun = Instant::now();
    while last_heard(client, executorname).await == before {
        assert!(begun.elapsed() < Duration::from_secs(30), "the leader never reported the assign as a sign of life");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls `processid` until `ready` holds for it (30 s at most).
async fn wait_for(client: &Client, processid: &str, ready: impl Fn(&Process) -> bool) -> Process {
    let begun = Instant::now();
    loop {
        let message = GetProcessMsg { processid: processid.into() };
        let process: Process = client.call(&key(EXECUTOR_KEY), message).await.unwrap();
        if ready(&process) {
            return process;
        }
        assert!(begun.elapsed() < Duration::from_secs(30), "process stuck: {process:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_repeats_its_effect_but_cannot_close_another_attempt() {
    let _serial = SERIAL.lock().await;
    let mut cluster = started_cluster(&[]);
    let client = Client::new(cluster.addrs());
    add_dev_colony(&client).await;
    let second = PrivateKey::generate();
    add_executor(&client, &second, "dev-cli-2", "cli").await;
    let leader = cluster.wait_leader(STARTUP);
    let addr = cluster.nodes[leader].addr();
    let capture =
        |message: Message| RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &key(EXECUTOR_KEY));
    let process = |reply: Result<Vec<u8>, Failure>| -> Process { serde_json::from_slice(&reply.unwrap()).unwrap() };

    // A captured submit, sent again, submits again: requests carry no nonce (spec §1.3).
    let submit = capture(SubmitFunctionSpecMsg { spec: Some(dev_spec("replayed")) }.into());
    let first = process(send(&addr, &submit).await.1);
    let again = process(send(&addr, &submit).await.1);
    assert_ne!(first.processid, again.processid, "the replay made a second process");

    // A captured assign, sent again, takes more work in the executor's name...
    let assign = capture(AssignProcessMsg { colonyname: "dev".into(), timeout: -1, ..Default::default() }.into());
    let taken = [process(send(&addr, &assign).await.1), process(send(&addr, &assign).await.1)];
    assert!(taken.iter().all(|p| p.assignedexecutorid == key(EXECUTOR_KEY).id()));
    // ... until there is none.
    assert_eq!(send(&addr, &assign).await.0, 404);

    // A captured close, sent again, is a no-op on the closed process (executors retry
    // closes, §12.14); a captured fail, sent again, is refused.
    let close = capture(CloseSuccessfulMsg { processid: taken[0].processid.clone(), out: vec![] }.into());
    assert_eq!(send(&addr, &close).await.0, 200);
    let closed = cluster.wait_converged(STARTUP);
    let (status, _) = send(&addr, &close).await;
    assert_eq!(status, 200);
    let fail = capture(CloseFailedMsg { processid: taken[1].processid.clone(), errors: vec!["x".into()] }.into());
    assert_eq!(send(&addr, &fail).await.0, 200);
    let (status, reply) = send(&addr, &fail).await;
    assert_eq!(status, 400, "{:?}", reply.err());
    assert_ne!(cluster.wait_converged(STARTUP), closed, "the fail itself was applied");

    // The fence: a close captured during one attempt is refused once the process was
    // requeued (exec timeout) and another executor holds the new attempt.
    let mut spec = dev_spec("fenced");
    spec.maxexectime = 1;
    spec.maxretries = 3;
    let fenced: Process = client.call(&key(EXECUTOR_KEY), SubmitFunctionSpecMsg { spec: Some(spec) }).await.unwrap();
    assert_eq!(process(send(&addr, &assign).await.1).processid, fenced.processid);
    let stale_close = capture(CloseSuccessfulMsg { processid: fenced.processid.clone(), out: vec![] }.into());
    wait_for(&client, &fenced.processid, |p| p.state == ProcessState::Waiting).await;
    let message: Message = AssignProcessMsg { colonyname: "dev".into(), timeout: 10, ..Default::default() }.into();
    let request = RpcRequest::signed(message.payload_type(), &message.to_payload_json(), &second);
    let heard_before = last_heard(&client, "dev-cli-2").await;
    assert_eq!(process(send(&addr, &request).await.1).processid, fenced.processid);
    wait_heard_after(&client, "dev-cli-2", heard_before).await;
    let before = cluster.wait_converged(STARTUP);
    let (status, _) = send(&addr, &stale_close).await;
    assert_eq!(status, 403, "the stale close is fenced off");
    assert_eq!(cluster.wait_converged(STARTUP), before);
    let now = wait_for(&client, &fenced.processid, |_| true).await;
    assert_eq!((now.state, now.assignedexecutorid), (ProcessState::Running, second.id()));
}
