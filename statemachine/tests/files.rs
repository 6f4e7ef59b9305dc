//! File and snapshot metadata, locations, and executor reports in the state machine:
//! revisions and the latest one, labels and sub-labels, snapshots, removal, refusals that
//! change nothing, the colony cascade, and the snapshot carrying all of it.

#[allow(dead_code)]
mod fixture;

use colonies_statemachine::files::{File, FileRef, S3Object};
use colonies_statemachine::locations::Location;
use colonies_statemachine::model::{Allocations, Capabilities, Project, Software};
use colonies_statemachine::{Op, Reply, State};
use fixture::*;

fn file(id: &str, label: &str, name: &str, checksum: &str) -> File {
    let object = S3Object {
        server: "s3.example".into(),
        port: 9000,
        accesskey: "access".into(),
        secretkey: "secret".into(),
        object: format!("obj-{id}"),
        bucket: "bucket".into(),
        ..S3Object::default()
    };
    File {
        fileid: id.into(),
        colonyname: COLONY.into(),
        label: label.into(),
        name: name.into(),
        size: 10,
        sequencenr: 1,
        checksum: checksum.into(),
        checksumalg: "SHA256".into(),
        reference: FileRef { protocol: "s3".into(), s3object: object },
        ..File::default()
    }
}

fn add(w: &mut World, f: File) -> File {
    let Reply::File(added) = w.ok(EXEC_A, Op::AddFile { file: Box::new(f) }) else { panic!("a file reply") };
    *added
}

fn snapshot(label: &str, name: &str, id: &str) -> Op {
    Op::CreateSnapshot { colonyname: COLONY.into(), label: label.into(), name: name.into(), snapshotid: id.into() }
}

fn ids(files: &[File]) -> Vec<&str> {
    files.iter().map(|f| f.fileid.as_str()).collect()
}

/// A world with `/data/a.txt` in two revisions, `/data/b.txt`, `/data/sub/c.txt` and
/// `/database/d.txt` (a label beside `/data`, not below it).
fn world_with_files() -> World {
    let mut w = World::new();
    w.clock = 5;
    let first = add(&mut w, file("f1", "/data", "a.txt", "one"));
    assert_eq!(first.added, at(5), "added is the command's time");
    assert_eq!(first.reference.s3object.secretkey, "secret", "the keys are stored as sent");
    w.clock = 6;
    add(&mut w, file("f2", "/data", "a.txt", "two"));
    add(&mut w, file("f3", "/data", "b.txt", "three"));
    add(&mut w, file("f4", "/data/sub", "c.txt", "four"));
    add(&mut w, file("f5", "/database", "d.txt", "five"));
    w
}

#[test]
fn revisions_are_kept_in_order_and_latest_is_the_last_added() {
    let w = world_with_files();
    let all = w.state.get_file(EXEC_A, COLONY, "", "/data", "a.txt", false).unwrap();
    assert_eq!(ids(&all), ["f1", "f2"]);
    let latest = w.state.get_file(EXEC_A, COLONY, "", "/data", "a.txt", true).unwrap();
    assert_eq!(ids(&latest), ["f2"]);
    let by_id = w.state.get_file(EXEC_B, COLONY, "f1", "", "", true).unwrap();
    assert_eq!(by_id[0].checksum, "one");
    assert_eq!(w.state.get_file(EXEC_A, COLONY, "", "/data", "none", true).unwrap_err().status, 404);
    assert_eq!(w.state.get_file(EXEC_A, COLONY, "nope", "", "", true).unwrap_err().status, 404);
    let listed = w.state.get_files(EXEC_A, COLONY, "/data").unwrap();
    let names: Vec<_> = listed.iter().map(|d| (d.name.as_str(), d.checksum.as_str(), d.s3filename.as_str())).collect();
    assert_eq!(
        names,
        [("a.txt", "two", "obj-f2"), ("b.txt", "three", "obj-f3")],
        "latest of each name, this label only"
    );
    assert!(w.state.get_files(EXEC_A, COLONY, "/empty").unwrap().is_empty(), "[] for none (protocol §9.3)");
}

