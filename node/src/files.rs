//! The file, snapshot and location messages (§6.12, §6.13) and the executor reports
//! (§6.2), mapped to reads and writes of the state machine (`colonies_statemachine::files`,
//! `colonies_statemachine::locations`). New ids are drawn here, by the proposer.

use crate::action::{Action, read, required, write};
use colonies_client::messages::Message;
use colonies_statemachine::{ApiError, Op, texts};

/// The action of one of this module's messages (`dispatch::dispatch` sends only those).
pub fn dispatch(message: Message, new_id: &mut dyn FnMut() -> String) -> Result<Action, ApiError> {
    match message {
        Message::AddFile(m) => required(m.file, texts::ADD_FILE_NIL).map(|mut file| {
            file.fileid = new_id();
            write(Op::AddFile { file: Box::new(file) })
        }),
        Message::GetFile(m) => {
            Ok(read(move |s, c| s.get_file(c, &m.colonyname, &m.fileid, &m.label, &m.name, m.latest)))
        }
        Message::GetFiles(m) => Ok(read(move |s, c| s.get_files(c, &m.colonyname, &m.label))),
        Message::GetFileLabels(m) => Ok(read(move |s, c| s.get_file_labels(c, &m.colonyname, &m.name, m.exact))),
        Message::RemoveFile(m) => {
            Ok(write(Op::RemoveFile { colonyname: m.colonyname, fileid: m.fileid, label: m.label, name: m.name }))
        }
        Message::CreateSnapshot(m) => Ok(write(Op::CreateSnapshot {
            colonyname: m.colonyname,
            label: m.label,
            name: m.name,
            snapshotid: new_id(),
        })),
        Message::GetSnapshot(m) => Ok(read(move |s, c| s.get_snapshot(c, &m.colonyname, &m.snapshotid, &m.name))),
        Message::GetSnapshots(m) => Ok(read(move |s, c| s.get_snapshots(c, &m.colonyname))),
        Message::RemoveSnapshot(m) => {
            Ok(write(Op::RemoveSnapshot { colonyname: m.colonyname, snapshotid: m.snapshotid, name: m.name }))
        }
        Message::RemoveAllSnapshots(m) => Ok(write(Op::RemoveAllSnapshots { colonyname: m.colonyname })),
        Message::AddLocation(m) => required(m.location, texts::ADD_LOCATION_NIL).map(|mut location| {
            location.locationid = new_id();
            write(Op::AddLocation { location: Box::new(location) })
        }),
        Message::GetLocations(m) => Ok(read(move |s, c| s.get_locations(c, &m.colonyname))),
        Message::GetLocation(m) => Ok(read(move |s, c| s.get_location(c, &m.colonyname, &m.name))),
        Message::RemoveLocation(m) => Ok(write(Op::RemoveLocation { colonyname: m.colonyname, name: m.name })),
        Message::ReportAllocation(m) => Ok(write(Op::ReportAllocation {
            colonyname: m.colonyname,
            executorname: m.executorname,
            allocations: m.allocations,
        })),
        Message::UpdateExecutor(m) => Ok(write(Op::UpdateExecutor {
            colonyname: m.colonyname,
            executorname: m.executorname,
            capabilities: m.capabilities,
        })),
        other => unreachable!("{} is not a file, snapshot or location message", other.payload_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colonies_client::messages::{AddFileMsg, AddLocationMsg, CreateSnapshotMsg};
    use colonies_statemachine::files::File;

    #[test]
    fn new_files_snapshots_and_locations_get_their_ids_from_the_node() {
        let mut next = || "drawn".to_string();
        let file = File { fileid: "chosen-by-the-client".into(), ..File::default() };
        let Ok(Action::Write { op: Op::AddFile { file }, .. }) =
            dispatch(AddFileMsg { file: Some(file) }.into(), &mut next)
        else {
            panic!("adding a file is a write")
        };
        assert_eq!(file.fileid, "drawn");
        let Ok(Action::Write { op: Op::CreateSnapshot { snapshotid, .. }, .. }) =
            dispatch(CreateSnapshotMsg::default().into(), &mut next)
        else {
            panic!("a snapshot is a write")
        };
        assert_eq!(snapshotid, "drawn");
        let Err(e) = dispatch(AddLocationMsg { location: None }.into(), &mut next) else { panic!() };
        assert_eq!((e.status, e.message.as_str()), (400, "Failed to add location, msg.Location is nil"));
        let Err(e) = dispatch(AddFileMsg { file: None }.into(), &mut next) else { panic!() };
        assert_eq!(e.message, "Failed to add file, msg.File is nil");
    }
}
