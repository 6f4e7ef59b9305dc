//! ColonyFS metadata (§6.13): files and snapshots. The bytes live in S3 and go directly
//! between clients and the bucket; the server keeps what a file is, where it is and under
//! which label, and which files a snapshot froze.
//!
//! A file name under a label has revisions, one per `addfilemsg`; the latest is the last
//! added. Labels are paths (`/a/b`): a label's sub-labels are those below it (`/a/b/c`).

pub(crate) mod model;

pub use model::*;

use crate::command::Op;
use crate::error::{ApiError, ApiResult};
use crate::state::{Reply, State};
use crate::texts;
use crate::time::Time;

impl State {
    /// Who may run a file or snapshot command: approved members of its colony.
    pub(crate) fn authorize_files(&self, caller: &str, op: &Op) -> ApiResult<()> {
        let colonyname = match op {
            Op::AddFile { file } => &file.colonyname,
            Op::RemoveFile { colonyname, .. }
            | Op::CreateSnapshot { colonyname, .. }
            | Op::RemoveSnapshot { colonyname, .. }
            | Op::RemoveAllSnapshots { colonyname } => colonyname,
            _ => unreachable!("called with a file or snapshot command"),
        };
        self.require_member(caller, colonyname, true)
    }

    pub(crate) fn apply_files(&mut self, op: &Op, now: Time) -> ApiResult<Reply> {
        match op {
            Op::AddFile { file } => self.add_file(file, now),
            Op::RemoveFile { colonyname, fileid, label, name } => self.remove_file(colonyname, fileid, label, name),
            Op::CreateSnapshot { colonyname, label, name, snapshotid } => {
                self.create_snapshot(colonyname, label, name, snapshotid, now)
            }
            Op::RemoveSnapshot { colonyname, snapshotid, name } => {
                let files = &mut self.data.extended.files;
                let id = files
                    .find_snapshot(colonyname, snapshotid, name)
                    .map(|s| s.snapshotid.clone())
                    .ok_or_else(|| ApiError::not_found(texts::REMOVE_SNAPSHOT_NOT_FOUND))?;
                files.remove_snapshot(&id);
                Ok(Reply::Empty)
            }
            Op::RemoveAllSnapshots { colonyname } => {
                let files = &mut self.data.extended.files;
                let ids: Vec<String> = files.snapshot_ids_of(colonyname).cloned().collect();
                for id in ids {
                    files.remove_snapshot(&id);
                }
                Ok(Reply::Empty)
            }
            _ => unreachable!("called with a file or snapshot command"),
        }
    }

    fn add_file(&mut self, file: &File, now: Time) -> ApiResult<Reply> {
        let files = &mut self.data.extended.files;
        if file.name.is_empty() {
            return Err(ApiError::bad_request(texts::ADD_FILE_EMPTY_NAME));
        }
        if file.fileid.is_empty() || files.ids.contains_key(&file.fileid) {
            return Err(ApiError::internal(texts::FILE_ID_NOT_NEW));
        }
        if files.per_colony.get(&file.colonyname).copied().unwrap_or_default() >= MAX_FILES_PER_COLONY {
            return Err(ApiError::bad_request(texts::too_many_files(MAX_FILES_PER_COLONY)));
        }
        let stored = File { added: now, ..file.clone() };
        files.insert(stored.clone());
        Ok(Reply::File(Box::new(stored)))
    }

    /// By id, or else every revision of (label, name).
    fn remove_file(&mut self, colonyname: &str, fileid: &str, label: &str, name: &str) -> ApiResult<Reply> {
        let files = &mut self.data.extended.files;
        let keys: Vec<FileKey> = if fileid.is_empty() {
            files.revisions(colonyname, label, name).map(|(key, _)| key.clone()).collect()
        } else {
            files.ids.get(fileid).filter(|key| key.0 == colonyname).cloned().into_iter().collect()
        };
        if keys.is_empty() {
            return Err(ApiError::not_found(texts::REMOVE_FILE_NOT_FOUND));
        }
        for key in &keys {
            files.remove(key);
        }
        Ok(Reply::Empty)
    }

    fn create_snapshot(
        &mut self,
        colonyname: &str,
        label: &str,
        name: &str,
        snapshotid: &str,
        now: Time,
    ) -> ApiResult<Reply> {
        let files = &mut self.data.extended.files;
        if name.is_empty() {
            return Err(ApiError::bad_request(texts::SNAPSHOT_EMPTY_NAME));
        }
        if snapshotid.is_empty() || files.snapshots.contains_key(snapshotid) {
            return Err(ApiError::internal(texts::SNAPSHOT_ID_NOT_NEW));
        }
        let key = (colonyname.to_string(), name.to_string());
        if files.snapshot_names.contains_key(&key) {
            return Err(ApiError::bad_request(texts::snapshot_exists(name)));
        }
        if files.snapshot_ids_of(colonyname).count() >= MAX_SNAPSHOTS_PER_COLONY {
            return Err(ApiError::bad_request(texts::too_many_snapshots(MAX_SNAPSHOTS_PER_COLONY)));
        }
        let fileids = files.latest_under(colonyname, label, true).into_iter().map(|f| f.fileid.clone()).collect();
        let snapshot = Snapshot {
            snapshotid: snapshotid.to_string(),
            colonyname: colonyname.to_string(),
            label: label.to_string(),
            name: name.to_string(),
            fileids,
            added: now,
        };
        files.snapshot_names.insert(key, snapshotid.to_string());
        files.snapshots.insert(snapshotid.to_string(), snapshot.clone());
        Ok(Reply::Snapshot(Box::new(snapshot)))
    }