#[test]
fn labels_list_with_their_sub_labels_and_exactly() {
    let w = world_with_files();
    let labels = |name: &str, exact: bool| -> Vec<(String, i64)> {
        let found = w.state.get_file_labels(EXEC_A, COLONY, name, exact).unwrap();
        found.into_iter().map(|l| (l.name, l.files)).collect()
    };
    let all = labels("", false);
    assert_eq!(all, [("/data".into(), 3), ("/data/sub".into(), 1), ("/database".into(), 1)]);
    assert_eq!(labels("/data", false), [("/data".into(), 3), ("/data/sub".into(), 1)], "not /database");
    assert_eq!(labels("/data", true), [("/data".to_string(), 3)]);
    assert_eq!(labels("/data/", false), labels("/data", false), "a trailing slash names the same label");
    assert!(labels("/nothing", false).is_empty());
}

#[test]
fn a_snapshot_freezes_the_latest_file_of_each_name_under_the_label() {
    let mut w = world_with_files();
    w.clock = 9;
    let Reply::Snapshot(snap) = w.ok(EXEC_A, snapshot("/data", "snap-1", "s1")) else { panic!() };
    assert_eq!(snap.fileids, ["f2", "f3", "f4"], "latest of a.txt, b.txt and the sub-label's c.txt; not /database");
    assert_eq!(snap.added, at(9));
    // Later revisions do not change it.
    add(&mut w, file("f6", "/data", "a.txt", "six"));
    let by_name = w.state.get_snapshot(EXEC_B, COLONY, "", "snap-1").unwrap();
    assert_eq!(by_name, *snap);
    assert_eq!(w.state.get_snapshot(EXEC_B, COLONY, "s1", "").unwrap(), *snap);
    let e = w.refused(EXEC_A, snapshot("/data", "snap-1", "s2"));
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "Failed to create snapshot, a snapshot with name <snap-1> already exists")
    );
    assert_eq!(w.refused(EXEC_A, snapshot("/data", "", "s2")).status, 400);
    let Reply::Snapshot(slash) = w.ok(EXEC_A, snapshot("/data/", "snap-slash", "s4")) else { panic!() };
    assert_eq!(slash.fileids, ["f6", "f3", "f4"], "a trailing slash names the same label");
    w.ok(EXEC_A, snapshot("/data/sub", "snap-2", "s2"));
    let names: Vec<_> = w.state.get_snapshots(EXEC_A, COLONY).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["snap-1", "snap-2", "snap-slash"]);

    let remove = |id: &str, name: &str| Op::RemoveSnapshot {
        colonyname: COLONY.into(),
        snapshotid: id.into(),
        name: name.into(),
    };
    w.ok(EXEC_A, remove("", "snap-1"));
    assert_eq!(w.state.get_snapshot(EXEC_A, COLONY, "s1", "").unwrap_err().status, 404);
    assert_eq!(w.refused(EXEC_A, remove("s1", "")).status, 404);
    w.ok(EXEC_A, Op::RemoveAllSnapshots { colonyname: COLONY.into() });
    assert!(w.state.get_snapshots(EXEC_A, COLONY).unwrap().is_empty());
    // The name is free again.
    w.ok(EXEC_A, snapshot("/data", "snap-1", "s3"));
}

