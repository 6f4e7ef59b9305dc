//! The replicated data of ColonyOS's extended features (protocol §6.12-§6.15: locations,
//! file and snapshot metadata, channels, blueprints), kept apart from the core data so that
//! each feature adds its own field here and a snapshot of format 3 (taken before any of them
//! existed) still loads, with none.

use serde::{Deserialize, Serialize};

/// Written after the arrival numbers in a snapshot (see `SNAPSHOT_FORMAT` in `state.rs`).
/// Public only so that a test can tell its length in a snapshot; its fields are the crate's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extended {
    pub(crate) blueprints: crate::blueprints::Blueprints,
}