    /// `getfilemsg`: the file with `fileid`, or else the revisions of (label, name), oldest
    /// first, or only the latest.
    pub fn get_file(
        &self,
        caller: &str,
        colonyname: &str,
        fileid: &str,
        label: &str,
        name: &str,
        latest: bool,
    ) -> ApiResult<Vec<File>> {
        self.require_member(caller, colonyname, true)?;
        let files = &self.data.extended.files;
        let found: Vec<File> = if fileid.is_empty() {
            let revisions = files.revisions(colonyname, label, name).map(|(_, file)| file);
            if latest { revisions.last().cloned().into_iter().collect() } else { revisions.cloned().collect() }
        } else {
            let key = files.ids.get(fileid).filter(|key| key.0 == colonyname);
            key.and_then(|key| files.files.get(key)).cloned().into_iter().collect()
        };
        if found.is_empty() { Err(ApiError::not_found(texts::GET_FILE_NOT_FOUND)) } else { Ok(found) }
    }

    /// `getfilesmsg`: the latest revision of each name under exactly `label`, by name.
    pub fn get_files(&self, caller: &str, colonyname: &str, label: &str) -> ApiResult<Vec<FileData>> {
        self.require_member(caller, colonyname, true)?;
        let latest = self.data.extended.files.latest_under(colonyname, label, false);
        let data = latest
            .into_iter()
            .map(|f| FileData {
                name: f.name.clone(),
                checksum: f.checksum.clone(),
                size: f.size,
                s3filename: f.reference.s3object.object.clone(),
            })
            .collect();
        Ok(data)
    }

    /// `getfilelabelsmsg`: the label `name` (with `exact`), or it and its sub-labels; every
    /// label of the colony for an empty name.
    pub fn get_file_labels(&self, caller: &str, colonyname: &str, name: &str, exact: bool) -> ApiResult<Vec<Label>> {
        self.require_member(caller, colonyname, true)?;
        let labels = &self.data.extended.files.labels;
        let prefix = if exact { name } else { name.trim_end_matches('/') };
        let start = (colonyname.to_string(), prefix.to_string());
        let found = labels
            .range(start..)
            .take_while(|((colony, label), _)| colony == colonyname && label.starts_with(prefix))
            .filter(|((_, label), _)| if exact { label == name } else { is_under(label, name) })
            .map(|((_, label), count)| Label { name: label.clone(), files: *count as i64 })
            .collect();
        Ok(found)
    }

    /// `getsnapshotmsg`: by id, or else by name.
    pub fn get_snapshot(&self, caller: &str, colonyname: &str, snapshotid: &str, name: &str) -> ApiResult<Snapshot> {
        self.require_member(caller, colonyname, true)?;
        let files = &self.data.extended.files;
        files
            .find_snapshot(colonyname, snapshotid, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::GET_SNAPSHOT_NOT_FOUND))
    }

    /// `getsnapshotsmsg`: by name.
    pub fn get_snapshots(&self, caller: &str, colonyname: &str) -> ApiResult<Vec<Snapshot>> {
        self.require_member(caller, colonyname, true)?;
        let files = &self.data.extended.files;
        Ok(files.snapshot_ids_of(colonyname).filter_map(|id| files.snapshots.get(id).cloned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_labels_are_below_a_label_not_beside_it() {
        assert!(is_under("/a", "/a"));
        assert!(is_under("/a/b", "/a"));
        assert!(is_under("/a/b", "/a/"));
        assert!(!is_under("/ab", "/a"));
        assert!(is_under("/anything", "/"));
        assert!(is_under("/x", ""));
    }

    #[test]
    fn debug_hides_the_keys_but_shows_where_the_object_is() {
        let object = S3Object {
            accesskey: "AKIA-SECRET-ACCESS".into(),
            secretkey: "very-secret".into(),
            encryptionkey: "enc-secret".into(),
            bucket: "bucket-1".into(),
            ..S3Object::default()
        };
        let file = File { reference: FileRef { protocol: "s3".into(), s3object: object }, ..File::default() };
        let shown = format!("{:?}", Op::AddFile { file: Box::new(file) });
        assert!(shown.contains("bucket-1") && shown.contains("<hidden>"), "{shown}");
        for secret in ["AKIA-SECRET-ACCESS", "very-secret", "enc-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
