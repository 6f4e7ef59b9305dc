//! The replicated data of ColonyOS's extended features (protocol §6.12-§6.15: locations,
//! file and snapshot metadata, channels, blueprints), kept apart from the core data so that
//! each feature adds its own field here and a snapshot of format 3 (taken before any of them
//! existed) still loads, with none.

use serde::{Deserialize, Serialize};

/// Written after the arrival numbers in a snapshot (see `SNAPSHOT_FORMAT` in `state.rs`).
/// Public only so that a test can tell its length in a snapshot; its fields are the crate's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extended {
    /// Scheduler event counters (issue 17), the same on every replica.
    pub(crate) scheduler: crate::counters::SchedulerCounters,
    /// ColonyFS metadata (protocol §6.13).
    pub(crate) files: crate::files::model::Files,
    /// Locations and executor reports (protocol §6.12).
    pub(crate) locations: crate::locations::model::Locations,
    /// Channels of running processes (protocol §6.14).
    pub(crate) channels: crate::channels::model::Channels,
    /// Blueprint definitions, blueprints and their history (protocol §6.15).
    pub(crate) blueprints: crate::blueprints::data::Blueprints,
}
