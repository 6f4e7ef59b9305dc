//! The texts of file and snapshot metadata (§6.13) and of locations and executor reports
//! (§6.12, §6.2). Of these, only `Failed to get file` is the reference's text as recorded in
//! the protocol spec; the others the reference has are written in the form its handlers use
//! (`Failed to <do what>, <why>`), unconfirmed byte for byte. Texts marked "ours" answer
//! checks the reference lacks.

// --- A missing object in a message (400) -------------------------------------------------

pub const ADD_FILE_NIL: &str = "Failed to add file, msg.File is nil";
pub const ADD_LOCATION_NIL: &str = "Failed to add location, msg.Location is nil";

// --- Files -------------------------------------------------------------------------------

/// Ours: a file must name what it is.
pub const ADD_FILE_EMPTY_NAME: &str = "Failed to add file, file name is empty";
/// Ours: file ids are drawn by the node.
pub const FILE_ID_NOT_NEW: &str = "Failed to add file, the file id is empty or already used";
pub const GET_FILE_NOT_FOUND: &str = "Failed to get file";
/// Ours: the reference removes nothing without saying so.
pub const REMOVE_FILE_NOT_FOUND: &str = "Failed to remove file, file not found";

/// Ours: a colony's file metadata lives in every replica's memory.
pub fn too_many_files(limit: usize) -> String {
    format!("Failed to add file, a colony holds at most {limit} files (revisions included)")
}

// --- Snapshots ---------------------------------------------------------------------------

/// Ours: snapshots are found by name.
pub const SNAPSHOT_EMPTY_NAME: &str = "Failed to create snapshot, snapshot name is empty";
/// Ours: snapshot ids are drawn by the node.
pub const SNAPSHOT_ID_NOT_NEW: &str = "Failed to create snapshot, the snapshot id is empty or already used";
pub const GET_SNAPSHOT_NOT_FOUND: &str = "Failed to get snapshot, snapshot not found";
pub const REMOVE_SNAPSHOT_NOT_FOUND: &str = "Failed to remove snapshot, snapshot not found";

pub fn snapshot_exists(name: &str) -> String {
    format!("Failed to create snapshot, a snapshot with name <{name}> already exists")
}

/// Ours: as for files.
pub fn too_many_snapshots(limit: usize) -> String {
    format!("Failed to create snapshot, a colony holds at most {limit} snapshots")
}

// --- Locations ---------------------------------------------------------------------------

/// Ours: locations are found by name.
pub const LOCATION_EMPTY_NAME: &str = "Failed to add location, location name is empty";
/// Ours: location ids are drawn by the node (256 random bits, so never twice).
pub const LOCATION_ID_MISSING: &str = "Failed to add location, the location has no id";
pub const GET_LOCATION_NOT_FOUND: &str = "Failed to get location, location not found";
pub const REMOVE_LOCATION_NOT_FOUND: &str = "Failed to remove location, location not found";

pub fn location_exists(name: &str, colonyname: &str) -> String {
    format!("Location with name <{name}> already exists in colony <{colonyname}>")
}

/// Ours: as for files.
pub fn too_many_locations(limit: usize) -> String {
    format!("Failed to add location, a colony holds at most {limit} locations")
}

// --- What an executor reports about itself -----------------------------------------------

pub const REPORT_ALLOCATION_NIL: &str = "Failed to report allocation, executor is nil";
pub const REPORT_ALLOCATION_OTHER: &str = "Failed to report allocation, not allowed to report for another executor";
pub const UPDATE_EXECUTOR_NIL: &str = "Failed to update executor, executor is nil";
pub const UPDATE_EXECUTOR_OTHER: &str = "Failed to update executor, not allowed to update another executor";
