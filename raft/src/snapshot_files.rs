//! The current snapshot as files beside the sled database: the data in a file of its own,
//! and a small `snapshot.meta` naming it.
//!
//! sled keeps large values in blob files and frees a replaced one only when its own garbage
//! collection gets to it: with a snapshot rewritten every few hundred entries, a chaos run saw
//! a node's data folder grow by about 0.8 MiB/s until its disk was full. Here a replaced
//! snapshot's file is deleted once the next one is in place.
//!
//! A snapshot's data is written (built here, or received from the leader chunk by chunk)
//! into a `.partial` file, never into memory whole. Committing it syncs that file, renames
//! it to its data name, then replaces `snapshot.meta` by a rename and syncs the folder: a
//! crash leaves either the old snapshot or the new one, never a part. Partial and orphaned
//! data files are deleted when the folder is opened.

use std::fs::{self, File};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const META_NAME: &str = "snapshot.meta";
const META_TEMP: &str = "snapshot.meta.partial";
const DATA_PREFIX: &str = "snapshot-";
const DATA_SUFFIX: &str = ".data";
const PARTIAL_SUFFIX: &str = ".partial";
/// Where builds before this one kept the snapshot: one file of meta and data, read once at
/// open and converted.
const LEGACY_NAME: &str = "snapshot.bin";
/// `snapshot.meta` and the legacy file start with a length: of the data file's name, and of
/// the encoded meta, respectively.
const LENGTH_BYTES: usize = 8;

#[derive(Clone, Debug)]
pub struct SnapshotFiles {
    dir: PathBuf,
    /// Numbers the data and partial files; starts above every number already in the folder,
    /// so a new file never takes the name of the current snapshot.
    next_number: Arc<AtomicU64>,
    /// Commits (a build and an install may finish together) go one at a time.
    commit_lock: Arc<Mutex<()>>,
}

/// A snapshot being written: its file, and where it will be committed from.
pub struct Partial {
    pub path: PathBuf,
    pub file: File,
}

fn corrupt(name: &str, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{name}: {why}"))
}

/// Splits `bytes` after a little-endian length prefix into the part it measures and the rest.
fn split_measured<'a>(bytes: &'a [u8], name: &str) -> io::Result<(&'a [u8], &'a [u8])> {
    let (length, rest) =
        bytes.split_at_checked(LENGTH_BYTES).ok_or_else(|| corrupt(name, "shorter than its header"))?;
    let length = u64::from_le_bytes(length.try_into().expect("split at LENGTH_BYTES"));
    usize::try_from(length)
        .ok()
        .filter(|&n| n <= rest.len())
        .map(|n| rest.split_at(n))
        .ok_or_else(|| corrupt(name, "a length in it is longer than the file"))
}

