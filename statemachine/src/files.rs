//! ColonyFS metadata (§6.13): files and snapshots. The bytes live in S3 and go directly
//! between clients and the bucket; the server keeps what a file is, where it is and under
//! which label, and which files a snapshot froze.
//!
//! A file name under a label has revisions, one per `addfilemsg`; the latest is the last
//! added. Labels are paths (`/a/b`): a label's sub-labels are those below it (`/a/b/c`).

use crate::command::Op;
use crate::error::{ApiError, ApiResult};
use crate::json::null_as_default;
use crate::state::{Reply, State};
use crate::texts;
use crate::time::Time;
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Files (revisions included) a colony may hold: each one is in every replica's memory.
pub const MAX_FILES_PER_COLONY: usize = 100_000;
/// Snapshots a colony may hold.
pub const MAX_SNAPSHOTS_PER_COLONY: usize = 10_000;

/// Where a file's bytes are. The keys are stored and returned as the client sent them, as
/// the reference does; `Debug` hides them so that no log line ever carries one.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Object {
    pub server: String,
    pub port: i64,
    pub tls: bool,
    pub accesskey: String,
    pub secretkey: String,
    pub region: String,
    pub encryptionkey: String,
    pub encryptionalg: String,
    pub object: String,
    pub bucket: String,
}

impl fmt::Debug for S3Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |secret: &str| if secret.is_empty() { "" } else { "<hidden>" };
        f.debug_struct("S3Object")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("accesskey", &hidden(&self.accesskey))
            .field("secretkey", &hidden(&self.secretkey))
            .field("region", &self.region)
            .field("encryptionkey", &hidden(&self.encryptionkey))
            .field("encryptionalg", &self.encryptionalg)
            .field("object", &self.object)
            .field("bucket", &self.bucket)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileRef {
    pub protocol: String,
    #[serde(deserialize_with = "null_as_default")]
    pub s3object: S3Object,
}

/// §4.14.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct File {
    #[serde(deserialize_with = "null_as_default")]
    pub fileid: String,
    #[serde(deserialize_with = "null_as_default")]
    pub colonyname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub label: String,
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    pub size: i64,
    pub sequencenr: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub checksum: String,
    #[serde(deserialize_with = "null_as_default")]
    pub checksumalg: String,
    #[serde(rename = "ref", deserialize_with = "null_as_default")]
    pub reference: FileRef,
    #[serde(deserialize_with = "null_as_default")]
    pub added: Time,
}

/// A line of `getfilesmsg`: the latest revision of a name.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileData {
    pub name: String,
    pub checksum: String,
    pub size: i64,
    pub s3filename: String,
}

/// A label and the number of files (revisions included) stored under it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Label {
    pub name: String,
    pub files: i64,
}

/// §4.14: the latest revision of each name under a label and its sub-labels, when taken.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub snapshotid: String,
    pub colonyname: String,
    pub label: String,
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub fileids: Vec<String>,
    pub added: Time,
}

/// (colony, label, name, revision): the revision numbers grow with every file added, so
/// the last entry of a name is its latest revision.
type FileKey = (String, String, String, u64);

/// The replicated file and snapshot metadata (`Extended::files`). Every lookup is a range
/// of an ordered map, never a pass over all of it. A snapshot holds the files, the
/// snapshots and the revision counter (`Stored`); the indexes are rebuilt when it loads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub(crate) struct Files {
    files: OrdMap<FileKey, File>,
    next_revision: u64,
    snapshots: OrdMap<String, Snapshot>,
    /// file id -> its key in `files`.
    ids: OrdMap<String, FileKey>,
    /// (colony, label) -> files stored under exactly that label.
    labels: OrdMap<(String, String), u64>,
    /// colony -> files it holds.
    per_colony: OrdMap<String, usize>,
    /// (colony, snapshot name) -> snapshot id.
    snapshot_names: OrdMap<(String, String), String>,
}

/// What a snapshot holds of `Files`.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    files: OrdMap<FileKey, File>,
    next_revision: u64,
    snapshots: OrdMap<String, Snapshot>,
}

impl From<Files> for Stored {
    fn from(files: Files) -> Stored {
        Stored { files: files.files, next_revision: files.next_revision, snapshots: files.snapshots }
    }
}

impl From<Stored> for Files {
    fn from(stored: Stored) -> Files {
        let mut files = Files { next_revision: stored.next_revision, ..Files::default() };
        for (key, file) in stored.files {
            files.index(&key, &file);
            files.files.insert(key, file);
        }
        for (id, snapshot) in stored.snapshots {
            files.snapshot_names.insert((snapshot.colonyname.clone(), snapshot.name.clone()), id.clone());
            files.snapshots.insert(id, snapshot);
        }
        files
    }
}

