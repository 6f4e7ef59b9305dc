//! Table rows about files, snapshots, locations and executor reports. The world holds the
//! file `/data/a.txt`, the snapshot `frozen` and the location `north` of `dev`.

use super::cases::*;
use super::*;
use colonies_client::messages::*;
use colonies_statemachine::files::File;
use colonies_statemachine::locations::Location;

pub fn file(name: &str) -> File {
    File { colonyname: dev(), label: "/data".into(), name: name.into(), ..File::default() }
}

pub fn location(name: &str) -> Location {
    Location { colonyname: dev(), name: name.into(), ..Location::default() }
}

pub fn rows(w: &World) -> Vec<Case> {
    let (owner, cli, two) = (&w.owner, &w.cli, &w.two);
    let snapshot = |name: &str| CreateSnapshotMsg { colonyname: dev(), label: "/data".into(), name: name.into() };
    vec![
        is("ADD_FILE_NIL", cli, AddFileMsg { file: None }, 400, "Failed to add file, msg.File is nil"),
        is(
            "ADD_LOCATION_NIL",
            owner,
            AddLocationMsg { location: None },
            400,
            "Failed to add location, msg.Location is nil",
        ),
        is(
            "ADD_FILE_EMPTY_NAME",
            cli,
            AddFileMsg { file: Some(file("")) },
            400,
            "Failed to add file, file name is empty",
        ),
        is(
            "GET_FILE_NOT_FOUND",
            cli,
            GetFileMsg {
                colonyname: dev(),
                label: "/data".into(),
                name: "none".into(),
                latest: true,
                ..Default::default()
            },
            404,
            "Failed to get file",
        ),
        is(
            "REMOVE_FILE_NOT_FOUND",
            cli,
            RemoveFileMsg { colonyname: dev(), fileid: random_id(), ..Default::default() },
            404,
            "Failed to remove file, file not found",
        ),
        is("SNAPSHOT_EMPTY_NAME", cli, snapshot(""), 400, "Failed to create snapshot, snapshot name is empty"),
        is(
            "snapshot_exists",
            cli,
            snapshot("frozen"),
            400,
            "Failed to create snapshot, a snapshot with name <frozen> already exists",
        ),
        is(
            "GET_SNAPSHOT_NOT_FOUND",
            cli,
            GetSnapshotMsg { colonyname: dev(), name: "none".into(), ..Default::default() },
            404,
            "Failed to get snapshot, snapshot not found",
        ),
        is(
            "REMOVE_SNAPSHOT_NOT_FOUND",
            cli,
            RemoveSnapshotMsg { colonyname: dev(), name: "none".into(), ..Default::default() },
            404,
            "Failed to remove snapshot, snapshot not found",
        ),
        is(
            "LOCATION_EMPTY_NAME",
            owner,
            AddLocationMsg { location: Some(location("")) },
            400,
            "Failed to add location, location name is empty",
        ),
        is(
            "location_exists",
            owner,
            AddLocationMsg { location: Some(location("north")) },
            400,
            "Location with name <north> already exists in colony <dev>",
        ),
        is(
            "GET_LOCATION_NOT_FOUND",
            cli,
            GetLocationMsg { colonyname: dev(), name: "south".into() },
            404,
            "Failed to get location, location not found",
        ),
        is(
            "REMOVE_LOCATION_NOT_FOUND",
            owner,
            RemoveLocationMsg { colonyname: dev(), name: "south".into() },
            404,
            "Failed to remove location, location not found",
        ),
        is(
            "REPORT_ALLOCATION_NIL",
            cli,
            ReportAllocationMsg { colonyname: dev(), executorname: "ghost".into(), ..Default::default() },
            500,
            "Failed to report allocation, executor is nil",
        ),
        is(
            "REPORT_ALLOCATION_OTHER",
            two,
            ReportAllocationMsg { colonyname: dev(), executorname: "dev-cli".into(), ..Default::default() },
            403,
            "Failed to report allocation, not allowed to report for another executor",
        ),
        is(
            "UPDATE_EXECUTOR_NIL",
            cli,
            UpdateExecutorMsg { colonyname: dev(), executorname: "ghost".into(), ..Default::default() },
            500,
            "Failed to update executor, executor is nil",
        ),
        is(
            "UPDATE_EXECUTOR_OTHER",
            two,
            UpdateExecutorMsg { colonyname: dev(), executorname: "dev-cli".into(), ..Default::default() },
            403,
            "Failed to update executor, not allowed to update another executor",
        ),
    ]
}

/// The file, snapshot and location the rows above refer to.
pub async fn build(client: &Client, w: &World) {
    let _: File = client.call(&w.cli, AddFileMsg { file: Some(file("a.txt")) }).await.unwrap();
    let message = CreateSnapshotMsg { colonyname: dev(), label: "/data".into(), name: "frozen".into() };
    client.send(&w.cli, &message.into()).await.unwrap();
    let _: Location = client.call(&w.owner, AddLocationMsg { location: Some(location("north")) }).await.unwrap();
}