#[test]
fn files_are_removed_by_id_or_every_revision_by_name() {
    let mut w = world_with_files();
    let remove = |id: &str, label: &str, name: &str| Op::RemoveFile {
        colonyname: COLONY.into(),
        fileid: id.into(),
        label: label.into(),
        name: name.into(),
    };
    w.ok(EXEC_A, remove("f2", "", ""));
    let left = w.state.get_file(EXEC_A, COLONY, "", "/data", "a.txt", true).unwrap();
    assert_eq!(ids(&left), ["f1"], "the revision before becomes the latest");
    w.ok(EXEC_A, remove("", "/data", "a.txt"));
    assert_eq!(w.state.get_file(EXEC_A, COLONY, "", "/data", "a.txt", false).unwrap_err().status, 404);
    let e = w.refused(EXEC_A, remove("", "/data", "a.txt"));
    assert_eq!((e.status, e.message.as_str()), (404, "Failed to remove file, file not found"));
    let labels = w.state.get_file_labels(EXEC_A, COLONY, "/data", true).unwrap();
    assert_eq!(labels[0].files, 1, "only b.txt is left in /data");
}

#[test]
fn bad_input_and_strangers_are_refused_and_change_nothing() {
    let mut w = world_with_files();
    let e = w.refused(EXEC_A, Op::AddFile { file: Box::new(file("f9", "/data", "", "x")) });
    assert_eq!((e.status, e.message.as_str()), (400, "Failed to add file, file name is empty"));
    assert_eq!(w.refused(EXEC_A, Op::AddFile { file: Box::new(file("f1", "/data", "z", "x")) }).status, 500);
    assert_eq!(w.refused(EXEC_A, Op::AddFile { file: Box::new(file("", "/data", "z", "x")) }).status, 500);
    assert_eq!(w.refused(STRANGER, Op::AddFile { file: Box::new(file("f9", "/data", "z", "x")) }).status, 403);
    assert_eq!(w.refused(COLONY_OWNER, snapshot("/data", "s", "s9")).status, 403, "owners are not members");
    assert_eq!(w.state.get_file(STRANGER, COLONY, "f1", "", "", true).unwrap_err().status, 403);
    assert_eq!(w.state.get_snapshots(STRANGER, COLONY).unwrap_err().status, 403);
    // A file of another colony is not found through this one.
    w.ok(
        SERVER,
        Op::AddColony {
            colony: colonies_statemachine::model::Colony { colonyid: STRANGER.into(), name: "two".into() },
        },
    );
    assert_eq!(w.state.get_file(EXEC_A, "two", "f1", "", "", true).unwrap_err().status, 403);
}

#[test]
fn a_removed_colony_takes_its_files_snapshots_and_locations() {
    let mut w = world_with_files();
    w.ok(EXEC_A, snapshot("/data", "snap", "s1"));
    w.ok(COLONY_OWNER, add_location("north", "l1"));
    // The colony made again starts empty: the same file id, snapshot and location names
    // are free.
    w.recreate_colony();
    w.add_executor(EXEC_A, "a", "cli");
    add(&mut w, file("f1", "/data", "a.txt", "one"));
    w.ok(EXEC_A, snapshot("/data", "snap", "s1"));
    w.ok(COLONY_OWNER, add_location("north", "l1"));
}

#[test]
fn the_snapshot_carries_files_snapshots_and_locations() {
    let mut w = world_with_files();
    w.ok(EXEC_A, snapshot("/data", "snap", "s1"));
    w.ok(COLONY_OWNER, add_location("north", "l1"));
    let restored = State::from_snapshot(&w.state.to_snapshot()).unwrap();
    assert_eq!(restored, w.state);
    assert_eq!(ids(&restored.get_file(EXEC_A, COLONY, "", "/data", "a.txt", false).unwrap()), ["f1", "f2"]);
    assert_eq!(restored.get_location(EXEC_A, COLONY, "north").unwrap().locationid, "l1");
}

fn add_location(name: &str, id: &str) -> Op {
    let location = Location {
        locationid: id.into(),
        name: name.into(),
        colonyname: COLONY.into(),
        description: "a place".into(),
        long: 18.07,
        lat: 59.33,
    };
    Op::AddLocation { location: Box::new(location) }
}