/// Whether `label` is `under` or one of its sub-labels (`/a` holds `/a/b`, not `/ab`).
fn is_under(label: &str, under: &str) -> bool {
    let under = under.trim_end_matches('/');
    label == under || label.strip_prefix(under).is_some_and(|rest| rest.starts_with('/'))
}

/// The first key at or after (colony, label): a label range starts there.
fn label_start(colonyname: &str, label: &str) -> FileKey {
    (colonyname.to_string(), label.to_string(), String::new(), 0)
}

impl Files {
    /// The revisions of (colony, label, name), oldest first.
    fn revisions<'a>(
        &'a self,
        colonyname: &str,
        label: &str,
        name: &str,
    ) -> impl Iterator<Item = (&'a FileKey, &'a File)> + 'a {
        let start = (colonyname.to_string(), label.to_string(), name.to_string(), 0);
        let end = (colonyname.to_string(), label.to_string(), name.to_string(), u64::MAX);
        self.files.range(start..=end)
    }

    /// The files whose label starts with the text `prefix`, in key order. Keys sort by
    /// label, so they are one range.
    fn with_label_prefix<'a>(
        &'a self,
        colonyname: &'a str,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a FileKey, &'a File)> + 'a {
        self.files
            .range(label_start(colonyname, prefix)..)
            .take_while(move |((colony, label, ..), _)| colony == colonyname && label.starts_with(prefix))
    }

    /// The latest revision of each name under `under` (and its sub-labels, if `deep`), in
    /// label then name order.
    fn latest_under<'a>(&'a self, colonyname: &'a str, under: &'a str, deep: bool) -> Vec<&'a File> {
        let mut latest: Vec<&File> = Vec::new();
        // `/a/` holds `/a` too, which sorts before it.
        let prefix = if deep { under.trim_end_matches('/') } else { under };
        for (_, file) in self.with_label_prefix(colonyname, prefix) {
            let wanted = if deep { is_under(&file.label, under) } else { file.label == under };
            if !wanted {
                continue;
            }
            match latest.last_mut() {
                Some(last) if last.label == file.label && last.name == file.name => *last = file,
                _ => latest.push(file),
            }
        }
        latest
    }

    fn index(&mut self, key: &FileKey, file: &File) {
        *self.labels.entry((file.colonyname.clone(), file.label.clone())).or_default() += 1;
        *self.per_colony.entry(file.colonyname.clone()).or_default() += 1;
        self.ids.insert(file.fileid.clone(), key.clone());
    }

    fn insert(&mut self, file: File) {
        let key = (file.colonyname.clone(), file.label.clone(), file.name.clone(), self.next_revision);
        self.next_revision += 1;
        self.index(&key, &file);
        self.files.insert(key, file);
    }

    fn remove(&mut self, key: &FileKey) {
        let Some(file) = self.files.remove(key) else { return };
        self.ids.remove(&file.fileid);
        let label = (file.colonyname.clone(), file.label.clone());
        if let Some(count) = self.labels.get_mut(&label) {
            *count -= 1;
            if *count == 0 {
                self.labels.remove(&label);
            }
        }
        if let Some(count) = self.per_colony.get_mut(&file.colonyname) {
            *count -= 1;
            if *count == 0 {
                self.per_colony.remove(&file.colonyname);
            }
        }
    }

    fn snapshot_ids_of<'a>(&'a self, colonyname: &str) -> impl Iterator<Item = &'a String> + 'a {
        let start = (colonyname.to_string(), String::new());
        let end = (colonyname.to_string(), char::MAX.to_string());
        self.snapshot_names.range(start..=end).map(|(_, id)| id)
    }

    /// The snapshot of the colony with this id, or else this name.
    fn find_snapshot(&self, colonyname: &str, snapshotid: &str, name: &str) -> Option<&Snapshot> {
        let id = if snapshotid.is_empty() {
            self.snapshot_names.get(&(colonyname.to_string(), name.to_string()))?
        } else {
            snapshotid
        };
        self.snapshots.get(id).filter(|s| s.colonyname == colonyname)
    }

    fn remove_snapshot(&mut self, snapshotid: &str) {
        if let Some(snapshot) = self.snapshots.remove(snapshotid) {
            self.snapshot_names.remove(&(snapshot.colonyname, snapshot.name));
        }
    }

    /// A removed colony's files and snapshots go with it.
    pub(crate) fn remove_colony(&mut self, colonyname: &str) {
        let keys: Vec<FileKey> = self.with_label_prefix(colonyname, "").map(|(key, _)| key.clone()).collect();
        for key in keys {
            self.remove(&key);
        }
        let ids: Vec<String> = self.snapshot_ids_of(colonyname).cloned().collect();
        for id in ids {
            self.remove_snapshot(&id);
        }
    }
}

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