fn sync_folder(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl SnapshotFiles {
    /// Opens the folder: deletes what a crash left half-written and the data files no meta
    /// names, and converts a legacy snapshot file. Blocking.
    pub fn open(dir: &Path) -> io::Result<SnapshotFiles> {
        let files = SnapshotFiles { dir: dir.to_path_buf(), next_number: Arc::default(), commit_lock: Arc::default() };
        let current = files.current()?.map(|(_, data)| data);
        let mut highest = 0;
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else { continue };
            if let Some(number) = Self::number_of(name) {
                highest = highest.max(number);
            }
            // Only this module's files: sled keeps its own (`snap.*`, `db`, ...) beside them.
            let stale_data = name.starts_with(DATA_PREFIX) && Some(&path) != current.as_ref();
            let partial = name.starts_with("snapshot") && name.ends_with(PARTIAL_SUFFIX);
            if stale_data || partial {
                fs::remove_file(&path)?;
            }
        }
        files.next_number.store(highest + 1, Ordering::Relaxed);
        if let Some((meta, data)) = files.read_legacy()? {
            files.write_whole(&meta, &data)?;
            fs::remove_file(dir.join(LEGACY_NAME))?;
            sync_folder(dir)?;
        }
        Ok(files)
    }

    /// The number in a data or partial file's name.
    fn number_of(name: &str) -> Option<u64> {
        let rest = name.strip_prefix(DATA_PREFIX)?;
        let digits = rest.strip_suffix(DATA_SUFFIX).or_else(|| rest.strip_suffix(PARTIAL_SUFFIX))?;
        digits.parse().ok()
    }

    /// The encoded meta of the current snapshot and the path of its data, if there is one.
    pub fn current(&self) -> io::Result<Option<(Vec<u8>, PathBuf)>> {
        let bytes = match fs::read(self.dir.join(META_NAME)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let (data_name, meta) = split_measured(&bytes, META_NAME)?;
        let data_name = std::str::from_utf8(data_name).map_err(|_| corrupt(META_NAME, "the data name is not text"))?;
        if Self::number_of(data_name).is_none() {
            return Err(corrupt(META_NAME, "it names no snapshot data file"));
        }
        Ok(Some((meta.to_vec(), self.dir.join(data_name))))
    }

    /// A new, empty file to write a snapshot's data into before `commit`.
    pub fn partial(&self) -> io::Result<Partial> {
        let number = self.next_number.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{DATA_PREFIX}{number}{PARTIAL_SUFFIX}"));
        let file = fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path)?;
        Ok(Partial { path, file })
    }

    /// The partial file that holds `data`, a snapshot openraft hands over for installing:
    /// normally the file begun for it (`receiving`), else (a caller that filled the snapshot
    /// some other way) a copy of `data` in a new partial file. Blocking.
    pub fn holding(&self, mut data: File, receiving: Option<PathBuf>) -> io::Result<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let handed = data.metadata()?;
        if let Some(path) = receiving {
            match fs::metadata(&path) {
                Ok(begun) if (begun.dev(), begun.ino()) == (handed.dev(), handed.ino()) => return Ok(path),
                Ok(_) => fs::remove_file(&path)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut partial = self.partial()?;
        data.seek(io::SeekFrom::Start(0))?;
        io::copy(&mut data, &mut partial.file)?;
        Ok(partial.path)
    }

    /// Makes the partial file at `partial` the current snapshot, with `meta`, if `accept`
    /// says so given the current meta (a snapshot must not replace a newer one); durable when
    /// this returns. Returns the data's path, or `None` (the partial file deleted) if refused.
    /// Blocking.
    pub fn commit(
        &self,
        meta: &[u8],
        partial: &Path,
        accept: impl FnOnce(Option<&[u8]>) -> bool,
    ) -> io::Result<Option<PathBuf>> {
        let _one_at_a_time = self.commit_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = self.current()?;
        if !accept(current.as_ref().map(|(meta, _)| meta.as_slice())) {
            fs::remove_file(partial)?;
            return Ok(None);
        }
        File::open(partial)?.sync_all()?;
        let number = partial
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(Self::number_of)
            .ok_or_else(|| corrupt(&partial.display().to_string(), "not a partial snapshot file"))?;
        let data_name = format!("{DATA_PREFIX}{number}{DATA_SUFFIX}");
        let data = self.dir.join(&data_name);
        fs::rename(partial, &data)?;

        let temp = self.dir.join(META_TEMP);
        let mut file = File::create(&temp)?;
        file.write_all(&(data_name.len() as u64).to_le_bytes())?;
        file.write_all(data_name.as_bytes())?;
        file.write_all(meta)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, self.dir.join(META_NAME))?;
        // The renames are durable once the folder's entries are.
        sync_folder(&self.dir)?;
        if let Some((_, replaced)) = current {
            // A sender still reading the replaced snapshot keeps its open file.
            fs::remove_file(replaced)?;
        }
        Ok(Some(data))
    }

    /// Makes `data`, held whole in memory, the current snapshot: for converting what earlier
    /// builds stored, and for tests.
    pub fn write_whole(&self, meta: &[u8], data: &[u8]) -> io::Result<PathBuf> {
        let mut partial = self.partial()?;
        partial.file.write_all(data)?;
        drop(partial.file);
        let committed = self.commit(meta, &partial.path, |_| true)?;
        Ok(committed.expect("an unconditional commit is accepted"))
    }

    /// The meta and data of a snapshot file written by an earlier build, if there is one.
    fn read_legacy(&self) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut file = match File::open(self.dir.join(LEGACY_NAME)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (meta, data) = split_measured(&bytes, LEGACY_NAME)?;
        Ok(Some((meta.to_vec(), data.to_vec())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(files: &SnapshotFiles) -> Option<(Vec<u8>, Vec<u8>)> {
        files.current().unwrap().map(|(meta, path)| (meta, fs::read(path).unwrap()))
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_committed_snapshot_reads_back_replaces_the_last_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let files = SnapshotFiles::open(dir.path()).unwrap();
        assert_eq!(data_of(&files), None);
        files.write_whole(b"meta", b"data bytes").unwrap();
        files.write_whole(b"newer meta", b"newer data").unwrap();
        assert_eq!(data_of(&files), Some((b"newer meta".to_vec(), b"newer data".to_vec())));
        assert_eq!(names_in(dir.path()), vec!["snapshot-2.data", "snapshot.meta"]);
    }

    #[test]
    fn a_refused_commit_keeps_the_current_snapshot_and_deletes_the_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = SnapshotFiles::open(dir.path()).unwrap();
        files.write_whole(b"newer", b"kept").unwrap();
        let mut partial = files.partial().unwrap();
        partial.file.write_all(b"older").unwrap();
        let seen = std::cell::RefCell::new(Vec::new());
        let committed = files
            .commit(b"older", &partial.path, |current| {
                seen.borrow_mut().extend_from_slice(current.unwrap());
                false
            })
            .unwrap();
        assert_eq!(committed, None);
        assert_eq!(seen.into_inner(), b"newer");
        assert_eq!(data_of(&files), Some((b"newer".to_vec(), b"kept".to_vec())));
        assert!(!partial.path.exists());
    }

    /// What a crash leaves (a half-received snapshot, a data file renamed before its meta
    /// was) is deleted at open; the current snapshot stays, and new files never take its name.
    #[test]
    fn opening_deletes_partial_and_orphaned_files_and_numbers_past_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        {
            let files = SnapshotFiles::open(dir.path()).unwrap();
            files.write_whole(b"meta", b"current").unwrap();
            files.partial().unwrap().file.write_all(b"half").unwrap();
        }
        fs::write(dir.path().join("snapshot-9.data"), b"orphan").unwrap();
        fs::write(dir.path().join("snap.0000000000000721"), b"sled's").unwrap();
        fs::write(dir.path().join("db.partial"), b"not ours").unwrap();
        let files = SnapshotFiles::open(dir.path()).unwrap();
        assert_eq!(
            names_in(dir.path()),
            vec!["db.partial", "snap.0000000000000721", "snapshot-1.data", "snapshot.meta"]
        );
        assert_eq!(data_of(&files), Some((b"meta".to_vec(), b"current".to_vec())));
        assert!(files.partial().unwrap().path.ends_with("snapshot-10.partial"));
    }

    #[test]
    fn a_legacy_snapshot_file_is_converted_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut legacy = 4u64.to_le_bytes().to_vec();
        legacy.extend_from_slice(b"metadata");
        fs::write(dir.path().join(LEGACY_NAME), legacy).unwrap();
        let files = SnapshotFiles::open(dir.path()).unwrap();
        assert_eq!(data_of(&files), Some((b"meta".to_vec(), b"data".to_vec())));
        assert!(!dir.path().join(LEGACY_NAME).exists());
    }

    #[test]
    fn damaged_files_are_errors_not_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LEGACY_NAME), [1, 2, 3]).unwrap();
        assert_eq!(SnapshotFiles::open(dir.path()).unwrap_err().kind(), io::ErrorKind::InvalidData);
        fs::remove_file(dir.path().join(LEGACY_NAME)).unwrap();
        let mut lying = u64::MAX.to_le_bytes().to_vec();
        lying.extend_from_slice(b"meta");
        fs::write(dir.path().join(META_NAME), lying).unwrap();
        assert_eq!(SnapshotFiles::open(dir.path()).unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut no_data_name = 4u64.to_le_bytes().to_vec();
        no_data_name.extend_from_slice(b"../xmeta");
        fs::write(dir.path().join(META_NAME), no_data_name).unwrap();
        assert_eq!(SnapshotFiles::open(dir.path()).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
