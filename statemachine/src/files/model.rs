//! The data of files (`Extended::files`) and what changes it, apart from the commands
//! that do (`mod.rs`), so that the state and the commands hold it without depending on them.

use crate::json::null_as_default;
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
pub(super) type FileKey = (String, String, String, u64);

/// The replicated file and snapshot metadata (`Extended::files`). Every lookup is a range
/// of an ordered map, never a pass over all of it. A snapshot holds the files, the
/// snapshots and the revision counter (`Stored`); the indexes are rebuilt when it loads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub(crate) struct Files {
    pub(super) files: OrdMap<FileKey, File>,
    pub(super) next_revision: u64,
    pub(super) snapshots: OrdMap<String, Snapshot>,
    /// file id -> its key in `files`.
    pub(super) ids: OrdMap<String, FileKey>,
    /// (colony, label) -> files stored under exactly that label.
    pub(super) labels: OrdMap<(String, String), u64>,
    /// colony -> files it holds.
    pub(super) per_colony: OrdMap<String, usize>,
    /// (colony, snapshot name) -> snapshot id.
    pub(super) snapshot_names: OrdMap<(String, String), String>,
}

/// What a snapshot holds of `Files`.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Stored {
    pub(super) files: OrdMap<FileKey, File>,
    pub(super) next_revision: u64,
    pub(super) snapshots: OrdMap<String, Snapshot>,
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
pub(super) fn is_under(label: &str, under: &str) -> bool {
    let under = under.trim_end_matches('/');
    label == under || label.strip_prefix(under).is_some_and(|rest| rest.starts_with('/'))
}

/// The first key at or after (colony, label): a label range starts there.
pub(super) fn label_start(colonyname: &str, label: &str) -> FileKey {
    (colonyname.to_string(), label.to_string(), String::new(), 0)
}

impl Files {
    /// The revisions of (colony, label, name), oldest first.
    pub(super) fn revisions<'a>(
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
    pub(super) fn with_label_prefix<'a>(
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
    pub(super) fn latest_under<'a>(&'a self, colonyname: &'a str, under: &'a str, deep: bool) -> Vec<&'a File> {
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

    pub(super) fn index(&mut self, key: &FileKey, file: &File) {
        *self.labels.entry((file.colonyname.clone(), file.label.clone())).or_default() += 1;
        *self.per_colony.entry(file.colonyname.clone()).or_default() += 1;
        self.ids.insert(file.fileid.clone(), key.clone());
    }

    pub(super) fn insert(&mut self, file: File) {
        let key = (file.colonyname.clone(), file.label.clone(), file.name.clone(), self.next_revision);
        self.next_revision += 1;
        self.index(&key, &file);
        self.files.insert(key, file);
    }

    pub(super) fn remove(&mut self, key: &FileKey) {
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

    pub(super) fn snapshot_ids_of<'a>(&'a self, colonyname: &str) -> impl Iterator<Item = &'a String> + 'a {
        let start = (colonyname.to_string(), String::new());
        let end = (colonyname.to_string(), char::MAX.to_string());
        self.snapshot_names.range(start..=end).map(|(_, id)| id)
    }

    /// The snapshot of the colony with this id, or else this name.
    pub(super) fn find_snapshot(&self, colonyname: &str, snapshotid: &str, name: &str) -> Option<&Snapshot> {
        let id = if snapshotid.is_empty() {
            self.snapshot_names.get(&(colonyname.to_string(), name.to_string()))?
        } else {
            snapshotid
        };
        self.snapshots.get(id).filter(|s| s.colonyname == colonyname)
    }

    pub(super) fn remove_snapshot(&mut self, snapshotid: &str) {
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