#[test]
fn locations_belong_to_the_colony_owner_and_members_read_them() {
    let mut w = World::new();
    assert!(w.state.get_locations(EXEC_A, COLONY).unwrap().is_empty());
    assert_eq!(w.refused(EXEC_A, add_location("north", "l1")).status, 403);
    let Reply::Location(added) = w.ok(COLONY_OWNER, add_location("north", "l1")) else { panic!() };
    assert_eq!((added.lat, added.long), (59.33, 18.07));
    w.ok(COLONY_OWNER, add_location("east", "l2"));
    let e = w.refused(COLONY_OWNER, add_location("north", "l3"));
    assert_eq!((e.status, e.message.as_str()), (400, "Location with name <north> already exists in colony <dev>"));
    assert_eq!(w.refused(COLONY_OWNER, add_location("", "l3")).status, 400);
    let names: Vec<_> = w.state.get_locations(EXEC_B, COLONY).unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["east", "north"]);
    assert_eq!(w.state.get_location(EXEC_A, COLONY, "north").unwrap(), *added);
    assert_eq!(w.state.get_location(EXEC_A, COLONY, "south").unwrap_err().status, 404);
    assert_eq!(w.state.get_locations(STRANGER, COLONY).unwrap_err().status, 403);
    let remove = |name: &str| Op::RemoveLocation { colonyname: COLONY.into(), name: name.into() };
    assert_eq!(w.refused(EXEC_A, remove("north")).status, 403);
    w.ok(COLONY_OWNER, remove("north"));
    assert_eq!(w.refused(COLONY_OWNER, remove("north")).status, 404);
}

#[test]
fn an_executor_reports_its_own_allocations_and_capabilities_only() {
    let mut w = World::new();
    let mut projects = std::collections::BTreeMap::new();
    projects.insert("p".to_string(), Project { allocatedcpu: 4, usedcpu: 1, ..Project::default() });
    let allocations = Allocations { projects: Some(projects) };
    let report = |name: &str| Op::ReportAllocation {
        colonyname: COLONY.into(),
        executorname: name.into(),
        allocations: allocations.clone(),
    };
    w.ok(EXEC_A, report("a"));
    let e = w.refused(EXEC_B, report("a"));
    assert_eq!(
        (e.status, e.message.as_str()),
        (403, "Failed to report allocation, not allowed to report for another executor")
    );
    assert_eq!(w.refused(EXEC_A, report("nobody")).status, 500);
    assert_eq!(w.refused(STRANGER, report("a")).status, 403);
    let capabilities = Capabilities {
        hardware: None,
        software: Some(vec![Software { name: "python".into(), kind: "lang".into(), version: "3".into() }]),
    };
    let update =
        Op::UpdateExecutor { colonyname: COLONY.into(), executorname: "a".into(), capabilities: capabilities.clone() };
    assert_eq!(w.refused(EXEC_B, update.clone()).status, 403);
    w.ok(EXEC_A, update);
    let stored = w.state.get_executor(EXEC_A, COLONY, "a").unwrap();
    assert_eq!((stored.allocations, stored.capabilities), (allocations, capabilities));
}

#[test]
fn a_colony_holds_at_most_max_files_and_the_refusal_changes_nothing() {
    use colonies_statemachine::files::MAX_FILES_PER_COLONY;
    let mut w = World::new();
    for n in 0..MAX_FILES_PER_COLONY {
        w.run(EXEC_A, Op::AddFile { file: Box::new(file(&format!("f{n}"), "/bulk", "same.txt", "c")) }).unwrap();
    }
    let e = w.refused(EXEC_A, Op::AddFile { file: Box::new(file("one-more", "/other", "x", "c")) });
    assert_eq!(e.status, 400);
    assert!(e.message.contains(&MAX_FILES_PER_COLONY.to_string()), "{}", e.message);
    // Removing the revisions frees the room.
    let remove = Op::RemoveFile {
        colonyname: COLONY.into(),
        fileid: String::new(),
        label: "/bulk".into(),
        name: "same.txt".into(),
    };
    w.ok(EXEC_A, remove);
    add(&mut w, file("one-more", "/other", "x", "c"));
}
